// An in-memory KubeApi, for UNIT TESTS ONLY: reconcile logic driven through tables of cases
// without an API server. Integration and end-to-end tests run real API servers and must never
// use it; what it does not model (admission, validation, defaulting, server-side apply, field
// ownership, garbage collection, conversion between versions, discovery, raw requests) is only
// proven there.
//
// What it does model, as an API server does:
// - objects keyed by apiVersion, kind, namespace and name (each apiVersion stored on its own);
// - one resourceVersion counter for the whole store, bumped on every write; a write that
//   changes nothing keeps the object's resourceVersion and records no event;
// - optimistic concurrency: a write carrying a stale metadata.resourceVersion fails with
//   409 Conflict (one carrying none is unconditional, as built-in kinds allow); a create of an
//   existing name fails with 409 AlreadyExists; a read, write or delete of a missing object
//   with 404 NotFound; each as the real client throws it (KubeApiError);
// - the status subresource on every kind: writes to the object ignore its status, writes to
//   status change only the status; creates drop the status;
// - metadata.generation bumped when anything but metadata and status changes;
// - finalizers: a delete marks the object with a deletionTimestamp until its finalizers are gone;
// - merge patches (RFC 7386) only; other patch types and subresources throw a plain Error;
// - label selectors (api/selectors.ts) and metadata.name / metadata.namespace field selectors;
// - watches from a resourceVersion yielding ADDED, MODIFIED and DELETED (an object leaving or
//   entering a selector is DELETED or ADDED), 410 Expired from before `compact()`, and streamed
//   lists (sendInitialEvents: the current objects as ADDED, then the bookmark that ends them);
//   no other bookmarks.
// Lists always read the latest state, in one page.
import { randomUUID } from "node:crypto";
import { apply as applyMergePatch } from "json-merge-patch";
import { isDeepStrictEqual } from "node:util";
import { matchesLabels, parseSelector, type Selector } from "../../api/selectors.ts";
import { systemClock, type Clock } from "../../runtime/clock.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import {
  refOf,
  type KubeApi,
  type ObjectRef,
  type PatchType,
  type RequestSpec,
} from "../../runtime/kube/client.ts";
import type {
  KubeList,
  KubeObject,
  ListOptions,
  Unstructured,
  WatchEvent,
  WatchOptions,
} from "../../runtime/kube/types.ts";
import { initialEventsEndAnnotation } from "../../runtime/kube/types.ts";
import { formatTime } from "../../runtime/time.ts";

type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

interface Change {
  revision: number;
  type: ChangeType;
  object: KubeObject;
  /** The object before a MODIFIED change, for selectors it may have entered or left. */
  previous?: KubeObject;
}

/** One write call, as made (whether or not it succeeded). */
export interface MemoryWrite {
  verb: "create" | "replace" | "patch" | "delete";
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  subresource?: string;
  body?: unknown;
}

interface Scope {
  namespace?: string;
  labels?: Selector;
  fields: { path: "metadata.name" | "metadata.namespace"; value: string; equal: boolean }[];
}

