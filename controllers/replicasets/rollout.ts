// Which clusters a ManifestWorkReplicaSet placement reference rolls out to next, by the
// semantics of OCM's rollout strategies (sdk-go RolloutHandler):
//
//   All: every decided cluster at once. minSuccessTime and maxFailures are not used (the API
//     says so too); progressDeadline still turns stuck clusters into timeouts.
//   Progressive: mandatory decision groups first, group by group, tolerating no failure; then
//     the remaining clusters in name order, at most maxConcurrency (a count or a percentage of
//     them, default all) rolling at once. Failures (Failed, or Progressing/Failed past the
//     progressDeadline) are counted over all clusters; once they exceed maxFailures (a count or
//     a percentage of all clusters) no new cluster starts.
//   ProgressivePerGroup: mandatory groups first as above, then one decision group at a time in
//     index order; the next group starts once no cluster of the current one is still rolling
//     (failed ones aside), and stops when a group's failures exceed maxFailures (a count or a
//     percentage of that group).
//
// A cluster is "rolling" (in toRollout) while it is ToApply, Progressing or Failed within the
// deadline, or Succeeded within minSuccessTime (the soak time). Percentages round up, and a
// value of 0 or above the total means the default.
//
// Two departures from sdk-go, where its behaviour looks accidental: the mandatory phase looks
// only at the mandatory groups' clusters (sdk-go also counts clusters of later groups still in
// progress, which holds the rollout in the mandatory phase), and a failure breach in the
// mandatory phase stops the rollout even when no mandatory cluster is left rolling.
import { parseGoDuration } from "../../api/duration.ts";
import type { PlacementDecision } from "../../api/types/placement.ts";
import type { IntOrString } from "../../api/types/meta.ts";
import type { RolloutStrategy, RolloutType } from "../../api/types/work.ts";
import { Labels } from "../../api/constants.ts";
import { parseMicroTime } from "../../runtime/time.ts";

export type RolloutStatusValue = "ToApply" | "Progressing" | "Succeeded" | "Failed" | "TimeOut" | "Skip";

/** A decision group: its index and name, from the PlacementDecision labels. */
export interface GroupKey {
  groupIndex: number;
  groupName: string;
}

export interface DecidedCluster {
  clusterName: string;
  group: GroupKey;
}

export interface ClusterRolloutStatus {
  clusterName: string;
  status: RolloutStatusValue;
  /** RFC 3339; when the status began (soak and deadline are counted from it). */
  lastTransitionTime?: string;
  /** Filled in from the decisions on output. */
  group?: GroupKey;
  /** On output: when the soak time or the progress deadline of this cluster ends (ms). */
  recheckAtMs?: number;
}

export interface RolloutInput {
  /** The placement reference's strategy; absent means All with no deadline. */
  strategy?: RolloutStrategy;
  /** Every cluster the placement decided, with its decision group. */
  clusters: readonly DecidedCluster[];
  /** The rollout status of the clusters that have the current template (missing ones are ToApply). */
  statuses: readonly ClusterRolloutStatus[];
  nowMs: number;
}

export interface RolloutResult {
  ok: true;
  type: RolloutType;
  /** Clusters rolling now: new ones (ToApply) and those still progressing or soaking. */
  toRollout: ClusterRolloutStatus[];
  /** Names of the clusters in toRollout whose work must be created or updated. */
  toApply: string[];
  /** Clusters that passed the progress deadline (status TimeOut). */
  timedOut: ClusterRolloutStatus[];
  /** Statuses of clusters the placement no longer decides: their works should go. */
  removed: ClusterRolloutStatus[];
  /** True when failures exceeded what the strategy tolerates: no new cluster starts. */
  maxFailureBreach: boolean;
  /** Why the rollout stopped, when it did. */
  message?: string;
  /** How long until a soak time or a progress deadline of a rolling cluster ends. */
  recheckAfterMs?: number;
  /** Every decided cluster succeeded (or is skipped) and none is still soaking. */
  complete: boolean;
}

export type RolloutOutcome = RolloutResult | { ok: false; error: string };

// ---------------------------------------------------------------------------------------------
// Parsing

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** progressDeadline: "None" or empty waits forever (Infinity); otherwise a duration in ms. */
export function parseProgressDeadline(text: string | undefined): Parsed<number> {
  if (text === undefined || text === "" || text === "None") return { ok: true, value: Infinity };
  if (!/^(([0-9])+[h|m|s])|None$/.test(text)) return { ok: false, error: "invalid timeout format" };
  return parseGoDuration(text);
}

