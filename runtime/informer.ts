// A supervised informer: read the current state, then watch from its resourceVersion with
// bookmarks. The state is read as a streamed list where the server offers it (one watch that
// first sends every object, then goes on as the watch), else as a LIST and a watch. It never
// gives up: a 410 Gone (the resourceVersion was compacted away) reads the state again and
// reconciles the cache against it, emitting only real differences; any other failure retries
// with exponential backoff and jitter; a watch that goes silent for longer than the liveness
// timeout is torn down and reopened. Handlers see each change once.
// After an outage the state is read again in the same single request rather than resumed: a
// restarted API server has no history to resume from, and a watch that would only be refused
// with 410 is a request per informer that a fleet coming back can do without.
// With a reconnect window (a fleet's agents watching one hub), an informer that stays cut off
// past two prompt attempts retries only in its own slot of that window, so that thousands of
// agents losing the hub's API server together do not all come back in the same second.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { backoffMs, nextSlotDelayMs } from "./backoff.ts";
import { KubeApiError } from "./errors.ts";
import type { KubeApi } from "./kube/client.ts";
import { initialEventsEndAnnotation, objectKey, type KubeObject, type Unstructured } from "./kube/types.ts";

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, current: T): void;
  /** Receives the last state the informer knew of (after a relist, possibly older than the deletion). */
  onDelete?(object: T): void;
}

/** The values an object is found under in one index (e.g. the value of one label). */
export type IndexFunction<T extends KubeObject> = (object: T) => readonly string[];

/** Index by the value of one label. */
export function labelIndex<T extends KubeObject>(label: string): IndexFunction<T> {
  return (object) => {
    const value = object.metadata.labels?.[label];
    return value === undefined ? [] : [value];
  };
}

/** Index by owner: `<kind>/<name>` of every owner reference. */
export function ownerIndex<T extends KubeObject>(): IndexFunction<T> {
  return (object) => (object.metadata.ownerReferences ?? []).map((owner) => `${owner.kind}/${owner.name}`);
}

/** A server that does not stream lists refuses the parameters (400, or 422 with the feature off). */
function streamingRefused(error: unknown): boolean {
  return error instanceof KubeApiError && (error.status === 400 || error.status === 422);
}

/** A 4xx answer other than 429: the server is up and said no, which waiting will not change. */
export function refusedByLiveServer(error: unknown): boolean {
  return error instanceof KubeApiError && error.status >= 400 && error.status < 500 && error.status !== 429;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0.2 means each delay is drawn from [1, 1.2] × the exponential value. */
  jitter: number;
}

export interface InformerOptions {
  client: KubeApi;
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  logger: Logger;
  /** The server closes each watch after a random time in [min, 2·min) seconds, spreading reconnects. */
  watchTimeoutSeconds?: number;
  /** A watch with no event or bookmark for this long is presumed dead and reopened. */
  livenessTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /**
   * After the first retry fails, retry once per this window, at a phase drawn once per
   * informer; unset, the exponential backoff goes on (for the hub's own few informers).
   */
  reconnectWindowMs?: number;
  /** Read the state as a streamed list (default true); a server that refuses gets LISTs from then on. */
  streamingList?: boolean;
  random?: () => number;
  /** The wall clock the reconnect slots are laid on (milliseconds). */
  now?: () => number;
  /** Waits between retries; injectable so tests can observe the backoff. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const defaultBackoff: BackoffOptions = { initialMs: 250, maxMs: 30_000, jitter: 0.2 };

export class Informer<T extends KubeObject = Unstructured> {
  readonly apiVersion: string;
  readonly kind: string;
  readonly #options: InformerOptions;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #delay: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #now: () => number;
  readonly #reconnectPhaseMs: number;
  readonly #store = new Map<string, T>();
  readonly #byNamespace = new Map<string, Set<string>>();
  /** Registered indexes: name → the index function and index value → keys. */
  readonly #indexes = new Map<string, { keysOf: IndexFunction<T>; entries: Map<string, Set<string>> }>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #stop = new AbortController();
  #resourceVersion = "";
  /** The cache must be read again before it can be watched from its resourceVersion. */
  #needState = true;
  #streaming: boolean;
  /** Read the state with a LIST once, the streamed list having been forbidden (403). */
  #listOnce = false;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #running: Promise<void> | undefined;
  #consecutiveFailures = 0;
  #lastError: unknown;
  /**
   * Counts for metrics and tests: states read (`lists`, of which `streamedLists` streamed),
   * 410s seen, watch requests, liveness restarts and failures.
   */
  readonly stats = { lists: 0, streamedLists: 0, expired: 0, watches: 0, livenessRestarts: 0, failures: 0 };

