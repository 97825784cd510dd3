// The work agent: makes the ManifestWorks of this cluster's namespace on the hub real on the
// managed cluster, records what it applied in an AppliedManifestWork, reports status back to
// the hub, puts back what is edited or deleted out of band, and deletes what a work no longer
// carries. It reads caches, asks the pure functions of this folder what to do, and writes only
// the difference.
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { ConditionStatus, Finalizers, ManifestWorkConditions, Resources, Work } from "../../api/constants.ts";
import type { AppliedManifestResourceMeta, AppliedManifestWork, ManifestWork } from "../../api/types/work.ts";
import { backoffMs } from "../../runtime/backoff.ts";
import type { Clock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { Controller, type ReconcileContext } from "../../runtime/controller.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import type { Informer } from "../../runtime/informer.ts";
import { jittered } from "../../runtime/jitter.ts";
import type { KubeClient, ObjectRef } from "../../runtime/kube/client.ts";
import { splitKey } from "../../runtime/kube/types.ts";
import { patchStatus } from "../../runtime/status.ts";
import { formatTime } from "../../runtime/time.ts";
import { ApplyCache } from "./apply-cache.ts";
import { applyWork, type ManifestResult } from "./applier.ts";
import {
  appliedManifestWorkName,
  appliedManifestWorkSpecUpdate,
  desiredAppliedManifestWork,
  hubHash,
  workNameOf,
} from "./applied-name.ts";
import { deleteAppliedResources } from "./cleanup.ts";
import { evictionStep } from "./eviction.ts";
import { ConditionRuleCache } from "./condition-rules.ts";
import { removedResources, sortAppliedResources } from "./deletion.ts";
import { buildResourceMeta } from "./manifest-conditions.ts";
import { partGate, partOf } from "./parts.ts";
import { ResourceWatch } from "./resource-watch.ts";
import { sameJson, statusNeedsWrite } from "./status-diff.ts";
import { deletingStatus, nextWorkStatus, waitingPartStatus } from "./work-status.ts";

export const workAgentFieldManager = Work.defaultFieldManager;

export interface WorkAgentOptions {
  /** The hub, as the agent's own identity; it may read and write ManifestWorks of `clusterName` only. */
  hubClient: KubeClient;
  managedClient: KubeClient;
  clusterName: string;
  /** Recorded in each AppliedManifestWork's spec.agentID. */
  agentId: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Full resync of every work, stretched by up to 10%. Default 4 min. */
  resyncMs?: number;
  /** See `AgentOptions.hubReconnectWindowMs`. */
  hubReconnectWindowMs?: number;
  /** How soon a custom resource waiting for its CRD is looked at again. Default 1 s. */
  crdWaitMs?: number;
  /** Keys reconciled at once. Default 4. */
  workers?: number;
  /**
   * How long an AppliedManifestWork with no ManifestWork behind it (or of another hub) is kept
   * before it and what it applied are deleted. Default 60 min; 100 years or more: never.
   */
  evictionGracePeriodMs?: number;
  random?: () => number;
}

const partIndexName = "work-agent/part-of";

/** The metrics of the work agent, shared by every agent on one registry. */
interface WorkAgentMetrics {
  manifests: Counter<"strategy" | "action">;
  watchedTypes: Gauge;
}

function workAgentMetrics(registry: Registry, watchedTypes: () => number): WorkAgentMetrics {
  const manifestsName = "bosun_work_agent_manifest_applies_total";
  const watchedName = "bosun_work_agent_watched_resource_types";
  const manifests =
    (registry.getSingleMetric(manifestsName) as Counter<"strategy" | "action"> | undefined) ??
    new Counter({
      name: manifestsName,
      help: "Manifests processed by the work agent, by update strategy and what was done (create, update, apply, patch-owner, none, failed, ...)",
      labelNames: ["strategy", "action"],
      registers: [registry],
    });
  const existing = registry.getSingleMetric(watchedName) as Gauge | undefined;
  if (existing) registry.removeSingleMetric(watchedName);
  const gauge = new Gauge({
    name: watchedName,
    help: "Resource types (apiVersion, kind, namespace) the work agent watches for drift",
    registers: [registry],
    collect() {
      this.set(watchedTypes());
    },
  });
  return { manifests, watchedTypes: gauge };
}

export class WorkAgent {
  readonly #options: WorkAgentOptions;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #hubHash: string;
  readonly #resyncMs: number;
  readonly #hubInformers: InformerFactory;
  readonly #managedInformers: InformerFactory;
  readonly #works: Informer<ManifestWork>;
  readonly #applied: Informer<AppliedManifestWork>;
  readonly #watch: ResourceWatch;
  readonly #controller: Controller;
  /** Keyed by AppliedManifestWork name: marks, unmarks and evicts the records no work backs. */
  readonly #eviction: Controller;
  readonly #cache = new ConditionRuleCache();
  readonly #applyCache = new ApplyCache();
  readonly #metrics: WorkAgentMetrics;
  /** Consecutive passes of a work that left something failed or pending, for its backoff. */
  readonly #failures = new Map<string, number>();

  constructor(options: WorkAgentOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "work-agent" });
    this.#random = options.random ?? Math.random;
    this.#resyncMs = options.resyncMs ?? Work.agentResyncSeconds * 1000;
    this.#hubHash = hubHash(
      options.hubClient.kubeConfig.getCurrentCluster()?.server ?? options.hubClient.server,
    );
    this.#hubInformers = new InformerFactory({
      client: options.hubClient,
      logger: this.#logger,
      tuning: { reconnectWindowMs: options.hubReconnectWindowMs },
    });
    this.#managedInformers = new InformerFactory({ client: options.managedClient, logger: this.#logger });
    // The agent may see the ManifestWorks of its own cluster namespace only.
    this.#works = this.#hubInformers.informer<ManifestWork>(Resources.ManifestWork, {
      namespace: options.clusterName,
    });
    this.#works.addIndex(partIndexName, (work) => {
      const part = partOf(work.metadata);
      return part ? [part.whole] : [];
    });
    this.#applied = this.#managedInformers.informer<AppliedManifestWork>(Resources.AppliedManifestWork);
    this.#controller = new Controller({
      name: "work-agent",
      registry: options.registry,
      logger: this.#logger,
      clock: options.clock,
      random: this.#random,
      workers: options.workers ?? 4,
      backoff: { baseDelayMs: 500, maxDelayMs: 60_000 },
      reconcile: (key, signal, context) => this.#reconcile(key, signal, context),
    });
    this.#eviction = new Controller({
      name: "work-eviction",
      registry: options.registry,
      logger: this.#logger,
      clock: options.clock,
      random: this.#random,
      workers: 1,
      backoff: { baseDelayMs: 1000, maxDelayMs: 60_000 },
      reconcile: (key, _signal, context) => this.#evict(key, context.logger),
    });
    this.#watch = new ResourceWatch({
      informers: this.#managedInformers,
      onChange: (key) => this.#controller.enqueue(key),
    });
    this.#metrics = workAgentMetrics(options.registry, () => this.#watch.watchedTypes);

    const onWork = (work: ManifestWork) => {
      this.#controller.enqueue(`${work.metadata.namespace}/${work.metadata.name}`);
      this.#eviction.enqueue(appliedManifestWorkName(this.#hubHash, work.metadata.name ?? ""));
      // A part that changes may let the parts after it go ahead.
      const part = partOf(work.metadata);
      if (!part) return;
      for (const sibling of this.#works.byIndex(partIndexName, part.whole)) {
        const other = partOf(sibling.metadata);
        if (other && other.index > part.index) {
          this.#controller.enqueue(`${sibling.metadata.namespace}/${sibling.metadata.name}`);
        }
      }
    };
    this.#works.addHandlers({
      onAdd: onWork,
      onUpdate: (_previous, current) => onWork(current),
      onDelete: onWork,
    });
    const onApplied = (applied: AppliedManifestWork) => {
      const workName = workNameOf(applied.metadata.name ?? "", this.#hubHash);
      if (workName) this.#controller.enqueue(`${options.clusterName}/${workName}`);
      this.#eviction.enqueue(applied.metadata.name ?? "");
    };
    this.#applied.addHandlers({
      onAdd: onApplied,
      onUpdate: (_previous, current) => onApplied(current),
      onDelete: onApplied,
    });
  }

  /** The hash of the hub's URL that prefixes this agent's AppliedManifestWork names. */
  get hubHash(): string {
    return this.#hubHash;
  }

  /** The controller, for tests that wait for reconcile counts. */
  get controller(): Controller {
    return this.#controller;
  }

  get resourceWatch(): ResourceWatch {
    return this.#watch;
  }

  start(): void {
    this.#hubInformers.start();
    this.#managedInformers.start();
    this.#controller.start();
    this.#eviction.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#controller.stop(), this.#eviction.stop()]);
    await Promise.all([this.#hubInformers.stop(), this.#managedInformers.stop()]);
  }

  async whenIdle(): Promise<void> {
    await Promise.all([this.#controller.whenIdle(), this.#eviction.whenIdle()]);
  }

  /** The eviction controller, for tests that wait for its reconciles. */
  get evictionController(): Controller {
    return this.#eviction;
  }

  #resync(): { requeueAfterMs: number } {
    return { requeueAfterMs: jittered(this.#resyncMs, 0.1, this.#random) };
  }

  #appliedRef(workName: string): ObjectRef {
    return {
      apiVersion: Resources.AppliedManifestWork.apiVersion,
      kind: Resources.AppliedManifestWork.kind,
      name: appliedManifestWorkName(this.#hubHash, workName),
    };
  }

  #backoff(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    return backoffMs(failures, 1000, 60_000, this.#random);
  }

  async #reconcile(
    key: string,
    _signal: AbortSignal,
    context: ReconcileContext,
  ): Promise<{ requeueAfterMs?: number }> {
    if (!this.#works.hasSynced || !this.#applied.hasSynced) return { requeueAfterMs: 500 };
    const { name } = splitKey(key);
    const work = this.#works.get(key);
    if (!work) {
      this.#watch.forget(key);
      this.#failures.delete(key);
      return {};
    }
    if (work.metadata.deletionTimestamp) return this.#finalize(key, work, context.logger);

    const finalizers = work.metadata.finalizers ?? [];
    if (!finalizers.includes(Finalizers.manifestWorkCleanup)) {
      await this.#options.hubClient.patch(refOf(work), "merge", {
        metadata: {
          finalizers: [...finalizers, Finalizers.manifestWorkCleanup],
          resourceVersion: work.metadata.resourceVersion,
        },
      });
      // The update comes back through the informer and processing continues then.
      return {};
    }
    if (
      findCondition(work.status?.conditions, ManifestWorkConditions.complete)?.status === ConditionStatus.True
    ) {
      return {};
    }

    const gate = partGate(work, this.#works.byIndex(partIndexName, partOf(work.metadata)?.whole ?? ""));
    if (!gate.ready) {
      const manifests = work.spec?.workload?.manifests ?? [];
      const metas = manifests.map((manifest, ordinal) => ({
        resourceMeta: buildResourceMeta(ordinal, manifest, () => undefined).resourceMeta,
      }));
      const status = waitingPartStatus(work, metas, gate.message, this.#options.clock.now());
      if (statusNeedsWrite(work.status, status)) await patchStatus(this.#options.hubClient, work, status);
      context.logger.debug({ waitingFor: gate.waitingFor }, "part waits for earlier parts");
      // Woken by the earlier parts' updates; the resync is a safety net.
      return this.#resync();
    }

    const applied = await this.#ensureApplied(work, name);
    if (applied.metadata.deletionTimestamp) {
      // Deleted on the managed cluster: clean it up, then it is created again.
      const finished = await this.#finalizeApplied(applied, context.logger);
      return { requeueAfterMs: finished ? 200 : this.#backoff(key) };
    }
    const previousApplied = applied.status?.appliedResources ?? [];
    const results = await applyWork({
      client: this.#options.managedClient,
      work,
      owner: { name: applied.metadata.name ?? "", uid: applied.metadata.uid ?? "" },
      previousApplied,
      crdWaitMs: this.#options.crdWaitMs ?? 1000,
      applyCache: this.#applyCache,
    });
    for (const result of results)
      this.#metrics.manifests.inc({ strategy: result.strategy, action: result.action });
    this.#watch.track(
      key,
      results.flatMap((result) => (result.watch ? [result.watch] : [])),
    );

    const pending = await this.#recordApplied(applied, results, previousApplied, context.logger);
    const status = nextWorkStatus({ work, results, nowMs: this.#options.clock.now(), cache: this.#cache });
    if (statusNeedsWrite(work.status, status)) {
      await patchStatus(this.#options.hubClient, work, status);
    }

    const failed = results.filter((result) => !result.outcome.ok);
    for (const result of failed) {
      if (result.action === "waiting") continue;
      context.logger.info(
        {
          ordinal: result.ordinal,
          kind: result.resourceMeta.kind,
          name: result.resourceMeta.name,
          error: !result.outcome.ok && result.outcome.error,
        },
        "a manifest was not applied",
      );
    }
    const delays = results.flatMap((result) =>
      result.retryAfterMs !== undefined ? [result.retryAfterMs] : [],
    );
    if (failed.some((result) => result.retryAfterMs === undefined) || pending)
      delays.push(this.#backoff(key));
    else this.#failures.delete(key);
    if (delays.length > 0) return { requeueAfterMs: Math.min(...delays) };
    return this.#resync();
  }

  /** The work's AppliedManifestWork, created or brought in line with the work. */
  async #ensureApplied(work: ManifestWork, workName: string): Promise<AppliedManifestWork> {
    const client = this.#options.managedClient;
    const desired = desiredAppliedManifestWork({
      hubHash: this.#hubHash,
      agentID: this.#options.agentId,
      work,
    });
    const cached = this.#applied.get(desired.metadata.name ?? "");
    let existing = cached ?? (await client.getOrUndefined<AppliedManifestWork>(this.#appliedRef(workName)));
    if (!existing) {
      try {
        return await client.create(desired);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
        existing = await client.get<AppliedManifestWork>(this.#appliedRef(workName));
      }
    }
    const spec = appliedManifestWorkSpecUpdate(existing, desired);
    if (spec && !existing.metadata.deletionTimestamp) {
      return client.patch<AppliedManifestWork>(this.#appliedRef(workName), "merge", {
        metadata: { resourceVersion: existing.metadata.resourceVersion },
        spec,
      });
    }
    return existing;
  }

  /**
   * Deletes what the work no longer carries and records what it applied in the
   * AppliedManifestWork's status. True when some deletion is still pending.
   */
  async #recordApplied(
    applied: AppliedManifestWork,
    results: readonly ManifestResult[],
    previous: readonly AppliedManifestResourceMeta[],
    logger: Logger,
  ): Promise<boolean> {
    const current = results.flatMap((result) => (result.applied ? [result.applied] : []));
    const removed = removedResources(previous, current);
    let pending: AppliedManifestResourceMeta[] = [];
    if (removed.length > 0) {
      const cleanup = await deleteAppliedResources(
        this.#options.managedClient,
        removed,
        applied.metadata.uid ?? "",
      );
      pending = cleanup.pending;
      for (const error of cleanup.errors)
        logger.warn({ err: error }, "cleaning up a removed manifest failed");
      logger.info(
        { steps: cleanup.steps.map((s) => `${s.step} ${s.resource.resource}/${s.resource.name}`) },
        "removed manifests cleaned up",
      );
    }
    const appliedResources = sortAppliedResources(dedupe([...current, ...pending]));
    if (!sameJson(previous, appliedResources)) {
      await patchStatus(this.#options.managedClient, applied, { ...applied.status, appliedResources });
    }
    return pending.length > 0;
  }

  /**
   * One AppliedManifestWork: marked for eviction when no work of this hub backs it, unmarked when
   * one does again, deleted with what it applied once the grace period is over; one being deleted
   * with no work behind it is cleaned up here (the work's own reconcile cleans up the others).
   */
  async #evict(name: string, logger: Logger): Promise<{ requeueAfterMs?: number }> {
    if (!this.#works.hasSynced || !this.#applied.hasSynced) return { requeueAfterMs: 1000 };
    const applied = this.#applied.get(name);
    if (!applied) return {};
    const workExists = (workName: string) =>
      this.#works.get(`${this.#options.clusterName}/${workName}`) !== undefined;
    const workName = workNameOf(name, this.#hubHash);
    if (applied.metadata.deletionTimestamp) {
      if (workName !== undefined && workExists(workName)) return {};
      const finished = await this.#finalizeApplied(applied, logger);
      return finished ? {} : { requeueAfterMs: this.#backoff(`eviction/${name}`) };
    }
    const nowMs = this.#options.clock.now();
    const step = evictionStep({
      applied,
      hubHash: this.#hubHash,
      workExists,
      nowMs,
      gracePeriodMs:
        this.#options.evictionGracePeriodMs ?? Work.appliedManifestWorkEvictionGracePeriodSeconds * 1000,
    });
    const client = this.#options.managedClient;
    switch (step.action) {
      case "none":
        return {};
      case "mark":
        await patchStatus(client, applied, { ...applied.status, evictionStartTime: formatTime(nowMs) });
        logger.info(
          { appliedManifestWork: name },
          "no ManifestWork backs this AppliedManifestWork: eviction starts",
        );
        return { requeueAfterMs: step.requeueAfterMs };
      case "unmark": {
        const { evictionStartTime: _started, ...status } = applied.status ?? {};
        await patchStatus(client, applied, status);
        logger.info({ appliedManifestWork: name }, "its ManifestWork is back: eviction stopped");
        return {};
      }
      case "wait":
        return { requeueAfterMs: step.requeueAfterMs };
      case "evict":
        logger.warn(
          { appliedManifestWork: name, reason: step.reason },
          "evicting the AppliedManifestWork and what it applied",
        );
        await client.delete(refOf(applied), { propagationPolicy: "Background", uid: applied.metadata.uid });
        // Its deletionTimestamp comes back as an event, and the cleanup runs then.
        return {};
    }
  }

  /**
   * Cleans up a deleted AppliedManifestWork: deletes (or lets go of) everything it applied,
   * then removes its finalizer. True once the finalizer is gone.
   */
  async #finalizeApplied(applied: AppliedManifestWork, logger: Logger): Promise<boolean> {
    const client = this.#options.managedClient;
    const finalizers = applied.metadata.finalizers ?? [];
    if (!finalizers.includes(Finalizers.appliedManifestWorkCleanup)) return true;
    const resources = applied.status?.appliedResources ?? [];
    const cleanup = await deleteAppliedResources(client, resources, applied.metadata.uid ?? "");
    for (const error of cleanup.errors) logger.warn({ err: error }, "cleaning up an applied resource failed");
    const ref = refOf(applied);
    if (cleanup.pending.length > 0) {
      const appliedResources = sortAppliedResources(cleanup.pending);
      if (!sameJson(resources, appliedResources)) {
        await patchStatus(client, applied, { ...applied.status, appliedResources });
      }
      return false;
    }
    try {
      const fresh = await client.get<AppliedManifestWork>(ref);
      await client.patch(ref, "merge", {
        metadata: {
          resourceVersion: fresh.metadata.resourceVersion,
          finalizers: (fresh.metadata.finalizers ?? []).filter(
            (f) => f !== Finalizers.appliedManifestWorkCleanup,
          ),
        },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.notFound)) throw error;
    }
    logger.info({ appliedManifestWork: applied.metadata.name }, "applied resources cleaned up");
    return true;
  }

  /**
   * A ManifestWork deleted on the hub: Deleting=True, delete its AppliedManifestWork and what it
   * owns, wait until the AppliedManifestWork is gone, then let the ManifestWork go.
   */
  async #finalize(key: string, work: ManifestWork, logger: Logger): Promise<{ requeueAfterMs?: number }> {
    const finalizers = work.metadata.finalizers ?? [];
    if (!finalizers.includes(Finalizers.manifestWorkCleanup)) return {};
    const { hubClient, managedClient, clock } = this.#options;
    const status = deletingStatus(work, clock.now());
    if (statusNeedsWrite(work.status, status)) {
      try {
        await patchStatus(hubClient, work, status);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.notFound)) throw error;
      }
    }
    const name = work.metadata.name ?? "";
    const ref = this.#appliedRef(name);
    let applied = await managedClient.getOrUndefined<AppliedManifestWork>(ref);
    if (applied && !applied.metadata.deletionTimestamp) {
      await managedClient.delete(ref, { propagationPolicy: "Background", uid: applied.metadata.uid });
      applied = await managedClient.getOrUndefined<AppliedManifestWork>(ref);
    }
    if (applied) {
      const finished = await this.#finalizeApplied(applied, logger);
      // The AppliedManifestWork's disappearance comes back as an event.
      return { requeueAfterMs: finished ? 1000 : this.#backoff(key) };
    }
    this.#watch.forget(key);
    this.#failures.delete(key);
    try {
      const fresh = await hubClient.get<ManifestWork>(refOf(work));
      await hubClient.patch(refOf(work), "merge", {
        metadata: {
          resourceVersion: fresh.metadata.resourceVersion,
          finalizers: (fresh.metadata.finalizers ?? []).filter((f) => f !== Finalizers.manifestWorkCleanup),
        },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.notFound)) throw error;
    }
    logger.info("the work's resources are cleaned up; released the ManifestWork");
    return {};
  }
}

function refOf(object: {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string };
}): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name ?? "",
    namespace: object.metadata.namespace,
  };
}

function dedupe(resources: readonly AppliedManifestResourceMeta[]): AppliedManifestResourceMeta[] {
  const seen = new Set<string>();
  return resources.filter((resource) => {
    const key = JSON.stringify([
      resource.group ?? "",
      resource.resource,
      resource.namespace ?? "",
      resource.name,
    ]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