const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function checkThreshold(value: IntOrString | undefined): string | undefined {
  if (value === undefined || typeof value === "number") return undefined;
  if (!value.endsWith("%"))
    return `'${value}' is an invalid maximum threshold value: string is not a percentage`;
  const number = value.slice(0, -1);
  return decimal.test(number)
    ? undefined
    : `strconv.ParseFloat: parsing ${JSON.stringify(number)}: invalid syntax`;
}

/**
 * A count or percentage of `total` (percentages round up); `fallback` when it comes to 0 or
 * less, or more than the total.
 */
export function thresholdSize(
  value: IntOrString | undefined,
  total: number,
  fallback: number,
): Parsed<number> {
  const error = checkThreshold(value);
  if (error) return { ok: false, error };
  let size = 0;
  if (typeof value === "number") size = Math.trunc(value);
  else if (typeof value === "string") size = Math.ceil((Number(value.slice(0, -1)) / 100) * total);
  return { ok: true, value: size <= 0 || size > total ? fallback : size };
}

/**
 * The decided clusters of a placement from its PlacementDecisions, with the group each
 * decision's labels give; fails on a decision whose group index is not a number.
 */
export function clustersFromDecisions(decisions: readonly PlacementDecision[]): Parsed<DecidedCluster[]> {
  const seen = new Map<string, DecidedCluster>();
  for (const decision of decisions) {
    const labels = decision.metadata.labels ?? {};
    const indexText = labels[Labels.decisionGroupIndex] ?? "";
    if (!/^[+-]?\d+$/.test(indexText)) {
      return {
        ok: false,
        error: `incorrect group index: strconv.Atoi: parsing ${JSON.stringify(indexText)}: invalid syntax`,
      };
    }
    const group = { groupIndex: Number(indexText), groupName: labels[Labels.decisionGroupName] ?? "" };
    for (const { clusterName } of decision.status?.decisions ?? []) {
      const known = seen.get(clusterName);
      if (!known || group.groupIndex < known.group.groupIndex) seen.set(clusterName, { clusterName, group });
    }
  }
  return { ok: true, value: [...seen.values()] };
}

// ---------------------------------------------------------------------------------------------
// The strategies

const groupId = (key: GroupKey) => `${key.groupIndex}\u0000${key.groupName}`;
const groupLabel = (key: GroupKey) => (key.groupName ? key.groupName : `index ${key.groupIndex}`);
const byName = (a: { clusterName: string }, b: { clusterName: string }) =>
  a.clusterName < b.clusterName ? -1 : a.clusterName > b.clusterName ? 1 : 0;

interface Group {
  key: GroupKey;
  clusters: string[];
}

interface Timing {
  minSuccessMs: number;
  deadlineMs: number;
  nowMs: number;
}

interface Partial {
  toRollout: ClusterRolloutStatus[];
  timedOut: ClusterRolloutStatus[];
  breach: boolean;
  message?: string;
}

const isFailure = (status: RolloutStatusValue) => status === "Failed" || status === "TimeOut";

/** Sorts one existing status into rolling or timed out; returns the status it ends with. */
function classify(status: ClusterRolloutStatus, timing: Timing, into: Partial): ClusterRolloutStatus {
  const startMs =
    status.lastTransitionTime !== undefined
      ? (parseMicroTime(status.lastTransitionTime) ?? timing.nowMs)
      : timing.nowMs;
  switch (status.status) {
    case "ToApply":
      into.toRollout.push(status);
      return status;
    case "Succeeded": {
      const soakEnd = startMs + timing.minSuccessMs;
      if (timing.nowMs < soakEnd) {
        const soaking = { ...status, recheckAtMs: soakEnd };
        into.toRollout.push(soaking);
        return soaking;
      }
      return status;
    }
    case "TimeOut":
    case "Skip":
      return status;
    case "Progressing":
    case "Failed": {
      if (timing.deadlineMs === Infinity) {
        into.toRollout.push(status);
        return status;
      }
      const deadline = startMs + timing.deadlineMs;
      if (timing.nowMs < deadline) {
        const rolling = { ...status, recheckAtMs: deadline };
        into.toRollout.push(rolling);
        return rolling;
      }
      const timedOut: ClusterRolloutStatus = { ...status, status: "TimeOut", recheckAtMs: deadline };
      into.timedOut.push(timedOut);
      return timedOut;
    }
  }
}