export class MemoryKube implements KubeApi {
  readonly #clock: Clock;
  readonly #objects = new Map<string, KubeObject>();
  readonly #history: Change[] = [];
  readonly #waiters = new Set<() => void>();
  #revision = 1;
  #compactedThrough = 0;
  #held = false;
  /** Every write call in order, for assertions on what a reconcile sent. */
  readonly writes: MemoryWrite[] = [];

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock();
  }

  /** The resourceVersion of the latest write. */
  get resourceVersion(): string {
    return String(this.#revision);
  }

  /** Forgets the history so far: watches from an earlier resourceVersion fail with 410 Expired. */
  compact(): void {
    this.#compactedThrough = this.#revision;
    this.#history.length = 0;
  }

  /**
   * Holds back watch events (as a slow watch would) until the returned function is called, so
   * that a test can write behind a cache's back and see a reconcile work from the stale copy.
   */
  holdWatches(): () => void {
    this.#held = true;
    return () => {
      this.#held = false;
      this.#wake();
    };
  }

  get<T extends KubeObject = Unstructured>(ref: ObjectRef, _signal?: AbortSignal): Promise<T> {
    return settle(() => {
      const object = this.#objects.get(keyOf(ref));
      if (!object) throw notFound("GET", ref);
      return clone(object) as T;
    });
  }

  getOrUndefined<T extends KubeObject = Unstructured>(ref: ObjectRef): Promise<T | undefined> {
    return settle(() => {
      const object = this.#objects.get(keyOf(ref));
      return object && (clone(object) as T);
    });
  }

  list<T extends KubeObject = Unstructured>(
    apiVersion: string,
    kind: string,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    return settle(() => {
      const scope = parseScope(options);
      const items = [...this.#objects.values()]
        .filter(
          (object) => object.apiVersion === apiVersion && object.kind === kind && inScope(object, scope),
        )
        .sort((a, b) => sortKey(a).localeCompare(sortKey(b)))
        .map((object) => clone(object) as T);
      return { apiVersion, kind: `${kind}List`, metadata: { resourceVersion: this.resourceVersion }, items };
    });
  }

  async listAll<T extends KubeObject = Unstructured>(
    apiVersion: string,
    kind: string,
    options: Omit<ListOptions, "continue"> = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const list = await this.list<T>(apiVersion, kind, options);
    return { items: list.items, resourceVersion: list.metadata.resourceVersion ?? "" };
  }

  create<T extends KubeObject>(
    object: T,
    options: { dryRun?: boolean; fieldManager?: string } = {},
  ): Promise<T> {
    return settle(() => {
      const metadata = { ...object.metadata };
      if (!metadata.name && metadata.generateName)
        metadata.name = `${metadata.generateName}${(this.#revision + 1).toString(36).padStart(5, "0")}`;
      const ref = { ...refOf(object), name: metadata.name ?? "" };
      this.#record("create", ref, undefined, object);
      if (!ref.name) throw apiError("POST", ref, 422, "Invalid", "metadata.name: Required value");
      if (metadata.resourceVersion)
        throw apiError(
          "POST",
          ref,
          400,
          "BadRequest",
          "resourceVersion should not be set on objects to be created",
        );
      if (this.#objects.has(keyOf(ref)))
        throw apiError("POST", ref, 409, "AlreadyExists", `${describe(ref)} already exists`);
      const { status: _status, ...rest } = clone(object) as KubeObject & { status?: unknown };
      const created: KubeObject = {
        ...rest,
        metadata: {
          ...metadata,
          uid: randomUUID(),
          generation: 1,
          creationTimestamp: formatTime(this.#clock.now()),
          deletionTimestamp: undefined,
        },
      };
      return (options.dryRun ? dropUndefined(created) : this.#commit(ref, undefined, created)) as T;
    });
  }

  replace<T extends KubeObject>(
    object: T,
    options: { subresource?: string; dryRun?: boolean; fieldManager?: string } = {},
  ): Promise<T> {
    return settle(() => {
      const ref = refOf(object);
      this.#record("replace", ref, options.subresource, object);
      return this.#update(ref, "PUT", options, () => clone(object)) as T;
    });
  }

  patch<T extends KubeObject = Unstructured>(
    ref: ObjectRef,
    type: PatchType,
    patch: unknown,
    options: { subresource?: string; fieldManager?: string; force?: boolean; dryRun?: boolean } = {},
  ): Promise<T> {
    return settle(() => {
      this.#record("patch", ref, options.subresource, patch);
      if (type !== "merge") throw new Error(`MemoryKube models merge patches only, not ${type} patches`);
      return this.#update(ref, "PATCH", options, (current) =>
        applyMergePatch(clone(current), clone(patch)),
      ) as T;
    });
  }

  delete(
    ref: ObjectRef,
    options: {
      propagationPolicy?: "Foreground" | "Background" | "Orphan";
      uid?: string;
      resourceVersion?: string;
    } = {},
  ): Promise<void> {
    return settle(() => {
      this.#record("delete", ref);
      const current = this.#objects.get(keyOf(ref));
      if (!current) throw notFound("DELETE", ref);
      if (options.uid !== undefined && options.uid !== current.metadata.uid)
        throw conflict("DELETE", ref, `Precondition failed: UID in precondition: ${options.uid}`);
      if (
        options.resourceVersion !== undefined &&
        options.resourceVersion !== current.metadata.resourceVersion
      )
        throw conflict("DELETE", ref, "Precondition failed: the object has been modified");
      if ((current.metadata.finalizers ?? []).length === 0) {
        this.#commit(ref, current, undefined);
      } else if (!current.metadata.deletionTimestamp) {
        const marked = clone(current);
        marked.metadata.deletionTimestamp = formatTime(this.#clock.now());
        this.#commit(ref, current, marked);
      }
    });
  }

  async *watch<T extends KubeObject = Unstructured>(
    apiVersion: string,
    kind: string,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const scope = parseScope(options);
    const { signal } = options;
    const deadline = options.timeoutSeconds ? Date.now() + options.timeoutSeconds * 1000 : undefined;
    const ofType = (object: KubeObject) => object.apiVersion === apiVersion && object.kind === kind;
    let cursor: number;
    if (options.sendInitialEvents) {
      if (options.resourceVersionMatch !== "NotOlderThan" || !options.allowWatchBookmarks)
        throw new KubeApiError(
          `watch ${apiVersion} ${kind}: sendInitialEvents needs resourceVersionMatch NotOlderThan and bookmarks`,
          422,
          "Invalid",
        );
      cursor = this.#revision;
      const current = await this.list<T>(apiVersion, kind, options);
      for (const object of current.items) yield { type: "ADDED", object };
      yield {
        type: "BOOKMARK",
        object: {
          apiVersion,
          kind,
          metadata: {
            resourceVersion: String(cursor),
            annotations: { [initialEventsEndAnnotation]: "true" },
          },
        } as KubeObject as T,
      };
    } else if (!options.resourceVersion || options.resourceVersion === "0") {
      cursor = this.#revision;
      const current = await this.list<T>(apiVersion, kind, options);
      for (const object of current.items) yield { type: "ADDED", object };
    } else {
      cursor = Number(options.resourceVersion);
      if (!Number.isInteger(cursor))
        throw new KubeApiError(`watch ${apiVersion} ${kind}: invalid resourceVersion`, 400, "BadRequest");
    }
    for (;;) {
      signal?.throwIfAborted();
      if (cursor < this.#compactedThrough)
        throw new KubeApiError(
          `watch ${apiVersion} ${kind}: too old resource version: ${cursor} (${this.#compactedThrough})`,
          410,
          "Expired",
        );
      const change = this.#held ? undefined : this.#history.find((candidate) => candidate.revision > cursor);
      if (change) {
        cursor = change.revision;
        if (!ofType(change.object)) continue;
        const type = visibleAs(change, scope);
        if (type) yield { type, object: clone(change.object) as T };
        continue;
      }
      if (deadline !== undefined && Date.now() >= deadline) return;
      await this.#nextWrite(signal, deadline);
    }
  }

  /** Raw requests name REST paths that only a real API server (and its discovery) can answer. */
  request<T = unknown>(spec: RequestSpec): Promise<T> {
    return Promise.reject(
      new Error(
        `MemoryKube does not model raw requests (${spec.method} ${spec.path}); test this against a real API server`,
      ),
    );
  }

  #record(verb: MemoryWrite["verb"], ref: ObjectRef, subresource?: string, body?: unknown): void {
    this.writes.push({ verb, ...ref, subresource, body: body === undefined ? undefined : clone(body) });
  }

  /** A PUT or PATCH: `next` computes the object as written from the current one. */
  #update(
    ref: ObjectRef,
    method: "PUT" | "PATCH",
    options: { subresource?: string; dryRun?: boolean },
    next: (current: KubeObject) => unknown,
  ): KubeObject {
    const { subresource } = options;
    if (subresource !== undefined && subresource !== "status")
      throw new Error(`MemoryKube models the status subresource only, not ${subresource}`);
    const current = this.#objects.get(keyOf(ref));
    if (!current) throw notFound(method, ref);
    const proposed = next(current) as Partial<KubeObject> & { status?: unknown };
    const precondition = proposed.metadata?.resourceVersion;
    if (precondition && precondition !== current.metadata.resourceVersion)
      throw conflict(
        method,
        ref,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    const { status: currentStatus, ...currentRest } = clone(current) as KubeObject & { status?: unknown };
    let written: KubeObject & { status?: unknown };
    if (subresource === "status") {
      // Only the status changes; metadata and spec stay as stored.
      written = { ...currentRest, ...(proposed.status === undefined ? {} : { status: proposed.status }) };
    } else {
      // The status and the server-owned metadata stay as stored.
      const { status: _ignored, ...rest } = proposed;
      written = {
        ...rest,
        apiVersion: current.apiVersion,
        kind: current.kind,
        metadata: {
          ...proposed.metadata,
          name: current.metadata.name,
          namespace: current.metadata.namespace,
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          deletionTimestamp: current.metadata.deletionTimestamp,
          generation: current.metadata.generation,
          resourceVersion: current.metadata.resourceVersion,
        },
        ...(currentStatus === undefined ? {} : { status: currentStatus }),
      };
      if (!isDeepStrictEqual(specOf(written), specOf(current)))
        written.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    written = dropUndefined(written);
    // A write that changes nothing is not a write: same resourceVersion, no event.
    if (options.dryRun || isDeepStrictEqual(written, current)) return written;
    const finalized = written.metadata.deletionTimestamp && (written.metadata.finalizers ?? []).length === 0;
    return this.#commit(ref, current, finalized ? undefined : written);
  }

  /** Stores `next` (or removes the object when undefined) under a new resourceVersion. */
  #commit(ref: ObjectRef, previous: KubeObject | undefined, next: KubeObject | undefined): KubeObject {
    const revision = ++this.#revision;
    const key = keyOf(ref);
    if (next) {
      const stored = dropUndefined({
        ...next,
        metadata: { ...next.metadata, resourceVersion: String(revision) },
      });
      this.#objects.set(key, stored);
      this.#history.push(
        previous
          ? { revision, type: "MODIFIED", object: clone(stored), previous: clone(previous) }
          : { revision, type: "ADDED", object: clone(stored) },
      );
      this.#wake();
      return clone(stored);
    }
    const deleted = clone(previous!);
    deleted.metadata.resourceVersion = String(revision);
    this.#objects.delete(key);
    this.#history.push({ revision, type: "DELETED", object: deleted });
    this.#wake();
    return clone(deleted);
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  #nextWrite(signal: AbortSignal | undefined, deadline: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = deadline === undefined ? undefined : setTimeout(done, Math.max(0, deadline - Date.now()));
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

function keyOf(ref: { apiVersion: string; kind: string; name?: string; namespace?: string }): string {
  return JSON.stringify([ref.apiVersion, ref.kind, ref.namespace ?? "", ref.name ?? ""]);
}

function sortKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

/** Runs `fn` as an API call does: its result or its error arrives asynchronously. */
function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The object as JSON would carry it: no undefined fields. */
function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Everything but metadata and status: what a change of bumps the generation. */
function specOf(object: KubeObject): unknown {
  const { metadata: _metadata, status: _status, ...rest } = object as KubeObject & { status?: unknown };
  return dropUndefined(rest);
}

function describe(ref: ObjectRef): string {
  return `${ref.kind} ${JSON.stringify(ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name)}`;
}

function apiError(
  method: string,
  ref: ObjectRef,
  status: number,
  reason: string,
  message: string,
): KubeApiError {
  return new KubeApiError(`${method} ${describe(ref)}: ${message}`, status, reason, {
    name: ref.name,
    kind: ref.kind,
  });
}

function notFound(method: string, ref: ObjectRef): KubeApiError {
  return apiError(method, ref, 404, "NotFound", `${describe(ref)} not found`);
}

function conflict(method: string, ref: ObjectRef, message: string): KubeApiError {
  return apiError(
    method,
    ref,
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${describe(ref)}: ${message}`,
  );
}

function parseScope(options: { namespace?: string; labelSelector?: string; fieldSelector?: string }): Scope {
  const scope: Scope = { namespace: options.namespace || undefined, fields: [] };
  if (options.labelSelector) {
    const parsed = parseSelector(options.labelSelector);
    if (!parsed.ok)
      throw new KubeApiError(`unable to parse requirement: ${parsed.message}`, 400, "BadRequest");
    scope.labels = parsed.selector;
  }
  for (const term of (options.fieldSelector ?? "").split(",")) {
    if (!term.trim()) continue;
    const match = /^\s*(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(\S*)\s*$/.exec(term);
    if (!match) throw new KubeApiError(`field label not supported: ${term.trim()}`, 400, "BadRequest");
    scope.fields.push({
      path: match[1] as "metadata.name" | "metadata.namespace",
      value: match[3]!,
      equal: match[2] !== "!=",
    });
  }
  return scope;
}

function inScope(object: KubeObject, scope: Scope): boolean {
  if (scope.namespace !== undefined && object.metadata.namespace !== scope.namespace) return false;
  if (scope.labels && !matchesLabels(scope.labels, object.metadata.labels)) return false;
  return scope.fields.every((field) => {
    const actual = (field.path === "metadata.name" ? object.metadata.name : object.metadata.namespace) ?? "";
    return (actual === field.value) === field.equal;
  });
}

/** How a watcher with this scope sees a change: an object leaving its scope is deleted for it. */
function visibleAs(change: Change, scope: Scope): ChangeType | undefined {
  const now = inScope(change.object, scope);
  if (change.type !== "MODIFIED") return now ? change.type : undefined;
  const before = change.previous !== undefined && inScope(change.previous, scope);
  if (before && now) return "MODIFIED";
  if (now) return "ADDED";
  return before ? "DELETED" : undefined;
}
