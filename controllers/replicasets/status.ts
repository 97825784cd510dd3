// What a ManifestWorkReplicaSet writes to each cluster and reports about them, as OCM's
// replica set controller does (pkg/work/hub/controllers/manifestworkreplicasetcontroller),
// with bosun's split works: a cluster whose template is carried by several parts counts once,
// and is applied, available or succeeded only when all of its parts are.
import {
  BosunWorkLabels,
  ConditionStatus,
  Labels,
  ManifestWorkConditions,
  ManifestWorkReplicaSetConditions,
  ManifestWorkReplicaSetReasons,
  availableDecisionGroupsMessage,
} from "../../api/constants.ts";
import type { Condition } from "../../api/types/meta.ts";
import type { Placement } from "../../api/types/placement.ts";
import type {
  ManifestWork,
  ManifestWorkReplicaSet,
  ManifestWorkReplicaSetSummary,
  ManifestWorkSpec,
  PlacementSummary,
} from "../../api/types/work.ts";
import type { ConditionUpdate } from "../../runtime/conditions.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { splitWorkSpec, templateHash, type SplitOptions } from "../work/split.ts";
import type { ClusterRolloutStatus, RolloutOutcome } from "./rollout.ts";

// ---------------------------------------------------------------------------------------------
// The works of one cluster

/** `<namespace>.<name>`: the value of the manifestworkreplicaset label on its works. */
export function replicaSetKey(replicaSet: Pick<ManifestWorkReplicaSet, "metadata">): string {
  return `${replicaSet.metadata.namespace ?? ""}.${replicaSet.metadata.name ?? ""}`;
}

function partIndex(work: ManifestWork): number | undefined {
  const text = work.metadata.labels?.[BosunWorkLabels.partIndex];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function partCount(work: ManifestWork): number | undefined {
  const text = work.metadata.labels?.[BosunWorkLabels.partCount];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Existing parts in part order (a lone unsplit work is part 0). */
export function sortParts(works: readonly ManifestWork[]): ManifestWork[] {
  return [...works].sort((a, b) => (partIndex(a) ?? 0) - (partIndex(b) ?? 0));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => [key, canonical(record[key])]),
    );
  }
  return value;
}

/**
 * The canonical JSON of an object, computed once per object: a reconcile compares every cluster's
 * work with the same template, and cached works are replaced, never changed, on update.
 */
const canonicalTexts = new WeakMap<object, string>();
function canonicalText(value: object): string {
  let text = canonicalTexts.get(value);
  if (text === undefined) {
    text = JSON.stringify(canonical(value));
    canonicalTexts.set(value, text);
  }
  return text;
}

/**
 * Whether a cluster's works carry the template: one work whose spec equals it, or a complete
 * set of parts (indices 0..count-1, one each) whose template-hash label is the template's.
 * `knownHash`, the template's hash when the caller has it, saves hashing a big template again.
 */
export function worksMatchTemplate(
  works: readonly ManifestWork[],
  template: ManifestWorkSpec,
  knownHash?: string,
): boolean {
  const live = works.filter((work) => !work.metadata.deletionTimestamp);
  if (live.length === 0) return false;
  if (live.length === 1 && partIndex(live[0]!) === undefined) {
    const spec = live[0]!.spec;
    return spec !== undefined && canonicalText(spec) === canonicalText(template);
  }
  const hash = knownHash ?? templateHash(template);
  const count = partCount(live[0]!);
  if (count === undefined || live.length !== count) return false;
  const indices = new Set(live.map(partIndex));
  return (
    live.every(
      (work) => work.metadata.labels?.[BosunWorkLabels.templateHash] === hash && partCount(work) === count,
    ) && Array.from({ length: count }, (_, i) => i).every((i) => indices.has(i))
  );
}

const isTrue = (work: ManifestWork, type: string) =>
  findCondition(work.status?.conditions, type)?.status === ConditionStatus.True;

