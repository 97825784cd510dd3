// Hub templates (`{{hub … hub}}`) resolved per cluster from the hub's watch caches. The pure
// resolver (policies/hub-templates.ts) reads synchronously and asks for what is not cached with
// ReadPending; here each ask starts (once) the informer of that kind in that namespace and the
// resolution runs again. Every informer a root's templates read from is remembered, so a change
// to a ConfigMap, Secret or cluster they used enqueues that root and its templates resolve again.
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import type { Logger } from "pino";
import { PolicyAnnotations, Resources, Secrets } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { Policy } from "../../api/types/policy.ts";
import {
  type ClusterObject,
  type ClusterReader,
  type KindMapping,
  type NamespaceInfo,
  ReadPending,
} from "../../policies/cluster.ts";
import {
  encryptionKeyOf,
  encryptionKeySecret,
  hubTemplatesFailed,
  hubTemplatesNeedEncryption,
  hubTemplatesReadClusterLabels,
  newEncryptionKey,
  policyHasHubTemplates,
  resolveHubTemplates,
  templatesDisabled,
  type HubTemplateResult,
} from "../../policies/hub-templates.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory, InformerScope } from "../../runtime/informer-factory.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { Discovery, UnknownKindError } from "../../runtime/kube/discovery.ts";
import type { KubeObject } from "../../runtime/kube/types.ts";
import { isReplicatedPolicy } from "./keys.ts";
import type { DesiredReplica } from "./replicas.ts";

/** How long a first read of a kind waits for its cache (a forbidden kind never syncs). */
const syncTimeoutMs = 10_000;

/** What hub templates asked for could not be read (forbidden, or the server did not answer). */
export class HubTemplateReadError extends Error {
  override name = "HubTemplateReadError";
}

/** Reads one resolution may make before it is abandoned (a template looping over lookups). */
const maxLoads = 1000;

export interface ResolvedReplica {
  desired: DesiredReplica;
  /** OCM's messages of the templates that failed; each is also on its hub-templates-error annotation. */
  templateErrors: string[];
  /** Some template failed for want of an API resource that may yet be installed: try again later. */
  retry: boolean;
}

export interface HubTemplateResolverOptions {
  client: KubeApi;
  informers: InformerFactory;
  logger: Logger;
  randomBytes?: (size: number) => Buffer;
  now?: () => Date;
}

function apiVersionOf(mapping: KindMapping): string {
  return mapping.group === "" ? mapping.version : `${mapping.group}/${mapping.version}`;
}

function informerId(apiVersion: string, kind: string, namespace: string): string {
  return `${apiVersion}|${kind}|${namespace}`;
}

export class HubTemplateResolver {
  readonly #client: KubeApi;
  readonly #informers: InformerFactory;
  readonly #logger: Logger;
  readonly #discovery: Discovery;
  readonly #randomBytes: (size: number) => Buffer;
  readonly #now: () => Date;
  readonly #kinds = new Map<string, KindMapping | null>();
  /** The roots whose last resolution read from each informer. */
  readonly #readersOf = new Map<string, Set<string>>();
  /** The informers each root's last resolution read from. */
  readonly #readsOf = new Map<string, Set<string>>();
  readonly #watched = new Set<string>();
  readonly #roots = new Set<string>();
  #notify: (root: string) => void = () => {};

  constructor(options: HubTemplateResolverOptions) {
    this.#client = options.client;
    this.#informers = options.informers;
    this.#logger = options.logger;
    this.#discovery = new Discovery((path) => options.client.request({ method: "GET", path }));
    this.#randomBytes = options.randomBytes ?? cryptoRandomBytes;
    this.#now = options.now ?? (() => new Date());
  }

  /** Called with a root's key when something its templates read has changed. */
  onChange(callback: (root: string) => void): void {
    this.#notify = callback;
  }

  /** The root's templates read its clusters' labels. */
  usesClusterLabels(root: string): boolean {
    return this.#roots.has(root);
  }

