// What the policy agent evaluates against: the watch caches of every kind (and namespace) that
// some policy reads, started when an evaluation first asks for them. Each evaluation runs in a
// session, a ClusterReader that answers from the caches and remembers every answer, so that
// the engine, re-run after each load, sees one consistent cluster: an informer not synced yet,
// a kind not resolved yet, a dry run or a write not sent yet is a ReadPending, which the
// session loads (starting the informer and waiting for it, asking discovery, sending the
// request once) before the engine runs again. The session records which caches it read, so a
// change there re-evaluates exactly the policies that read it.
import type { Logger } from "pino";
import {
  type ClusterObject,
  type DryRunOutcome,
  type KindMapping,
  labelsOf,
  type LoadingClusterReader,
  namespaceNameLabel,
  type NamespaceInfo,
  type PendingRead,
  ReadPending,
  type WriteOutcome,
  type WriteRequest,
} from "../../policies/cluster.ts";
import { groupVersion } from "../../policies/kinds.ts";
import { executeWrite, writeKey } from "../../policies/live-reader.ts";
import type { Clock } from "../../runtime/clock.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { informerKey, type InformerFactory } from "../../runtime/informer-factory.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { KubeClient } from "../../runtime/kube/client.ts";
import { UnknownKindError } from "../../runtime/kube/discovery.ts";
import type { KubeObject } from "../../runtime/kube/types.ts";

/** The touch recorded when a session reads the namespace list (for namespaceSelector). */
export const namespaceListTouch = "namespaces()";

const namespaceType = { apiVersion: "v1", kind: "Namespace" };

export interface PolicyCachesOptions {
  client: KubeClient;
  informers: InformerFactory;
  clock: Clock;
  logger: Logger;
  /** How long an evaluation waits for a cache to fill before failing. Default 30 s. */
  syncTimeoutMs?: number;
  /** How long a recreate waits for the old object to go. Default 10 s. */
  recreateTimeoutMs?: number;
  /** Told the key of a cache in which something changed. */
  onChange: (cacheKey: string) => void;
  /** Told when the namespaces changed. */
  onNamespaces?: () => void;
}

/** A namespace as the namespaceSelector sees it. */
export function namespaceInfo(object: KubeObject): NamespaceInfo {
  const name = object.metadata.name ?? "";
  const phase = (object as { status?: { phase?: unknown } }).status?.phase;
  return {
    name,
    labels: { ...labelsOf(object as unknown as ClusterObject), [namespaceNameLabel]: name },
    terminating: Boolean(object.metadata.deletionTimestamp) || phase === "Terminating",
  };
}