/** Clusters in name order, up to `size` rolling at once, stopping after `maxFailures`. */
function perCluster(
  groups: readonly Group[],
  size: number,
  maxFailures: number,
  timing: Timing,
  existing: readonly ClusterRolloutStatus[],
): Partial {
  const result: Partial = { toRollout: [], timedOut: [], breach: false };
  const known = new Set<string>();
  const failed: string[] = [];
  for (const status of [...existing].sort(byName)) {
    known.add(status.clusterName);
    const final = result.breach && status.status === "ToApply" ? status : classify(status, timing, result);
    if (isFailure(final.status)) {
      failed.push(final.clusterName);
      result.breach = failed.length > maxFailures;
    }
    if (result.toRollout.length >= size) break;
  }
  if (result.breach) {
    result.message =
      `rollout stopped: ${failed.length} clusters failed or timed out (${failed.join(", ")}), ` +
      `more than maxFailures ${maxFailures}`;
    return result;
  }
  if (result.toRollout.length >= size) return result;
  const groupOf = new Map<string, GroupKey>();
  for (const group of groups) for (const cluster of group.clusters) groupOf.set(cluster, group.key);
  for (const cluster of [...groupOf.keys()].sort()) {
    if (known.has(cluster)) continue;
    result.toRollout.push({ clusterName: cluster, status: "ToApply", group: groupOf.get(cluster)! });
    if (result.toRollout.length >= size) break;
  }
  return result;
}

/** One group at a time in index order; stops at a group whose failures exceed maxFailures. */
function perGroup(
  groups: readonly Group[],
  maxFailures: IntOrString | undefined,
  timing: Timing,
  existing: readonly ClusterRolloutStatus[],
  mandatory: boolean,
): Partial {
  const result: Partial = { toRollout: [], timedOut: [], breach: false };
  const known = new Map<string, RolloutStatusValue>();
  for (const status of [...existing].sort(byName)) {
    if (status.status === "ToApply") continue;
    known.set(status.clusterName, classify(status, timing, result).status);
  }
  let totalFailures = 0;
  for (const group of [...groups].sort((a, b) => a.key.groupIndex - b.key.groupIndex)) {
    const threshold = thresholdSize(maxFailures, group.clusters.length, 0);
    const tolerated = threshold.ok ? threshold.value : 0;
    const failed: string[] = [];
    for (const cluster of [...group.clusters].sort()) {
      const status = known.get(cluster);
      if (status !== undefined) {
        if (isFailure(status)) failed.push(cluster);
        continue;
      }
      result.toRollout.push({ clusterName: cluster, status: "ToApply", group: group.key });
    }
    totalFailures += failed.length;
    if (failed.length > tolerated) {
      result.breach = true;
      result.message = mandatory
        ? `rollout stopped: mandatory decision group ${groupLabel(group.key)} has ${failed.length} failed or ` +
          `timed-out clusters (${failed.join(", ")}), and mandatory groups tolerate no failures`
        : `rollout stopped at decision group ${groupLabel(group.key)}: ${failed.length} of ` +
          `${group.clusters.length} clusters failed or timed out (${failed.join(", ")}), more than maxFailures ${tolerated}`;
      return result;
    }
    if (result.toRollout.length - totalFailures > 0) return result;
  }
  return result;
}

/** The groups the mandatory decision groups name: by name (every index with it) or by index. */
function mandatoryGroupIds(
  groups: readonly Group[],
  mandatory: readonly { groupName?: string; groupIndex?: number }[] | undefined,
): Set<string> {
  const ids = new Set<string>();
  for (const wanted of mandatory ?? []) {
    for (const group of groups) {
      const matches = wanted.groupName
        ? group.key.groupName === wanted.groupName
        : group.key.groupIndex === (wanted.groupIndex ?? 0);
      if (matches) ids.add(groupId(group.key));
    }
  }
  return ids;
}

function strategyConfig(strategy: RolloutStrategy | undefined) {
  const type = strategy?.type ?? "All";
  switch (type) {
    case "All":
      return { type, config: strategy?.all ?? {}, mandatory: undefined, maxConcurrency: undefined };
    case "Progressive": {
      const config = strategy?.progressive ?? {};
      return {
        type,
        config,
        mandatory: config.mandatoryDecisionGroups,
        maxConcurrency: config.maxConcurrency,
      };
    }
    case "ProgressivePerGroup": {
      const config = strategy?.progressivePerGroup ?? {};
      return { type, config, mandatory: config.mandatoryDecisionGroups, maxConcurrency: undefined };
    }
    default:
      return undefined;
  }
}