  forget(root: string): void {
    for (const id of this.#readsOf.get(root) ?? []) this.#readersOf.get(id)?.delete(root);
    this.#readsOf.delete(root);
    this.#roots.delete(root);
  }

  /** Forgets every root; the informers belong to the factory and stop with it. */
  stop(): void {
    this.#readersOf.clear();
    this.#readsOf.clear();
    this.#roots.clear();
  }

  /**
   * The replicas with their hub templates resolved, by cluster; a replica the root's templates
   * do not touch is left out (use it as planned).
   */
  async resolve(
    rootKey: string,
    root: Policy,
    replicas: readonly DesiredReplica[],
    cluster: (name: string) => ManagedCluster | undefined,
    existing: (name: string) => Policy | undefined,
  ): Promise<Map<string, ResolvedReplica>> {
    const resolved = new Map<string, ResolvedReplica>();
    if (!policyHasHubTemplates(root) || templatesDisabled(root)) {
      this.forget(rootKey);
      return resolved;
    }
    const reads = new Set<string>();
    const encrypts = hubTemplatesNeedEncryption(root);
    const serviceAccount = root.spec?.hubTemplateOptions?.serviceAccountName;
    for (const desired of replicas) {
      const policy = { metadata: root.metadata, spec: desired.spec };
      let result: HubTemplateResult;
      if (serviceAccount) {
        // Lookups with a service account's rights need its token; bosun resolves only with
        // the default restriction, and says so rather than read with its own rights.
        result = hubTemplatesFailed(
          policy,
          `spec.hubTemplateOptions.serviceAccountName: resolving hub templates as service account ${root.metadata.namespace}/${serviceAccount} is not supported; remove it to resolve with the default restriction (the policy's namespace and the cluster's own ManagedCluster)`,
        );
      } else {
        const managed = cluster(desired.cluster);
        const encryptionKey = encrypts ? await this.#encryptionKey(desired.cluster) : undefined;
        const reader = new CachedReader(this);
        const currentIv = existing(desired.cluster)?.metadata.annotations?.[PolicyAnnotations.encryptionIv];
        result = await this.#resolveWith(policy, reader, () =>
          resolveHubTemplates(
            policy,
            {
              cluster: desired.cluster,
              clusterLabels: managed?.metadata.labels ?? {},
              policy: {
                name: root.metadata.name ?? "",
                namespace: root.metadata.namespace ?? "",
                labels: root.metadata.labels ?? {},
                annotations: root.metadata.annotations ?? {},
              },
            },
            {
              reader,
              ...(encryptionKey ? { encryptionKey } : {}),
              ...(currentIv ? { currentIv } : {}),
              randomBytes: this.#randomBytes,
            },
          ),
        );
        for (const read of result.reads) reads.add(informerId(read.apiVersion, read.kind, read.namespace));
      }
      resolved.set(desired.cluster, {
        desired: {
          ...desired,
          annotations: { ...desired.annotations, ...result.annotations },
          spec: { ...desired.spec, "policy-templates": result.templates },
        },
        templateErrors: result.errors.map((error) => error.message),
        retry: result.errors.some((error) => error.retryable),
      });
    }
    this.#remember(rootKey, reads, hubTemplatesReadClusterLabels(root));
    return resolved;
  }

