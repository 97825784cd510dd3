// `bosun demo`: the main job on one machine, from nothing: a hub and managed clusters as
// real control planes.
import { resolve } from "node:path";
import type { Command } from "commander";
import { defaultLocalDir, localUp, parseCount, printReach } from "./local.ts";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("start a local hub and managed clusters and show how to reach them")
    .option("--clusters <n>", "number of managed clusters", "2")
    .option("--dir <dir>", "where the control planes keep their data and kubeconfigs", defaultLocalDir())
    .action(async (options: { clusters: string; dir: string }) => {
      const dir = resolve(options.dir);
      console.log(
        "bosun demo: starting a hub and managed clusters (real kube-apiserver, etcd, kube-controller-manager)",
      );
      const members = await localUp(dir, parseCount(options.clusters), (line) => console.log(line));
      printReach(members, (line) => console.log(line));
      console.log(
        `\nThe control planes keep running. Stop them with: make down   (or: npm run bosun -- local down --dir ${dir})`,
      );
    });
}
