// A local fleet for `bosun local up`: a hub and N managed clusters, each a real control
// plane whose processes keep running after the command returns. The state lives in one
// directory so that `bosun local down` and `bosun local status` can find it later.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { KubeBinaries } from "./binaries.ts";
import { ControlPlane, readControlPlaneRecord, type ControlPlaneRecord } from "./controlplane.ts";
import { processAlive, stopProcessGroup } from "./process.ts";

export interface FleetMember {
  name: string;
  role: "hub" | "managed";
  server: string;
  kubeconfigPath: string;
}

export interface FleetUpOptions {
  dir: string;
  clusters: number;
  binaries: KubeBinaries;
  onProgress?: (message: string) => void;
}

export function clusterNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `cluster${index + 1}`);
}

/** Starts the hub and the managed clusters that are not already running in dir. */
export async function fleetUp(options: FleetUpOptions): Promise<FleetMember[]> {
  await mkdir(options.dir, { recursive: true });
  const members: FleetMember[] = [];
  const names = ["hub", ...clusterNames(options.clusters)];
  for (const name of names) {
    const role = name === "hub" ? "hub" : "managed";
    const kubeconfigPath = join(options.dir, `${name}.kubeconfig`);
    const existing = await runningRecord(join(options.dir, name));
    if (existing) {
      options.onProgress?.(`${name}: already running at ${existing.server}`);
      members.push({ name, role, server: existing.server, kubeconfigPath });
      continue;
    }
    await rm(join(options.dir, name), { recursive: true, force: true });
    const plane = await ControlPlane.start({
      name,
      binaries: options.binaries,
      dir: join(options.dir, name),
      persistent: true,
      onProgress: options.onProgress,
    });
    await writeFile(kubeconfigPath, await readFile(plane.kubeconfigPath), { mode: 0o600 });
    members.push({ name, role, server: plane.server, kubeconfigPath });
  }
  return members;
}

async function runningRecord(dir: string): Promise<ControlPlaneRecord | undefined> {
  try {
    const record = await readControlPlaneRecord(dir);
    return Object.values(record.pids).every(processAlive) ? record : undefined;
  } catch {
    return undefined;
  }
}

export interface FleetStatus {
  name: string;
  server: string;
  kubeconfigPath: string;
  running: { etcd: boolean; apiserver: boolean; controllerManager: boolean };
}

async function records(dir: string): Promise<ControlPlaneRecord[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const found: ControlPlaneRecord[] = [];
  for (const entry of entries.sort()) {
    try {
      found.push(await readControlPlaneRecord(join(dir, entry)));
    } catch {
      // Not a control plane directory.
    }
  }
  // The hub first, then the clusters in name order.
  return found.sort(
    (a, b) => Number(b.name === "hub") - Number(a.name === "hub") || a.name.localeCompare(b.name),
  );
}

export async function fleetStatus(dir: string): Promise<FleetStatus[]> {
  return (await records(dir)).map((record) => ({
    name: record.name,
    server: record.server,
    kubeconfigPath: join(dir, `${record.name}.kubeconfig`),
    running: {
      etcd: processAlive(record.pids.etcd),
      apiserver: processAlive(record.pids.apiserver),
      controllerManager: processAlive(record.pids.controllerManager),
    },
  }));
}

/** Stops every bosun process and control plane in dir and removes their data. Returns the names stopped. */
export async function fleetDown(dir: string, onProgress?: (message: string) => void): Promise<string[]> {
  const stopped: string[] = [];
  // Agents and the hub first (their pid files sit beside the control planes), so that
  // nothing reports errors about servers going away under it.
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (!entry.endsWith(".pid")) continue;
    const name = entry.slice(0, -".pid".length);
    const pid = Number((await readFile(join(dir, entry), "utf8")).trim());
    onProgress?.(`${name}: stopping`);
    await stopProcessGroup(pid);
    await rm(join(dir, entry), { force: true });
    stopped.push(name);
  }
  for (const record of await records(dir)) {
    onProgress?.(`${record.name}: stopping`);
    await stopProcessGroup(record.pids.controllerManager);
    await stopProcessGroup(record.pids.apiserver);
    await stopProcessGroup(record.pids.etcd);
    await rm(join(dir, record.name), { recursive: true, force: true });
    await rm(join(dir, `${record.name}.kubeconfig`), { force: true });
    stopped.push(record.name);
  }
  return stopped;
}
