// The replicated-policy controller: for each replicated Policy in a cluster namespace it writes
// the ManifestWork(s) that carry the policy's templates to that cluster (templates whose
// dependencies are not met yet stay behind, reported Pending), and turns what the cluster's
// agents report back (the works' Applied conditions and status feedback) into the replica's
// status: per-template compliance and history, and the policy's compliance. Each new compliance
// message also becomes an Event on the root policy and a count in the metrics, so nothing is
// lost past the ten history entries a Policy keeps.
import { isDeepStrictEqual } from "node:util";
import { generate } from "json-merge-patch";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  BosunGovernance,
  BosunPolicyWorkLabels,
  PolicyEvents,
  PolicyLabels,
  Resources,
  Work,
} from "../../api/constants.ts";
import type { ComplianceState, Policy } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller, type ReconcileContext } from "../../runtime/controller.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { EventRecorder } from "../../runtime/events.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import { refOf, type KubeApi } from "../../runtime/kube/client.ts";
import { objectKey } from "../../runtime/kube/types.ts";
import { OwnWrites } from "../../runtime/own-writes.ts";
import { writeOwnedFields } from "../../runtime/owned-write.ts";
import { patchStatus } from "../../runtime/status.ts";
import { HubInformers } from "../informers.ts";
import type { WorkPart } from "../work/split.ts";
import { clusterCompliance, gateTemplates } from "./dependencies.ts";
import { isReplicatedPolicy, rootKeyOf } from "./keys.ts";
import { GovernanceMetrics } from "./metrics.ts";
import { policyWorks } from "./policy-works.ts";
import { nothingToReport, replicaStatus, templateFeedback } from "./replica-status.ts";

export const replicaFieldManager = "bosun-policy-replica";

/**
 * Replicas reconciled at once. Each reconcile is a few API calls in a row (the work, the status,
 * the events), so a fleet's replicas need many in flight to keep the API server busy.
 */
const defaultWorkers = 16;

/**
 * Compliance Events are written in the background, this many at once: a fleet-wide change
 * records one per cluster and template, and the replicas' status writes go first.
 */
const eventWrites = { concurrency: 2, maxPending: 20_000 };
/** How long a stop waits for the Events still to be written. */
const eventFlushOnStopMs = 10_000;

export interface ReplicaControllerOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  workers?: number;
  informers?: InformerFactory;
  cacheSyncTimeoutMs?: number;
  /** The most manifest bytes one ManifestWork carries; bigger policies are split. Default 512000. */
  manifestLimitBytes?: number;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hasDependencies(replica: Policy): boolean {
  return (
    (replica.spec?.dependencies?.length ?? 0) > 0 ||
    (replica.spec?.["policy-templates"] ?? []).some(
      (template) => (template?.extraDependencies?.length ?? 0) > 0,
    )
  );
}

export class ReplicaController {
  readonly #client: KubeApi;
  readonly #clock: Clock;
  readonly #cache: ControllerCache;
  readonly #controller: Controller;
  readonly #metrics: GovernanceMetrics;
  readonly #events: EventRecorder;
  readonly #limitBytes: number;
  readonly #logger: Logger;
  /** Replica status writes the cache may not have seen yet: a work's echo can race them. */
  readonly #statusWrites = new OwnWrites<Policy>();
  /** Works this controller rewrote, while the cache still shows the version before the write. */
  readonly #workWrites = new OwnWrites<ManifestWork>();
  readonly policies: Informer<Policy>;
  readonly works: Informer<ManifestWork>;

