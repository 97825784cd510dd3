// Reads single samples back from a prom-client registry.
import type { Registry } from "prom-client";

/**
 * The value of the sample `name` (for histograms also `<name>_sum`, `<name>_count`,
 * `<name>_bucket`) whose labels are exactly `labels`; undefined when there is none.
 */
export async function sampleValue(
  registry: Registry,
  name: string,
  labels: Record<string, string | number>,
): Promise<number | undefined> {
  const wanted = Object.entries(labels).map(([label, value]) => [label, String(value)] as const);
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const sample of metric.values as {
      labels: Record<string, unknown>;
      value: number;
      metricName?: string;
    }[]) {
      if ((sample.metricName ?? metric.name) !== name) continue;
      const actual = Object.entries(sample.labels).filter(([, value]) => value !== undefined);
      if (actual.length !== wanted.length) continue;
      if (wanted.every(([label, value]) => String(sample.labels[label]) === value)) return sample.value;
    }
  }
  return undefined;
}
