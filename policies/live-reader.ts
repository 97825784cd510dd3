// A ClusterReader for the policy engine backed by a live API server. The engine is
// synchronous, so the reader serves what it has loaded and asks for the rest by throwing
// ReadPending; `evaluateLive` loads the read and runs the evaluation again. KubeClusterReader
// writes nothing: updates and creates are only ever sent as server-side dry runs, so
// enforcement is a dry run. KubeClusterWriter also writes, through the same loop: a write is
// sent once, its outcome remembered, and the evaluation run again up to it.
import {
  type ClusterObject,
  type DryRunOutcome,
  type KindMapping,
  labelsOf,
  type LoadingClusterReader,
  nameOf,
  namespaceNameLabel,
  namespaceOf,
  type NamespaceInfo,
  type PendingRead,
  ReadPending,
  type WriteOutcome,
  type WriteRequest,
} from "./cluster.ts";
import type { JsonObject } from "./gofmt.ts";
import { groupVersion } from "./kinds.ts";
import type { Clock } from "../runtime/clock.ts";
import { KubeApiError } from "../runtime/errors.ts";
import type { KubeClient } from "../runtime/kube/client.ts";
import { UnknownKindError } from "../runtime/kube/discovery.ts";
import type { KubeObject } from "../runtime/kube/types.ts";
import { delay } from "../runtime/wait.ts";

function stripRequest(message: string): string {
  return message.replace(/^(?:GET|POST|PUT|PATCH|DELETE) \S+: /, "");
}

export class KubeClusterReader implements LoadingClusterReader {
  readonly #client: KubeClient;
  readonly #kinds = new Map<string, KindMapping | null>();
  readonly #objects = new Map<string, ClusterObject | null>();
  readonly #lists = new Map<string, ClusterObject[]>();
  readonly #dryRuns = new Map<string, DryRunOutcome>();
  #namespaces: NamespaceInfo[] | undefined;
  /** Number of reads sent to the API server. */
  reads = 0;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  resolveKind(apiVersion: string, kind: string): KindMapping | undefined {
    const key = `${apiVersion}|${kind}`;
    const cached = this.#kinds.get(key);
    if (cached === undefined) throw new ReadPending({ op: "resolve", apiVersion, kind });
    return cached ?? undefined;
  }

  get(mapping: KindMapping, namespace: string, name: string): ClusterObject | undefined {
    const key = objectKey(mapping, namespace, name);
    const cached = this.#objects.get(key);
    if (cached === undefined) throw new ReadPending({ op: "get", mapping, namespace, name });
    return cached ?? undefined;
  }

  list(mapping: KindMapping, namespace: string | undefined, labelSelector?: string): ClusterObject[] {
    const cached = this.#lists.get(listKey(mapping, namespace, labelSelector));
    if (cached === undefined) throw new ReadPending({ op: "list", mapping, namespace, labelSelector });
    return cached;
  }

