// Runs a real Prometheus on loopback that scrapes the given targets (and evaluates the given rule
// files), for tests and for trying bosun's metrics, rules and dashboards locally.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { stringify } from "yaml";
import { prometheusBinaries, type PrometheusBinaries } from "./binaries.ts";
import { prometheusConfig, type ScrapeTarget, type ScrapeTls } from "./config.ts";
import { freePort } from "../ports.ts";
import { ManagedProcess, tailOfFile } from "../process.ts";
import { waitForHttpOk } from "../probe.ts";
import { parseInstantQuery, PrometheusQueryError, type Sample } from "./query.ts";

export interface PrometheusTarget extends ScrapeTarget {
  /** TLS settings; `caPem` is written to a file of the launcher's for Prometheus to read. */
  tls?: ScrapeTls & { caPem?: string };
}

export interface StartPrometheusOptions {
  /** What to scrape: http(s) URLs of /metrics endpoints, each with its job label. */
  targets: readonly PrometheusTarget[];
  /** Default 5. */
  scrapeIntervalSeconds?: number;
  /** How often rule files are evaluated; the scrape interval when absent. */
  evaluationIntervalSeconds?: number;
  /** Rule files (alerting and recording rules) loaded unchanged. */
  ruleFiles?: readonly string[];
  /** Where the TSDB lives, kept on stop; a temp dir removed on stop when absent. */
  dataDir?: string;
  /** The cached binaries; prometheusBinaries() with the default cache when absent. */
  binaries?: PrometheusBinaries;
  logger?: Logger;
  /** How long to wait for /-/ready. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface RunningPrometheus {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Evaluates an instant query now; throws PrometheusQueryError when Prometheus refuses it. */
  query(promql: string): Promise<Sample[]>;
  /**
   * Evaluates the query until the predicate holds for its samples, and returns them. A query
   * Prometheus cannot parse fails at once; otherwise it fails after timeoutMs with the last samples.
   */
  waitForSample(
    promql: string,
    predicate: (samples: Sample[]) => boolean,
    timeoutMs: number,
  ): Promise<Sample[]>;
  /** Stops Prometheus and removes its temp files (and its data dir when the launcher made it). */
  stop(): Promise<void>;
}

const portAttempts = 3;

export async function startPrometheus(options: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binaries = options.binaries ?? (await prometheusBinaries());
  const work = await mkdtemp(join(tmpdir(), "bosun-prometheus-"));
  const dataDir = options.dataDir ?? join(work, "data");
  const scrapeIntervalSeconds = options.scrapeIntervalSeconds ?? 5;
  try {
    await mkdir(dataDir, { recursive: true });
    const targets = await Promise.all(
      options.targets.map((target, index) => withCaFile(target, index, work)),
    );
    const config = prometheusConfig({
      targets,
      scrapeIntervalSeconds,
      evaluationIntervalSeconds: options.evaluationIntervalSeconds ?? scrapeIntervalSeconds,
      ruleFiles: (options.ruleFiles ?? []).map((file) => resolve(file)),
    });
    const configFile = join(work, "prometheus.yml");
    await writeFile(configFile, stringify(config));
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const logFile = join(work, `prometheus-${attempt}.log`);
      const child = new ManagedProcess({
        name: "prometheus",
        command: binaries.prometheus,
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${dataDir}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        logFile,
        persistent: false,
      });
      await child.start();
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitForHttpOk(`${url}/-/ready`, {
          timeoutMs: options.readyTimeoutMs ?? 60_000,
          process: child,
        });
      } catch (error) {
        await child.stop();
        const log = await tailOfFile(logFile, 30);
        // Another process may have taken the free port before Prometheus bound it.
        if (attempt < portAttempts && log.includes("address already in use")) continue;
        throw new Error(`Prometheus did not become ready:\n${log}`, { cause: error });
      }
      options.logger?.info({ url, targets: targets.map((target) => target.url) }, "prometheus ready");
      return running(url, child, logFile, async () => {
        await rm(work, { recursive: true, force: true });
        options.logger?.info({ url }, "prometheus stopped");
      });
    }
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

async function withCaFile(target: PrometheusTarget, index: number, work: string): Promise<ScrapeTarget> {
  if (target.tls?.caPem === undefined) return target;
  const { caPem, ...tls } = target.tls;
  const caFile = join(work, `ca-${index}.pem`);
  await writeFile(caFile, caPem);
  return { ...target, tls: { ...tls, caFile } };
}

function running(
  url: string,
  child: ManagedProcess,
  logFile: string,
  cleanUp: () => Promise<void>,
): RunningPrometheus {
  let stopped: Promise<void> | undefined;
  const query = async (promql: string): Promise<Sample[]> => {
    const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return parseInstantQuery(promql, response.status, await response.text());
  };
  return {
    url,
    query,
    async waitForSample(promql, predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last: string;
      for (;;) {
        if (child.exited)
          throw new Error(`Prometheus exited while waiting for ${promql}:\n${await tailOfFile(logFile, 30)}`);
        try {
          const samples = await query(promql);
          if (predicate(samples)) return samples;
          last = JSON.stringify(samples);
        } catch (error) {
          if (error instanceof PrometheusQueryError && error.errorType === "bad_data") throw error;
          last = (error as Error).message;
        }
        if (Date.now() > deadline)
          throw new Error(`${promql} did not reach the awaited state in ${timeoutMs} ms; last: ${last}`);
        await sleep(200);
      }
    },
    stop() {
      stopped ??= child.stop().then(cleanUp);
      return stopped;
    },
  };
}
