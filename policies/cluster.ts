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

/** The answer of a server-side dry run (update or create). */
export type DryRunOutcome =
  | { object: ClusterObject }
  | {
      error: {
        /** HTTP status, e.g. 422 for Invalid. */
        status: number;
        /** metav1.Status reason: Invalid, BadRequest, NotFound, Conflict, ... */
        reason: string;
        message: string;
      };
    };

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
  | { op: "dryRunUpdate" | "dryRunCreate"; mapping: KindMapping; object: ClusterObject };

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
