// The hub's registration controllers: acceptance (cluster namespace, per-cluster RBAC,
// HubAcceptedManagedCluster), lease-based availability and its taints, CSR approval, the
// default cluster-set label, and the status of cluster sets and their bindings. Events only
// enqueue keys; each reconcile reads the caches and writes the difference.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { isPending } from "../../api/csr.ts";
import type { Registry } from "prom-client";
import {
  Annotations,
  BuiltInClusterSets,
  ClusterRBAC,
  ConditionStatus,
  Csr,
  Finalizers,
  Labels,
  Lease,
  ManagedClusterConditions,
  ManagedClusterEvents,
  ManagedClusterMessages,
  ManagedClusterReasons,
  Permissions,
  Resources,
} from "../../api/constants.ts";
import type { ManagedCluster, ManagedClusterSet, ManagedClusterSetBinding } from "../../api/types/cluster.ts";
import type { Lease as LeaseObject } from "../../api/types/kube.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import type { Clock } from "../../runtime/clock.ts";
import { findCondition, setCondition, type Condition } from "../../runtime/conditions.ts";
import { Controller } from "../../runtime/controller.ts";
import { KubeApiError, TerminalError } from "../../runtime/errors.ts";
import { EventRecorder } from "../../runtime/events.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import { jittered } from "../../runtime/jitter.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { objectKey, splitKey, type KubeObject, type Unstructured } from "../../runtime/kube/types.ts";
import { objectAction } from "../../runtime/live-state.ts";
import { patchStatus } from "../../runtime/status.ts";
import { managedClusterAdmissionBinding, managedClusterAdmissionPolicy } from "./admission.ts";
import { desiredTaints, judgeLease, leaseDurationSeconds, leaseStoppedCondition } from "./availability.ts";
import { clockSyncUpdate, type RenewalSighting } from "./clock-sync.ts";
import {
  boundCondition,
  builtInClusterSets,
  clusterSetEmptyCondition,
  clusterSetMembers,
  clusterSetWriteDelayMs,
  setsSelecting,
} from "./clustersets.ts";
import { HubInformers } from "../informers.ts";
import {
  approveCsr,
  checkClusterCsr,
  isRenewalRequest,
  parseRequest,
  type CertificateSigningRequest,
} from "./csr.ts";
import {
  acceptedRoleBindingsFor,
  clusterRoleBindingFor,
  clusterRoleFor,
  sharedClusterRoles,
} from "./rbac.ts";
import { formatMicroTime, formatTime } from "../../runtime/time.ts";

export const registrationFieldManager = "bosun-registration";

const defaultAccessResyncMs = 10 * 60_000;

// OCM sets only the reason (HubClusterAdminDenied) on a denial; this message is bosun's.
const deniedMessage = "Denied by hub cluster admin";

export interface RegistrationOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** CSR requesters (spec.username) whose bootstrap CSRs are approved and clusters accepted without `bosun accept`. */
  autoApprovedUsers?: readonly string[];
  /** The process's shared informers; without it the controllers make (and start and stop) their own. */
  informers?: InformerFactory;
  /** How long start() waits for the caches before failing with the resources it still misses. */
  cacheSyncTimeoutMs?: number;
  /** How often a cluster's namespace and RBAC are checked again though nothing changed. Default 10 min. */
  accessResyncMs?: number;
}

/** How soon an auto-approved requester's CSR is looked at again while its ManagedCluster is missing. */
const csrWaitForClusterMs = 1000;

export class RegistrationControllers {
  readonly #client: KubeApi;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #autoApproved: ReadonlySet<string>;
  readonly #accessResyncMs: number;
  readonly #events: EventRecorder;
  readonly #cache: ControllerCache;
  readonly clusters: Informer<ManagedCluster>;
  readonly leases: Informer<LeaseObject>;
  readonly csrs: Informer<CertificateSigningRequest>;
  readonly sets: Informer<ManagedClusterSet>;
  readonly bindings: Informer<ManagedClusterSetBinding>;
  /** The clusters' access objects by kind (namespace, ClusterRole, ClusterRoleBinding, RoleBinding). */
  readonly #access: ReadonlyMap<string, Informer<KubeObject>>;
  /** Per cluster: the acceptance its access objects were last written for, and when to write them again. */
  readonly #accessApplied = new Map<string, { accepted: boolean; resyncAtMs: number }>();
  /** Per cluster: the lease renewTime last seen and the hub's time when it was seen, for ClockSynced. */
  readonly #renewals = new Map<string, RenewalSighting & { renewTime: string }>();
  /** Per set: when this process last wrote its status (a member count is written at most once a second). */
  readonly #setCountWrittenAt = new Map<string, number>();
  readonly #clusterController: Controller;
  readonly #csrController: Controller;
  readonly #setController: Controller;
  readonly #bindingController: Controller;

