// bosun's hub side by side with OCM's own hub controllers, on one real local hub: N
// ManagedClusters and P Placements (numberOfClusters 10, ResourceAllocatableCPU + Balance).
// Each side runs as its own process from the same starting state (every Placement pending, no
// PlacementDecision); the figures are the time from its start until every Placement has its 10
// clusters decided, and its resident memory (peak, and once settled).
//   npx node bench/hub-vs-ocm.ts [--clusters 1000] [--placements 1000] [--ocm-version v1.0.0]
// OCM's binaries come from local/ocm/build.sh (built from the Go module proxy, cached).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Labels, Namespaces } from "../api/constants.ts";
import type { Placement, PlacementDecision } from "../api/types/placement.ts";
import { longRunningNodeFlags } from "../cli/background.ts";
import { ensureKubeBinaries } from "../local/binaries.ts";
import { ControlPlane } from "../local/controlplane.ts";
import { installCrds } from "../runtime/crds.ts";
import { KubeClient } from "../runtime/kube/client.ts";
import type { Unstructured } from "../runtime/kube/types.ts";
import { parse } from "yaml";
import { createBoundClusterSet } from "../test/support/placement-fixtures.ts";

const { values: args } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    placements: { type: "string", default: "1000" },
    "ocm-version": { type: "string", default: "v1.0.0" },
    /** V8 flags for bosun's hub process; default: those `bosun hub` runs with. */
    "node-flags": { type: "string", default: longRunningNodeFlags.join(" ") },
    /** Measure only one side: ocm or bosun. */
    only: { type: "string" },
  },
});
const clusterCount = Number(args.clusters);
const placementCount = Number(args.placements);
const projectRoot = join(import.meta.dirname, "..");
const clusterApi = "cluster.open-cluster-management.io";
const wanted = 10;
const tolerations = [
  { key: "cluster.open-cluster-management.io/unreachable", operator: "Exists" },
  { key: "cluster.open-cluster-management.io/unavailable", operator: "Exists" },
];

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

async function seedClusters(client: KubeClient): Promise<void> {
  await createBoundClusterSet(client, "bench");
  const indexes = Array.from({ length: clusterCount }, (_, i) => i);
  await inBatches(indexes, 16, async (i) => {
    const name = `cluster-${String(i).padStart(5, "0")}`;
    await client.create({
      apiVersion: `${clusterApi}/v1`,
      kind: "ManagedCluster",
      metadata: { name, labels: { [Labels.clusterSet]: "bench" } },
      spec: { hubAcceptsClient: true },
    });
    const resources = { cpu: `${4 + ((i * 7) % 61)}`, memory: `${16 + ((i * 11) % 113)}Gi` };
    await client.patch(
      { apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name },
      "merge",
      { status: { allocatable: resources, capacity: resources } },
      { subresource: "status" },
    );
  });
}

async function createPlacements(client: KubeClient): Promise<void> {
  const indexes = Array.from({ length: placementCount }, (_, i) => i);
  await inBatches(indexes, 16, (i) =>
    client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: `p-${String(i).padStart(4, "0")}`, namespace: "default" },
      spec: {
        numberOfClusters: wanted,
        tolerations,
        prioritizerPolicy: {
          mode: "Additive",
          configurations: [
            { scoreCoordinate: { type: "BuiltIn", builtIn: "ResourceAllocatableCPU" }, weight: 1 },
            { scoreCoordinate: { type: "BuiltIn", builtIn: "Balance" }, weight: 1 },
          ],
        },
      },
    }),
  );
}

/** Placements whose status shows 10 clusters selected and whose decisions hold 10 clusters. */
async function settledCount(client: KubeClient): Promise<number> {
  const placements = await client.listAll<Placement>(`${clusterApi}/v1beta1`, "Placement", {
    namespace: "default",
  });
  const decisions = await client.listAll<PlacementDecision>(`${clusterApi}/v1beta1`, "PlacementDecision", {
    namespace: "default",
  });
  const decided = new Map<string, number>();
  for (const pd of decisions.items) {
    const owner = pd.metadata.labels?.[Labels.placement] ?? "";
    decided.set(owner, (decided.get(owner) ?? 0) + (pd.status?.decisions.length ?? 0));
  }
  return placements.items.filter(
    (p) => p.status?.numberOfSelectedClusters === wanted && decided.get(p.metadata.name ?? "") === wanted,
  ).length;
}

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

interface Side {
  name: string;
  processes: ChildProcess[];
}

