// Readings for the scale harness: another process's CPU time and resident memory from /proc,
// etcd's database size and the hub controllers' reconcile counters from their /metrics, the API
// server's request totals (bench/apiserver-metrics.ts) summed into writes and all requests, and a
// convergence curve (how many clusters reached a state, over time).
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClient } from "../../runtime/kube/client.ts";
import { readServedTotals, servedBetween, type ServedTotals } from "../apiserver-metrics.ts";

/** Linux reports process times in clock ticks of 1/100 s. */
const ticksPerSecond = 100;

/** user+system CPU seconds of a process. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Resident memory of a process, in bytes. */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}

/** A value of a Prometheus text exposition, summed over the series matching `labels`. */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const text = match[2] ?? "";
    if (Object.entries(labels).every(([key, value]) => text.includes(`${key}="${value}"`)))
      total += Number(match[3]);
  }
  return total;
}

export async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return response.text();
}

/** etcd's database size on disk (`etcd_mvcc_db_total_size_in_bytes`). */
export async function etcdDbBytes(etcdUrl: string): Promise<number> {
  return metricValue(await fetchText(`${etcdUrl}/metrics`), "etcd_mvcc_db_total_size_in_bytes");
}

const writeVerbs = new Set([
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "DELETECOLLECTION",
  "CREATE",
  "UPDATE",
  "APPLY",
]);

/** Requests served, all of them and the writes, from the API server's totals. */
export function requestCounts(totals: ServedTotals): { all: number; writes: number; watches: number } {
  let all = 0;
  let writes = 0;
  let watches = 0;
  for (const [key, { count }] of totals.requests) {
    const verb = key.slice(0, key.indexOf(" "));
    all += count;
    if (writeVerbs.has(verb)) writes += count;
    if (verb === "WATCH") watches += count;
  }
  return { all, writes, watches };
}

/** Writes by `<VERB> <resource>` between two readings, the busiest first. */
export function writesBetween(before: ServedTotals, after: ServedTotals, top = 8): Record<string, number> {
  const out: [string, number][] = [];
  for (const [key, { count }] of after.requests) {
    const verb = key.slice(0, key.indexOf(" "));
    if (!writeVerbs.has(verb)) continue;
    const delta = count - (before.requests.get(key)?.count ?? 0);
    if (delta > 0) out.push([key, delta]);
  }
  return Object.fromEntries(out.sort(([, a], [, b]) => b - a).slice(0, top));
}

/** How many reached a state, sampled over time. */
/** One second's requests, with the readings either side of it. */
export interface RequestSample {
  requests: number;
  before: ServedTotals;
  after: ServedTotals;
}

/** Where the highest mean over `width` consecutive samples starts, and that mean per second. */
function busiestWindow(samples: readonly RequestSample[], width: number): { start: number; rate: number } {
  let best = { start: -1, rate: 0 };
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    sum += samples[i]!.requests;
    if (i >= width) sum -= samples[i - width]!.requests;
    if (i >= width - 1 && sum / width > best.rate) best = { start: i - width + 1, rate: sum / width };
  }
  return best;
}

/** The highest mean over `width` consecutive per-second samples (requests per second). */
export function peakRate(samples: readonly RequestSample[], width: number): number {
  return Math.round(busiestWindow(samples, width).rate * 10) / 10;
}

/** The busiest requests by `<VERB> <resource>` over the peak window of `width` samples. */
export function peakRequests(
  samples: readonly RequestSample[],
  width: number,
  top = 8,
): Record<string, number> {
  const { start } = busiestWindow(samples, width);
  if (start < 0) return {};
  const { requests } = servedBetween(samples[start]!.before, samples[start + width - 1]!.after);
  return Object.fromEntries(
    Object.entries(requests)
      .slice(0, top)
      .map(([key, { count }]) => [key, count]),
  );
}

/** Requests served, sampled once a second until `untilMs`; a failed reading skips its seconds. */
export async function sampleRequests(client: KubeClient, untilMs: number): Promise<RequestSample[]> {
  const samples: RequestSample[] = [];
  let previous: ServedTotals | undefined;
  while (Date.now() < untilMs) {
    const now = await readServedTotals(client).catch(() => undefined);
    if (now && previous)
      samples.push({
        requests: requestCounts(now).all - requestCounts(previous).all,
        before: previous,
        after: now,
      });
    previous = now;
    await sleep(1_000);
  }
  return samples;
}

export class Curve {
  readonly points: [seconds: number, count: number][] = [];
  readonly #startedMs: number;

  constructor(startedMs: number) {
    this.#startedMs = startedMs;
  }

  add(nowMs: number, count: number): void {
    const last = this.points.at(-1);
    if (last && last[1] === count) return;
    this.points.push([Math.round((nowMs - this.#startedMs) / 100) / 10, count]);
  }

  /** An ASCII plot, `width` columns by `height` rows, of the count against time. */
  plot(target: number, width = 60, height = 10): string {
    const end = Math.max(this.points.at(-1)?.[0] ?? 0, 0.1);
    const columns = Array.from({ length: width }, (_, column) => {
      const at = ((column + 1) / width) * end;
      let count = 0;
      for (const [seconds, value] of this.points) if (seconds <= at) count = value;
      return count;
    });
    const rows: string[] = [];
    for (let row = height; row >= 1; row--) {
      const level = (row / height) * target;
      const label = (row === height ? String(target) : "").padStart(6);
      rows.push(`${label} |${columns.map((count) => (count >= level ? "#" : " ")).join("")}`);
    }
    rows.push(`${"0".padStart(6)} +${"-".repeat(width)} ${end.toFixed(1)} s`);
    return rows.join("\n");
  }
}