/** How a cluster stands, all its parts together. */
export interface ClusterWorkState {
  /** Every part has Applied=True. */
  applied: boolean;
  /** Every part has Available=True. */
  available: boolean;
  /** Some part has Progressing=True. */
  progressing: boolean;
  /** Some part has Degraded=True. */
  degraded: boolean;
}

export function clusterWorkState(works: readonly ManifestWork[]): ClusterWorkState {
  const live = works.filter((work) => !work.metadata.deletionTimestamp);
  const every = (type: string) => live.length > 0 && live.every((work) => isTrue(work, type));
  return {
    applied: every(ManifestWorkConditions.applied),
    available: every(ManifestWorkConditions.available),
    progressing: live.some((work) => isTrue(work, ManifestWorkConditions.progressing)),
    degraded: live.some((work) => isTrue(work, ManifestWorkConditions.degraded)),
  };
}

type PartStatus = Omit<ClusterRolloutStatus, "clusterName">;

function observed(condition: Condition | undefined, generation: number): boolean {
  return condition !== undefined && (condition.observedGeneration ?? 0) === generation;
}

/**
 * One work's rollout status, as OCM reads it: ToApply until the agent reports Applied=True for
 * the current generation and Progressing or Available for it (and Degraded, when present,
 * for it too); then from Progressing (True, or True and Degraded → Failed, False → Succeeded),
 * or, without a current Progressing, from Degraded (Failed) and Available (Succeeded, else
 * Progressing).
 */
export function workRolloutStatus(work: ManifestWork): PartStatus {
  const generation = work.metadata.generation ?? 0;
  const conditions = work.status?.conditions;
  const applied = findCondition(conditions, ManifestWorkConditions.applied);
  const progressing = findCondition(conditions, ManifestWorkConditions.progressing);
  const available = findCondition(conditions, ManifestWorkConditions.available);
  const degraded = findCondition(conditions, ManifestWorkConditions.degraded);
  const since = (condition: Condition): PartStatus["lastTransitionTime"] => condition.lastTransitionTime;

  if (!observed(applied, generation) || applied!.status !== ConditionStatus.True)
    return { status: "ToApply" };
  if (!observed(progressing, generation) && !observed(available, generation)) return { status: "ToApply" };
  if (degraded && !observed(degraded, generation)) return { status: "ToApply" };

  if (!observed(progressing, generation)) {
    if (degraded?.status === ConditionStatus.True)
      return { status: "Failed", lastTransitionTime: since(degraded) };
    if (available?.status === ConditionStatus.True) {
      return { status: "Succeeded", lastTransitionTime: since(available) };
    }
    return available
      ? { status: "Progressing", lastTransitionTime: since(available) }
      : { status: "Progressing" };
  }
  const p = progressing!;
  if (p.status === ConditionStatus.True && degraded?.status === ConditionStatus.True) {
    return { status: "Failed", lastTransitionTime: since(degraded) };
  }
  if (p.status === ConditionStatus.False) return { status: "Succeeded", lastTransitionTime: since(p) };
  return { status: "Progressing", lastTransitionTime: since(p) };
}

/**
 * A cluster's rollout status over its parts: Failed if a part failed (since the earliest
 * failure); ToApply while no part has got further than ToApply; Succeeded once every part
 * succeeded (since the last one did, so the soak time covers the whole template); otherwise
 * Progressing since the earliest part started. `expectedParts` counts parts not written yet
 * as ToApply.
 */
