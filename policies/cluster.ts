// How the policy engine sees a cluster. Evaluation is pure and synchronous: every read goes
// through a ClusterReader, so the same engine runs offline (MemoryCluster, from a YAML
// stream) and live (a reader that serves a cache and asks to be re-run on a miss).
import { type Json, type JsonObject, isObject } from "./gofmt.ts";
import { builtInKinds, groupVersion, type KindMapping, kindsOfCrd, splitApiVersion } from "./kinds.ts";

export type { KindMapping } from "./kinds.ts";

/** Any object in the cluster, as decoded JSON. */
export type ClusterObject = JsonObject;

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  terminating: boolean;
}

/** An API server's refusal. */
export interface ApiFailure {
  /** HTTP status, e.g. 422 for Invalid. */
  status: number;
  /** metav1.Status reason: Invalid, BadRequest, NotFound, Conflict, ... */
  reason: string;
  message: string;
}

/** The answer of a server-side dry run (update or create). */
export type DryRunOutcome = { object: ClusterObject } | { error: ApiFailure };

/** One write enforcement makes. */
export type WriteRequest =
  | { op: "create" | "update"; mapping: KindMapping; object: ClusterObject }
  /** Deletes the object `object` names, waits until it is gone, then creates `object`. */
  | { op: "recreate"; mapping: KindMapping; object: ClusterObject }
  /** `uid`, when given, is a precondition: an object of that name but another UID is kept. */
  | { op: "delete"; mapping: KindMapping; namespace: string; name: string; uid?: string };

export type WriteOutcome =
  /** Done; for creates, updates and recreates the object as the server returned it. */
  | { result: "written"; object?: ClusterObject }
  /** A delete the server accepted while finalizers still hold the object. */
  | { result: "deleting" }
  | { result: "refused"; error: ApiFailure }
  /** A recreate whose delete did not finish in time; nothing was created. */
  | { result: "timedOut" };

export interface ClusterReader {
  /** Maps apiVersion/kind to its resource; undefined when the cluster does not serve it. */
  resolveKind(apiVersion: string, kind: string): KindMapping | undefined;
  /** One object; undefined when it does not exist. Namespace is "" for cluster-scoped kinds. */
  get(mapping: KindMapping, namespace: string, name: string): ClusterObject | undefined;
  /**
   * Objects of a kind, in one namespace ("" for cluster-scoped kinds) or in all (undefined).
   * labelSelector is a hint a server may use; the engine filters the result itself.
   */
  list(mapping: KindMapping, namespace: string | undefined, labelSelector?: string): ClusterObject[];
  namespaces(): NamespaceInfo[];
  /** A server-side dry-run update; absent when there is no server to ask (offline). */
  dryRunUpdate?(mapping: KindMapping, object: ClusterObject): DryRunOutcome;
  /** A server-side dry-run create; absent offline. */
  dryRunCreate?(mapping: KindMapping, object: ClusterObject): DryRunOutcome;
  /**
   * Carries out an enforcement write. Absent for a dry run: the engine then reports the
   * cluster as it is and lists, as changes, what enforcement would do.
   */
  write?(request: WriteRequest): WriteOutcome;
}

/** A reader that asks for what it lacks with ReadPending and loads it when told to. */
export interface LoadingClusterReader extends ClusterReader {
  load(request: PendingRead): Promise<void>;
  /** Loads made so far (reads and writes sent). */
  readonly reads: number;
}

/**
 * Thrown by a reader that has not loaded what was asked for yet. The engine lets it through
 * untouched; the caller loads `request` and evaluates again.
 */
export class ReadPending extends Error {
  override name = "ReadPending";
  readonly request: PendingRead;
  constructor(request: PendingRead) {
    super(`cluster read pending: ${JSON.stringify(request)}`);
    this.request = request;
  }
}

export type PendingRead =
  | { op: "resolve"; apiVersion: string; kind: string }
  | { op: "get"; mapping: KindMapping; namespace: string; name: string }
  | { op: "list"; mapping: KindMapping; namespace: string | undefined; labelSelector?: string }
  | { op: "namespaces" }
  | { op: "dryRunUpdate" | "dryRunCreate"; mapping: KindMapping; object: ClusterObject }
  | { op: "write"; request: WriteRequest };

export const namespaceNameLabel = "kubernetes.io/metadata.name";

export function metadataOf(object: Json | undefined): JsonObject {
  return isObject(object) && isObject(object.metadata) ? object.metadata : {};
}

export function nameOf(object: Json | undefined): string {
  const name = metadataOf(object).name;
  return typeof name === "string" ? name : "";
}

export function namespaceOf(object: Json | undefined): string {
  const namespace = metadataOf(object).namespace;
  return typeof namespace === "string" ? namespace : "";
}

