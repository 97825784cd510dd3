// The placement controller: watches ManagedClusters, ManagedClusterSets, bindings,
// AddOnPlacementScores, PlacementDecisions and Placements through informers, re-schedules the
// placements a change can affect, and writes PlacementDecisions and the Placement status only
// when they differ from the cache. All decisions come from the pure scheduler.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import { Histogram, type Registry } from "prom-client";
import { Annotations, Labels, PlacementEvents, PlacementMetrics, Resources } from "../../api/constants.ts";
import type {
  AddOnPlacementScore,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
} from "../../api/types/cluster.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller } from "../../runtime/controller.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { EventRecorder } from "../../runtime/events.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import { refOf, type KubeApi } from "../../runtime/kube/client.ts";
import { objectKey, type KubeObject } from "../../runtime/kube/types.ts";
import { patchStatus } from "../../runtime/status.ts";
import { PlacementCel } from "./cel/environment.ts";
import { decisionsChangedBeyondScores, scoreRateLimitMs, scoresBlockedUntil } from "./score-rate-limit.ts";
import { FleetIndex } from "./scheduler/fleet.ts";
import { compilePredicates, mayMatchPredicates, type CompiledPredicate } from "./scheduler/predicate.ts";
import { schedule } from "./scheduler/scheduler.ts";
import { HubInformers } from "../informers.ts";
import { setsSelecting } from "../registration/clustersets.ts";
import { formatTime } from "../../runtime/time.ts";

export const placementFieldManager = "bosun-placement";

/** How soon a placement whose scores expired (OCM's Warning status) is scheduled again. */
const warningRetryMs = 30_000;

export interface PlacementControllerOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  workers?: number;
  /** The process's shared informers; without it the controller makes (and starts and stops) its own. */
  informers?: InformerFactory;
  /** How long start() waits for the caches before failing with the resources it still misses. */
  cacheSyncTimeoutMs?: number;
}

export class PlacementController {
  readonly #client: KubeApi;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #cel = new PlacementCel();
  readonly #cache: ControllerCache;
  /** Each placement's predicates, compiled for the generation they were compiled from. */
  readonly #predicates = new Map<
    string,
    { generation: number | undefined; predicates: CompiledPredicate[] | undefined }
  >();
  readonly clusters: Informer<ManagedCluster>;
  readonly sets: Informer<ManagedClusterSet>;
  readonly bindings: Informer<ManagedClusterSetBinding>;
  readonly scores: Informer<AddOnPlacementScore>;
  readonly decisions: Informer<PlacementDecision>;
  readonly placements: Informer<Placement>;
  readonly #controller: Controller;
  readonly #events: EventRecorder;
  readonly #metrics: { scheduling: Histogram.Internal<string>; binding: Histogram.Internal<string> };
  /** When this controller last wrote each placement's scores (see reconcile). */
  readonly #scoresWrittenAt = new Map<string, string>();
  #fleet: FleetIndex | undefined;

