// The root-policy controller: for each root Policy, the PlacementBindings that name it (directly
// or through a PolicySet) and their Placements' decisions give the clusters it goes to; it
// writes one replicated Policy per cluster into the cluster's namespace, removes the replicas
// of clusters no longer selected, and reports placement and per-cluster compliance on the
// root's status and in `policy_governance_info`. What to write comes from the pure
// planPropagation and rootStatus; this class reads the caches and makes the calls.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  BosunGovernance,
  Labels,
  PolicyEvents,
  PolicyLabels,
  Resources,
  replicatedPolicyName,
} from "../../api/constants.ts";
import type { PlacementDecision } from "../../api/types/placement.ts";
import type { ComplianceState, PlacementBinding, Policy, PolicySet } from "../../api/types/policy.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller, type ReconcileContext } from "../../runtime/controller.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { EventRecorder } from "../../runtime/events.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import { refOf, type KubeApi } from "../../runtime/kube/client.ts";
import { objectKey, type KubeObject } from "../../runtime/kube/types.ts";
import { patchStatus } from "../../runtime/status.ts";
import { forEachLimited } from "../../runtime/concurrency.ts";
import { HubInformers } from "../informers.ts";
import {
  bindingPlacementKeys,
  decidedClusters,
  bindingSubjectKeys,
  isReplicatedPolicy,
  policySetMemberKeys,
  rootKeyOf,
} from "./keys.ts";
import { GovernanceMetrics } from "./metrics.ts";
import {
  bindingProblems,
  planPropagation,
  replicaDiffers,
  type BindingInput,
  type DesiredReplica,
} from "./replicas.ts";
import { rootStatus } from "./root-status.ts";
import { HubTemplateResolver } from "./hub-template-resolver.ts";

export const propagatorFieldManager = "bosun-policy-propagator";

const bySubject = "subject";
const byPlacement = "placement";
const byMember = "member";

/** Replica writes one reconcile keeps in flight. */
const writeConcurrency = 16;

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
  readonly policies: Informer<Policy>;
  readonly bindings: Informer<PlacementBinding>;
  readonly policySets: Informer<PolicySet>;
  readonly decisions: Informer<PlacementDecision>;
  readonly placements: Informer<KubeObject>;
  readonly clusters: Informer<ManagedCluster>;

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
    this.decisions = informers.informer(
      HubInformers.placementDecisions.resource,
      HubInformers.placementDecisions.scope,
    );
    this.#templates = new HubTemplateResolver({ client: options.client, informers, logger });
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
          if (
            root &&
            (rootChanged(previous, current) || previous.status?.compliant !== current.status?.compliant)
          )
            enqueue(root);
        } else if (rootChanged(previous, current)) {
          enqueue(objectKey(current));
        }
      },
      onDelete: (policy) => {
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
    this.#templates.stop();
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

  async reconcile(key: string, context?: ReconcileContext): Promise<void> {
    const started = this.#clock.now();
    try {
      await this.#reconcile(key, context);
    } finally {
      this.#metrics.handleDuration.observe((this.#clock.now() - started) / 1000);
    }
  }

  async #reconcile(key: string, context?: ReconcileContext): Promise<void> {
    const slash = key.indexOf("/");
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const root = this.policies.get(key);
    const replicaName = replicatedPolicyName(namespace, name);
    const existing = new Map<string, Policy>();
    for (const replica of this.policies.byLabel(PolicyLabels.rootPolicy, replicaName))
      existing.set(replica.metadata.namespace ?? "", replica);

    if (!root || root.metadata.deletionTimestamp || isReplicatedPolicy(root)) {
      await this.#deleteReplicas([...existing.values()]);
      this.#metrics.removeRoot(namespace, name);
      this.#templates.forget(key);
      return;
    }

    const bindings: BindingInput[] = this.bindings.byNamespace(namespace).map((binding) => ({
      binding,
      clusters: decidedClusters(binding, this.placements, this.decisions),
    }));
    const input = { policy: root, bindings, policySets: this.policySets.byNamespace(namespace) };
    const plan = planPropagation(input);
    for (const problem of bindingProblems(input))
      await this.#events.record(root, "Warning", PolicyEvents.policyPropagation, problem);

    const failures: string[] = [];
    const written = new Map<string, Policy>();
    const resolved = await this.#templates.resolve(
      key,
      root,
      plan.replicas,
      (cluster) => this.clusters.get(cluster),
      (cluster) => existing.get(cluster),
    );
    await forEachLimited(plan.replicas, writeConcurrency, async (desired) => {
      const replica = resolved.get(desired.cluster) ?? { desired, templateErrors: [], retry: false };
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
        written.set(
          desired.cluster,
          await this.#writeReplica(replica.desired, existing.get(desired.cluster)),
        );
      } catch (error) {
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

    const compliance = new Map<string, ComplianceState | undefined>();
    for (const cluster of plan.clusters) {
      const replica = written.get(cluster.cluster) ?? existing.get(cluster.cluster);
      compliance.set(cluster.cluster, replica?.status?.compliant);
    }
    const status = rootStatus(plan, compliance, root.spec?.disabled === true);
    await patchStatus(this.#client, root, status, { fieldManager: propagatorFieldManager });
    if (root.spec?.disabled) this.#metrics.removeRoot(namespace, name);
    else this.#metrics.setRoot(namespace, name, status.compliant, compliance);

    if (failures.length > 0) {
      this.#metrics.propagationFailed(namespace, name);
      context?.logger.warn({ failures }, "some replicas could not be written");
      throw new Error(`policy ${key}: ${failures.join("; ")}`);
    }
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