export function labelsOf(object: Json | undefined): Record<string, string> {
  const labels = metadataOf(object).labels;
  if (!isObject(labels)) return {};
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) if (typeof value === "string") result[key] = value;
  return result;
}

function groupKind(group: string, kind: string): string {
  return `${group}/${kind}`;
}

/**
 * A cluster held in memory: the objects given, the built-in Kubernetes kinds and the kinds
 * their CustomResourceDefinitions declare. The namespaces of listed objects and `default`
 * exist implicitly.
 */
export class MemoryCluster implements ClusterReader {
  readonly #kinds = new Map<string, KindMapping>();
  readonly #kindByGroupKind = new Map<string, KindMapping>();
  /** groupKind → namespace → name → object */
  readonly #objects = new Map<string, Map<string, Map<string, ClusterObject>>>();
  readonly #namespaces = new Map<string, NamespaceInfo>();
  /** Objects that could not be stored, with why; for the caller to report. */
  readonly warnings: string[] = [];

  constructor(objects: readonly ClusterObject[] = []) {
    for (const mapping of builtInKinds()) this.#addKind(mapping);
    for (const object of objects) {
      if (object.kind === "CustomResourceDefinition") {
        for (const mapping of kindsOfCrd(object)) this.#addKind(mapping);
      }
    }
    this.#ensureNamespace("default");
    for (const object of objects) this.add(object);
  }