export function clusterRolloutStatus(
  clusterName: string,
  works: readonly ManifestWork[],
  expectedParts = works.length,
): ClusterRolloutStatus {
  const parts: PartStatus[] = works.filter((w) => !w.metadata.deletionTimestamp).map(workRolloutStatus);
  while (parts.length < expectedParts) parts.push({ status: "ToApply" });
  const times = (list: PartStatus[]) =>
    list
      .map((p) => p.lastTransitionTime)
      .filter((t): t is string => t !== undefined)
      .sort();
  const failed = parts.filter((p) => p.status === "Failed");
  if (failed.length > 0) {
    const first = times(failed)[0];
    return { clusterName, status: "Failed", ...(first ? { lastTransitionTime: first } : {}) };
  }
  if (parts.length === 0 || parts.every((p) => p.status === "ToApply"))
    return { clusterName, status: "ToApply" };
  if (parts.every((p) => p.status === "Succeeded")) {
    const last = times(parts).at(-1);
    return { clusterName, status: "Succeeded", ...(last ? { lastTransitionTime: last } : {}) };
  }
  const first = times(parts.filter((p) => p.status !== "ToApply"))[0];
  return { clusterName, status: "Progressing", ...(first ? { lastTransitionTime: first } : {}) };
}

// ---------------------------------------------------------------------------------------------
// The works a cluster should get

export interface DesiredWorksOptions extends Omit<SplitOptions, "previous"> {
  /** The limit on each work's summed manifest size; OCM's default 512000. */
  limitBytes?: number;
  /**
   * Create a new, unsplit work with `generateName: <replica set name>` as OCM does now; without
   * it (or when the template is split, as parts need known names) new works are named after
   * the replica set, as OCM did before.
   */
  generateName?: boolean;
}

/**
 * The labels a replica set's works carry: the replica set's own, then
 * `work.open-cluster-management.io/manifestworkreplicaset=<ns>.<name>` and
 * `work.open-cluster-management.io/placementname=<placement>`.
 */
export function workLabels(
  replicaSet: Pick<ManifestWorkReplicaSet, "metadata">,
  placementName: string,
): Record<string, string> {
  return {
    ...replicaSet.metadata.labels,
    [Labels.manifestWorkReplicaSet]: replicaSetKey(replicaSet),
    [Labels.manifestWorkPlacementName]: placementName,
  };
}

/** Whether every live work has each of `labels` with its value. */
export function worksCarryLabels(works: readonly ManifestWork[], labels: Record<string, string>): boolean {
  return works
    .filter((work) => !work.metadata.deletionTimestamp)
    .every((work) => Object.entries(labels).every(([key, value]) => work.metadata.labels?.[key] === value));
}

export type DesiredWorks =
  { ok: true; works: ManifestWork[]; obsolete: string[] } | { ok: false; error: string };

/**
 * The ManifestWork(s) a cluster should get from the replica set's template: in the cluster's
 * namespace, labelled `work.open-cluster-management.io/manifestworkreplicaset=<ns>.<name>`
 * and `work.open-cluster-management.io/placementname=<placement>` over the replica set's own
 * labels, keeping the existing work's name, and split into parts when the template exceeds
 * the limit (kept stable against the existing parts). `obsolete` names existing parts that
 * are no longer needed.
 */
export function desiredWorks(
  replicaSet: ManifestWorkReplicaSet,
  clusterName: string,
  placementName: string,
  existing: readonly ManifestWork[] = [],
  options: DesiredWorksOptions = {},
): DesiredWorks {
  const template = replicaSet.spec?.manifestWorkTemplate ?? {};
  const current = sortParts(existing.filter((work) => !work.metadata.deletionTimestamp));
  const base = current[0]?.metadata.name ?? replicaSet.metadata.name ?? "";
  const split = splitWorkSpec(template, base, options.limitBytes, {
    ...(options.marginBytes !== undefined ? { marginBytes: options.marginBytes } : {}),
    ...(options.headroom !== undefined ? { headroom: options.headroom } : {}),
    previous: current.map((work) => work.spec?.workload?.manifests ?? []),
  });
  if (!split.ok) return { ok: false, error: split.error };
  const labels = workLabels(replicaSet, placementName);
  const useGenerateName = options.generateName === true && current.length === 0 && split.parts.length === 1;
  const works: ManifestWork[] = split.parts.map((part) => ({
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: {
      ...(useGenerateName ? { generateName: replicaSet.metadata.name ?? "" } : { name: part.name }),
      namespace: clusterName,
      labels: { ...labels, ...part.labels },
      ...(Object.keys(part.annotations).length > 0 ? { annotations: part.annotations } : {}),
    },
    spec: part.spec,
  }));
  const kept = new Set(works.map((work) => work.metadata.name));
  const obsolete = current.map((work) => work.metadata.name ?? "").filter((name) => name && !kept.has(name));
  return { ok: true, works, obsolete };
}