  /** Runs the synchronous resolution, loading what it asks for, until it completes. */
  async #resolveWith(
    policy: Pick<Policy, "metadata" | "spec">,
    reader: CachedReader,
    run: () => HubTemplateResult,
  ): Promise<HubTemplateResult> {
    for (let loads = 0; ; loads++) {
      try {
        return run();
      } catch (error) {
        if (!(error instanceof ReadPending)) throw error;
        if (loads >= maxLoads)
          return hubTemplatesFailed(policy, `hub templates needed more than ${maxLoads} reads`);
        try {
          await reader.load(error);
        } catch (failure) {
          if (!(failure instanceof HubTemplateReadError)) throw failure;
          // Fails this policy's templates alone, and is tried again with backoff.
          const failed = hubTemplatesFailed(policy, failure.message);
          return { ...failed, errors: failed.errors.map((entry) => ({ ...entry, retryable: true })) };
        }
      }
    }
  }

  #remember(root: string, reads: Set<string>, readsClusterLabels: boolean): void {
    this.forget(root);
    if (readsClusterLabels) this.#roots.add(root);
    this.#readsOf.set(root, reads);
    for (const id of reads) {
      let readers = this.#readersOf.get(id);
      if (!readers) this.#readersOf.set(id, (readers = new Set()));
      readers.add(root);
    }
  }

  /** The cluster's template key, created (as OCM's propagator does) when it has none yet. */
  async #encryptionKey(cluster: string): Promise<Buffer> {
    const ref = { apiVersion: "v1", kind: "Secret", namespace: cluster, name: Secrets.policyEncryptionKey };
    const secret = await this.#client.getOrUndefined(ref);
    const key = encryptionKeyOf(secret as ClusterObject | undefined);
    if (key) return key;
    const fresh = newEncryptionKey(this.#randomBytes);
    try {
      await this.#client.create(encryptionKeySecret(cluster, fresh, this.#now()));
      return fresh;
    } catch (error) {
      // Another writer made it first: use theirs.
      if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
      const made = encryptionKeyOf((await this.#client.get(ref)) as unknown as ClusterObject);
      if (!made)
        throw new Error(`Secret ${cluster}/${Secrets.policyEncryptionKey} has no key`, { cause: error });
      return made;
    }
  }

  // The cache the reader serves from ---------------------------------------------------------

  kindOf(apiVersion: string, kind: string): KindMapping | null | undefined {
    return this.#kinds.get(`${apiVersion}|${kind}`);
  }

  async loadKind(apiVersion: string, kind: string): Promise<void> {
    try {
      const info = await this.#discovery.resolve(apiVersion, kind);
      this.#kinds.set(`${apiVersion}|${kind}`, {
        group: info.group,
        version: info.version,
        kind: info.kind,
        resource: info.resource,
        namespaced: info.namespaced,
      });
    } catch (error) {
      if (!(error instanceof UnknownKindError)) throw error;
      this.#kinds.set(`${apiVersion}|${kind}`, null);
    }
  }

  /** The informer of a kind in one namespace ("" for cluster-scoped kinds or all namespaces). */
  informerFor(mapping: KindMapping, namespace: string): Informer<KubeObject> {
    const apiVersion = apiVersionOf(mapping);
    const scope: InformerScope = mapping.namespaced && namespace ? { namespace } : {};
    // The ManagedCluster informer is the one the propagator already holds.
    const informer = this.#informers.informer<KubeObject>(
      mapping.kind === Resources.ManagedCluster.kind && mapping.group === Resources.ManagedCluster.group
        ? Resources.ManagedCluster
        : { apiVersion, kind: mapping.kind },
      scope,
    );
    const id = informerId(apiVersion, mapping.kind, mapping.namespaced ? namespace : "");
    if (!this.#watched.has(id)) {
      this.#watched.add(id);
      const changed = (object: KubeObject) => {
        // The propagator's own replicas are Policies too: they never feed a template.
        if (mapping.kind === "Policy" && isReplicatedPolicy(object)) return;
        for (const root of this.#readersOf.get(id) ?? []) this.#notify(root);
      };
      informer.addHandlers({
        onAdd: changed,
        onUpdate: (_previous, current) => changed(current),
        onDelete: changed,
      });
      this.#logger.debug({ id }, "watching what hub templates read");
    }
    return informer;
  }
}

/** A ClusterReader over the resolver's informers; asks with ReadPending for what is not synced. */
class CachedReader implements ClusterReader {
  readonly #resolver: HubTemplateResolver;

  constructor(resolver: HubTemplateResolver) {
    this.#resolver = resolver;
  }

  resolveKind(apiVersion: string, kind: string): KindMapping | undefined {
    const known = this.#resolver.kindOf(apiVersion, kind);
    if (known === undefined) throw new ReadPending({ op: "resolve", apiVersion, kind });
    return known ?? undefined;
  }

  get(mapping: KindMapping, namespace: string, name: string): ClusterObject | undefined {
    const informer = this.#synced(mapping, namespace, { op: "get", mapping, namespace, name });
    const key = mapping.namespaced ? `${namespace}/${name}` : name;
    return informer.get(key) as ClusterObject | undefined;
  }

  list(mapping: KindMapping, namespace: string | undefined, labelSelector?: string): ClusterObject[] {
    const informer = this.#synced(mapping, namespace ?? "", {
      op: "list",
      mapping,
      namespace,
      labelSelector,
    });
    // The engine filters by the selector itself.
    return informer.list() as unknown as ClusterObject[];
  }

  namespaces(): NamespaceInfo[] {
    // Hub templates read objects, never namespace lists.
    return [];
  }

  async load(pending: ReadPending): Promise<void> {
    const request = pending.request;
    if (request.op === "resolve") return this.#resolver.loadKind(request.apiVersion, request.kind);
    if (request.op === "get" || request.op === "list") {
      const informer = this.#resolver.informerFor(request.mapping, request.namespace ?? "");
      try {
        await informer.waitForSync(AbortSignal.timeout(syncTimeoutMs));
      } catch (error) {
        const reason = informer.lastError instanceof Error ? informer.lastError.message : "no answer";
        const where = request.namespace ? ` in namespace ${request.namespace}` : "";
        throw new HubTemplateReadError(
          `hub templates could not read ${request.mapping.kind} objects${where}: ${reason}`,
          { cause: error },
        );
      }
      return;
    }
    throw pending;
  }

  #synced(mapping: KindMapping, namespace: string, request: ConstructorParameters<typeof ReadPending>[0]) {
    const informer = this.#resolver.informerFor(mapping, namespace);
    if (!informer.hasSynced) throw new ReadPending(request);
    return informer;
  }
}
