// A Prometheus that outlives the command that started it (the demo's): its configuration and data
// in <dir>/prometheus/, its pid in <dir>/prometheus.pid, so that `bosun local down` (which stops
// every process recorded in the directory) stops it with the fleet.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { freePort } from "../ports.ts";
import { ManagedProcess, processAlive, stopProcessGroup, tailOfFile } from "../process.ts";
import { waitForHttpOk } from "../probe.ts";
import { prometheusBinaries } from "./binaries.ts";
import { prometheusConfig, type ScrapeTarget } from "./config.ts";

export interface BackgroundPrometheusOptions {
  dir: string;
  targets: readonly ScrapeTarget[];
  ruleFiles?: readonly string[];
  scrapeIntervalSeconds?: number;
}

export async function startBackgroundPrometheus(
  options: BackgroundPrometheusOptions,
): Promise<{ url: string }> {
  const binaries = await prometheusBinaries();
  const home = join(options.dir, "prometheus");
  await mkdir(join(home, "data"), { recursive: true });
  const pidFile = join(options.dir, "prometheus.pid");
  const previous = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  if (previous && processAlive(previous)) await stopProcessGroup(previous);
  const interval = options.scrapeIntervalSeconds ?? 5;
  const configFile = join(home, "prometheus.yml");
  await writeFile(
    configFile,
    stringify(
      prometheusConfig({
        targets: options.targets,
        scrapeIntervalSeconds: interval,
        evaluationIntervalSeconds: interval,
        ruleFiles: (options.ruleFiles ?? []).map((file) => resolve(file)),
      }),
    ),
  );
  const port = await freePort();
  const logFile = join(options.dir, "prometheus.log");
  const child = new ManagedProcess({
    name: "prometheus",
    command: binaries.prometheus,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(home, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    logFile,
    persistent: true,
  });
  await child.start();
  await writeFile(pidFile, String(child.pid));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttpOk(`${url}/-/ready`, { timeoutMs: 60_000, process: child });
  } catch (error) {
    await child.stop();
    throw new Error(`Prometheus did not become ready:\n${await tailOfFile(logFile, 30)}`, { cause: error });
  }
  return { url };
}