// ---------------------------------------------------------------------------------------------
// Status

export interface PlacementState {
  /** The placement reference's name. */
  name: string;
  /** The Placement, or undefined when it does not exist. */
  placement?: Placement;
  /** This reconcile's rollout decision for the reference. */
  rollout?: RolloutOutcome;
  /** Clusters whose works were written with the current template in this reconcile. */
  applied?: readonly string[];
}

export interface ReplicaSetStatusInput {
  replicaSet: ManifestWorkReplicaSet;
  /** One per placement reference, in spec order. */
  placements: readonly PlacementState[];
  /** Every ManifestWork labelled with this replica set, every part of every cluster. */
  works: readonly ManifestWork[];
  /** The hash of the replica set's template, when the caller has computed it. */
  templateHash?: string;
}

export interface ReplicaSetStatus {
  /** Conditions to set (with setCondition); conditions not listed keep their value. */
  conditions: ConditionUpdate[];
  /** Absent when OCM stops before counting (a placement is missing): keep the old values. */
  summary?: ManifestWorkReplicaSetSummary;
  placementSummary?: PlacementSummary[];
}

function condition(type: string, reason: string, trueReason: string, message = ""): ConditionUpdate {
  return {
    type,
    status: reason === trueReason ? ConditionStatus.True : ConditionStatus.False,
    reason,
    message,
  };
}

const R = ManifestWorkReplicaSetReasons;
const C = ManifestWorkReplicaSetConditions;

/**
 * The replica set's summary, placement summaries and conditions, as OCM computes them:
 *   PlacementVerified: False/PlacementDecisionNotFound when a referenced Placement is missing
 *     (and nothing else is updated), False/NotAsExpected when a rollout strategy is invalid,
 *     False/PlacementDecisionEmpty when no cluster has the template, else True/AsExpected;
 *   PlacementRolledOut: True/Complete when every placement's rollout is complete, else
 *     False/Progressing;
 *   ManifestworkApplied: with no cluster, False with PlacementDecisionEmpty (or NotAsExpected);
 *     True/AsExpected when every cluster is available and none is progressing or degraded;
 *     False/Processing when some are progressing and none degraded; else False/NotAsExpected.
 * Counts are per cluster, a split cluster once. `total` counts the clusters of each placement
 * that have the current template (written now or before); applied, available, progressing and
 * degraded count every cluster with works; desiredTotal is what the placements selected, and
 * updated the clusters with the current template whose rollout succeeded. OCM leaves the
 * condition messages empty; bosun fills them where something is wrong.
 */
