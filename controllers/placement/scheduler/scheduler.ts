// The placement scheduler: a pure function from a Placement and the fleet to the Placement's
// status, the PlacementDecisions to write, when to look again, and (on request) why each
// candidate cluster was or was not chosen. The controller and `bosun explain placement` both
// call it, so what explain shows is what the controller writes.
//
// The pipeline is OCM's: candidates from the sets bound to the namespace; the Predicate then
// TaintToleration filters; weighted prioritizers (Balance, Steady, ResourceAllocatable*, AddOn,
// and bosun's Spread); top numberOfClusters by score then name; decision groups; decisions of
// at most 100 per PlacementDecision.
import { PlacementConditions, PlacementMessages, PlacementReasons } from "../../../api/constants.ts";
import type { ManagedCluster, Taint } from "../../../api/types/cluster.ts";
import type { Condition } from "../../../api/types/meta.ts";
import type {
  ClusterDecision,
  Placement,
  PlacementDecision,
  PlacementStatus,
} from "../../../api/types/placement.ts";
import { setCondition } from "../../../runtime/conditions.ts";
import { PlacementCel } from "../cel/environment.ts";
import { addOnScores } from "./addon.ts";
import { balance } from "./balance.ts";
import type { FleetIndex } from "./fleet.ts";
import { decisionGroups, placementDecisions, type SelectedCluster } from "./groups.ts";
import { predicateFilter } from "./predicate.ts";
import { resourceAllocatable } from "./resource.ts";
import { byRank, spreadConstraints, spreadSelect, validateSpread, type Candidate } from "./spread.ts";
import { steady } from "./steady.ts";
import { describeTaint, taintTolerationFilter } from "./taint-toleration.ts";
import {
  earliest,
  type Misconfiguration,
  type PluginContext,
  type PrioritizerResult,
  type Rejection,
} from "./types.ts";
import { prioritizerWeights, type PrioritizerKind, type WeightedPrioritizer } from "./weights.ts";

export interface ScheduleOptions {
  /** Milliseconds since the epoch. */
  now: number;
  /** Reuse compiled expressions and converted clusters across calls. */
  cel?: PlacementCel;
  /** Fill `clusters` with a per-candidate explanation. */
  explain?: boolean;
}

export interface ClusterExplanation {
  name: string;
  selected: boolean;
  filteredBy: Rejection | null;
  /** Unweighted score per prioritizer. */
  scores: Record<string, number>;
  weights: Record<string, number>;
  total: number;
  /** Untolerated PreferNoSelect taints, which rank the cluster after those without. */
  preferNoSelect: string[];
}