  constructor(options: PlacementControllerOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ component: "placement" });
    this.#events = new EventRecorder({
      client: options.client,
      component: placementFieldManager,
      clock: options.clock,
      logger: this.#logger,
    });
    this.#cache = new ControllerCache({ ...options, logger: this.#logger });
    const informers = this.#cache.informers;
    this.clusters = informers.informer(Resources.ManagedCluster);
    this.sets = informers.informer(Resources.ManagedClusterSet);
    this.bindings = informers.informer(Resources.ManagedClusterSetBinding);
    this.scores = informers.informer(Resources.AddOnPlacementScore);
    this.decisions = informers.informer(
      HubInformers.placementDecisions.resource,
      HubInformers.placementDecisions.scope,
    );
    this.placements = informers.informer(Resources.Placement);
    this.#metrics = schedulingMetrics(options.registry);
    this.#controller = new Controller({
      name: "placement",
      reconcile: (key) => this.reconcile(key),
      registry: options.registry,
      logger: options.logger,
      clock: options.clock,
      workers: options.workers ?? 2,
    });

    const invalidate = () => {
      this.#fleet = undefined;
    };
    const enqueue = (key: string) => this.#controller.enqueue(key);
    this.placements.addHandlers({
      onAdd: (p) => enqueue(objectKey(p)),
      onUpdate: (previous, current) => {
        // Our own status writes come back as updates; only spec, labels or annotations matter.
        if (
          !isDeepStrictEqual(previous.spec, current.spec) ||
          !isDeepStrictEqual(previous.metadata.annotations, current.metadata.annotations) ||
          previous.metadata.deletionTimestamp !== current.metadata.deletionTimestamp
        ) {
          enqueue(objectKey(current));
        }
      },
      onDelete: () => undefined,
    });
    const decisionChanged = (pd: PlacementDecision) => {
      invalidate();
      const placement = pd.metadata.labels?.[Labels.placement];
      if (placement !== undefined) enqueue(`${pd.metadata.namespace ?? ""}/${placement}`);
    };
    this.decisions.addHandlers({
      onAdd: decisionChanged,
      onUpdate: (_previous, current) => decisionChanged(current),
      onDelete: decisionChanged,
    });
    this.clusters.addHandlers({
      onAdd: (c) => {
        invalidate();
        this.#enqueueForClusters([c]);
      },
      onUpdate: (previous, current) => {
        invalidate();
        this.#enqueueForClusters([previous, current]);
      },
      onDelete: (c) => {
        invalidate();
        this.#enqueueForClusters([c]);
      },
    });
    const setChanged = (set: ManagedClusterSet) => {
      invalidate();
      this.#enqueueForSets(new Set([set.metadata.name ?? ""]));
    };
    this.sets.addHandlers({ onAdd: setChanged, onUpdate: (_p, c) => setChanged(c), onDelete: setChanged });
    const bindingChanged = (binding: ManagedClusterSetBinding) => {
      invalidate();
      for (const p of this.placements.byNamespace(binding.metadata.namespace ?? "")) enqueue(objectKey(p));
    };
    this.bindings.addHandlers({
      onAdd: bindingChanged,
      onUpdate: (_p, c) => bindingChanged(c),
      onDelete: bindingChanged,
    });
    const scoreChanged = (score: AddOnPlacementScore) => {
      invalidate();
      this.#enqueueForScore(score);
    };
    this.scores.addHandlers({
      onAdd: scoreChanged,
      onUpdate: (_p, c) => scoreChanged(c),
      onDelete: scoreChanged,
    });
  }

  get informers(): Informer<KubeObject>[] {
    return [
      this.clusters,
      this.sets,
      this.bindings,
      this.scores,
      this.decisions,
      this.placements,
    ] as Informer<KubeObject>[];
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#cache.sync(signal);
    this.#controller.start();
    for (const key of this.placements.keys()) this.#controller.enqueue(key);
  }

  async stop(): Promise<void> {
    await this.#controller.stop();
    await this.#cache.release();
  }

  whenIdle(): Promise<void> {
    return this.#controller.whenIdle();
  }

  /** Keys whose last reconcile failed (a conflict with a newer write, say) and wait for a retry. */
  get retrying(): number {
    return this.#controller.retrying;
  }

  /** How many times each placement was reconciled; for tests and benchmarks. */
  reconcilesOf(key: string): number {
    return this.#controller.reconcilesOf(key);
  }

  // Which placements a change can affect --------------------------------------------------------

  /**
   * Placements a change of this cluster can affect: those bound to a set that holds it before
   * or after the change, whose predicates could select it before or after, or whose current
   * decisions include it.
   */
  #enqueueForClusters(versions: readonly ManagedCluster[]): void {
    const name = versions[0]?.metadata.name ?? "";
    this.#enqueueForSets(setsSelecting(this.sets.list(), versions), (placement) => {
      if (this.#decides(placement, name)) return true;
      const predicates = this.#compiledPredicates(placement);
      // Predicates that do not compile leave the placement misconfigured whatever the fleet does.
      if (predicates === undefined) return false;
      return versions.some((cluster) => mayMatchPredicates(predicates, cluster));
    });
  }

  #decides(placement: Placement, cluster: string): boolean {
    const namespace = placement.metadata.namespace;
    return this.decisions
      .byLabel(Labels.placement, placement.metadata.name ?? "")
      .some(
        (pd) =>
          pd.metadata.namespace === namespace &&
          (pd.status?.decisions ?? []).some((d) => d.clusterName === cluster),
      );
  }

  #compiledPredicates(placement: Placement): CompiledPredicate[] | undefined {
    const key = objectKey(placement);
    const cached = this.#predicates.get(key);
    if (cached && cached.generation === placement.metadata.generation) return cached.predicates;
    const compiled = compilePredicates({ placement, cel: this.#cel });
    const predicates = compiled.ok ? compiled.predicates : undefined;
    this.#predicates.set(key, { generation: placement.metadata.generation, predicates });
    return predicates;
  }

  /** Placements in namespaces bound to any of the sets, that may choose from them. */
  #enqueueForSets(
    setNames: ReadonlySet<string>,
    affected: (placement: Placement) => boolean = () => true,
  ): void {
    if (setNames.size === 0) return;
    const namespaces = new Set<string>();
    for (const binding of this.bindings.list()) {
      if (setNames.has(binding.metadata.name ?? "")) namespaces.add(binding.metadata.namespace ?? "");
    }
    for (const namespace of namespaces) {
      for (const placement of this.placements.byNamespace(namespace)) {
        const wanted = placement.spec.clusterSets ?? [];
        if ((wanted.length === 0 || wanted.some((s) => setNames.has(s))) && affected(placement))
          this.#controller.enqueue(objectKey(placement));
      }
    }
  }

  /** Placements that read this score: through an AddOn prioritizer or a CEL scores() call. */
  #enqueueForScore(score: AddOnPlacementScore): void {
    const name = score.metadata.name ?? "";
    for (const placement of this.placements.list()) {
      const byPrioritizer = (placement.spec.prioritizerPolicy?.configurations ?? []).some(
        (c) => c.scoreCoordinate?.addOn?.resourceName === name,
      );
      const byCel = (placement.spec.predicates ?? []).some((p) =>
        (p.requiredClusterSelector?.celSelector?.celExpressions ?? []).some((e) => e.includes("scores(")),
      );
      if (byPrioritizer || byCel) this.#controller.enqueue(objectKey(placement));
    }
  }

  #fleetIndex(): FleetIndex {
    this.#fleet ??= new FleetIndex({
      clusters: this.clusters.list(),
      clusterSets: this.sets.list(),
      bindings: this.bindings.list(),
      scores: this.scores.list(),
      decisions: this.decisions.list(),
    });
    return this.#fleet;
  }

  // Reconcile -----------------------------------------------------------------------------------

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const placement = this.placements.get(key);
    if (!placement || placement.metadata.deletionTimestamp) {
      this.#scoresWrittenAt.delete(key);
      this.#predicates.delete(key);
      return;
    }
    if (placement.metadata.annotations?.[Annotations.experimentalSchedulingDisable] === "true") return;
    const now = this.#clock.now();
    const scheduleStarted = performance.now();
    const result = schedule(placement, this.#fleetIndex(), { now, cel: this.#cel });
    this.#metrics.scheduling.observe((performance.now() - scheduleStarted) / 1000);
    const bindStarted = performance.now();

    const namespace = placement.metadata.namespace ?? "";
    const name = placement.metadata.name ?? "";
    const wanted = new Set<string>();
    // The cache may not show this controller's last status write yet; what it wrote itself
    // counts too, so a quick second reconcile cannot slip a score update past the limit.
    const lastScoreUpdate = [placement.status?.lastScoreUpdateTime, this.#scoresWrittenAt.get(key)]
      .filter((time): time is string => time !== undefined)
      .sort()
      .at(-1);
    const scoresWaitUntil = scoresBlockedUntil(
      lastScoreUpdate,
      scoreRateLimitMs(placement.spec.scoreRateLimit),
      now,
    );
    let scoresWritten = false;
    let scoresDeferred = false;
    const eventType = result.warning === undefined ? "Normal" : "Warning";
    for (const desired of result.placementDecisions) {
      const decisionName = desired.metadata.name ?? "";
      wanted.add(decisionName);
      const created = !this.decisions.get(`${namespace}/${decisionName}`);
      const outcome = await this.#writeDecision(desired, scoresWaitUntil === undefined);
      scoresWritten ||= outcome === "scores-written" || outcome === "written";
      scoresDeferred ||= outcome === "scores-deferred";
      if (created) {
        await this.#events.record(
          placement,
          eventType,
          PlacementEvents.decisionCreate,
          PlacementEvents.decisionCreated,
        );
      } else if (outcome === "written") {
        await this.#events.record(
          placement,
          eventType,
          PlacementEvents.decisionUpdate,
          PlacementEvents.decisionUpdated,
        );
      }
    }
    for (const existing of this.decisions.byLabel(Labels.placement, name)) {
      if (existing.metadata.namespace !== namespace || wanted.has(existing.metadata.name ?? "")) continue;
      try {
        await this.#client.delete(refOf(existing));
        await this.#events.record(
          placement,
          "Normal",
          PlacementEvents.decisionDelete,
          `PlacementDecision ${existing.metadata.name} deleted`,
        );
      } catch (error) {
        if (!(error instanceof KubeApiError && error.notFound)) throw error;
      }
    }
    if (scoresWritten) {
      await this.#events.record(
        placement,
        "Normal",
        PlacementEvents.scoreUpdate,
        scoreSummary(result.placementDecisions),
      );
    }
    const lastScoreUpdateTime = scoresWritten ? formatTime(now) : lastScoreUpdate;
    if (scoresWritten) this.#scoresWrittenAt.set(key, formatTime(now));
    await patchStatus(
      this.#client,
      placement,
      { ...result.status, ...(lastScoreUpdateTime ? { lastScoreUpdateTime } : {}) },
      { fieldManager: placementFieldManager },
    );

    this.#metrics.binding.observe((performance.now() - bindStarted) / 1000);

    let requeueAfterMs: number | undefined;
    if (result.requeueAt !== undefined) requeueAfterMs = Math.max(result.requeueAt - now, 0) + 100;
    if (scoresDeferred && scoresWaitUntil !== undefined) {
      const untilScoresMs = scoresWaitUntil - now + 100;
      requeueAfterMs = Math.min(requeueAfterMs ?? untilScoresMs, untilScoresMs);
    }
    if (result.warning !== undefined) {
      this.#logger.warn({ placement: key, warning: result.warning }, "placement scheduled with a warning");
      requeueAfterMs = Math.min(requeueAfterMs ?? warningRetryMs, warningRetryMs);
    }
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /**
   * Creates or updates one PlacementDecision. A change of scores alone is written only when
   * `scoresAllowed`, and reported as deferred otherwise.
   */
  async #writeDecision(
    desired: PlacementDecision,
    scoresAllowed: boolean,
  ): Promise<"unchanged" | "written" | "scores-written" | "scores-deferred"> {
    let outcome: "unchanged" | "written" | "scores-written" | "scores-deferred" = "unchanged";
    const key = `${desired.metadata.namespace ?? ""}/${desired.metadata.name ?? ""}`;
    let existing = this.decisions.get(key);
    if (!existing) {
      const { status: _status, ...object } = desired;
      try {
        existing = await this.#client.create(object, {
          fieldManager: placementFieldManager,
        });
      } catch (error) {
        if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
        existing = await this.#client.get<PlacementDecision>(refOf(desired));
      }
    }
    // Status first, labels after, as OCM does.
    const decisions = (existing.status?.decisions ?? []).map(normalizeDecision);
    const desiredDecisions = desired.status?.decisions ?? [];
    const changed = !isDeepStrictEqual(decisions, desiredDecisions);
    const onlyScores = changed && !decisionsChangedBeyondScores(decisions, desiredDecisions);
    if (onlyScores && !scoresAllowed) outcome = "scores-deferred";
    else if (changed) {
      outcome = onlyScores ? "scores-written" : "written";
      const updated = await patchStatus(
        this.#client,
        { ...existing, status: { decisions } },
        desired.status,
        { fieldManager: placementFieldManager },
      );
      if (updated) existing = updated;
    }
    if (!isDeepStrictEqual(existing.metadata.labels ?? {}, desired.metadata.labels)) {
      await this.#client.patch(
        refOf(existing),
        "merge",
        { metadata: { resourceVersion: existing.metadata.resourceVersion, labels: desired.metadata.labels } },
        { fieldManager: placementFieldManager },
      );
    }
    return outcome;
  }
}