function byName(a: NamespaceInfo, b: NamespaceInfo): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export class PolicyCaches {
  readonly #options: PolicyCachesOptions;
  /** Cache keys given change handlers. */
  readonly #handled = new Set<string>();

  constructor(options: PolicyCachesOptions) {
    this.#options = options;
  }

  get clock(): Clock {
    return this.#options.clock;
  }

  /**
   * The cache serving `mapping` in `namespace` (undefined: every namespace; "" for cluster-
   * scoped kinds): a cluster-wide one when it exists, else one for that namespace alone.
   */
  informer(
    mapping: KindMapping,
    namespace: string | undefined,
  ): { key: string; informer: Informer<KubeObject> } {
    const resource = { apiVersion: groupVersion(mapping.group, mapping.version), kind: mapping.kind };
    const clusterWide = informerKey(resource);
    const scoped = mapping.namespaced && namespace ? { namespace } : {};
    const existing = this.#options.informers.informers.get(clusterWide);
    const key = existing ? clusterWide : informerKey(resource, scoped);
    const informer = existing ?? this.#options.informers.informer<KubeObject>(resource, scoped);
    this.#watch(key, informer);
    return { key, informer };
  }

  /** The namespaces informer. */
  namespaceInformer(): { key: string; informer: Informer<KubeObject> } {
    const key = informerKey(namespaceType);
    const informer = this.#options.informers.informer<KubeObject>(namespaceType);
    this.#watch(key, informer);
    return { key, informer };
  }

  /** The namespaces as cached now; undefined until the cache has filled. */
  namespaces(): NamespaceInfo[] | undefined {
    const { informer } = this.namespaceInformer();
    return informer.hasSynced ? informer.list().map(namespaceInfo).sort(byName) : undefined;
  }

  #watch(key: string, informer: Informer<KubeObject>): void {
    if (this.#handled.has(key)) return;
    this.#handled.add(key);
    const changed = () => {
      this.#options.onChange(key);
      if (informer.kind === namespaceType.kind && informer.apiVersion === namespaceType.apiVersion)
        this.#options.onNamespaces?.();
    };
    informer.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  /** A fresh session for one evaluation. */
  session(signal: AbortSignal, onTouch?: (cacheKey: string) => void): EvaluationSession {
    return new EvaluationSession(this, this.#options, signal, onTouch);
  }
}

/** One evaluation's view of the cluster: the caches, every answer remembered. */
export class EvaluationSession implements LoadingClusterReader {
  readonly #caches: PolicyCaches;
  readonly #options: PolicyCachesOptions;
  readonly #signal: AbortSignal;
  readonly #onTouch: ((cacheKey: string) => void) | undefined;
  readonly #kinds = new Map<string, KindMapping | null>();
  readonly #objects = new Map<string, ClusterObject | null>();
  readonly #lists = new Map<string, ClusterObject[]>();
  readonly #dryRuns = new Map<string, DryRunOutcome>();
  readonly #writes = new Map<string, WriteOutcome>();
  #namespaces: NamespaceInfo[] | undefined;
  /** The caches this evaluation read. */
  readonly touched = new Set<string>();
  reads = 0;

  constructor(
    caches: PolicyCaches,
    options: PolicyCachesOptions,
    signal: AbortSignal,
    onTouch: ((cacheKey: string) => void) | undefined,
  ) {
    this.#caches = caches;
    this.#options = options;
    this.#signal = signal;
    this.#onTouch = onTouch;
  }

  #touch(key: string): void {
    if (this.touched.has(key)) return;
    this.touched.add(key);
    this.#onTouch?.(key);
  }

  resolveKind(apiVersion: string, kind: string): KindMapping | undefined {
    const cached = this.#kinds.get(`${apiVersion}|${kind}`);
    if (cached === undefined) throw new ReadPending({ op: "resolve", apiVersion, kind });
    return cached ?? undefined;
  }

  get(mapping: KindMapping, namespace: string, name: string): ClusterObject | undefined {
    const scope = mapping.namespaced ? namespace : "";
    const key = JSON.stringify([mapping.group, mapping.kind, scope, name]);
    const cached = this.#objects.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const { key: cacheKey, informer } = this.#caches.informer(mapping, scope);
    this.#touch(cacheKey);
    if (!informer.hasSynced) throw new ReadPending({ op: "get", mapping, namespace, name });
    const object = (informer.get(scope ? `${scope}/${name}` : name) as ClusterObject | undefined) ?? null;
    this.#objects.set(key, object);
    return object ?? undefined;
  }

  list(mapping: KindMapping, namespace: string | undefined): ClusterObject[] {
    const scope = mapping.namespaced ? namespace : "";
    const key = JSON.stringify([mapping.group, mapping.kind, scope ?? null]);
    const cached = this.#lists.get(key);
    if (cached) return cached;
    const { key: cacheKey, informer } = this.#caches.informer(mapping, scope);
    this.#touch(cacheKey);
    if (!informer.hasSynced) throw new ReadPending({ op: "list", mapping, namespace });
    const items = (scope ? informer.byNamespace(scope) : informer.list()) as unknown as ClusterObject[];
    const sorted = [...items].sort((a, b) => {
      const [ka, kb] = [objectOrder(a), objectOrder(b)];
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    this.#lists.set(key, sorted);
    return sorted;
  }

  namespaces(): NamespaceInfo[] {
    if (this.#namespaces) return this.#namespaces;
    this.#touch(namespaceListTouch);
    const namespaces = this.#caches.namespaces();
    if (!namespaces) throw new ReadPending({ op: "namespaces" });
    return (this.#namespaces = namespaces);
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

  write(request: WriteRequest): WriteOutcome {
    const cached = this.#writes.get(writeKey(request));
    if (cached === undefined) throw new ReadPending({ op: "write", request });
    return cached;
  }

  async load(request: PendingRead): Promise<void> {
    this.reads++;
    const { client } = this.#options;
    switch (request.op) {
      case "resolve": {
        const key = `${request.apiVersion}|${request.kind}`;
        try {
          const info = await client.discovery.resolve(request.apiVersion, request.kind);
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
      case "get":
      case "list": {
        const scope = request.mapping.namespaced ? request.namespace : "";
        await this.#sync(this.#caches.informer(request.mapping, scope));
        return;
      }
      case "namespaces":
        await this.#sync(this.#caches.namespaceInformer());
        return;
      case "dryRunUpdate":
      case "dryRunCreate": {
        const update = request.op === "dryRunUpdate";
        const { mapping, object } = request;
        const metadata = object.metadata as { name?: string; namespace?: string } | undefined;
        try {
          const path = await client.path({
            apiVersion: groupVersion(mapping.group, mapping.version),
            kind: mapping.kind,
            name: update ? metadata?.name : undefined,
            namespace: mapping.namespaced ? metadata?.namespace : undefined,
          });
          const result = await client.request<KubeObject>({
            method: update ? "PUT" : "POST",
            path,
            body: object,
            query: { dryRun: "All", fieldValidation: "Strict" },
          });
          this.#dryRuns.set(`${update ? "update" : "create"}|${JSON.stringify(object)}`, {
            object: result as unknown as ClusterObject,
          });
        } catch (error) {
          if (!(error instanceof KubeApiError)) throw error;
          this.#dryRuns.set(`${update ? "update" : "create"}|${JSON.stringify(object)}`, {
            error: {
              status: error.status,
              reason: error.reason,
              message: error.message.replace(/^(?:GET|POST|PUT|PATCH|DELETE) \S+: /, ""),
            },
          });
        }
        return;
      }
      case "write":
        this.#writes.set(
          writeKey(request.request),
          await executeWrite(client, request.request, {
            clock: this.#options.clock,
            recreateTimeoutMs: this.#options.recreateTimeoutMs,
            signal: this.#signal,
          }),
        );
        return;
    }
  }

  async #sync({ key, informer }: { key: string; informer: Informer<KubeObject> }): Promise<void> {
    if (informer.hasSynced) return;
    const last = informer.lastError;
    // A cache the agent may not list (RBAC) or whose kind went away fails at once, rather than
    // holding a worker for the whole timeout each time; the informer keeps retrying meanwhile.
    if (last instanceof KubeApiError && (last.status === 403 || last.notFound)) {
      throw new Error(`the cache of ${key} cannot fill: ${last.message}`, { cause: last });
    }
    const timeoutMs = this.#options.syncTimeoutMs ?? 30_000;
    try {
      await informer.waitForSync(AbortSignal.any([this.#signal, AbortSignal.timeout(timeoutMs)]));
    } catch (error) {
      if (this.#signal.aborted) throw error;
      // The informer's own failure (a missing permission, say) says more than the timeout.
      const failure = informer.lastError;
      throw new Error(
        `the cache of ${key} did not fill within ${timeoutMs / 1000} s${failure instanceof Error ? `: ${failure.message}` : ""}`,
        { cause: error },
      );
    }
  }
}

function objectOrder(object: ClusterObject): string {
  const metadata = (object.metadata ?? {}) as { namespace?: string; name?: string };
  return `${metadata.namespace ?? ""}/${metadata.name ?? ""}`;
}
