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
  serviceAccountReadForbiddenMessage,
  templatesDisabled,
  type HubTemplateResult,
} from "../../policies/hub-templates.ts";
import { systemClock, type Clock } from "../../runtime/clock.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory, InformerScope } from "../../runtime/informer-factory.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { Discovery, UnknownKindError } from "../../runtime/kube/discovery.ts";
import type { KubeObject } from "../../runtime/kube/types.ts";
import { isReplicatedPolicy } from "./keys.ts";
import type { DesiredReplica } from "./replicas.ts";
import {
  ServiceAccountAccess,
  ServiceAccountAccessError,
  type TokenClient,
} from "./service-account-access.ts";

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
  /**
   * A client of the hub's API server carrying only a service account's token; without it a
   * root that names `hubTemplateOptions.serviceAccountName` fails its hub templates with a
   * message saying so.
   */
  clientWithToken?: (token: string) => TokenClient;
  clock?: Clock;
}

/** Where a resolution reads from: the hub's own informers, or those of a service account. */
interface ReadSource {
  /** "" for the hub's own informers, `sa:<namespace>/<name>` for an account's. */
  id: string;
  informers: InformerFactory;
  serviceAccount: boolean;
}

function apiVersionOf(mapping: KindMapping): string {
  return mapping.group === "" ? mapping.version : `${mapping.group}/${mapping.version}`;
}

function informerId(source: string, apiVersion: string, kind: string, namespace: string): string {
  return `${source}|${apiVersion}|${kind}|${namespace}`;
}