  #addKind(mapping: KindMapping): void {
    this.#kinds.set(`${groupVersion(mapping.group, mapping.version)}|${mapping.kind}`, mapping);
    if (!this.#kindByGroupKind.has(groupKind(mapping.group, mapping.kind))) {
      this.#kindByGroupKind.set(groupKind(mapping.group, mapping.kind), mapping);
    }
  }

  #ensureNamespace(name: string): void {
    if (this.#namespaces.has(name)) return;
    this.#namespaces.set(name, { name, labels: { [namespaceNameLabel]: name }, terminating: false });
    this.#store("", "Namespace", "", name, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { [namespaceNameLabel]: name } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
  }

  #store(group: string, kind: string, namespace: string, name: string, object: ClusterObject): void {
    const key = groupKind(group, kind);
    let byNamespace = this.#objects.get(key);
    if (!byNamespace) this.#objects.set(key, (byNamespace = new Map<string, Map<string, ClusterObject>>()));
    let byName = byNamespace.get(namespace);
    if (!byName) byNamespace.set(namespace, (byName = new Map<string, ClusterObject>()));
    byName.set(name, object);
  }

  /** Adds (or replaces) an object. */
  add(object: ClusterObject): void {
    const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
    const kind = typeof object.kind === "string" ? object.kind : "";
    const name = nameOf(object);
    if (!apiVersion || !kind || !name) {
      this.warnings.push(`an object without apiVersion, kind or metadata.name was ignored`);
      return;
    }
    const { group } = splitApiVersion(apiVersion);
    const mapping = this.#kindByGroupKind.get(groupKind(group, kind));
    if (!mapping) {
      this.warnings.push(
        `${kind} ${name}: the cluster does not serve kind ${kind} in ${apiVersion} (no CustomResourceDefinition for it)`,
      );
    }
    const namespaced = mapping ? mapping.namespaced : namespaceOf(object) !== "";
    const namespace = namespaced ? namespaceOf(object) || "default" : "";
    if (group === "" && kind === "Namespace") {
      const metadata = metadataOf(object);
      this.#namespaces.set(name, {
        name,
        labels: { ...labelsOf(object), [namespaceNameLabel]: name },
        terminating:
          typeof metadata.deletionTimestamp === "string" ||
          (isObject(object.status) && object.status.phase === "Terminating"),
      });
    } else if (namespace) {
      this.#ensureNamespace(namespace);
    }
    this.#store(group, kind, namespace, name, object);
  }

  /** Removes an object; false when there was none. */
  remove(mapping: KindMapping, namespace: string, name: string): boolean {
    const byName = this.#objects
      .get(groupKind(mapping.group, mapping.kind))
      ?.get(mapping.namespaced ? namespace : "");
    if (!byName?.delete(name)) return false;
    if (mapping.group === "" && mapping.kind === "Namespace") this.#namespaces.delete(name);
    return true;
  }

  resolveKind(apiVersion: string, kind: string): KindMapping | undefined {
    return this.#kinds.get(`${apiVersion}|${kind}`);
  }

  get(mapping: KindMapping, namespace: string, name: string): ClusterObject | undefined {
    return this.#objects
      .get(groupKind(mapping.group, mapping.kind))
      ?.get(mapping.namespaced ? namespace : "")
      ?.get(name);
  }

  list(mapping: KindMapping, namespace: string | undefined): ClusterObject[] {
    const byNamespace = this.#objects.get(groupKind(mapping.group, mapping.kind));
    if (!byNamespace) return [];
    const namespaces =
      namespace === undefined || !mapping.namespaced ? [...byNamespace.keys()].sort() : [namespace];
    const result: ClusterObject[] = [];
    for (const ns of namespaces) {
      const byName = byNamespace.get(ns);
      if (!byName) continue;
      for (const name of [...byName.keys()].sort()) result.push(byName.get(name)!);
    }
    return result;
  }

  namespaces(): NamespaceInfo[] {
    return [...this.#namespaces.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

export interface WritableMemoryClusterOptions {
  /** Refuses a write as an API server would (admission, RBAC, validation); undefined takes it. */
  refuse?: (request: WriteRequest) => ApiFailure | undefined;
}

function resourceName(mapping: KindMapping): string {
  return mapping.group ? `${mapping.resource}.${mapping.group}` : mapping.resource;
}

/**
 * A MemoryCluster that takes enforcement's writes the way an API server does: a create gets a
 * UID and is refused when the object exists or its namespace does not; a delete of an object
 * with finalizers only marks it deleted, so a recreate of it times out.
 */
export class WritableMemoryCluster extends MemoryCluster {
  readonly #refuse: (request: WriteRequest) => ApiFailure | undefined;
  #uids = 0;
  /** Every write taken or refused, in order. */
  readonly writes: WriteRequest[] = [];

  constructor(objects: readonly ClusterObject[] = [], options: WritableMemoryClusterOptions = {}) {
    super(objects);
    this.#refuse = options.refuse ?? (() => undefined);
  }

  write(request: WriteRequest): WriteOutcome {
    this.writes.push(request);
    const refused = this.#refuse(request);
    if (refused) return { result: "refused", error: refused };
    const { mapping } = request;
    const namespace = (object: ClusterObject) => (mapping.namespaced ? namespaceOf(object) : "");
    switch (request.op) {
      case "create":
        return this.#create(mapping, request.object);
      case "update": {
        const name = nameOf(request.object);
        if (!this.get(mapping, namespace(request.object), name))
          return { result: "refused", error: notFound(mapping, name) };
        this.add(structuredClone(request.object));
        return { result: "written", object: request.object };
      }
      case "recreate": {
        const existing = this.get(mapping, namespace(request.object), nameOf(request.object));
        if (existing && this.#delete(mapping, existing) === "deleting") return { result: "timedOut" };
        return this.#create(mapping, request.object);
      }
      case "delete": {
        const existing = this.get(mapping, mapping.namespaced ? request.namespace : "", request.name);
        if (!existing) return { result: "written" };
        if (request.uid !== undefined && metadataOf(existing).uid !== request.uid) {
          return {
            result: "refused",
            error: {
              status: 409,
              reason: "Conflict",
              message: `Precondition failed: UID in precondition: ${request.uid}, UID in object meta: ${typeof metadataOf(existing).uid === "string" ? (metadataOf(existing).uid as string) : ""}`,
            },
          };
        }
        return { result: this.#delete(mapping, existing) };
      }
    }
  }

  #create(mapping: KindMapping, object: ClusterObject): WriteOutcome {
    const name = nameOf(object);
    const namespace = mapping.namespaced ? namespaceOf(object) : "";
    if (namespace && !this.namespaces().some((info) => info.name === namespace)) {
      return {
        result: "refused",
        error: { status: 404, reason: "NotFound", message: `namespaces "${namespace}" not found` },
      };
    }
    if (this.get(mapping, namespace, name)) {
      return {
        result: "refused",
        error: {
          status: 409,
          reason: "AlreadyExists",
          message: `${resourceName(mapping)} "${name}" already exists`,
        },
      };
    }
    const created = structuredClone(object);
    const metadata = isObject(created.metadata) ? created.metadata : (created.metadata = {});
    metadata.uid = `uid-${++this.#uids}`;
    this.add(created);
    return { result: "written", object: created };
  }

  #delete(mapping: KindMapping, existing: ClusterObject): "written" | "deleting" {
    const metadata = metadataOf(existing);
    if (Array.isArray(metadata.finalizers) && metadata.finalizers.length > 0) {
      this.add({ ...existing, metadata: { ...metadata, deletionTimestamp: "1970-01-01T00:00:00Z" } });
      return "deleting";
    }
    this.remove(mapping, mapping.namespaced ? namespaceOf(existing) : "", nameOf(existing));
    return "written";
  }
}

function notFound(mapping: KindMapping, name: string): ApiFailure {
  return { status: 404, reason: "NotFound", message: `${resourceName(mapping)} "${name}" not found` };
}
