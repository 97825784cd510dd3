// A ClusterReader for the policy engine backed by a live API server. The engine is
// synchronous, so the reader serves what it has loaded and asks for the rest by throwing
// ReadPending; `evaluateLive` loads the read and runs the evaluation again. Nothing is
// written: updates and creates are only ever sent as server-side dry runs.
import {
  type ClusterObject,
  type ClusterReader,
  type DryRunOutcome,
  type KindMapping,
  labelsOf,
  namespaceNameLabel,
  type NamespaceInfo,
  type PendingRead,
  ReadPending,
} from "./cluster.ts";
import type { JsonObject } from "./gofmt.ts";
import { groupVersion } from "./kinds.ts";
import { KubeApiError } from "../runtime/errors.ts";
import type { KubeClient } from "../runtime/kube/client.ts";
import { UnknownKindError } from "../runtime/kube/discovery.ts";
import type { KubeObject } from "../runtime/kube/types.ts";

function stripRequest(message: string): string {
  return message.replace(/^(?:GET|POST|PUT|PATCH|DELETE) \S+: /, "");
}

export class KubeClusterReader implements ClusterReader {
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

function objectKey(mapping: KindMapping, namespace: string, name: string): string {
  return `${mapping.group}/${mapping.kind}/${mapping.namespaced ? namespace : ""}/${name}`;
}

function listKey(mapping: KindMapping, namespace: string | undefined, labelSelector?: string): string {
  return `${mapping.group}/${mapping.kind}/${namespace ?? "*"}/${labelSelector ?? ""}`;
}

/** Runs a synchronous evaluation against the reader, loading what it asks for, until it completes. */
export async function evaluateLive<T>(
  reader: KubeClusterReader,
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