  constructor(options: ReplicaControllerOptions) {
    const logger = options.logger.child({ component: "policy-replica" });
    this.#logger = logger;
    this.#client = options.client;
    this.#clock = options.clock;
    this.#limitBytes = options.manifestLimitBytes ?? Work.manifestSizeLimit;
    this.#cache = new ControllerCache({ ...options, logger });
    this.#metrics = new GovernanceMetrics(options.registry);
    this.#events = new EventRecorder({
      client: options.client,
      component: BosunGovernance.propagatorComponent,
      clock: options.clock,
      logger,
      background: eventWrites,
    });
    const informers = this.#cache.informers;
    this.policies = informers.informer(Resources.Policy);
    this.works = informers.informer(HubInformers.manifestWorks.resource, HubInformers.manifestWorks.scope);
    this.#controller = new Controller({
      name: "policy-replica",
      reconcile: (key, _signal, context) => this.reconcile(key, context),
      registry: options.registry,
      logger: options.logger,
      clock: options.clock,
      workers: options.workers ?? defaultWorkers,
    });
    const enqueue = (key: string) => this.#controller.enqueue(key);

    /** Replicas in the same cluster namespace whose templates may wait for this one. */
    const dependents = (replica: Policy) => {
      for (const other of this.policies.byLabel(
        PolicyLabels.clusterNamespace,
        replica.metadata.namespace ?? "",
      )) {
        if (other !== replica && hasDependencies(other)) enqueue(objectKey(other));
      }
    };
    this.policies.addHandlers({
      onAdd: (policy) => {
        if (!isReplicatedPolicy(policy)) return;
        enqueue(objectKey(policy));
        dependents(policy);
      },
      onUpdate: (previous, current) => {
        if (!isReplicatedPolicy(current)) return;
        this.#statusWrites.observe(objectKey(current), current);
        const specChanged =
          previous.metadata.deletionTimestamp !== current.metadata.deletionTimestamp ||
          !isDeepStrictEqual(previous.metadata.annotations, current.metadata.annotations) ||
          !isDeepStrictEqual(previous.spec, current.spec);
        // Its own status writes come back here: they matter only to replicas depending on it.
        if (specChanged) enqueue(objectKey(current));
        if (specChanged || !isDeepStrictEqual(previous.status?.details, current.status?.details))
          dependents(current);
      },
      onDelete: (policy) => {
        if (!isReplicatedPolicy(policy)) return;
        this.#statusWrites.observe(objectKey(policy), undefined);
        enqueue(objectKey(policy));
        dependents(policy);
      },
    });
    const workChanged = (work: ManifestWork) => {
      this.#workWrites.observe(objectKey(work), this.works.get(objectKey(work)));
      const replica = work.metadata.labels?.[BosunPolicyWorkLabels.replica];
      if (replica !== undefined) enqueue(`${work.metadata.namespace ?? ""}/${replica}`);
    };
    this.works.addHandlers({
      onAdd: workChanged,
      onUpdate: (previous, current) => {
        if (
          isDeepStrictEqual(previous.status, current.status) &&
          isDeepStrictEqual(previous.spec, current.spec)
        )
          return;
        workChanged(current);
      },
      onDelete: workChanged,
    });
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#cache.sync(signal);
    this.#controller.start();
    for (const policy of this.policies.list())
      if (isReplicatedPolicy(policy)) this.#controller.enqueue(objectKey(policy));
  }

  async stop(): Promise<void> {
    await this.#controller.stop();
    if (!(await this.#events.flush(eventFlushOnStopMs)))
      this.#logger.warn(
        { timeoutMs: eventFlushOnStopMs },
        "stopped before every compliance Event was written",
      );
    await this.#cache.release();
  }

  /** Resolves once no reconcile is due and every compliance Event recorded is written. */
  async whenIdle(): Promise<void> {
    await this.#controller.whenIdle();
    await this.#events.flush();
  }

  get retrying(): number {
    return this.#controller.retrying;
  }

  reconcilesOf(key: string): number {
    return this.#controller.reconcilesOf(key);
  }

  // Reconcile -----------------------------------------------------------------------------------

  async reconcile(key: string, context?: ReconcileContext): Promise<void> {
    const slash = key.indexOf("/");
    const cluster = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const replica = this.#statusWrites.latest(key, this.policies.get(key));
    // By namespace first: every cluster's works of one root carry the same replica label.
    const works = this.works
      .byNamespace(cluster)
      .filter((work) => work.metadata.labels?.[BosunPolicyWorkLabels.replica] === name)
      .map((work) => this.#workWrites.latest(objectKey(work), work)!);
    if (!replica || replica.metadata.deletionTimestamp || !isReplicatedPolicy(replica)) {
      await this.#deleteWorks(works);
      return;
    }

    const inCluster = this.policies
      .byLabel(PolicyLabels.clusterNamespace, cluster)
      .filter((policy) => policy.metadata.namespace === cluster);
    const gates = gateTemplates(replica, clusterCompliance(inCluster));
    const planned = policyWorks(replica, gates, this.#limitBytes, { previous: works });
    const failures: string[] = [];
    /** The write conflicts among the failures: when they are all there is, the retry is routine. */
    const conflicts: KubeApiError[] = [];
    let current = works;
    if (planned.ok) {
      const byName = new Map(works.map((work) => [work.metadata.name ?? "", work]));
      const after: ManifestWork[] = [];
      for (const part of planned.works) {
        try {
          after.push(await this.#writeWork(cluster, name, part, byName.get(part.name)));
        } catch (error) {
          if (error instanceof KubeApiError && error.conflict) conflicts.push(error);
          failures.push(`ManifestWork ${cluster}/${part.name}: ${describeError(error)}`);
          const existing = byName.get(part.name);
          if (existing) after.push(existing);
        }
      }
      const wanted = new Set(planned.works.map((part) => part.name));
      await this.#deleteWorks(
        works.filter((work) => !wanted.has(work.metadata.name ?? "")),
        failures,
      );
      current = after;
    } else {
      failures.push(planned.error);
    }

    const problems = planned.ok ? planned.problems : [];
    const result = replicaStatus(replica, templateFeedback(current), problems, new Date(this.#clock.now()));
    if (!planned.ok) {
      // Nothing could be delivered: every template says why.
      result.status.compliant = "NonCompliant";
    }
    if (!nothingToReport(replica.status, result.status)) {
      const written = await patchStatus(this.#client, replica, result.status, {
        fieldManager: replicaFieldManager,
      });
      if (written) this.#statusWrites.remember(key, replica, written);
    }
    await this.#announce(replica, result.added);
    if (failures.length > 0) {
      context?.logger.warn({ failures }, "the policy's works could not all be written");
      const onlyConflicts = conflicts.length === failures.length;
      throw new Error(
        `replica ${key}: ${failures.join("; ")}`,
        onlyConflicts ? { cause: conflicts[0] } : undefined,
      );
    }
  }

  /** An Event on the root policy and a metric count for each new compliance message. */
  async #announce(
    replica: Policy,
    added: readonly { template: string; compliant: ComplianceState; message: string }[],
  ): Promise<void> {
    if (added.length === 0) return;
    const rootKey = rootKeyOf(replica);
    const root = rootKey ? this.policies.get(rootKey) : undefined;
    if (!root) return;
    const cluster = replica.metadata.namespace ?? "";
    // One Event per template, each naming its template; written in the background.
    await Promise.all(
      added.map((entry) => {
        this.#metrics.complianceChanged(
          root.metadata.namespace ?? "",
          root.metadata.name ?? "",
          cluster,
          entry.compliant,
        );
        return this.#events.record(
          root,
          entry.compliant === "Compliant" ? "Normal" : "Warning",
          `${PolicyEvents.complianceReasonPrefix}${cluster}/${entry.template}`,
          entry.message,
        );
      }),
    );
  }

  async #writeWork(
    cluster: string,
    replica: string,
    part: WorkPart,
    existing: ManifestWork | undefined,
  ): Promise<ManifestWork> {
    const labels = { ...part.labels, [BosunPolicyWorkLabels.replica]: replica };
    const desired: ManifestWork = {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: part.name, namespace: cluster, labels, annotations: part.annotations },
      spec: part.spec,
    };
    if (!existing || existing.metadata.deletionTimestamp) {
      return this.#client.create<ManifestWork>(desired, { fieldManager: replicaFieldManager });
    }
    const labelPatch = generate(existing.metadata.labels ?? {}, labels);
    const annotationPatch = generate(existing.metadata.annotations ?? {}, part.annotations);
    const specPatch = generate(existing.spec ?? {}, part.spec);
    if (labelPatch === undefined && annotationPatch === undefined && specPatch === undefined) return existing;
    // The agent writes the work's status all the time: a conflict falls back to a merge patch
    // of only what this controller owns, without a precondition. A cache behind the server at
    // worst leaves a difference that the watch event bringing the newer work makes the next
    // reconcile correct.
    const written = await writeOwnedFields<ManifestWork>(
      this.#client,
      existing,
      {
        metadata: {
          ...(labelPatch !== undefined ? { labels: labelPatch } : {}),
          ...(annotationPatch !== undefined ? { annotations: annotationPatch } : {}),
        },
        ...(specPatch !== undefined ? { spec: specPatch } : {}),
      },
      { fieldManager: replicaFieldManager },
    );
    this.#workWrites.remember(objectKey(existing), existing, written);
    return written;
  }

  async #deleteWorks(works: readonly ManifestWork[], failures?: string[]): Promise<void> {
    const errors = failures ?? [];
    for (const work of works) {
      if (work.metadata.deletionTimestamp) continue;
      try {
        await this.#client.delete(refOf(work), { uid: work.metadata.uid });
      } catch (error) {
        if (error instanceof KubeApiError && (error.notFound || error.conflict)) continue;
        errors.push(`deleting ManifestWork ${objectKey(work)}: ${describeError(error)}`);
      }
    }
    if (!failures && errors.length > 0) throw new Error(errors.join("; "));
  }
}
