// Finds the prometheus and promtool binaries that local/prometheus/fetch.sh caches, and runs promtool.
import { execFile } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export interface PrometheusBinaries {
  /** The version the binaries were fetched at (the Debian package version). */
  version: string;
  dir: string;
  prometheus: string;
  promtool: string;
}

/** The variables fetch.sh reads to place its cache; pass them from the entry point's environment. */
export interface PrometheusCacheEnv {
  BOSUN_PROMETHEUS_CACHE?: string | undefined;
  XDG_CACHE_HOME?: string | undefined;
}

export interface PrometheusBinariesOptions {
  /** The cache root (fetch.sh's BOSUN_PROMETHEUS_CACHE); defaultPrometheusCacheRoot() when absent. */
  cacheRoot?: string;
}

/** The npm script that fills the cache; named in the error when the binaries are missing. */
export const fetchPrometheusScript = "npm run build:prometheus";

const pinFile = join(import.meta.dirname, "pin.env");

/** The cache root fetch.sh uses for these variables: the override, else <cache home>/bosun/prometheus. */
export function defaultPrometheusCacheRoot(env: PrometheusCacheEnv = {}, home: string = homedir()): string {
  if (env.BOSUN_PROMETHEUS_CACHE) return env.BOSUN_PROMETHEUS_CACHE;
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "bosun", "prometheus");
}

/** The KEY=VALUE lines of pin.env (comments and blank lines skipped). */
export function parsePin(text: string): Record<string, string> {
  const pin: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match) throw new Error(`unreadable line in ${pinFile}: ${JSON.stringify(line)}`);
    pin[match[1]!] = match[2]!;
  }
  return pin;
}

/** The Debian package version fetch.sh caches. */
export async function pinnedPrometheusVersion(): Promise<string> {
  const version = parsePin(await readFile(pinFile, "utf8")).PROMETHEUS_DEB_VERSION;
  if (!version) throw new Error(`${pinFile} names no PROMETHEUS_DEB_VERSION`);
  return version;
}

/** The cached binaries at the pinned version; throws, naming the npm script to run, when they are missing. */
export async function prometheusBinaries(
  options: PrometheusBinariesOptions = {},
): Promise<PrometheusBinaries> {
  const version = await pinnedPrometheusVersion();
  const dir = join(options.cacheRoot ?? defaultPrometheusCacheRoot(), version);
  const binaries = { version, dir, prometheus: join(dir, "prometheus"), promtool: join(dir, "promtool") };
  for (const path of [binaries.prometheus, binaries.promtool]) {
    try {
      await access(path, constants.X_OK);
    } catch (error) {
      throw new Error(
        `Prometheus ${version} is not in the cache (${path} is missing): run \`${fetchPrometheusScript}\``,
        { cause: error },
      );
    }
  }
  return binaries;
}

export interface PromtoolResult {
  /** The exit code; 0 when every check passed. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs promtool with these arguments; a failing check is a result (non-zero code), not a throw. */
export function runPromtool(
  binaries: Pick<PrometheusBinaries, "promtool">,
  args: string[],
  options: { cwd?: string } = {},
): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      binaries.promtool,
      args,
      { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`cannot run ${binaries.promtool} ${args.join(" ")}`, { cause: error }));
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}