  namespaces(): NamespaceInfo[] {
    if (!this.#namespaces) throw new ReadPending({ op: "namespaces" });
    return this.#namespaces;
  }

  dryRunUpdate(mapping: KindMapping, object: ClusterObject): DryRunOutcome {
    const cached = this.#dryRuns.get(`update|${JSON.stringify(object)}`);
    if (cached === undefined) throw new ReadPending({ op: "dryRunUpdate", mapping, object });
    return cached;
  }

  dryRunCreate(mapping: KindMapping, object: ClusterObject): DryRunOutcome {
    const cached = this.#dryRuns.get(`create|${JSON.stringify(object)}`);
    if (cached === undefined) throw new ReadPending({ op: "dryRunCreate", mapping, object });
    return cached;
  }

  /** Loads what a ReadPending asked for. */
  async load(request: PendingRead): Promise<void> {
    this.reads++;
    switch (request.op) {
      case "write":
        throw new Error("KubeClusterReader never writes", { cause: request });
      case "resolve": {
        const key = `${request.apiVersion}|${request.kind}`;
        try {
          const info = await this.#client.discovery.resolve(request.apiVersion, request.kind);
          this.#kinds.set(key, {
            group: info.group,
            version: info.version,
            kind: info.kind,
            resource: info.resource,
            namespaced: info.namespaced,
          });
        } catch (error) {
          if (!(error instanceof UnknownKindError)) throw error;
          this.#kinds.set(key, null);
        }
        return;
      }
      case "get": {
        const { mapping, namespace, name } = request;
        const object = await this.#client.getOrUndefined({
          apiVersion: groupVersion(mapping.group, mapping.version),
          kind: mapping.kind,
          name,
          namespace: mapping.namespaced ? namespace : undefined,
        });
        this.#objects.set(objectKey(mapping, namespace, name), (object as ClusterObject | undefined) ?? null);
        return;
      }
      case "list": {
        const { mapping, namespace, labelSelector } = request;
        const { items } = await this.#client.listAll(
          groupVersion(mapping.group, mapping.version),
          mapping.kind,
          {
            namespace: mapping.namespaced && namespace ? namespace : undefined,
            labelSelector,
          },
        );
        this.#lists.set(listKey(mapping, namespace, labelSelector), items as unknown as ClusterObject[]);
        return;
      }
      case "namespaces": {
        const { items } = await this.#client.listAll("v1", "Namespace");
        this.#namespaces = items
          .map((item) => {
            const object = item as unknown as ClusterObject;
            const name = item.metadata.name ?? "";
            const status = object.status as { phase?: unknown } | undefined;
            return {
              name,
              labels: { ...labelsOf(object), [namespaceNameLabel]: name },
              terminating: Boolean(item.metadata.deletionTimestamp) || status?.phase === "Terminating",
            };
          })
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return;
      }
      case "dryRunUpdate":
      case "dryRunCreate": {
        const { mapping, object } = request;
        const update = request.op === "dryRunUpdate";
        const key = `${update ? "update" : "create"}|${JSON.stringify(object)}`;
        const metadata = object.metadata as { name?: string; namespace?: string } | undefined;
        const path = await this.#client.path({
          apiVersion: groupVersion(mapping.group, mapping.version),
          kind: mapping.kind,
          name: update ? metadata?.name : undefined,
          namespace: mapping.namespaced ? metadata?.namespace : undefined,
        });
        try {
          const result = await this.#client.request<KubeObject>({
            method: update ? "PUT" : "POST",
            path,
            body: object,
            query: { dryRun: "All", fieldValidation: "Strict" },
          });
          this.#dryRuns.set(key, { object: result as unknown as JsonObject });
        } catch (error) {
          if (!(error instanceof KubeApiError)) throw error;
          this.#dryRuns.set(key, {
            error: { status: error.status, reason: error.reason, message: stripRequest(error.message) },
          });
        }
        return;
      }
    }
  }
}

export interface WriteOptions {
  clock: Clock;
  /** How long a recreate waits for the old object to go. Default 10 s. */
  recreateTimeoutMs?: number;
  signal?: AbortSignal;
}

/** A KubeClusterReader whose write hook really writes: what an enforcing agent evaluates with. */
export class KubeClusterWriter extends KubeClusterReader {
  readonly #client: KubeClient;
  readonly #options: WriteOptions;
  readonly #writes = new Map<string, WriteOutcome>();

  constructor(client: KubeClient, options: WriteOptions) {
    super(client);
    this.#client = client;
    this.#options = options;
  }

  write(request: WriteRequest): WriteOutcome {
    const cached = this.#writes.get(writeKey(request));
    if (cached === undefined) throw new ReadPending({ op: "write", request });
    return cached;
  }

  override async load(request: PendingRead): Promise<void> {
    if (request.op !== "write") return super.load(request);
    this.reads++;
    this.#writes.set(
      writeKey(request.request),
      await executeWrite(this.#client, request.request, this.#options),
    );
  }
}

/** Identifies a write across re-runs of one evaluation, which ask for it identically. */
export function writeKey(request: WriteRequest): string {
  const { mapping } = request;
  const target =
    request.op === "delete"
      ? { namespace: request.namespace, name: request.name }
      : { object: request.object };
  return JSON.stringify([request.op, mapping.group, mapping.version, mapping.kind, target]);
}

function refused(error: KubeApiError): WriteOutcome {
  return {
    result: "refused",
    error: { status: error.status, reason: error.reason, message: stripRequest(error.message) },
  };
}

/**
 * Sends one enforcement write to the API server and says how it went. Creates and updates use
 * strict field validation, as OCM validates objects before writing them. A 409 Conflict on an
 * update (the object changed since it was read) is thrown: the caller evaluates again with
 * fresh reads rather than reporting a stale failure.
 */