  constructor(options: RegistrationOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ component: "registration" });
    this.#autoApproved = new Set(options.autoApprovedUsers ?? []);
    this.#accessResyncMs = options.accessResyncMs ?? defaultAccessResyncMs;
    this.#events = new EventRecorder({
      client: options.client,
      component: registrationFieldManager,
      clock: options.clock,
      logger: this.#logger,
    });
    this.#cache = new ControllerCache({ ...options, logger: this.#logger });
    const informers = this.#cache.informers;
    this.clusters = informers.informer(Resources.ManagedCluster);
    this.leases = informers.informer(HubInformers.clusterLeases.resource, HubInformers.clusterLeases.scope);
    this.csrs = informers.informer(HubInformers.clusterCsrs.resource, HubInformers.clusterCsrs.scope);
    this.sets = informers.informer(Resources.ManagedClusterSet);
    this.bindings = informers.informer(Resources.ManagedClusterSetBinding);
    this.#access = new Map(
      [
        HubInformers.clusterNamespaces,
        HubInformers.clusterRoles,
        HubInformers.clusterRoleBindings,
        HubInformers.clusterNamespaceRoleBindings,
      ].map(({ resource, scope }) => [resource.kind, informers.informer(resource, scope)]),
    );

    const controller = (
      name: string,
      reconcile: (key: string) => Promise<{ requeueAfterMs?: number } | void>,
    ) =>
      new Controller({
        name,
        reconcile,
        registry: options.registry,
        logger: options.logger,
        clock: options.clock,
        workers: 2,
      });
    this.#clusterController = controller("managedcluster", (key) => this.reconcileCluster(key));
    this.#csrController = controller("csr", (key) => this.reconcileCsr(key));
    this.#setController = controller("managedclusterset", (key) => this.reconcileSet(key));
    this.#bindingController = controller("managedclustersetbinding", (key) => this.reconcileBinding(key));

    const enqueueCluster = (object: KubeObject) => this.#clusterController.enqueue(objectKey(object));
    this.clusters.addHandlers({
      onAdd: enqueueCluster,
      onUpdate: (_previous, current) => enqueueCluster(current),
      onDelete: enqueueCluster,
    });
    // A set's status counts its members: only the sets that hold the cluster before or after
    // the change can see a difference.
    const enqueueSetsOf = (...versions: ManagedCluster[]) => {
      for (const name of setsSelecting(this.sets.list(), versions)) this.#setController.enqueue(name);
    };
    this.clusters.addHandlers({
      onAdd: (cluster) => enqueueSetsOf(cluster),
      onUpdate: (previous, current) => {
        if (
          !isDeepStrictEqual(previous.metadata.labels, current.metadata.labels) ||
          !previous.metadata.deletionTimestamp !== !current.metadata.deletionTimestamp
        )
          enqueueSetsOf(previous, current);
      },
      onDelete: (cluster) => enqueueSetsOf(cluster),
    });
    const enqueueLeaseCluster = (lease: KubeObject) => {
      if (lease.metadata.namespace) this.#clusterController.enqueue(lease.metadata.namespace);
    };
    this.leases.addHandlers({
      onAdd: (lease) => {
        this.#noteRenewal(lease, false);
        enqueueLeaseCluster(lease);
      },
      onUpdate: (_previous, current) => {
        this.#noteRenewal(current, true);
        enqueueLeaseCluster(current);
      },
      onDelete: (lease) => {
        if (lease.metadata.namespace) this.#renewals.delete(lease.metadata.namespace);
        enqueueLeaseCluster(lease);
      },
    });
    const enqueueCsr = (csr: KubeObject) => this.#csrController.enqueue(objectKey(csr));
    this.csrs.addHandlers({ onAdd: enqueueCsr, onUpdate: (_previous, current) => enqueueCsr(current) });
    const enqueueSet = (set: KubeObject) => {
      this.#setController.enqueue(objectKey(set));
      for (const binding of this.bindings.list()) {
        if (binding.metadata.name === set.metadata.name) this.#bindingController.enqueue(objectKey(binding));
      }
    };
    this.sets.addHandlers({
      onAdd: enqueueSet,
      onUpdate: (_previous, current) => enqueueSet(current),
      onDelete: enqueueSet,
    });
    // An access object changed or removed by anyone: its cluster's access is checked again,
    // against the cache, and only what drifted is written.
    const recheckAccess = (object: KubeObject) => {
      const cluster = object.metadata.labels?.[Labels.clusterName];
      if (!cluster) return;
      this.#accessApplied.delete(cluster);
      this.#clusterController.enqueue(cluster);
    };
    for (const informer of this.#access.values())
      informer.addHandlers({
        onUpdate: (_previous, current) => recheckAccess(current),
        onDelete: recheckAccess,
      });
    const enqueueBinding = (binding: KubeObject) => this.#bindingController.enqueue(objectKey(binding));
    this.bindings.addHandlers({
      onAdd: enqueueBinding,
      onUpdate: (_previous, current) => enqueueBinding(current),
    });
  }

  /**
   * Records when the hub first saw a cluster lease's renewTime. `seenAsChange` is false for a
   * lease seen for the first time (at start-up it may have been renewed long ago).
   */
  #noteRenewal(lease: LeaseObject, seenAsChange: boolean): void {
    const cluster = lease.metadata.namespace;
    if (!cluster || lease.metadata.name !== Lease.name) return;
    const renewTime = lease.spec?.renewTime ?? "";
    const previous = this.#renewals.get(cluster);
    if (previous?.renewTime === renewTime) return;
    const renewTimeMs = Date.parse(renewTime);
    this.#renewals.set(cluster, {
      renewTime,
      renewTimeMs: Number.isNaN(renewTimeMs) ? 0 : renewTimeMs,
      seenAtMs: this.#clock.now(),
      sawChange: seenAsChange && previous !== undefined,
    });
  }

  get informers(): Informer<KubeObject>[] {
    return [
      this.clusters,
      this.leases,
      this.csrs,
      this.sets,
      this.bindings,
      ...this.#access.values(),
    ] as Informer<KubeObject>[];
  }

  /**
   * Installs what every hub needs before clusters arrive: the shared ClusterRoles, the
   * ManagedCluster admission policy and the built-in sets.
   */
  async ensureHubDefaults(): Promise<void> {
    for (const object of [
      ...sharedClusterRoles(),
      managedClusterAdmissionPolicy(),
      managedClusterAdmissionBinding(),
    ]) {
      await applyServerSide(this.#client, object, { fieldManager: registrationFieldManager, force: true });
    }
    for (const set of builtInClusterSets()) {
      try {
        await this.#client.create(set);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
      }
    }
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.ensureHubDefaults();
    await this.#cache.sync(signal);
    for (const controller of [
      this.#clusterController,
      this.#csrController,
      this.#setController,
      this.#bindingController,
    ]) {
      controller.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.#clusterController, this.#csrController, this.#setController, this.#bindingController].map(
        (controller) => controller.stop(),
      ),
    );
    await this.#cache.release();
  }

  /** How many times a set was reconciled; for tests and benchmarks. */
  setReconcilesOf(name: string): number {
    return this.#setController.reconcilesOf(name);
  }

  /** Resolves when no set is waiting for or in a reconcile. */
  setsIdle(): Promise<void> {
    return this.#setController.whenIdle();
  }

  // ---------------------------------------------------------------------------------------
  // ManagedCluster

  async reconcileCluster(name: string): Promise<{ requeueAfterMs?: number } | void> {
    const cluster = this.clusters.get(name);
    if (!cluster || cluster.metadata.deletionTimestamp) {
      this.#accessApplied.delete(name);
      if (!cluster) this.#renewals.delete(name);
    }
    if (!cluster) return;
    if (cluster.metadata.deletionTimestamp) return this.#cleanUpCluster(cluster);
    const now = this.#clock.now();
    const accepted = cluster.spec?.hubAcceptsClient === true;

    // Access first: the agent must be able to see (and, once accepted, report on) its cluster.
    // Every lease renewal brings the cluster here, so the access objects are checked only when
    // acceptance changed, one of them changed, or a jittered resync is due. Each is compared with
    // its cached copy and written only when it drifted: at rest, across restarts and after the
    // API server's, a fleet's access objects cost no request at all.
    const applied = this.#accessApplied.get(name);
    const accessCurrent = applied?.accepted === accepted && now < applied.resyncAtMs;
    if (accepted && !accessCurrent) {
      await this.#ensureNamespace(name);
      for (const object of [
        clusterRoleFor(name, true),
        clusterRoleBindingFor(name),
        ...acceptedRoleBindingsFor(name),
      ]) {
        await this.#applyAccess(object);
      }
    } else if (!accepted && !accessCurrent) {
      for (const object of [clusterRoleFor(name, false), clusterRoleBindingFor(name)]) {
        await this.#applyAccess(object);
      }
      await this.#deleteAcceptedRoleBindings(name);
    }
    if (!accessCurrent)
      this.#accessApplied.set(name, { accepted, resyncAtMs: now + jittered(this.#accessResyncMs, 0.2) });

    let conditions: Condition[] = cluster.status?.conditions ?? [];
    let requeueAfterMs: number | undefined;
    const wasAccepted =
      findCondition(conditions, ManagedClusterConditions.hubAccepted)?.status === ConditionStatus.True;
    if (accepted) {
      conditions = setCondition(
        conditions,
        {
          type: ManagedClusterConditions.hubAccepted,
          status: ConditionStatus.True,
          reason: ManagedClusterReasons.hubClusterAdminAccepted,
          message: ManagedClusterMessages.accepted,
        },
        now,
      );
      const lease = this.leases.get(`${name}/${Lease.name}`);
      if (!lease) {
        await this.#createLease(name, now);
      } else {
        const renewTimeMs = Date.parse(lease.spec?.renewTime ?? "");
        const verdict = judgeLease(
          cluster,
          { renewTimeMs: Number.isNaN(renewTimeMs) ? 0 : renewTimeMs },
          now,
        );
        if (verdict.expired) {
          const current = findCondition(conditions, ManagedClusterConditions.available);
          if (current?.status !== ConditionStatus.Unknown) {
            this.#logger.warn({ cluster: name }, "the cluster's agent stopped renewing its lease");
            await this.#events.record(
              cluster,
              "Warning",
              ManagedClusterEvents.availableUnknown,
              `The managed cluster ${name} stopped renewing its lease; its availability is unknown.`,
            );
          }
          conditions = setCondition(conditions, leaseStoppedCondition(), now);
        } else {
          requeueAfterMs = verdict.recheckInMs;
        }
        const sighting = this.#renewals.get(name);
        const clockSync = clockSyncUpdate(
          sighting && sighting.renewTime === (lease.spec?.renewTime ?? "")
            ? sighting
            : { renewTimeMs: Number.isNaN(renewTimeMs) ? 0 : renewTimeMs, seenAtMs: now, sawChange: false },
          leaseDurationSeconds(cluster),
          findCondition(conditions, ManagedClusterConditions.clockSynced),
        );
        if (clockSync) {
          if (clockSync.status === ConditionStatus.False)
            this.#logger.warn(
              { cluster: name, renewTime: lease.spec?.renewTime, hubTime: new Date(now).toISOString() },
              "the cluster's clock is out of sync with the hub's",
            );
          conditions = setCondition(conditions, clockSync, now);
        }
      }
    } else if (wasAccepted) {
      conditions = setCondition(
        conditions,
        {
          type: ManagedClusterConditions.hubAccepted,
          status: ConditionStatus.False,
          reason: ManagedClusterReasons.hubClusterAdminDenied,
          message: deniedMessage,
        },
        now,
      );
    }

    // Metadata and spec first (labels, finalizer, taints), then status on the result, so
    // that each write carries the resourceVersion it was computed from.
    const labels = cluster.metadata.labels ?? {};
    const metadataPatch: Record<string, unknown> = {};
    if (!labels[Labels.clusterSet])
      metadataPatch.labels = { [Labels.clusterSet]: BuiltInClusterSets.default };
    const finalizers = cluster.metadata.finalizers ?? [];
    if (accepted && !finalizers.includes(Finalizers.apiResourceCleanup)) {
      metadataPatch.finalizers = [...finalizers, Finalizers.apiResourceCleanup];
    }
    const taints = desiredTaints({ ...cluster, status: { ...cluster.status, conditions } }, now);
    let latest: ManagedCluster = cluster;
    if (Object.keys(metadataPatch).length > 0 || taints) {
      latest = await this.#client.patch<ManagedCluster>(
        { apiVersion: cluster.apiVersion, kind: cluster.kind, name },
        "merge",
        {
          metadata: { resourceVersion: cluster.metadata.resourceVersion, ...metadataPatch },
          ...(taints ? { spec: { taints } } : {}),
        },
        { fieldManager: registrationFieldManager },
      );
    }
    await patchStatus(
      this.#client,
      latest,
      { ...latest.status, conditions },
      { fieldManager: registrationFieldManager },
    );
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /** The cached copy of an access object, if the cache holds it. */
  #cachedAccess(object: Unstructured): Unstructured | undefined {
    return this.#access.get(object.kind)?.get(objectKey(object)) as Unstructured | undefined;
  }

  /** Applies an access object unless its cached copy holds everything it declares. */
  async #applyAccess(object: Unstructured): Promise<void> {
    if (objectAction(object, this.#cachedAccess(object)) === "unchanged") return;
    await applyServerSide(this.#client, object, { fieldManager: registrationFieldManager, force: true });
  }

  async #ensureNamespace(name: string): Promise<void> {
    const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
    if (this.#cachedAccess(namespace)) return;
    // Not cached: not made yet, not seen yet, or made without the cluster label (by a user or a
    // tool, before the cluster came), which only a read tells apart.
    if (await this.#client.getOrUndefined({ apiVersion: "v1", kind: "Namespace", name })) return;
    try {
      await this.#client.create({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { [Labels.clusterName]: name } },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
    }
  }

  async #createLease(cluster: string, now: number): Promise<void> {
    try {
      await this.#client.create({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: Lease.name, namespace: cluster, labels: { [Labels.clusterName]: cluster } },
        spec: {
          holderIdentity: Lease.holderIdentity,
          renewTime: formatMicroTime(now),
        },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
    }
  }

  async #deleteAcceptedRoleBindings(cluster: string): Promise<void> {
    for (const binding of acceptedRoleBindingsFor(cluster)) {
      const ref = {
        apiVersion: binding.apiVersion,
        kind: binding.kind,
        name: binding.metadata.name!,
        namespace: cluster,
      };
      try {
        await this.#client.delete(ref);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.notFound)) throw error;
      }
    }
  }

  async #cleanUpCluster(cluster: ManagedCluster): Promise<void> {
    const name = cluster.metadata.name!;
    if (!(cluster.metadata.finalizers ?? []).includes(Finalizers.apiResourceCleanup)) return;
    await this.#deleteAcceptedRoleBindings(name);
    for (const kind of ["ClusterRoleBinding", "ClusterRole"]) {
      try {
        await this.#client.delete({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind,
          name: ClusterRBAC.clusterRole(name),
        });
      } catch (error) {
        if (!(error instanceof KubeApiError && error.notFound)) throw error;
      }
    }
    // The cluster namespace is kept, as OCM keeps it: it may hold the user's objects.
    await this.#client.patch({ apiVersion: cluster.apiVersion, kind: cluster.kind, name }, "merge", {
      metadata: {
        resourceVersion: cluster.metadata.resourceVersion,
        finalizers: (cluster.metadata.finalizers ?? []).filter((f) => f !== Finalizers.apiResourceCleanup),
      },
    });
  }

  // ---------------------------------------------------------------------------------------
  // CertificateSigningRequests

  async reconcileCsr(name: string): Promise<{ requeueAfterMs: number } | void> {
    const csr = this.csrs.get(name);
    if (!csr || !isPending(csr)) return;
    const subject = parseRequest(csr.spec.request);
    const verdict = checkClusterCsr(csr, subject);
    if (!verdict.valid) {
      // Not for the hub to approve: it stays pending for a person to look at.
      this.#logger.info({ csr: name, reason: verdict.reason }, "not approving CSR");
      return;
    }
    if (!(subject instanceof Error) && isRenewalRequest(csr, subject)) {
      if (!(await this.#renewalAllowed(csr, verdict.cluster))) {
        this.#logger.info(
          { csr: name, cluster: verdict.cluster },
          "renewal not allowed: the cluster is not accepted",
        );
        return;
      }
      await this.#approve(
        csr,
        Csr.autoApprovedReason,
        "Auto approving Managed cluster agent certificate after SubjectAccessReview.",
      );
      return;
    }
    if (csr.spec.username && this.#autoApproved.has(csr.spec.username)) {
      // An agent may send its CSR before its ManagedCluster reaches this cache (or before it
      // creates it): approving now would leave a cluster with a certificate that is never
      // accepted. The CSR waits for its cluster.
      if (!this.clusters.get(verdict.cluster)) {
        this.#logger.debug(
          { csr: name, cluster: verdict.cluster },
          "auto-approval waits for the ManagedCluster",
        );
        return { requeueAfterMs: csrWaitForClusterMs };
      }
      await this.#autoAccept(verdict.cluster);
      await this.#approve(
        csr,
        Csr.autoApprovedReason,
        "Auto approving Managed cluster agent certificate for an auto-approved requester.",
      );
    }
  }

  async #renewalAllowed(csr: CertificateSigningRequest, cluster: string): Promise<boolean> {
    const review = await this.#client.create<Unstructured>({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: {},
      spec: {
        user: csr.spec.username,
        groups: csr.spec.groups,
        resourceAttributes: {
          group: Permissions.renewClientCertificate.group,
          resource: Permissions.renewClientCertificate.resource,
          subresource: Permissions.renewClientCertificate.subresource,
          verb: Permissions.renewClientCertificate.verb,
          name: cluster,
        },
      },
    });
    return (review.status as { allowed?: boolean } | undefined)?.allowed === true;
  }

  async #approve(csr: CertificateSigningRequest, reason: string, message: string): Promise<void> {
    try {
      await approveCsr(this.#client, csr, reason, message, this.#clock.now());
      this.#logger.info({ csr: csr.metadata.name, reason }, "approved CSR");
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound)
        throw new TerminalError(`CSR ${csr.metadata.name} is gone`, { cause: error });
      throw error;
    }
  }

  /** Accepts a cluster the first time an auto-approved requester asks; a later denial sticks. */
  async #autoAccept(name: string): Promise<void> {
    const cluster = this.clusters.get(name);
    if (!cluster || cluster.spec?.hubAcceptsClient) return;
    if (cluster.metadata.annotations?.[Annotations.automaticallyAcceptedOn]) return;
    if (findCondition(cluster.status?.conditions, ManagedClusterConditions.hubAccepted)) return;
    await this.#client.patch({ apiVersion: cluster.apiVersion, kind: cluster.kind, name }, "merge", {
      metadata: {
        resourceVersion: cluster.metadata.resourceVersion,
        annotations: { [Annotations.automaticallyAcceptedOn]: formatTime(this.#clock.now()) },
      },
      spec: { hubAcceptsClient: true },
    });
  }

  // ---------------------------------------------------------------------------------------
  // ManagedClusterSets and bindings

  async reconcileSet(name: string): Promise<{ requeueAfterMs: number } | void> {
    const set = this.sets.get(name);
    if (!set || set.metadata.deletionTimestamp) {
      this.#setCountWrittenAt.delete(name);
      return;
    }
    const members = clusterSetMembers(
      set,
      this.clusters.list().filter((cluster) => !cluster.metadata.deletionTimestamp),
    );
    if (members instanceof Error)
      throw new TerminalError(`ManagedClusterSet ${name}: ${members.message}`, { cause: members });
    const desired = clusterSetEmptyCondition(members.length);
    const waitMs = clusterSetWriteDelayMs(
      findCondition(set.status?.conditions, desired.type),
      desired,
      this.#setCountWrittenAt.get(name),
      this.#clock.now(),
    );
    if (waitMs > 0) return { requeueAfterMs: waitMs };
    const conditions = setCondition(set.status?.conditions ?? [], desired, this.#clock.now());
    const written = await patchStatus(
      this.#client,
      set,
      { ...set.status, conditions },
      { fieldManager: registrationFieldManager },
    );
    if (written) this.#setCountWrittenAt.set(name, this.#clock.now());
  }

  async reconcileBinding(key: string): Promise<void> {
    const binding = this.bindings.get(key);
    if (!binding) return;
    const setName = binding.spec?.clusterSet ?? splitKey(key).name;
    const conditions = setCondition(
      binding.status?.conditions ?? [],
      boundCondition(this.sets.get(setName) !== undefined, setName),
      this.#clock.now(),
    );
    await patchStatus(
      this.#client,
      binding,
      { ...binding.status, conditions },
      { fieldManager: registrationFieldManager },
    );
  }
}