export function replicaSetStatus(input: ReplicaSetStatusInput): ReplicaSetStatus {
  const { replicaSet, placements, works } = input;
  const missing = placements.find((state) => !state.placement);
  if (missing) {
    return {
      conditions: [
        condition(
          C.placementVerified,
          R.placementDecisionNotFound,
          R.asExpected,
          `Placement ${missing.name} not found in namespace ${replicaSet.metadata.namespace ?? ""}`,
        ),
      ],
    };
  }
  const template = replicaSet.spec?.manifestWorkTemplate ?? {};
  const hash = input.templateHash ?? templateHash(template);
  const live = works.filter((work) => !work.metadata.deletionTimestamp);
  const byCluster = new Map<string, ManifestWork[]>();
  const byPlacementCluster = new Map<string, ManifestWork[]>();
  for (const work of live) {
    const cluster = work.metadata.namespace ?? "";
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), work]);
    const key = `${work.metadata.labels?.[Labels.manifestWorkPlacementName] ?? ""}\u0000${cluster}`;
    byPlacementCluster.set(key, [...(byPlacementCluster.get(key) ?? []), work]);
  }

  const count = (clusters: Iterable<string>, source: Map<string, ManifestWork[]>, prefix = "") => {
    const totals = { applied: 0, available: 0, progressing: 0, degraded: 0 };
    for (const cluster of clusters) {
      const state = clusterWorkState(source.get(`${prefix}${cluster}`) ?? []);
      if (state.applied) totals.applied++;
      if (state.available) totals.available++;
      if (state.progressing) totals.progressing++;
      if (state.degraded) totals.degraded++;
    }
    return totals;
  };

  let total = 0;
  let desiredTotal = 0;
  let updated = 0;
  let rolloutError: string | undefined;
  let complete = true;
  const placementSummary: PlacementSummary[] = [];
  for (const state of placements) {
    const prefix = `${state.name}\u0000`;
    const withTemplate = new Set(state.applied ?? []);
    for (const [key, clusterWorks] of byPlacementCluster) {
      if (key.startsWith(prefix) && worksMatchTemplate(clusterWorks, template, hash))
        withTemplate.add(key.slice(prefix.length));
    }
    const succeeded = [...withTemplate].filter((cluster) => {
      const clusterWorks = byPlacementCluster.get(`${prefix}${cluster}`) ?? [];
      return (
        worksMatchTemplate(clusterWorks, template, hash) &&
        clusterRolloutStatus(cluster, clusterWorks).status === "Succeeded"
      );
    }).length;
    const selected = state.placement?.status?.numberOfSelectedClusters ?? 0;
    if (state.rollout && !state.rollout.ok)
      rolloutError ??= `placement ${state.name}: ${state.rollout.error}`;
    if (!state.rollout?.ok || !state.rollout.complete) complete = false;
    total += withTemplate.size;
    desiredTotal += selected;
    updated += succeeded;
    const clustersOfPlacement = [...byPlacementCluster.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length));
    placementSummary.push({
      name: state.name,
      availableDecisionGroups: availableDecisionGroupsMessage(
        state.placement?.status?.decisionGroups?.length ?? 0,
        withTemplate.size,
        selected,
      ),
      summary: {
        total: withTemplate.size,
        ...count(clustersOfPlacement, byPlacementCluster, prefix),
        desiredTotal: selected,
        updated: succeeded,
      },
    });
  }

  const conditions: ConditionUpdate[] = [];
  let verifiedReason: string = total === 0 ? R.placementDecisionEmpty : R.asExpected;
  if (rolloutError) verifiedReason = R.notAsExpected;
  conditions.push(condition(C.placementVerified, verifiedReason, R.asExpected, rolloutError ?? ""));
  conditions.push(condition(C.placementRolledOut, complete ? R.complete : R.progressing, R.complete));

  const totals =
    total === 0
      ? { applied: 0, available: 0, progressing: 0, degraded: 0 }
      : count(byCluster.keys(), byCluster);
  const summary: ManifestWorkReplicaSetSummary = { total, ...totals, desiredTotal, updated };
  let appliedReason: string;
  if (total === 0)
    appliedReason = verifiedReason === R.placementDecisionEmpty ? R.placementDecisionEmpty : R.notAsExpected;
  else if (totals.available === total && totals.progressing === 0 && totals.degraded === 0)
    appliedReason = R.asExpected;
  else if (totals.progressing > 0 && totals.degraded === 0) appliedReason = R.processing;
  else appliedReason = R.notAsExpected;
  conditions.push(condition(C.manifestworkApplied, appliedReason, R.asExpected));
  return { conditions, summary, placementSummary };
}
