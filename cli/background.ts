// Long-running bosun processes (hub, agents) started in the background by `bosun join` and
// the demo: each runs `bosun <args>` in its own process group, logs to <dir>/<name>.log and
// records its pid in <dir>/<name>.pid so that later commands can stop it.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ManagedProcess, processAlive, stopProcessGroup } from "../local/process.ts";

const cliEntry = join(import.meta.dirname, "bosun.ts");

/**
 * V8 flags for bosun's long-running processes. A young generation of 4 MiB semi-spaces (V8
 * sizes them up to 16 MiB or more on a large machine) keeps a hub's resident memory near its
 * live data: measured in bench/RESULTS.md, 296 MiB down to 198 MiB at 1,000 clusters and 1,000
 * placements, at the same settle time. The npm script `bosun`, the shebang of cli/bosun.ts and
 * deploy/'s containers pass the same flag.
 */
export const longRunningNodeFlags = ["--max-semi-space-size=4"];

export interface BackgroundProcess {
  name: string;
  pid: number;
  logFile: string;
}

export async function startBackground(dir: string, name: string, args: string[]): Promise<BackgroundProcess> {
  await mkdir(dir, { recursive: true });
  await stopBackground(dir, name);
  const logFile = join(dir, `${name}.log`);
  const child = new ManagedProcess({
    name,
    command: process.execPath,
    args: [...longRunningNodeFlags, cliEntry, ...args],
    logFile,
    persistent: true,
  });
  await child.start();
  await writeFile(join(dir, `${name}.pid`), String(child.pid));
  return { name, pid: child.pid ?? 0, logFile };
}

export async function backgroundPid(dir: string, name: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(dir, `${name}.pid`), "utf8")).trim());
    return processAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the process recorded as `name` in dir, if it runs. Returns whether one was stopped. */
export async function stopBackground(dir: string, name: string): Promise<boolean> {
  const pid = await backgroundPid(dir, name);
  if (pid !== undefined) await stopProcessGroup(pid);
  await rm(join(dir, `${name}.pid`), { force: true });
  return pid !== undefined;
}