  constructor(options: InformerOptions) {
    this.#options = options;
    this.apiVersion = options.apiVersion;
    this.kind = options.kind;
    this.#backoff = { ...defaultBackoff, ...options.backoff };
    this.#random = options.random ?? Math.random;
    this.#delay = options.delay ?? ((ms, signal) => sleep(ms, undefined, { signal }));
    this.#now = options.now ?? Date.now;
    this.#reconnectPhaseMs = this.#random() * (options.reconnectWindowMs ?? 0);
    this.#streaming = options.streamingList ?? true;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
    // Late subscribers see the objects already cached, as adds.
    if (handlers.onAdd) for (const object of this.#store.values()) this.#call(() => handlers.onAdd?.(object));
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion the cache is current with. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#syncWaiters.push(resolve);
      signal?.addEventListener("abort", () => reject(new Error(`${this.kind} informer did not sync`)), {
        once: true,
      });
    });
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  get size(): number {
    return this.#store.size;
  }

  byNamespace(namespace: string): T[] {
    return this.#collect(this.#byNamespace.get(namespace));
  }

  /**
   * Registers an index (idempotent by name; the first function registered under a name wins)
   * and builds it from what is cached already.
   */
  addIndex(name: string, keysOf: IndexFunction<T>): void {
    if (this.#indexes.has(name)) return;
    const index = { keysOf, entries: new Map<string, Set<string>>() };
    this.#indexes.set(name, index);
    for (const [key, object] of this.#store) addToIndex(index.entries, keysOf(object), key);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`${this.kind} informer has no index named ${name}`);
    return this.#collect(index.entries.get(value));
  }

  /** Objects whose `label` has `value`, through an index on that label made on first use. */
  byLabel(label: string, value: string): T[] {
    const name = `label:${label}`;
    this.addIndex(name, labelIndex<T>(label));
    return this.byIndex(name, value);
  }

  /** The last list or watch failure, until the next success; for diagnostics. */
  get lastError(): unknown {
    return this.#lastError;
  }

  #collect(keys: Set<string> | undefined): T[] {
    const objects: T[] = [];
    for (const key of keys ?? []) {
      const object = this.#store.get(key);
      if (object) objects.push(object);
    }
    return objects;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const streamed = this.#needState && this.#streaming && !this.#listOnce;
      try {
        if (this.#needState && !streamed) await this.#relist(signal);
        this.#listOnce = false;
        await this.#watch(signal, streamed);
        // A streamed list that the server ended before its last initial event (a watch cache
        // that cannot stream, say) is no failure worth a backoff: list instead from now on.
        if (streamed && this.#needState)
          this.#fallBackToLists("the server ended it before its initial events");
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof KubeApiError && error.gone) {
          this.stats.expired++;
          this.#options.logger.info(
            { kind: this.kind, resourceVersion: this.#resourceVersion },
            "watch resourceVersion expired; reading the state again",
          );
          this.#needState = true;
          continue;
        }
        if (streamed && streamingRefused(error)) {
          this.#fallBackToLists((error as Error).message);
          continue;
        }
        // An identity may be let list what it may not watch (a service account hub templates
        // read with, say): a forbidden streamed list is tried once as a LIST, which answers as
        // it did before streaming; the next read of the state streams again.
        if (streamed && error instanceof KubeApiError && error.status === 403) {
          this.#listOnce = true;
          continue;
        }
        this.stats.failures++;
        this.#lastError = error;
        this.#consecutiveFailures++;
        if (this.#streaming && !refusedByLiveServer(error)) this.#needState = true;
        const delayMs = this.#backoffDelay(this.#consecutiveFailures, error);
        this.#options.logger.warn(
          { kind: this.kind, err: error, retryInMs: delayMs, failures: this.#consecutiveFailures },
          "informer list/watch failed; retrying",
        );
        try {
          await this.#delay(delayMs, signal);
        } catch {
          break;
        }
      }
    }
  }

  #fallBackToLists(reason: string): void {
    this.#streaming = false;
    this.#options.logger.info(
      { kind: this.kind, reason },
      "the server does not stream lists; listing instead",
    );
  }