export async function executeWrite(
  client: KubeClient,
  request: WriteRequest,
  options: WriteOptions,
): Promise<WriteOutcome> {
  const { mapping } = request;
  const apiVersion = groupVersion(mapping.group, mapping.version);
  const namespaceIn = (namespace: string) => (mapping.namespaced && namespace ? namespace : undefined);
  const ref = (namespace: string, name: string) => ({
    apiVersion,
    kind: mapping.kind,
    name,
    namespace: namespaceIn(namespace),
  });
  const create = async (object: ClusterObject): Promise<WriteOutcome> => {
    try {
      const path = await client.path({
        apiVersion,
        kind: mapping.kind,
        namespace: namespaceIn(namespaceOf(object)),
      });
      const created = await client.request<KubeObject>({
        method: "POST",
        path,
        body: object,
        query: { fieldValidation: "Strict" },
      });
      return { result: "written", object: created as unknown as ClusterObject };
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      return refused(error);
    }
  };
  /** Deletes; true once the object is gone, false while finalizers hold it. */
  const remove = async (namespace: string, name: string, uid?: string): Promise<boolean> => {
    try {
      await client.delete(ref(namespace, name), { propagationPolicy: "Background", ...(uid ? { uid } : {}) });
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound) return true;
      throw error;
    }
    return (await client.getOrUndefined(ref(namespace, name))) === undefined;
  };
  switch (request.op) {
    case "create":
      return create(request.object);
    case "update":
      try {
        const path = await client.path(ref(namespaceOf(request.object), nameOf(request.object)));
        const updated = await client.request<KubeObject>({
          method: "PUT",
          path,
          body: request.object,
          query: { fieldValidation: "Strict" },
        });
        return { result: "written", object: updated as unknown as ClusterObject };
      } catch (error) {
        if (!(error instanceof KubeApiError) || error.conflict) throw error;
        return refused(error);
      }
    case "delete":
      try {
        return {
          result: (await remove(request.namespace, request.name, request.uid)) ? "written" : "deleting",
        };
      } catch (error) {
        if (!(error instanceof KubeApiError)) throw error;
        return refused(error);
      }
    case "recreate": {
      const namespace = namespaceOf(request.object);
      const name = nameOf(request.object);
      try {
        let gone = await remove(namespace, name);
        const deadline = options.clock.now() + (options.recreateTimeoutMs ?? 10_000);
        while (!gone && options.clock.now() < deadline) {
          await delay(options.clock, 200, options.signal ?? new AbortController().signal);
          gone = (await client.getOrUndefined(ref(namespace, name))) === undefined;
        }
        if (!gone) return { result: "timedOut" };
      } catch (error) {
        if (!(error instanceof KubeApiError)) throw error;
        return refused(error);
      }
      const { metadata, ...rest } = request.object;
      const fresh = { ...rest, metadata: withoutServerFields(metadata) };
      return create(fresh);
    }
  }
}

/** Metadata a create must not carry over from the object it replaces. */
function withoutServerFields(metadata: unknown): JsonObject {
  const copy = { ...((metadata ?? {}) as JsonObject) };
  for (const field of [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "generation",
  ])
    delete copy[field];
  return copy;
}

function objectKey(mapping: KindMapping, namespace: string, name: string): string {
  return `${mapping.group}/${mapping.kind}/${mapping.namespaced ? namespace : ""}/${name}`;
}

function listKey(mapping: KindMapping, namespace: string | undefined, labelSelector?: string): string {
  return `${mapping.group}/${mapping.kind}/${namespace ?? "*"}/${labelSelector ?? ""}`;
}

/** Runs a synchronous evaluation against the reader, loading what it asks for, until it completes. */
export async function evaluateLive<T>(
  reader: LoadingClusterReader,
  evaluate: () => T,
  maxReads = 100_000,
): Promise<T> {
  for (;;) {
    try {
      return evaluate();
    } catch (error) {
      if (!(error instanceof ReadPending)) throw error;
      if (reader.reads >= maxReads)
        throw new Error(`the evaluation needed more than ${maxReads} reads`, { cause: error });
      await reader.load(error.request);
    }
  }
}