async function measure(client: KubeClient, side: Side): Promise<Record<string, number | string>> {
  const started = Date.now();
  let settled = 0;
  while (settled < placementCount) {
    await sleep(500);
    for (const process of side.processes) {
      if (process.exitCode !== null) throw new Error(`${side.name}: a process exited (${process.exitCode})`);
    }
    settled = await settledCount(client);
    if (Date.now() - started > 30 * 60_000) throw new Error(`${side.name}: not settled after 30 min`);
  }
  const seconds = (Date.now() - started) / 1000;
  // Memory once settled: give the runtime a few seconds at rest.
  await sleep(5_000);
  const memory = side.processes.map((p) => rssMiB(p.pid!));
  return {
    side: side.name,
    settleSeconds: Math.round(seconds * 10) / 10,
    rssMiB: Math.round(memory.reduce((sum, m) => sum + m.rss, 0)),
    peakRssMiB: Math.round(memory.reduce((sum, m) => sum + m.peak, 0)),
    perProcess: memory.map((m) => `${Math.round(m.rss)}/${Math.round(m.peak)}`).join(" + "),
  };
}

async function stop(processes: ChildProcess[]): Promise<void> {
  await Promise.all(
    processes.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null) return resolve();
          p.once("exit", () => resolve());
          p.kill("SIGTERM");
        }),
    ),
  );
}

/** Deletes the placements and waits until the garbage collector has removed their decisions. */
async function resetPlacements(client: KubeClient): Promise<void> {
  await client.request({
    method: "DELETE",
    path: `/apis/${clusterApi}/v1beta1/namespaces/default/placements`,
  });
  for (;;) {
    const left = await client.listAll(`${clusterApi}/v1beta1`, "PlacementDecision", { namespace: "default" });
    const placements = await client.listAll(`${clusterApi}/v1beta1`, "Placement", { namespace: "default" });
    if (left.items.length === 0 && placements.items.length === 0) return;
    await sleep(500);
  }
}

const ocmDir = execFileSync("bash", [join(projectRoot, "local/ocm/build.sh"), "placement", "registration"], {
  encoding: "utf8",
  env: { ...process.env, BOSUN_OCM_VERSION: args["ocm-version"] },
  stdio: ["ignore", "pipe", "inherit"],
}).trim();
const plane = await ControlPlane.start({ name: "bench-hub-vs-ocm", binaries: await ensureKubeBinaries() });
const results: Record<string, number | string>[] = [];
try {
  const client = await KubeClient.fromFile(plane.kubeconfigPath);
  await installCrds(client, "hub");
  await client
    .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.hub } })
    .catch(() => undefined);
  // OCM's registration controller also watches the add-on kinds: install OCM's own CRDs for
  // them, from the API module its build downloaded.
  const addonCrds = join(
    execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim(),
    `open-cluster-management.io/api@${args["ocm-version"]}`,
    "addon/v1alpha1",
  );
  for (const file of readdirSync(addonCrds).filter((f) => f.endsWith(".crd.yaml"))) {
    await client.create(parse(readFileSync(join(addonCrds, file), "utf8")) as Unstructured);
  }
  console.error(`seeding ${clusterCount} clusters`);
  await seedClusters(client);

  const logDir = mkdtempSync(join(tmpdir(), "bosun-bench-"));
  console.error(`controller logs in ${logDir}`);
  const log = (name: string) => join(logDir, `${name}.log`);
  const run = (name: string, command: string, commandArgs: string[]) => {
    const child = spawn(command, commandArgs, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.stderr.on("data", (c: Buffer) => chunks.push(c));
    child.once("exit", () => writeFileSync(log(name), Buffer.concat(chunks)));
    return child;
  };

  const sides = (["ocm", "bosun"] as const).filter((side) => !args.only || side === args.only);
  for (const side of sides) {
    await createPlacements(client);
    console.error(`${side}: ${placementCount} placements waiting; starting the controllers`);
    const processes =
      side === "ocm"
        ? [
            run("ocm-placement", join(ocmDir, "placement"), [
              "controller",
              `--kubeconfig=${plane.kubeconfigPath}`,
              `--namespace=${Namespaces.hub}`,
              "--disable-leader-election",
              "--listen=127.0.0.1:18443",
            ]),
            run("ocm-registration", join(ocmDir, "registration"), [
              "controller",
              `--kubeconfig=${plane.kubeconfigPath}`,
              `--namespace=${Namespaces.hub}`,
              "--disable-leader-election",
              "--listen=127.0.0.1:18444",
            ]),
          ]
        : [
            run("bosun-hub", process.execPath, [
              ...args["node-flags"].split(" ").filter(Boolean),
              join(projectRoot, "cli/bosun.ts"),
              "hub",
              "--kubeconfig",
              plane.kubeconfigPath,
              "--metrics-bind-address",
              "127.0.0.1:0",
              "--no-webhook",
              "--log-level",
              "warn",
            ]),
          ];
    try {
      results.push(await measure(client, { name: side, processes }));
      console.error(JSON.stringify(results.at(-1)));
    } finally {
      await stop(processes);
    }
    await resetPlacements(client);
  }
  client.close();
} finally {
  await plane.stop();
}

console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      clusters: clusterCount,
      placements: placementCount,
      results,
    },
    null,
    2,
  ),
);
