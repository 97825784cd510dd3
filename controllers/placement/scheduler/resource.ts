// The ResourceAllocatableCPU and ResourceAllocatableMemory prioritizers: clusters with more
// allocatable resource score higher, scaled between the least (-100) and the most (100).
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import { quantityToNumber, tryParseQuantity } from "../../../api/quantity.ts";
import type { PluginContext, PrioritizerResult } from "./types.ts";

/** OCM's formula, in float64 and truncated toward zero: (80 - 50) / 50 scores 19, not 20. */
export function resourceScore(allocatable: number, min: number, max: number): number {
  if (max === min) return 100;
  return Math.trunc(((allocatable - min) / (max - min) - 0.5) * 2 * 100);
}

function allocatable(cluster: ManagedCluster, resource: string): number | undefined {
  const alloc = cluster.status?.allocatable?.[resource];
  const capacity = cluster.status?.capacity?.[resource];
  if (alloc === undefined || capacity === undefined) return undefined;
  const parsed = tryParseQuantity(String(alloc));
  return parsed && quantityToNumber(parsed);
}

export function resourceAllocatable(
  resource: "cpu" | "memory",
): (ctx: PluginContext, clusters: readonly ManagedCluster[]) => PrioritizerResult {
  return (_ctx, clusters) => {
    const values = clusters.map((c) => allocatable(c, resource));
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v === undefined) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const scores = new Int32Array(clusters.length);
    values.forEach((v, i) => {
      // Clusters without both allocatable and capacity get no score, which counts as 0.
      if (v !== undefined) scores[i] = resourceScore(v, min, max);
    });
    return { scores };
  };
}