  #backoffDelay(failures: number, error: unknown): number {
    const { initialMs, maxMs, jitter } = this.#backoff;
    const windowMs = this.#options.reconnectWindowMs;
    // The watch's own end was the first prompt attempt's cue, this retry the second. A refusal
    // from a server that is up (403 before the hub has bound a new cluster's RBAC, say) is no
    // outage: it keeps the exponential backoff, so a join does not wait for a slot.
    if (windowMs && failures > 1 && !refusedByLiveServer(error))
      return Math.round(nextSlotDelayMs(this.#now(), this.#reconnectPhaseMs, windowMs, initialMs));
    return Math.round(backoffMs(failures, initialMs, maxMs, this.#random, jitter));
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.#options.client.listAll<T>(this.apiVersion, this.kind, {
      namespace: this.#options.namespace,
      labelSelector: this.#options.labelSelector,
      fieldSelector: this.#options.fieldSelector,
      signal,
    });
    this.#replaceState(
      new Map(items.map((item) => [objectKey(item), withoutManagedFields(item)])),
      resourceVersion,
    );
  }

  /** Makes the cache the state just read, emitting only what differs from what it held. */
  #replaceState(fresh: Map<string, T>, resourceVersion: string): void {
    this.stats.lists++;
    for (const [key, previous] of [...this.#store]) {
      if (!fresh.has(key)) {
        this.#remove(key);
        this.#emit("delete", previous);
      }
    }
    for (const [key, current] of fresh) {
      const previous = this.#store.get(key);
      if (!previous) {
        this.#put(key, current);
        this.#emit("add", current);
      } else if (previous.metadata.resourceVersion !== current.metadata.resourceVersion) {
        this.#put(key, current);
        this.#emit("update", current, previous);
      }
    }
    this.#resourceVersion = resourceVersion;
    this.#needState = false;
    this.#consecutiveFailures = 0;
    this.#lastError = undefined;
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  /**
   * One watch request until it ends. `streamed`: it begins as a streamed list, whose initial
   * events are gathered apart and replace the cache at the bookmark that ends them.
   */
  async #watch(stopSignal: AbortSignal, streamed: boolean): Promise<void> {
    this.stats.watches++;
    const watchAbort = new AbortController();
    const onStop = () => watchAbort.abort();
    stopSignal.addEventListener("abort", onStop, { once: true });
    const livenessMs = this.#options.livenessTimeoutMs ?? 150_000;
    let livenessExpired = false;
    let liveness: NodeJS.Timeout | undefined;
    const armLiveness = () => {
      clearTimeout(liveness);
      liveness = setTimeout(() => {
        livenessExpired = true;
        watchAbort.abort();
      }, livenessMs);
    };
    const minTimeout = this.#options.watchTimeoutSeconds ?? 300;
    try {
      armLiveness();
      const events = this.#options.client.watch<T>(this.apiVersion, this.kind, {
        namespace: this.#options.namespace,
        labelSelector: this.#options.labelSelector,
        fieldSelector: this.#options.fieldSelector,
        // A streamed list asks for the latest state (a consistent read), whatever the cache held.
        ...(streamed
          ? { sendInitialEvents: true, resourceVersionMatch: "NotOlderThan" as const }
          : { resourceVersion: this.#resourceVersion }),
        allowWatchBookmarks: true,
        timeoutSeconds: Math.floor(minTimeout * (1 + this.#random())),
        signal: watchAbort.signal,
      });
      let initial: Map<string, T> | undefined = streamed ? new Map() : undefined;
      for await (const event of events) {
        armLiveness();
        if (!initial) {
          this.#consecutiveFailures = 0;
          this.#apply(event.type, event.object);
          continue;
        }
        const object = event.object;
        if (event.type === "BOOKMARK") {
          if (object.metadata.annotations?.[initialEventsEndAnnotation] !== "true") continue;
          this.stats.streamedLists++;
          this.#replaceState(initial, object.metadata.resourceVersion ?? "");
          initial = undefined;
          continue;
        }
        withoutManagedFields(object);
        object.apiVersion ??= this.apiVersion;
        object.kind ??= this.kind;
        if (event.type === "DELETED") initial.delete(objectKey(object));
        else initial.set(objectKey(object), object);
      }
    } catch (error) {
      if (livenessExpired && !stopSignal.aborted) {
        this.stats.livenessRestarts++;
        this.#options.logger.warn(
          { kind: this.kind, livenessMs },
          "watch went silent past the liveness timeout; reopening",
        );
        return;
      }
      throw error;
    } finally {
      clearTimeout(liveness);
      stopSignal.removeEventListener("abort", onStop);
    }
  }

  #apply(type: string, object: T): void {
    const resourceVersion = object.metadata.resourceVersion;
    if (type === "BOOKMARK") {
      if (resourceVersion) this.#resourceVersion = resourceVersion;
      return;
    }
    withoutManagedFields(object);
    object.apiVersion ??= this.apiVersion;
    object.kind ??= this.kind;
    const key = objectKey(object);
    const previous = this.#store.get(key);
    if (type === "DELETED") {
      if (previous) {
        this.#remove(key);
        this.#emit("delete", object);
      }
    } else if (!previous) {
      this.#put(key, object);
      this.#emit("add", object);
    } else if (previous.metadata.resourceVersion !== resourceVersion) {
      this.#put(key, object);
      this.#emit("update", object, previous);
    }
    if (resourceVersion) this.#resourceVersion = resourceVersion;
  }

