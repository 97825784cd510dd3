// One informer per resource and scope per process, shared by every controller that asks for it,
// as client-go's shared informer factory: the fleet is cached once and watched once whatever
// the number of controllers. Controllers ask for informers and register handlers and indexes
// before `start()`; an informer asked for later starts at once, and its new handlers see the
// cached objects as adds.
import type { Logger } from "pino";
import { KubeApiError } from "./errors.ts";
import { Informer, refusedByLiveServer, type InformerOptions } from "./informer.ts";
import type { KubeApi } from "./kube/client.ts";
import { UnknownKindError } from "./kube/discovery.ts";
import type { KubeObject } from "./kube/types.ts";

export interface InformerScope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ResourceType {
  apiVersion: string;
  kind: string;
}

export type InformerTuning = Pick<
  InformerOptions,
  "watchTimeoutSeconds" | "livenessTimeoutMs" | "backoff" | "reconnectWindowMs" | "random" | "delay"
>;

export interface InformerFactoryOptions {
  client: KubeApi;
  logger: Logger;
  tuning?: InformerTuning;
}

/** Start-up failed because some caches did not fill in time; names each one and why. */
export class CacheSyncError extends Error {
  readonly unsynced: readonly string[];

  constructor(message: string, unsynced: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = "CacheSyncError";
    this.unsynced = unsynced;
  }
}

export function informerKey(resource: ResourceType, scope: InformerScope = {}): string {
  const parts = [`${resource.kind}.${resource.apiVersion}`];
  if (scope.namespace) parts.push(`namespace=${scope.namespace}`);
  if (scope.labelSelector) parts.push(`labels=${scope.labelSelector}`);
  if (scope.fieldSelector) parts.push(`fields=${scope.fieldSelector}`);
  return parts.join(" ");
}

export class InformerFactory {
  readonly #options: InformerFactoryOptions;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  #started = false;
  #stopped = false;

  constructor(options: InformerFactoryOptions) {
    this.#options = options;
  }

  /** The process's informer for this resource and scope; the same instance on every call. */
  informer<T extends KubeObject>(resource: ResourceType, scope: InformerScope = {}): Informer<T> {
    if (this.#stopped) throw new Error("the informer factory has been stopped");
    const key = informerKey(resource, scope);
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>({
        client: this.#options.client,
        apiVersion: resource.apiVersion,
        kind: resource.kind,
        ...scope,
        logger: this.#options.logger,
        ...this.#options.tuning,
      });
      this.#informers.set(key, informer);
      if (this.#started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** Every informer made so far, by key. */
  get informers(): ReadonlyMap<string, Informer<KubeObject>> {
    return this.#informers;
  }

  /** Starts every informer made so far, and those made from now on. Idempotent. */
  start(): void {
    if (this.#stopped) throw new Error("the informer factory has been stopped");
    this.#started = true;
    for (const informer of this.#informers.values()) informer.start();
  }

  get hasSynced(): boolean {
    return [...this.#informers.values()].every((informer) => informer.hasSynced);
  }

  /**
   * Resolves when every informer has listed once. After `timeoutMs` it rejects with a
   * CacheSyncError naming each resource still missing and its last error, when one was refused
   * by a live server (a kind it does not serve, a CRD that is not installed, a permission the
   * identity lacks): waiting forever would not fix that. Caches that are only slow to fill (an API server under load,
   * unreachable or throttling) are waited for, a warning each `timeoutMs`: giving up would
   * make the next start list everything again, on the same loaded server.
   */
  async waitForSync(options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (this.hasSynced) return;
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      try {
        await Promise.all([...this.#informers.values()].map((informer) => informer.waitForSync(signal)));
        return;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const unsynced = [...this.#informers.values()].filter((informer) => !informer.hasSynced);
        const waited = Math.round((Date.now() - started) / 1000);
        const refused = (error: unknown) => refusedByLiveServer(error) || error instanceof UnknownKindError;
        if (unsynced.some((informer) => refused(informer.lastError))) {
          const reasons = this.unsyncedReasons();
          throw new CacheSyncError(`caches did not sync within ${waited} s: ${reasons.join("; ")}`, reasons, {
            cause: error,
          });
        }
        this.#options.logger.warn(
          { waitedSeconds: waited, unsynced: this.unsyncedReasons() },
          "caches are still filling; waiting for the API server",
        );
      }
    }
  }

  /** For each informer not synced yet: what it caches and why it has not listed. */
  unsyncedReasons(): string[] {
    const reasons: string[] = [];
    for (const [key, informer] of this.#informers) {
      if (informer.hasSynced) continue;
      reasons.push(`${key}: ${describeFailure(informer.lastError)}`);
    }
    return reasons;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#informers.values()].map((informer) => informer.stop()));
  }
}

function describeFailure(error: unknown): string {
  if (error === undefined) return "no answer from the API server yet";
  if (error instanceof KubeApiError) {
    if (error.notFound) return `the resource is not served (is its CRD installed?): ${error.message}`;
    if (error.status === 403) return `forbidden (RBAC): ${error.message}`;
    return error.message;
  }
  return error instanceof Error ? error.message : JSON.stringify(error);
}
