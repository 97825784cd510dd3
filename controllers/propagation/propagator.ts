// The root-policy controller: for each root Policy, the PlacementBindings that name it (directly
// or through a PolicySet) and their Placements' decisions give the clusters it goes to; it
// writes one replicated Policy per cluster into the cluster's namespace, removes the replicas
// of clusters no longer selected, and reports placement and per-cluster compliance on the
// root's status and in `policy_governance_info`. A root rolled out progressively goes only to
// the clusters of its released decision groups (the others keep their replica as it is), and its
// replicas carry the content revision their clusters report on. What to write comes from the
// pure planPropagation, nextRollout and rootStatus; this class reads the caches and makes the calls.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  BosunGovernance,
  BosunPolicyRollout,
  BosunPolicyWorkLabels,
  keyOfDottedName,
  Labels,
  PolicyEvents,
  PolicyLabels,
  Resources,
  replicatedPolicyName,
} from "../../api/constants.ts";
import type { PlacementDecision } from "../../api/types/placement.ts";
import type { ComplianceState, PlacementBinding, Policy, PolicySet } from "../../api/types/policy.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller, type ReconcileContext } from "../../runtime/controller.ts";
import type { ReconcileResult } from "../../runtime/workqueue.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { EventRecorder } from "../../runtime/events.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeClient, refOf, type KubeApi } from "../../runtime/kube/client.ts";
import { objectKey, type KubeObject } from "../../runtime/kube/types.ts";
import { OwnWrites } from "../../runtime/own-writes.ts";
import { patchStatus, statusPatch } from "../../runtime/status.ts";
import { forEachLimited } from "../../runtime/concurrency.ts";
import { HubInformers } from "../informers.ts";
import {
  bindingPlacementKeys,
  decidedClusterGroups,
  decidedClusters,
  type DecisionGroup,
  bindingSubjectKeys,
  isReplicatedPolicy,
  policySetMemberKeys,
  rootKeyOf,
} from "./keys.ts";
import { GovernanceMetrics } from "./metrics.ts";
import {
  clusterOutcome,
  formatRolloutState,
  nextRollout,
  parseRolloutState,
  rolloutGroups,
  rolloutRevision,
} from "./policy-rollout.ts";
import { clusterEvidence, stampRevision } from "./rollout-evidence.ts";
import {
  bindingProblems,
  placingBindings,
  planPropagation,
  replicaDiffers,
  type BindingInput,
  type DesiredReplica,
  type PropagationInput,
  type PropagationPlan,
} from "./replicas.ts";
import { rootStatus } from "./root-status.ts";
import { HubTemplateResolver } from "./hub-template-resolver.ts";

export const propagatorFieldManager = "bosun-policy-propagator";

const bySubject = "subject";
const byPlacement = "placement";
const byMember = "member";

/** Replica writes one reconcile keeps in flight. */
const writeConcurrency = 16;

/** Extra delay after a rollout deadline ends, so that the recheck sees it ended. */
const recheckMarginMs = 100;

/**
 * The least time between two status writes of one root, per cluster it reports, up to a cap.
 * A root's status lists every cluster, so at a thousand clusters each write is a ~100 KB object
 * the API server decodes, validates and sends to every watcher; while replicas report one after
 * another, their changes are gathered into one write a second instead of one write each. A root
 * quiet for longer than that is written at once.
 */
const rootStatusIntervalPerClusterMs = 1;
const rootStatusIntervalCapMs = 2000;

function statusInterval(clusters: number): number {
  return Math.min(rootStatusIntervalCapMs, clusters * rootStatusIntervalPerClusterMs);
}

/** What a root's rollout lets this reconcile do. */
interface RolloutStep {
  /** The root, as written when its rollout state changed. */
  root: Policy;
  /** The clusters that may get the current content; undefined: all of them. */
  released: ReadonlySet<string> | undefined;
  /** Stamped on the replicas of a progressive rollout. */
  revision: string | undefined;
  requeueAfterMs?: number;
}

