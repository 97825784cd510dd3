// The Balance prioritizer: prefers clusters that other placements have decided on less often.
// Counts come from every PlacementDecision in every namespace except this placement's own.
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type { PluginContext, PrioritizerResult } from "./types.ts";

/** The score of a cluster with `count` decisions when the busiest cluster has `maxCount`. */
export function balanceScore(count: number, maxCount: number): number {
  if (count <= 0 || maxCount <= 0) return 100;
  // OCM truncates before doubling: 1 of 3 → 2 * int64(16.66…) = 32.
  return 2 * Math.trunc(100 * (0.5 - count / maxCount));
}

export function balance(ctx: PluginContext, clusters: readonly ManagedCluster[]): PrioritizerResult {
  const own = ctx.fleet.ownDecisionCounts(ctx.namespace, ctx.name);
  let maxCount = 0;
  for (const [name, total] of ctx.fleet.decisionCounts) {
    const count = total - (own.get(name) ?? 0);
    if (count > maxCount) maxCount = count;
  }
  const scores = new Int32Array(clusters.length);
  clusters.forEach((cluster, i) => {
    const name = cluster.metadata.name ?? "";
    const count = (ctx.fleet.decisionCounts.get(name) ?? 0) - (own.get(name) ?? 0);
    scores[i] = balanceScore(count, maxCount);
  });
  return { scores };
}
