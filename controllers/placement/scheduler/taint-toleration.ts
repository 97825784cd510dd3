// The TaintToleration filter. A cluster passes only if every taint is tolerated:
//   - NoSelect: needs a matching toleration, for tolerationSeconds after the taint's timeAdded
//     (the expiry instant itself is no longer tolerated);
//   - NoSelectIfNew: tolerated when the cluster is already in this placement's decisions,
//     otherwise as NoSelect;
//   - PreferNoSelect: never filters. OCM stops there and ignores the taint; bosun implements
//     what the API documents ("the scheduler tries not to select the cluster"): an untolerated
//     PreferNoSelect taint does not change the cluster's score but ranks it after every cluster
//     without one, so it is chosen only when numberOfClusters cannot be met otherwise.
import { Placement as PlacementConstants, TaintEffects } from "../../../api/constants.ts";
import { tolerationOperator } from "../../../api/defaults.ts";
import type { ManagedCluster, Taint } from "../../../api/types/cluster.ts";
import type { Toleration } from "../../../api/types/placement.ts";
import {
  earliest,
  type FilterOutcome,
  type Misconfiguration,
  type PluginContext,
  type Rejection,
} from "./types.ts";

const plugin = PlacementConstants.filters.taintToleration;

export function describeTaint(taint: Taint): string {
  return `${taint.key}=${taint.value ?? ""}:${taint.effect}`;
}

export function validateTolerations(tolerations: readonly Toleration[]): Misconfiguration | undefined {
  for (const [i, t] of tolerations.entries()) {
    const field = `spec.tolerations[${i}]`;
    // As in OCM, an operator other than Equal and Exists is not an error: it tolerates nothing.
    const operator = t.operator ?? "";
    if (!t.key && operator !== "Exists") {
      return { plugin, message: `If the key is empty, operator must be Exists. (${field})` };
    }
    if (operator === "Exists" && t.value) {
      return { plugin, message: `If the operator is Exists, the value should be empty. (${field})` };
    }
    if (t.tolerationSeconds !== undefined && !Number.isInteger(t.tolerationSeconds)) {
      return { plugin, message: `${field}.tolerationSeconds: must be a whole number of seconds` };
    }
  }
  return undefined;
}

function matchesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const operator = tolerationOperator(t);
  if (operator === "Exists") return true;
  return operator === "Equal" && (t.value ?? "") === (taint.value ?? "");
}

/** How long a taint is tolerated: forever (Infinity), until an instant (ms), or not at all. */
export function toleratedUntil(
  tolerations: readonly Toleration[],
  taint: Taint,
  now: number,
): number | undefined {
  let until: number | undefined;
  for (const t of tolerations) {
    if (!matchesTaint(t, taint)) continue;
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) return Infinity;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : 0;
    const expiry = (Number.isNaN(added) ? 0 : added) + t.tolerationSeconds * 1000;
    if (now < expiry) until = until === undefined ? expiry : Math.max(until, expiry);
  }
  return until;
}

export interface TaintVerdict {
  ok: boolean;
  /** The first untolerated NoSelect / NoSelectIfNew taint. */
  blocking?: Taint;
  /** Untolerated PreferNoSelect taints. */
  preferNot: Taint[];
  tolerated: Taint[];
  /** When a time-limited toleration runs out. */
  expiresAt?: number;
}

export function judgeTaints(
  tolerations: readonly Toleration[],
  taints: readonly Taint[],
  alreadyDecided: boolean,
  now: number,
): TaintVerdict {
  const verdict: TaintVerdict = { ok: true, preferNot: [], tolerated: [] };
  for (const taint of taints) {
    if (taint.effect === TaintEffects.noSelectIfNew && alreadyDecided) continue;
    const until = toleratedUntil(tolerations, taint, now);
    if (until === undefined) {
      if (taint.effect === TaintEffects.preferNoSelect) {
        verdict.preferNot.push(taint);
        continue;
      }
      return { ...verdict, ok: false, blocking: taint };
    }
    verdict.tolerated.push(taint);
    if (until !== Infinity) verdict.expiresAt = earliest(verdict.expiresAt, until);
  }
  return verdict;
}

export function taintTolerationFilter(
  ctx: PluginContext,
  clusters: readonly ManagedCluster[],
): FilterOutcome & { preferNot?: Map<string, Taint[]> } {
  // As in OCM, tolerations are only checked when some cluster is left to filter.
  if (clusters.length === 0) return { ok: true, result: { passed: [], rejected: new Map() } };
  const tolerations = ctx.placement.spec.tolerations ?? [];
  const invalid = validateTolerations(tolerations);
  if (invalid) return { ok: false, misconfigured: invalid };
  const passed: ManagedCluster[] = [];
  const rejected = new Map<string, Rejection>();
  const notes = new Map<string, string>();
  const preferNot = new Map<string, Taint[]>();
  let requeueAt: number | undefined;
  for (const cluster of clusters) {
    const taints = cluster.spec?.taints;
    if (!taints || taints.length === 0) {
      passed.push(cluster);
      continue;
    }
    const name = cluster.metadata.name ?? "";
    const verdict = judgeTaints(tolerations, taints, ctx.ownDecisions.has(name), ctx.now);
    if (!verdict.ok) {
      rejected.set(name, { plugin, reason: `taint ${describeTaint(verdict.blocking!)} is not tolerated` });
      continue;
    }
    passed.push(cluster);
    requeueAt = earliest(requeueAt, verdict.expiresAt);
    if (verdict.preferNot.length > 0) preferNot.set(name, verdict.preferNot);
    if (verdict.tolerated.length > 0) {
      notes.set(name, `tolerates ${verdict.tolerated.map(describeTaint).join(", ")}`);
    }
  }
  return {
    ok: true,
    result: { passed, rejected, notes, ...(requeueAt !== undefined ? { requeueAt } : {}) },
    preferNot,
  };
}