export interface ScheduleResult {
  status: PlacementStatus;
  placementDecisions: PlacementDecision[];
  /** When to schedule again even if nothing changes (a toleration or score expiry), ms. */
  requeueAt?: number;
  /** OCM's Warning status (e.g. expired add-on scores): decisions are written, then retried. */
  warning?: string;
  misconfigured?: Misconfiguration;
  /** Candidates in name order (only with `explain`). */
  clusters?: ClusterExplanation[];
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Bindings whose set exists → eligible set names → member clusters (not being deleted). */
function candidates(placement: Placement, fleet: FleetIndex) {
  const namespace = placement.metadata.namespace ?? "";
  const bound = fleet
    .bindings(namespace)
    .filter((b) => fleet.clusterSet(b.metadata.name ?? "") !== undefined);
  let eligible = [...new Set(bound.map((b) => b.metadata.name ?? ""))];
  const wanted = placement.spec.clusterSets ?? [];
  if (wanted.length > 0) eligible = eligible.filter((s) => wanted.includes(s));
  eligible.sort(compareNames);
  const { clusters, error } = fleet.candidates(eligible);
  return { bindings: bound.length, eligible, clusters, error };
}

function runPrioritizer(
  kind: PrioritizerKind,
  ctx: PluginContext,
  clusters: readonly ManagedCluster[],
): PrioritizerResult {
  switch (kind.kind) {
    case "Balance":
      return balance(ctx, clusters);
    case "Steady":
      return steady(ctx, clusters);
    case "ResourceAllocatableCPU":
      return resourceAllocatable("cpu")(ctx, clusters);
    case "ResourceAllocatableMemory":
      return resourceAllocatable("memory")(ctx, clusters);
    case "AddOn":
      return addOnScores(kind)(ctx, clusters);
    case "Spread":
      // Computed during selection, where it depends on what is already selected.
      return { scores: new Int32Array(clusters.length) };
  }
}

function satisfiedCondition(
  placement: Placement,
  c: ReturnType<typeof candidates>,
  decided: number,
  unscheduled: number,
  error: string | undefined,
): Omit<Condition, "lastTransitionTime"> {
  const type = PlacementConditions.satisfied;
  if (c.bindings === 0) {
    return {
      type,
      status: "False",
      reason: PlacementReasons.noManagedClusterSetBindings,
      message: PlacementMessages.noManagedClusterSetBindings,
    };
  }
  if (c.eligible.length === 0) {
    return {
      type,
      status: "False",
      reason: PlacementReasons.noIntersection,
      message: `None of ManagedClusterSets [${(placement.spec.clusterSets ?? []).join(",")}] is bound to placement namespace`,
    };
  }
  if (c.clusters.length === 0 && error === undefined) {
    return {
      type,
      status: "False",
      reason: PlacementReasons.allManagedClusterSetsEmpty,
      message: `All ManagedClusterSets [${c.eligible.join(",")}] have no member ManagedCluster`,
    };
  }
  if (error !== undefined) {
    return { type, status: "False", reason: PlacementReasons.notAllDecisionsScheduled, message: error };
  }
  if (decided === 0) {
    return {
      type,
      status: "False",
      reason: PlacementReasons.noManagedClusterMatched,
      message: PlacementMessages.noManagedClusterMatched,
    };
  }
  if (unscheduled <= 0) {
    return {
      type,
      status: "True",
      reason: PlacementReasons.allDecisionsScheduled,
      message: PlacementMessages.allDecisionsScheduled,
    };
  }
  return {
    type,
    status: "False",
    reason: PlacementReasons.notAllDecisionsScheduled,
    message: `${unscheduled} cluster decisions unscheduled`,
  };
}

function misconfiguredCondition(m: Misconfiguration | undefined): Omit<Condition, "lastTransitionTime"> {
  const type = PlacementConditions.misconfigured;
  return m
    ? { type, status: "True", reason: PlacementReasons.misconfigured, message: `${m.plugin}:${m.message}` }
    : {
        type,
        status: "False",
        reason: PlacementReasons.succeedconfigured,
        message: PlacementMessages.configurationsCheckPass,
      };
}

function decisionReason(notes: string[], preferNot: readonly Taint[] | undefined): string {
  const parts = notes.filter(Boolean);
  if (preferNot?.length) parts.push(`selected despite ${preferNot.map(describeTaint).join(", ")}`);
  return parts.length > 0 ? parts.join("; ") : "feasible and among the highest scored";
}

export function schedule(placement: Placement, fleet: FleetIndex, options: ScheduleOptions): ScheduleResult {
  const namespace = placement.metadata.namespace ?? "";
  const name = placement.metadata.name ?? "";
  const explain = options.explain ?? false;
  const own = fleet.ownDecisionCounts(namespace, name);
  const ctx: PluginContext = {
    placement,
    namespace,
    name,
    fleet,
    now: options.now,
    cel: options.cel ?? new PlacementCel(),
    explain,
    ownDecisions: new Set(own.keys()),
  };
  const cands = candidates(placement, fleet);
  const rejected = new Map<string, Rejection>();
  let misconfigured: Misconfiguration | undefined;
  let warning: string | undefined;
  let requeueAt: number | undefined;
  let selectedClusters: SelectedCluster[] = [];
  let unscheduled = 0;
  const explanation = new Map<
    string,
    { scores: Record<string, number>; weights: Record<string, number>; total: number }
  >();
  const preferNotByCluster = new Map<string, Taint[]>();

  const run = (): void => {
    const numberOfClusters = placement.spec.numberOfClusters;
    if (numberOfClusters !== undefined && (!Number.isInteger(numberOfClusters) || numberOfClusters < 0)) {
      misconfigured = {
        plugin: "Placement",
        message: "spec.numberOfClusters: must be a whole number, not negative",
      };
      return;
    }
    // Filters.
    const predicate = predicateFilter(ctx, cands.clusters);
    if (!predicate.ok) {
      misconfigured = predicate.misconfigured;
      return;
    }
    for (const [k, v] of predicate.result.rejected) rejected.set(k, v);
    const taints = taintTolerationFilter(ctx, predicate.result.passed);
    if (!taints.ok) {
      misconfigured = taints.misconfigured;
      return;
    }
    for (const [k, v] of taints.result.rejected) rejected.set(k, v);
    requeueAt = earliest(requeueAt, taints.result.requeueAt);
    for (const [k, v] of taints.preferNot ?? []) preferNotByCluster.set(k, v);
    const feasible = taints.result.passed;

    // Weights and scores.
    const weights = prioritizerWeights(placement);
    if (!weights.ok) {
      misconfigured = weights.misconfigured;
      return;
    }
    const spreadProblem = validateSpread(placement);
    if (spreadProblem) {
      misconfigured = spreadProblem;
      return;
    }
    const scored: { p: WeightedPrioritizer; scores: Int32Array }[] = [];
    const warnings: string[] = [];
    for (const p of weights.prioritizers) {
      const result = runPrioritizer(p.prioritizer, ctx, feasible);
      if (result.warning) warnings.push(result.warning);
      requeueAt = earliest(requeueAt, result.requeueAt);
      scored.push({ p, scores: result.scores });
    }
    if (warnings.length > 0) warning = warnings.join("; ");
    const spreadWeight = weights.prioritizers.find((p) => p.prioritizer.kind === "Spread")?.weight ?? 0;
    const list: Candidate[] = feasible.map((cluster, index) => {
      let total = 0;
      for (const { p, scores } of scored) total += p.weight * scores[index]!;
      const clusterName = cluster.metadata.name ?? "";
      return {
        cluster,
        name: clusterName,
        index,
        total,
        penalty: preferNotByCluster.get(clusterName)?.length ?? 0,
      };
    });
    list.sort(byRank);

    // Selection.
    const limit = numberOfClusters ?? list.length;
    const constraints = spreadConstraints(placement);
    let chosen: { candidate: Candidate; spread: number }[];
    const spreadOf = new Map<number, number>();
    if (constraints.length === 0 && spreadWeight === 0) {
      chosen = list.slice(0, limit).map((candidate) => ({ candidate, spread: 0 }));
    } else {
      const selection = spreadSelect(list, limit, constraints, spreadWeight, fleet, explain);
      chosen = selection.selected;
      for (const [k, v] of selection.rejected) rejected.set(k, v);
      for (const [k, v] of selection.unselectedSpread) spreadOf.set(k, v);
      for (const { candidate, spread } of chosen) spreadOf.set(candidate.index, spread);
    }
    unscheduled = numberOfClusters === undefined ? 0 : numberOfClusters - chosen.length;

    const notes = [predicate.result.notes, taints.result.notes];
    selectedClusters = chosen.map(({ candidate, spread }) => {
      const decision: ClusterDecision = {
        clusterName: candidate.name,
        reason: decisionReason(
          notes.map((n) => n?.get(candidate.name) ?? ""),
          preferNotByCluster.get(candidate.name),
        ),
      };
      const score = candidate.total + spreadWeight * spread;
      if (score !== 0) decision.score = score;
      return { cluster: candidate.cluster, decision };
    });
    if ((placement.spec.sortBy ?? "ClusterName") === "Score") {
      selectedClusters.sort(
        (a, b) =>
          (b.decision.score ?? 0) - (a.decision.score ?? 0) ||
          compareNames(a.decision.clusterName, b.decision.clusterName),
      );
    } else {
      selectedClusters.sort((a, b) => compareNames(a.decision.clusterName, b.decision.clusterName));
    }

    if (explain) {
      const weightRecord: Record<string, number> = {};
      // The same AddOn score configured twice is two prioritizers: their weights add up.
      for (const { p } of scored) weightRecord[p.name] = (weightRecord[p.name] ?? 0) + p.weight;
      for (const candidate of list) {
        const scores: Record<string, number> = {};
        let total = 0;
        for (const { p, scores: s } of scored) {
          const value =
            p.prioritizer.kind === "Spread" ? (spreadOf.get(candidate.index) ?? 0) : s[candidate.index]!;
          scores[p.name] = value;
          total += p.weight * value;
        }
        explanation.set(candidate.name, { scores, weights: weightRecord, total });
      }
    }
  };
  run();

  if (misconfigured) {
    // OCM: a misconfigured placement ends with no decisions (one empty PlacementDecision,
    // unless its decision strategy cannot be applied either).
    selectedClusters = [];
    unscheduled = 0;
  }
  const grouped = decisionGroups(placement, selectedClusters, fleet);
  // OCM: a decision strategy that cannot be applied replaces any earlier problem in the
  // condition, and only the groups formed before it are written; the placement still counts
  // every cluster it scheduled.
  if (!grouped.ok) misconfigured = grouped.misconfigured;
  const decisions = placementDecisions(placement, grouped.groups);
  const written = new Set(grouped.groups.flatMap((g) => g.members.map((m) => m.decision.clusterName)));

  let conditions = placement.status?.conditions ?? [];
  conditions = setCondition(
    conditions,
    satisfiedCondition(placement, cands, selectedClusters.length, unscheduled, cands.error),
    options.now,
  );
  conditions = setCondition(conditions, misconfiguredCondition(misconfigured), options.now);

  const result: ScheduleResult = {
    status: {
      numberOfSelectedClusters: selectedClusters.length,
      decisionGroups: decisions.groupStatus,
      conditions,
    },
    placementDecisions: decisions.placementDecisions,
  };
  if (requeueAt !== undefined) result.requeueAt = requeueAt;
  if (warning !== undefined) result.warning = warning;
  if (misconfigured) result.misconfigured = misconfigured;

  if (explain) {
    result.clusters = cands.clusters.map((cluster) => {
      const clusterName = cluster.metadata.name ?? "";
      const scored = explanation.get(clusterName);
      const selected = written.has(clusterName);
      let filteredBy = rejected.get(clusterName) ?? null;
      if (!filteredBy && !selected && misconfigured) {
        filteredBy = {
          plugin: misconfigured.plugin,
          reason: `placement is misconfigured: ${misconfigured.message}`,
        };
      }
      return {
        name: clusterName,
        selected,
        filteredBy,
        scores: filteredBy || !scored ? {} : scored.scores,
        weights: filteredBy || !scored ? {} : scored.weights,
        total: filteredBy || !scored ? 0 : scored.total,
        preferNoSelect: (preferNotByCluster.get(clusterName) ?? []).map(describeTaint),
      };
    });
  }
  return result;
}
