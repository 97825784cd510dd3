// The AddOn prioritizer: reads score `scoreName` of the AddOnPlacementScore `resourceName` in
// each cluster's namespace. Missing objects or items score 0; expired scores score 0 and make
// the result a Warning, so the placement is retried.
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type { AddOnScore } from "../../../api/types/placement.ts";
import { earliest, type PluginContext, type PrioritizerResult } from "./types.ts";

export function addOnPrioritizerName(addOn: AddOnScore): string {
  return `AddOn/${addOn.resourceName}/${addOn.scoreName}`;
}

export function addOnScores(
  addOn: AddOnScore,
): (ctx: PluginContext, clusters: readonly ManagedCluster[]) => PrioritizerResult {
  return (ctx, clusters) => {
    const scores = new Int32Array(clusters.length);
    const expired: string[] = [];
    let requeueAt: number | undefined;
    clusters.forEach((cluster, i) => {
      const name = cluster.metadata.name ?? "";
      const score = ctx.fleet.score(name, addOn.resourceName);
      if (!score) return;
      const validUntil = score.status?.validUntil ? Date.parse(score.status.validUntil) : undefined;
      if (validUntil !== undefined && !Number.isNaN(validUntil)) {
        if (ctx.now > validUntil) {
          expired.push(`${name}/${addOn.resourceName}`);
          return;
        }
        requeueAt = earliest(requeueAt, validUntil + 1000);
      }
      const item = score.status?.scores?.find((s) => s.name === addOn.scoreName);
      if (item) scores[i] = Math.max(-100, Math.min(100, Math.trunc(item.value)));
    });
    const result: PrioritizerResult = { scores };
    if (expired.length > 0) result.warning = `AddOnPlacementScores ${expired.join(" ")} expired`;
    if (requeueAt !== undefined) result.requeueAt = requeueAt;
    return result;
  };
}