/** Whether a root's rollout is waiting for its clusters, so that their works' reports matter. */
function rolloutWaiting(root: Policy): boolean {
  const annotations = root.metadata.annotations;
  if (annotations?.[BosunPolicyRollout.annotation] === undefined) return false;
  const state = parseRolloutState(annotations[BosunPolicyRollout.statusAnnotation]);
  return (
    state?.phase !== BosunPolicyRollout.phases.succeeded && state?.phase !== BosunPolicyRollout.phases.halted
  );
}

export interface PolicyPropagatorOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  workers?: number;
  informers?: InformerFactory;
  cacheSyncTimeoutMs?: number;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a root reconcile compares when its own status write comes back. */
function rootChanged(previous: Policy, current: Policy): boolean {
  const a = previous.metadata;
  const b = current.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !isDeepStrictEqual(a.labels, b.labels) ||
    !isDeepStrictEqual(a.annotations, b.annotations) ||
    !isDeepStrictEqual(previous.spec, current.spec)
  );
}

export class PolicyPropagator {
  readonly #client: KubeApi;
  readonly #clock: Clock;
  readonly #cache: ControllerCache;
  readonly #controller: Controller;
  readonly #metrics: GovernanceMetrics;
  readonly #events: EventRecorder;
  readonly #templates: HubTemplateResolver;
  /** Root status writes the cache may not have seen yet: replicas reporting race their echo. */
  readonly #statusWrites = new OwnWrites<Policy>();
  /** When each root's status was last written, and how long its next write waits after that. */
  readonly #statusWrittenAt = new Map<string, { at: number; intervalMs: number }>();
  readonly policies: Informer<Policy>;
  readonly bindings: Informer<PlacementBinding>;
  readonly policySets: Informer<PolicySet>;
  readonly decisions: Informer<PlacementDecision>;
  readonly placements: Informer<KubeObject>;
  readonly clusters: Informer<ManagedCluster>;
  readonly works: Informer<ManifestWork>;