/** The rollout decision for one placement reference now. */
export function computeRollout(input: RolloutInput): RolloutOutcome {
  const parsed = strategyConfig(input.strategy);
  if (!parsed) return { ok: false, error: `incorrect rollout strategy type ${String(input.strategy?.type)}` };
  const { type, config } = parsed;
  const deadline = parseProgressDeadline(config.progressDeadline);
  if (!deadline.ok) return deadline;
  const minSuccess =
    type === "All" ? { ok: true as const, value: 0 } : parseGoDuration(config.minSuccessTime ?? "0");
  if (!minSuccess.ok) return minSuccess;
  const timing: Timing = { minSuccessMs: minSuccess.value, deadlineMs: deadline.value, nowMs: input.nowMs };

  const groupsById = new Map<string, Group>();
  const groupOf = new Map<string, GroupKey>();
  for (const { clusterName, group } of input.clusters) {
    if (groupOf.has(clusterName)) continue;
    groupOf.set(clusterName, group);
    const id = groupId(group);
    const entry = groupsById.get(id) ?? { key: group, clusters: [] };
    entry.clusters.push(clusterName);
    groupsById.set(id, entry);
  }
  const groups = [...groupsById.values()].sort((a, b) => a.key.groupIndex - b.key.groupIndex);
  const current: ClusterRolloutStatus[] = [];
  const removed: ClusterRolloutStatus[] = [];
  for (const status of input.statuses) {
    const group = groupOf.get(status.clusterName);
    if (status.clusterName === "") continue;
    if (group) current.push({ ...status, group });
    else removed.push(status);
  }

  const finish = (partial: Partial): RolloutOutcome => {
    const recheck = partial.toRollout
      .map((s) => (s.recheckAtMs ?? Infinity) - input.nowMs)
      .filter((ms) => ms > 0 && ms !== Infinity);
    const done = new Map(current.map((s) => [s.clusterName, s.status]));
    const complete =
      partial.toRollout.length === 0 &&
      [...groupOf.keys()].every((name) => done.get(name) === "Succeeded" || done.get(name) === "Skip");
    return {
      ok: true,
      type,
      toRollout: partial.toRollout,
      toApply: partial.toRollout.filter((s) => s.status === "ToApply").map((s) => s.clusterName),
      timedOut: partial.timedOut,
      removed,
      maxFailureBreach: partial.breach,
      ...(partial.message !== undefined ? { message: partial.message } : {}),
      ...(recheck.length > 0 ? { recheckAfterMs: Math.min(...recheck) } : {}),
      complete,
    };
  };

  const allClusters = [...groupOf.keys()];
  if (type === "All") {
    return finish(perCluster(groups, allClusters.length, allClusters.length, timing, current));
  }

  const maxFailuresError = checkThreshold(config.maxFailures);
  if (maxFailuresError)
    return { ok: false, error: `failed to parse the provided maxFailures: ${maxFailuresError}` };

  const mandatoryIds = mandatoryGroupIds(groups, parsed.mandatory);
  const mandatoryGroups = groups.filter((g) => mandatoryIds.has(groupId(g.key)));
  const restGroups = groups.filter((g) => !mandatoryIds.has(groupId(g.key)));
  if (mandatoryGroups.length > 0) {
    const inMandatory = new Set(mandatoryGroups.flatMap((g) => g.clusters));
    const first = perGroup(
      mandatoryGroups,
      0,
      timing,
      current.filter((s) => inMandatory.has(s.clusterName)),
      true,
    );
    if (first.toRollout.length > 0 || first.timedOut.length > 0 || first.breach) return finish(first);
  }

  if (type === "ProgressivePerGroup") {
    return finish(perGroup(restGroups, config.maxFailures, timing, current, false));
  }
  const restCount = restGroups.reduce((n, g) => n + g.clusters.length, 0);
  const size = thresholdSize(parsed.maxConcurrency, restCount, restCount);
  if (!size.ok) return { ok: false, error: `failed to parse the provided maxConcurrency: ${size.error}` };
  const maxFailures = thresholdSize(config.maxFailures, allClusters.length, 0);
  if (!maxFailures.ok)
    return { ok: false, error: `failed to parse the provided maxFailures: ${maxFailures.error}` };
  return finish(perCluster(restGroups, size.value, maxFailures.value, timing, current));
}
