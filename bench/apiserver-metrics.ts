// What the API server says it served, from its own /metrics: requests by verb and resource (with
// the time spent on them) and watch events sent by kind (with their bytes). Benchmarks read it
// before and after a phase to see what the phase cost the API server, every client included.
import { createWriteStream } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Agent, get as httpsGet } from "node:https";
import { pipeline } from "node:stream/promises";
import type { ControlPlane } from "../local/controlplane.ts";
import type { KubeClient } from "../runtime/kube/client.ts";

export interface ServedTotals {
  /**
   * By `<VERB> <resource>[/<subresource>]`. `count` is the requests received: those completed
   * and the long-running ones still open. The API server counts a watch in its request total
   * only when the watch ends, minutes after it started; with the open ones added, a reading's
   * difference counts each watch when it starts.
   */
  requests: Map<string, { count: number; seconds: number }>;
  /** By kind. */
  watchEvents: Map<string, { count: number; bytes: number }>;
}

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]!] = match[2]!;
  return labels;
}

function add<K extends string>(map: Map<string, Record<K, number>>, key: string, field: K, value: number) {
  const entry = map.get(key) ?? ({} as Record<K, number>);
  entry[field] = (entry[field] ?? 0) + value;
  map.set(key, entry);
}

/** The totals in a Prometheus text exposition of kube-apiserver's metrics. */
export function parseServedTotals(exposition: string): ServedTotals {
  const requests = new Map<string, { count: number; seconds: number }>();
  const watchEvents = new Map<string, { count: number; bytes: number }>();
  for (const line of exposition.split("\n")) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const [, name, labelText, valueText] = match;
    const value = Number(valueText);
    const labels = labelsOf(labelText!);
    const request = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ""}`;
    if (name === "apiserver_request_total" || name === "apiserver_longrunning_requests")
      add(requests, request, "count", value);
    else if (name === "apiserver_request_duration_seconds_sum") add(requests, request, "seconds", value);
    else if (name === "apiserver_watch_events_total") add(watchEvents, labels.kind ?? "", "count", value);
    else if (name === "apiserver_watch_events_sizes_sum") add(watchEvents, labels.kind ?? "", "bytes", value);
  }
  for (const entry of requests.values()) {
    entry.count ??= 0;
    entry.seconds ??= 0;
  }
  for (const entry of watchEvents.values()) {
    entry.count ??= 0;
    entry.bytes ??= 0;
  }
  return { requests, watchEvents };
}

export async function readServedTotals(client: KubeClient): Promise<ServedTotals> {
  return parseServedTotals(await client.requestText({ method: "GET", path: "/metrics" }));
}

function delta<T extends Record<string, number>>(after: Map<string, T>, before: Map<string, T>) {
  const out: Record<string, T> = {};
  for (const [key, value] of after) {
    const previous = before.get(key);
    const change = Object.fromEntries(
      Object.entries(value).map(([field, v]) => [
        field,
        Math.round((v - (previous?.[field] ?? 0)) * 1000) / 1000,
      ]),
    ) as T;
    if (Object.values(change).some((v) => v !== 0)) out[key] = change;
  }
  return out;
}

/** What was served between two readings, the busiest first (requests by count, watch events by bytes). */
export function servedBetween(before: ServedTotals, after: ServedTotals) {
  const requests = Object.entries(delta(after.requests, before.requests)).sort(
    ([, a], [, b]) => b.count - a.count,
  );
  const watchEvents = Object.entries(delta(after.watchEvents, before.watchEvents)).sort(
    ([, a], [, b]) => b.bytes - a.bytes,
  );
  return { requests: Object.fromEntries(requests), watchEvents: Object.fromEntries(watchEvents) };
}

/** Fetches a CPU profile of the plane's kube-apiserver over the next `seconds` into `file`. */
export async function profileApiServer(plane: ControlPlane, file: string, seconds: number): Promise<void> {
  const agent = new Agent({ ca: plane.caPem });
  const response = await new Promise<IncomingMessage>((resolve, reject) =>
    httpsGet(
      `${plane.server}/debug/pprof/profile?seconds=${seconds}`,
      { agent, headers: { authorization: `Bearer ${plane.adminToken}` } },
      resolve,
    ).on("error", reject),
  );
  if (response.statusCode !== 200)
    throw new Error(`kube-apiserver's profile endpoint answered ${response.statusCode}`);
  await pipeline(response, createWriteStream(file));
  console.error(`  kube-apiserver CPU profile: ${file}`);
}