const serviceAccountMapping: KindMapping = {
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  resource: "serviceaccounts",
  namespaced: true,
};

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
  /** Informers this resolver has put its change handler on. */
  readonly #watched = new WeakSet<Informer<KubeObject>>();
  readonly #roots = new Set<string>();
  readonly #serviceAccounts: ServiceAccountAccess | undefined;
  #notify: (root: string) => void = () => {};

  constructor(options: HubTemplateResolverOptions) {
    this.#client = options.client;
    this.#informers = options.informers;
    this.#logger = options.logger;
    this.#discovery = new Discovery((path) => options.client.request({ method: "GET", path }));
    this.#randomBytes = options.randomBytes ?? cryptoRandomBytes;
    this.#now = options.now ?? (() => new Date());
    this.#serviceAccounts = options.clientWithToken
      ? new ServiceAccountAccess({
          client: options.client,
          clientWithToken: options.clientWithToken,
          clock: options.clock ?? systemClock(),
          logger: options.logger,
          onRenewed: (roots) => {
            for (const root of roots) this.#notify(root);
          },
        })
      : undefined;
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
    this.#forgetReads(root);
    this.#serviceAccounts?.release(root);
  }

  #forgetReads(root: string): void {
    for (const id of this.#readsOf.get(root) ?? []) this.#readersOf.get(id)?.delete(root);
    this.#readsOf.delete(root);
    this.#roots.delete(root);
  }

  /**
   * Forgets every root and stops the service accounts' informers; the hub's own informers
   * belong to the factory and stop with it.
   */
  async stop(): Promise<void> {
    this.#readersOf.clear();
    this.#readsOf.clear();
    this.#roots.clear();
    await this.#serviceAccounts?.stop();
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
    const rootNamespace = root.metadata.namespace ?? "";
    let source: ReadSource = { id: "", informers: this.#informers, serviceAccount: false };
    let failure: { message: string; retryable: boolean } | undefined;
    if (!serviceAccount) {
      this.#serviceAccounts?.release(rootKey);
    } else if (!this.#serviceAccounts) {
      failure = {
        message: `spec.hubTemplateOptions.serviceAccountName: this hub cannot resolve hub templates as service account ${rootNamespace}/${serviceAccount} (it has no client to make one with); remove it to resolve with the default restriction (the policy's namespace and the cluster's own ManagedCluster)`,
        retryable: false,
      };
    } else {
      try {
        const informers = await this.#serviceAccounts.informersFor(rootNamespace, serviceAccount, rootKey);
        source = { id: `sa:${rootNamespace}/${serviceAccount}`, informers, serviceAccount: true };
      } catch (error) {
        if (!(error instanceof ServiceAccountAccessError)) throw error;
        this.#serviceAccounts.release(rootKey);
        // As OCM: a missing account is waited for (its creation resolves the root again), any
        // other failure to set it up is tried again with backoff.
        if (error.missing) {
          this.informerFor(serviceAccountMapping, rootNamespace, source);
          reads.add(informerId("", "v1", serviceAccountMapping.kind, rootNamespace));
        }
        failure = { message: error.message, retryable: !error.missing };
      }
    }
    for (const desired of replicas) {
      const policy = { metadata: root.metadata, spec: desired.spec };
      let result: HubTemplateResult;
      if (failure) {
        const failed = hubTemplatesFailed(policy, failure.message);
        const retryable = failure.retryable;
        result = { ...failed, errors: failed.errors.map((entry) => ({ ...entry, retryable })) };
      } else {
        const managed = cluster(desired.cluster);
        const encryptionKey = encrypts ? await this.#encryptionKey(desired.cluster) : undefined;
        const reader = new CachedReader(this, source);
        const currentIv = existing(desired.cluster)?.metadata.annotations?.[PolicyAnnotations.encryptionIv];
        result = await this.#resolveWith(policy, reader, () =>
          resolveHubTemplates(
            policy,
            {
              cluster: desired.cluster,
              clusterLabels: managed?.metadata.labels ?? {},
              policy: {
                name: root.metadata.name ?? "",
                namespace: rootNamespace,
                labels: root.metadata.labels ?? {},
                annotations: root.metadata.annotations ?? {},
              },
            },
            {
              reader,
              // With a service account, its RBAC is the only limit on what may be read.
              ...(source.serviceAccount ? { unrestricted: true } : {}),
              ...(encryptionKey ? { encryptionKey } : {}),
              ...(currentIv ? { currentIv } : {}),
              randomBytes: this.#randomBytes,
            },
          ),
        );
        for (const read of result.reads)
          reads.add(informerId(source.id, read.apiVersion, read.kind, read.namespace));
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
    this.#forgetReads(root);
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

  /**
   * The informer of a kind in one namespace ("" for cluster-scoped kinds or all namespaces),
   * from the hub's own informers or a service account's.
   */
  informerFor(mapping: KindMapping, namespace: string, source: ReadSource): Informer<KubeObject> {
    const apiVersion = apiVersionOf(mapping);
    const scope: InformerScope = mapping.namespaced && namespace ? { namespace } : {};
    const managedCluster =
      mapping.kind === Resources.ManagedCluster.kind && mapping.group === Resources.ManagedCluster.group;
    // The hub's ManagedCluster informer is the one the propagator already holds.
    const informer = source.informers.informer<KubeObject>(
      managedCluster && !source.serviceAccount
        ? Resources.ManagedCluster
        : { apiVersion, kind: mapping.kind },
      scope,
    );
    const id = informerId(source.id, apiVersion, mapping.kind, mapping.namespaced ? namespace : "");
    if (!this.#watched.has(informer)) {
      this.#watched.add(informer);
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
  readonly #source: ReadSource;

  constructor(resolver: HubTemplateResolver, source: ReadSource) {
    this.#resolver = resolver;
    this.#source = source;
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
      const informer = this.#resolver.informerFor(request.mapping, request.namespace ?? "", this.#source);
      try {
        await syncedOrRefused(informer, AbortSignal.timeout(syncTimeoutMs));
      } catch (error) {
        const lastError = informer.lastError;
        const reason = lastError instanceof Error ? lastError.message : "no answer";
        if (this.#source.serviceAccount && lastError instanceof KubeApiError && lastError.forbidden) {
          throw new HubTemplateReadError(
            serviceAccountReadForbiddenMessage(reason, {
              apiVersion: apiVersionOf(request.mapping),
              kind: request.mapping.kind,
              namespace: request.namespace ?? "",
              ...(request.op === "get" ? { name: request.name } : {}),
            }),
            { cause: error },
          );
        }
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
    const informer = this.#resolver.informerFor(mapping, namespace, this.#source);
    if (!informer.hasSynced) throw new ReadPending(request);
    return informer;
  }
}

/**
 * Waits until the informer has synced; fails at once when the API server refused its list
 * (a forbidden read never syncs, and waiting out the timeout would only delay the message).
 */
async function syncedOrRefused(informer: Informer<KubeObject>, signal: AbortSignal): Promise<void> {
  const refused = new AbortController();
  const poll = setInterval(() => {
    const error = informer.lastError;
    if (error instanceof KubeApiError && (error.forbidden || error.unauthorized)) refused.abort(error);
  }, 50);
  try {
    await informer.waitForSync(AbortSignal.any([signal, refused.signal]));
  } finally {
    clearInterval(poll);
  }
}