  #put(key: string, object: T): void {
    this.#unindex(key);
    this.#store.set(key, object);
    const namespace = object.metadata.namespace ?? "";
    let inNamespace = this.#byNamespace.get(namespace);
    if (!inNamespace) this.#byNamespace.set(namespace, (inNamespace = new Set<string>()));
    inNamespace.add(key);
    for (const { keysOf, entries } of this.#indexes.values()) addToIndex(entries, keysOf(object), key);
  }

  #remove(key: string): void {
    this.#unindex(key);
    this.#store.delete(key);
  }

  #unindex(key: string): void {
    const object = this.#store.get(key);
    if (!object) return;
    const namespace = object.metadata.namespace ?? "";
    const inNamespace = this.#byNamespace.get(namespace);
    inNamespace?.delete(key);
    if (inNamespace?.size === 0) this.#byNamespace.delete(namespace);
    for (const { keysOf, entries } of this.#indexes.values()) {
      for (const value of keysOf(object)) {
        const keys = entries.get(value);
        keys?.delete(key);
        if (keys?.size === 0) entries.delete(value);
      }
    }
  }

  #emit(kind: "add" | "update" | "delete", object: T, previous?: T): void {
    for (const handlers of this.#handlers) {
      this.#call(() => {
        if (kind === "add") handlers.onAdd?.(object);
        else if (kind === "update") handlers.onUpdate?.(previous!, object);
        else handlers.onDelete?.(object);
      });
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#options.logger.error({ kind: this.kind, err: error }, "informer handler failed");
    }
  }
}

/**
 * Drops `metadata.managedFields` before an object is cached: no reader of the cache needs the
 * field-ownership bookkeeping, and it is often the larger part of a small object.
 */
function withoutManagedFields<T extends KubeObject>(object: T): T {
  delete object.metadata.managedFields;
  return object;
}

function addToIndex(entries: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    let keys = entries.get(value);
    if (!keys) entries.set(value, (keys = new Set<string>()));
    keys.add(key);
  }
}