// OCM's buckets: 1 µs to 1000 s, by powers of ten.
const schedulingBuckets = Array.from({ length: 10 }, (_, i) => 1e-6 * 10 ** i);

/** OCM's placement histograms, registered once per registry. */
function schedulingMetrics(registry: Registry): {
  scheduling: Histogram.Internal<string>;
  binding: Histogram.Internal<string>;
} {
  const histogram = (name: string, help: string) => {
    const existing = registry.getSingleMetric(name);
    const metric =
      existing instanceof Histogram
        ? existing
        : new Histogram({
            name,
            help,
            labelNames: ["name"],
            buckets: schedulingBuckets,
            registers: [registry],
          });
    return metric.labels({ name: PlacementMetrics.schedulingName });
  };
  return {
    scheduling: histogram(
      PlacementMetrics.schedulingDuration,
      "How long in seconds it takes to schedule a placement",
    ),
    binding: histogram(
      PlacementMetrics.bindDuration,
      "How long in seconds it takes to write a placement's decisions and status",
    ),
  };
}

/** "c1:200 c2:100 ...", by cluster name, cut at about 1000 characters as OCM does. */
export function scoreSummary(decisions: readonly PlacementDecision[]): string {
  const entries = decisions
    .flatMap((pd) => pd.status?.decisions ?? [])
    .map((d) => ({ name: d.clusterName, score: d.score ?? 0 }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let summary = "";
  for (const { name, score } of entries) {
    const part = `${summary ? " " : ""}${name}:${score}`;
    if (summary.length + part.length > 1000) return `${summary}...`;
    summary += part;
  }
  return summary;
}

/** A decision as the scheduler writes it: score omitted when 0. */
function normalizeDecision(d: { clusterName: string; reason: string; score?: number }) {
  return d.score
    ? { clusterName: d.clusterName, reason: d.reason, score: d.score }
    : { clusterName: d.clusterName, reason: d.reason };
}
