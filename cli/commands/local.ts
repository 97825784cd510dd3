// `bosun local up|down|status`: a playground fleet of real control planes on this machine.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { fleetDown, fleetStatus, fleetUp, type FleetMember } from "../../local/fleet.ts";
import { outputOption } from "../output.ts";

export function defaultLocalDir(): string {
  return join(homedir(), ".bosun", "local");
}

export function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0 || count > 50) {
    throw new Error(`--clusters must be a whole number from 0 to 50, got "${value}"`);
  }
  return count;
}

export interface LocalFleet {
  members: FleetMember[];
  /** The kubectl built with the control planes, of the same Kubernetes version. */
  kubectl: string;
}

export async function localUp(
  dir: string,
  clusters: number,
  log: (line: string) => void,
): Promise<LocalFleet> {
  const binaries = await ensureKubeBinaries({ onProgress: (line) => log(line) });
  const members = await fleetUp({ dir, clusters, binaries, onProgress: (message) => log(`  ${message}`) });
  return { members, kubectl: binaries.kubectl };
}

export function printReach(fleet: LocalFleet, log: (line: string) => void): void {
  log("");
  log(`Reach them with kubectl (${fleet.kubectl}, the control planes' own version):`);
  for (const member of fleet.members) {
    log(`  ${member.name.padEnd(10)} ${fleet.kubectl} --kubeconfig ${member.kubeconfigPath} get namespaces`);
  }
}

export function registerLocal(program: Command): void {
  const local = program
    .command("local")
    .description("run a hub and managed clusters as real control planes on this machine");
  local
    .command("up")
    .description("start a hub and N managed clusters in the background (builds Kubernetes on first use)")
    .option("--clusters <n>", "number of managed clusters", "2")
    .option("--dir <dir>", "where the control planes keep their data and kubeconfigs", defaultLocalDir())
    .action(async (options: { clusters: string; dir: string }) => {
      const dir = resolve(options.dir);
      const fleet = await localUp(dir, parseCount(options.clusters), (line) => console.log(line));
      const { members } = fleet;
      console.log(`\nStarted ${members.length} control planes in ${dir}:`);
      for (const member of members) console.log(`  ${member.name}: ${member.kubeconfigPath}`);
      printReach(fleet, (line) => console.log(line));
      console.log(`\nStop them with: bosun local down --dir ${dir}`);
    });
  local
    .command("down")
    .description("stop the local control planes and remove their data")
    .option("--dir <dir>", "the directory given to `local up`", defaultLocalDir())
    .action(async (options: { dir: string }) => {
      const stopped = await fleetDown(resolve(options.dir), (message) => console.log(message));
      console.log(stopped.length ? `stopped ${stopped.join(", ")}` : "nothing was running");
    });
  local
    .command("status")
    .description("show the local control planes and whether their processes run")
    .option("--dir <dir>", "the directory given to `local up`", defaultLocalDir())
    .addOption(outputOption(["table", "json", "yaml"], "table"))
    .action(async (options: { dir: string; output: "table" | "json" | "yaml" }) => {
      const planes = await fleetStatus(resolve(options.dir));
      if (options.output !== "table") {
        console.log(
          options.output === "json" ? JSON.stringify(planes, null, 2) : stringify(planes).trimEnd(),
        );
        return;
      }
      if (planes.length === 0) {
        console.log("no local control planes");
        return;
      }
      console.log(["NAME", "SERVER", "ETCD", "APISERVER", "CONTROLLER-MANAGER", "KUBECONFIG"].join("\t"));
      const state = (up: boolean) => (up ? "running" : "stopped");
      for (const plane of planes) {
        console.log(
          [
            plane.name,
            plane.server,
            state(plane.running.etcd),
            state(plane.running.apiserver),
            state(plane.running.controllerManager),
            plane.kubeconfigPath,
          ].join("\t"),
        );
      }
    });
}