  constructor(options: PolicyPropagatorOptions) {
    const logger = options.logger.child({ component: "policy-propagator" });
    this.#client = options.client;
    this.#clock = options.clock;
    this.#cache = new ControllerCache({ ...options, logger });
    this.#metrics = new GovernanceMetrics(options.registry);
    this.#events = new EventRecorder({
      client: options.client,
      component: BosunGovernance.propagatorComponent,
      clock: options.clock,
      logger,
    });
    const informers = this.#cache.informers;
    this.policies = informers.informer(Resources.Policy);
    this.bindings = informers.informer(Resources.PlacementBinding);
    this.policySets = informers.informer(Resources.PolicySet);
    this.placements = informers.informer(Resources.Placement);
    this.clusters = informers.informer(Resources.ManagedCluster);
    this.works = informers.informer(HubInformers.manifestWorks.resource, HubInformers.manifestWorks.scope);
    this.decisions = informers.informer(
      HubInformers.placementDecisions.resource,
      HubInformers.placementDecisions.scope,
    );
    const hubClient = options.client;
    this.#templates = new HubTemplateResolver({
      client: hubClient,
      informers,
      logger,
      clock: options.clock,
      // Hub templates of a root naming a service account read with that account's token.
      ...(hubClient instanceof KubeClient
        ? { clientWithToken: (token: string) => hubClient.withBearerToken(token) }
        : {}),
    });
    this.bindings.addIndex(bySubject, bindingSubjectKeys);
    this.bindings.addIndex(byPlacement, bindingPlacementKeys);
    this.policySets.addIndex(byMember, policySetMemberKeys);

    this.#controller = new Controller({
      name: "policy-propagator",
      reconcile: (key, _signal, context) => this.reconcile(key, context),
      registry: options.registry,
      logger: options.logger,
      clock: options.clock,
      workers: options.workers ?? 2,
    });
    const enqueue = (key: string) => this.#controller.enqueue(key);
    this.#templates.onChange((root) => enqueue(root));

    this.policies.addHandlers({
      onAdd: (policy) => {
        const root = isReplicatedPolicy(policy) ? rootKeyOf(policy) : objectKey(policy);
        if (root) enqueue(root);
      },
      onUpdate: (previous, current) => {
        if (isReplicatedPolicy(current)) {
          // A replica's compliance is part of its root's status; a change to anything else is
          // undone by the root's reconcile.
          const root = rootKeyOf(current);
          if (!root) return;
          if (rootChanged(previous, current)) enqueue(root);
          else if (previous.status?.compliant !== current.status?.compliant) {
            // Only the root's status changes, and that write may be held back: reconcile when it may go.
            const holdMs = this.#statusHoldLeft(root);
            if (holdMs > 0) this.#controller.enqueueAfter(root, holdMs, { holdsIdle: true });
            else enqueue(root);
          }
        } else {
          this.#statusWrites.observe(objectKey(current), current);
          if (rootChanged(previous, current)) enqueue(objectKey(current));
        }
      },
      onDelete: (policy) => {
        if (!isReplicatedPolicy(policy)) this.#statusWrites.observe(objectKey(policy), undefined);
        const root = isReplicatedPolicy(policy) ? rootKeyOf(policy) : objectKey(policy);
        if (root) enqueue(root);
      },
    });

    const forSubjects = (binding: PlacementBinding) => {
      for (const subject of bindingSubjectKeys(binding)) {
        const [kind, key] = [subject.slice(0, subject.indexOf(":")), subject.slice(subject.indexOf(":") + 1)];
        if (kind === "Policy") enqueue(key);
        else if (kind === "PolicySet") {
          const set = this.policySets.get(key);
          if (set) for (const member of policySetMemberKeys(set)) enqueue(member);
        }
      }
    };
    this.bindings.addHandlers({
      onAdd: forSubjects,
      onUpdate: (previous, current) => {
        forSubjects(previous);
        forSubjects(current);
      },
      onDelete: forSubjects,
    });
    const forSet = (set: PolicySet) => {
      for (const member of policySetMemberKeys(set)) enqueue(member);
    };
    this.policySets.addHandlers({
      onAdd: forSet,
      onUpdate: (previous, current) => {
        forSet(previous);
        forSet(current);
      },
      onDelete: forSet,
    });
    const forPlacement = (namespace: string, placement: string) => {
      for (const binding of this.bindings.byIndex(byPlacement, `${namespace}/${placement}`))
        forSubjects(binding);
    };
    this.decisions.addHandlers({
      onAdd: (decision) => forDecision(decision),
      onUpdate: (previous, current) => {
        if (
          !isDeepStrictEqual(previous.status, current.status) ||
          !isDeepStrictEqual(previous.metadata.labels, current.metadata.labels)
        ) {
          forDecision(previous);
          forDecision(current);
        }
      },
      onDelete: (decision) => forDecision(decision),
    });
    function forDecision(decision: PlacementDecision) {
      const placement = decision.metadata.labels?.[Labels.placement];
      if (placement !== undefined) forPlacement(decision.metadata.namespace ?? "", placement);
    }
    // A placement appearing or going changes whether a binding's reference resolves.
    this.placements.addHandlers({
      onAdd: (placement) => forPlacement(placement.metadata.namespace ?? "", placement.metadata.name ?? ""),
      onDelete: (placement) =>
        forPlacement(placement.metadata.namespace ?? "", placement.metadata.name ?? ""),
    });
    // A progressive rollout waits for what the clusters report about the content it released.
    const forWork = (work: ManifestWork) => {
      const root = keyOfDottedName(work.metadata.labels?.[BosunPolicyWorkLabels.replica]);
      const policy = root ? this.policies.get(root) : undefined;
      if (root && policy && rolloutWaiting(policy)) enqueue(root);
    };
    this.works.addHandlers({
      onAdd: forWork,
      onUpdate: (previous, current) => {
        if (
          !isDeepStrictEqual(previous.status, current.status) ||
          !isDeepStrictEqual(previous.spec, current.spec)
        )
          forWork(current);
      },
      onDelete: forWork,
    });
    // Hub templates may read a cluster's labels.
    this.clusters.addHandlers({
      onUpdate: (previous, current) => {
        if (isDeepStrictEqual(previous.metadata.labels, current.metadata.labels)) return;
        for (const replica of this.policies.byLabel(
          PolicyLabels.clusterNamespace,
          current.metadata.name ?? "",
        )) {
          const root = rootKeyOf(replica);
          if (root && this.#templates.usesClusterLabels(root)) enqueue(root);
        }
      },
    });
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#cache.sync(signal);
    this.#controller.start();
    for (const policy of this.policies.list())
      if (!isReplicatedPolicy(policy)) this.#controller.enqueue(objectKey(policy));
  }

  async stop(): Promise<void> {
    await this.#controller.stop();
    await this.#templates.stop();
    await this.#cache.release();
  }

  whenIdle(): Promise<void> {
    return this.#controller.whenIdle();
  }

  get retrying(): number {
    return this.#controller.retrying;
  }

  reconcilesOf(key: string): number {
    return this.#controller.reconcilesOf(key);
  }

  // Reconcile -----------------------------------------------------------------------------------

  async reconcile(key: string, context?: ReconcileContext): Promise<ReconcileResult | void> {
    const started = this.#clock.now();
    try {
      return await this.#reconcile(key, context);
    } finally {
      this.#metrics.handleDuration.observe((this.#clock.now() - started) / 1000);
    }
  }

  async #reconcile(key: string, context?: ReconcileContext): Promise<ReconcileResult | void> {
    const slash = key.indexOf("/");
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const cached = this.#statusWrites.latest(key, this.policies.get(key));
    const replicaName = replicatedPolicyName(namespace, name);
    const existing = new Map<string, Policy>();
    for (const replica of this.policies.byLabel(PolicyLabels.rootPolicy, replicaName))
      existing.set(replica.metadata.namespace ?? "", replica);

    if (!cached || cached.metadata.deletionTimestamp || isReplicatedPolicy(cached)) {
      await this.#deleteReplicas([...existing.values()]);
      this.#metrics.removeRoot(namespace, name);
      this.#templates.forget(key);
      this.#statusWrittenAt.delete(key);
      return;
    }

    const bindings: BindingInput[] = this.bindings.byNamespace(namespace).map((binding) => ({
      binding,
      clusters: decidedClusters(binding, this.placements, this.decisions),
    }));
    const input = { policy: cached, bindings, policySets: this.policySets.byNamespace(namespace) };
    const plan = planPropagation(input);
    for (const problem of bindingProblems(input))
      await this.#events.record(cached, "Warning", PolicyEvents.policyPropagation, problem);
    const { root, released, revision, requeueAfterMs } = await this.#rollout(cached, input, plan, existing);

    const failures: string[] = [];
    /** The write conflicts among the failures: when they are all there is, the retry is routine. */
    const conflicts: KubeApiError[] = [];
    const written = new Map<string, Policy>();
    // Clusters of groups not released yet keep their replica as it is, or stay without one.
    const releasedReplicas = released
      ? plan.replicas.filter((replica) => released.has(replica.cluster))
      : plan.replicas;
    const resolved = await this.#templates.resolve(
      key,
      root,
      releasedReplicas,
      (cluster) => this.clusters.get(cluster),
      (cluster) => existing.get(cluster),
    );
    await forEachLimited(releasedReplicas, writeConcurrency, async (planned) => {
      const replica = resolved.get(planned.cluster) ?? { desired: planned, templateErrors: [], retry: false };
      const desired = revision === undefined ? replica.desired : stampRevision(replica.desired, revision);
      if (replica.retry)
        failures.push(`cluster ${desired.cluster}: hub templates need an API resource that is not installed`);
      for (const error of replica.templateErrors)
        await this.#events.record(
          root,
          "Warning",
          PolicyEvents.policyPropagation,
          `Failed to resolve templates for cluster ${desired.cluster}: ${error}`,
        );
      try {
        written.set(desired.cluster, await this.#writeReplica(desired, existing.get(desired.cluster)));
      } catch (error) {
        // The cache has not seen the replica yet (an earlier reconcile's create): its add event,
        // on the way, enqueues the root again, so this is no failure. A conflict is retried: the
        // event behind it may change only the replica's status, which enqueues nothing.
        if (error instanceof KubeApiError && error.alreadyExists) return;
        if (error instanceof KubeApiError && error.conflict) conflicts.push(error);
        failures.push(`replica ${desired.cluster}/${desired.name}: ${describeError(error)}`);
      }
    });
    const wanted = new Set(plan.replicas.map((replica) => replica.cluster));
    const obsolete = [...existing.values()].filter(
      (replica) => !wanted.has(replica.metadata.namespace ?? ""),
    );
    await this.#deleteReplicas(obsolete, failures);
    if (root.spec?.disabled && obsolete.length > 0)
      await this.#events.record(root, "Normal", PolicyEvents.policyPropagation, `Policy ${key} was disabled`);

    // The root reports the clusters that have a replica.
    const reported: PropagationPlan = released
      ? {
          ...plan,
          clusters: plan.clusters.filter(
            ({ cluster }) => released.has(cluster) || existing.has(cluster) || written.has(cluster),
          ),
        }
      : plan;
    const compliance = new Map<string, ComplianceState | undefined>();
    for (const cluster of reported.clusters) {
      const replica = written.get(cluster.cluster) ?? existing.get(cluster.cluster);
      compliance.set(cluster.cluster, replica?.status?.compliant);
    }
    const status = rootStatus(reported, compliance, root.spec?.disabled === true);
    // The metrics say it at once; the status write may wait to gather more changes.
    if (root.spec?.disabled) this.#metrics.removeRoot(namespace, name);
    else this.#metrics.setRoot(namespace, name, status.compliant, compliance);
    const holdMs = this.#statusHold(key, root, status);
    if (holdMs === 0) {
      const written = await patchStatus(this.#client, root, status, { fieldManager: propagatorFieldManager });
      if (written) {
        this.#statusWrites.remember(key, root, written);
        this.#statusWrittenAt.set(key, {
          at: this.#clock.now(),
          intervalMs: statusInterval(reported.clusters.length),
        });
      }
    }

    if (failures.length > 0) {
      this.#metrics.propagationFailed(namespace, name);
      context?.logger.warn({ failures }, "some replicas could not be written");
      const onlyConflicts = conflicts.length === failures.length;
      throw new Error(
        `policy ${key}: ${failures.join("; ")}`,
        onlyConflicts ? { cause: conflicts[0] } : undefined,
      );
    }
    const recheckMs = requeueAfterMs === undefined ? undefined : requeueAfterMs + recheckMarginMs;
    if (holdMs > 0) return { requeueAfterMs: Math.min(holdMs, recheckMs ?? holdMs), deferred: true };
    return recheckMs === undefined ? undefined : { requeueAfterMs: recheckMs };
  }

  /**
   * How long the root's status write waits: 0 when nothing changed or when the last write is
   * older than the root's interval, else what is left of the interval.
   */
  #statusHold(key: string, root: Policy, status: unknown): number {
    if (statusPatch(root.status, status) === undefined) return 0;
    return this.#statusHoldLeft(key);
  }

  /** What is left of the interval since the root's last status write; 0 when it may be written now. */
  #statusHoldLeft(key: string): number {
    const last = this.#statusWrittenAt.get(key);
    if (last === undefined) return 0;
    return Math.max(0, last.at + last.intervalMs - this.#clock.now());
  }

  /**
   * The rollout step of a root: which clusters may get its current content now. Its state is
   * written on the root first (with the cached resourceVersion, so a stale cache retries rather
   * than release a group twice), then its events.
   */
  async #rollout(
    root: Policy,
    input: PropagationInput,
    plan: PropagationPlan,
    existing: ReadonlyMap<string, Policy>,
  ): Promise<RolloutStep> {
    const annotations = root.metadata.annotations ?? {};
    const stored = annotations[BosunPolicyRollout.statusAnnotation];
    if (annotations[BosunPolicyRollout.annotation] === undefined && stored === undefined)
      return { root, released: undefined, revision: undefined };

    const revision = rolloutRevision(root.spec);
    const groupOf = new Map<string, DecisionGroup>();
    for (const binding of placingBindings(input)) {
      for (const [cluster, group] of decidedClusterGroups(binding, this.placements, this.decisions) ?? []) {
        const known = groupOf.get(cluster);
        if (!known || group.index < known.index) groupOf.set(cluster, group);
      }
    }
    const groups = rolloutGroups(
      plan.clusters.map(({ cluster }) => cluster),
      (cluster) => groupOf.get(cluster),
    );
    const replicaName = replicatedPolicyName(root.metadata.namespace ?? "", root.metadata.name ?? "");
    const decision = nextRollout({
      annotations,
      disabled: root.spec?.disabled === true,
      revision,
      groups,
      outcome: (cluster) =>
        clusterOutcome(
          clusterEvidence(
            existing.get(cluster),
            this.works
              .byNamespace(cluster)
              .filter((work) => work.metadata.labels?.[BosunPolicyWorkLabels.replica] === replicaName),
            revision,
          ),
        ),
      nowMs: this.#clock.now(),
    });

    const text = decision.state ? formatRolloutState(decision.state) : undefined;
    let current = root;
    if (text !== stored) {
      current = await this.#client.patch<Policy>(
        refOf(root),
        "merge",
        {
          metadata: {
            resourceVersion: root.metadata.resourceVersion,
            annotations: { [BosunPolicyRollout.statusAnnotation]: text ?? null },
          },
        },
        { fieldManager: propagatorFieldManager },
      );
    }
    for (const event of decision.events)
      await this.#events.record(current, event.type, event.reason, event.message);
    return {
      root: current,
      released: decision.released,
      revision: decision.progressive ? revision : undefined,
      ...(decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {}),
    };
  }

  /** Creates the replica, or replaces its labels, annotations and spec when they differ. */
  async #writeReplica(desired: DesiredReplica, existing: Policy | undefined): Promise<Policy> {
    const object: Policy = {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "Policy",
      metadata: {
        name: desired.name,
        namespace: desired.namespace,
        labels: desired.labels,
        annotations: desired.annotations,
      },
      spec: desired.spec,
    };
    if (!existing || existing.metadata.deletionTimestamp) {
      return this.#client.create<Policy>(object, { fieldManager: propagatorFieldManager });
    }
    if (!replicaDiffers(existing, desired)) return existing;
    // A replace, not a merge: the replica must be exactly the root's spec, without leftovers.
    return this.#client.replace<Policy>({
      ...object,
      metadata: { ...existing.metadata, labels: desired.labels, annotations: desired.annotations },
      ...(existing.status ? { status: existing.status } : {}),
    });
  }

  async #deleteReplicas(replicas: readonly Policy[], failures?: string[]): Promise<void> {
    const errors = failures ?? [];
    await forEachLimited(replicas, writeConcurrency, async (replica) => {
      if (replica.metadata.deletionTimestamp) return;
      try {
        await this.#client.delete(refOf(replica), { uid: replica.metadata.uid });
      } catch (error) {
        if (error instanceof KubeApiError && (error.notFound || error.conflict)) return;
        errors.push(`deleting replica ${objectKey(replica)}: ${describeError(error)}`);
      }
    });
    if (!failures && errors.length > 0) throw new Error(errors.join("; "));
  }
}
