// The Steady prioritizer: 100 for clusters this placement has already decided on, else 0.
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type { PluginContext, PrioritizerResult } from "./types.ts";

export function steady(ctx: PluginContext, clusters: readonly ManagedCluster[]): PrioritizerResult {
  const scores = new Int32Array(clusters.length);
  clusters.forEach((cluster, i) => {
    scores[i] = ctx.ownDecisions.has(cluster.metadata.name ?? "") ? 100 : 0;
  });
  return { scores };
}
