// `bosun demo`: the main job on one machine, from nothing. A hub and managed clusters as real
// control planes; the hub controllers and one agent per cluster as background processes; every
// cluster joined over CSR and accepted, then chosen by placements, given a workload and a policy,
// and reporting back, with a drift remediated. Each step says what it does, as a user would run it.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parseAllDocuments } from "yaml";
import {
  Labels,
  ManagedClusterConditions,
  ManifestWorkConditions,
  PlacementConditions,
  Resources,
} from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { fleetDown } from "../../local/fleet.ts";
import { freePort } from "../../local/ports.ts";
import { startBackgroundPrometheus } from "../../local/prometheus/background.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { startBackground } from "../background.ts";
import { waitWithProgress } from "../progress.ts";
import { acceptCluster } from "./accept.ts";
import { runApply } from "./apply.ts";
import { runCompliance } from "./compliance.ts";
import { writeCatalogue } from "./demo-catalogue.ts";
import { explainLive, renderTable } from "./explain.ts";
import { clustersTable, worksTable } from "./get-tables.ts";
import { joinCluster } from "./join.ts";
import { defaultLocalDir, localUp, parseCount, printReach, type LocalFleet } from "./local.ts";

const examplesDir = join(import.meta.dirname, "..", "..", "examples");

async function waitForFleet(hub: KubeClient, names: string[], timeoutMs: number): Promise<ManagedCluster[]> {
  return waitWithProgress(
    process.stdout,
    timeoutMs,
    async () => {
      const { items } = await hub.listAll<ManagedCluster>(
        Resources.ManagedCluster.apiVersion,
        "ManagedCluster",
      );
      const ready = (cluster: ManagedCluster) =>
        [ManagedClusterConditions.joined, ManagedClusterConditions.available].every(
          (type) => findCondition(cluster.status?.conditions, type)?.status === "True",
        );
      const done = names.filter((name) =>
        items.some((cluster) => cluster.metadata.name === name && ready(cluster)),
      );
      const state = `${done.length}/${names.length} clusters joined and available`;
      return done.length === names.length
        ? { state, done: items.filter((cluster) => names.includes(cluster.metadata.name ?? "")) }
        : { state };
    },
    { pollMs: 1000, what: "the fleet" },
  );
}

/**
 * The claims the demo gives its clusters, in turn: a region (OCM's well-known claim) and, on some,
 * a GPU (a custom hardware claim), so that placements can choose by either.
 */
const demoClaims: Record<string, string>[] = [
  { "region.open-cluster-management.io": "eu-west-1" },
  { "region.open-cluster-management.io": "us-east-1", "gpu.hardware.bosun.dev": "nvidia-l4" },
  { "region.open-cluster-management.io": "eu-central-1", "gpu.hardware.bosun.dev": "nvidia-a100" },
  { "region.open-cluster-management.io": "ap-south-1" },
];

async function ensureClaims(kubeconfigPath: string, claims: Record<string, string>): Promise<void> {
  const client = await KubeClient.fromFile(kubeconfigPath);
  try {
    await installCrds(client, "managed");
    for (const [name, value] of Object.entries(claims)) {
      await applyServerSide(
        client,
        {
          apiVersion: "cluster.open-cluster-management.io/v1alpha1",
          kind: "ClusterClaim",
          metadata: { name },
          spec: { value },
        },
        { fieldManager: "bosun-demo", force: true },
      );
    }
  } finally {
    client.close();
  }
}

async function applyExample(hub: KubeClient, file: string): Promise<void> {
  for (const document of parseAllDocuments(await readFile(join(examplesDir, file), "utf8"))) {
    await applyServerSide(hub, document.toJS() as Unstructured, { fieldManager: "bosun-demo", force: true });
  }
}

/** The clusters a placement's decisions name, once it has decided (its PlacementSatisfied condition is set). */
async function decidedClusters(hub: KubeClient, placement: string): Promise<string[]> {
  return waitWithProgress(
    process.stdout,
    60_000,
    async () => {
      const current = await hub.getOrUndefined<Placement>({
        apiVersion: Resources.Placement.apiVersion,
        kind: "Placement",
        namespace: "default",
        name: placement,
      });
      const decided = findCondition(current?.status?.conditions, PlacementConditions.satisfied) !== undefined;
      const { items } = await hub.listAll<PlacementDecision>(
        Resources.PlacementDecision.apiVersion,
        "PlacementDecision",
        {
          namespace: "default",
          labelSelector: `${Labels.placement}=${placement}`,
        },
      );
      const names = items
        .flatMap((decision) => decision.status?.decisions ?? [])
        .map((d) => d.clusterName)
        .sort();
      const state = decided
        ? `${placement} selects ${names.join(", ") || "no cluster"}`
        : `${placement}: scheduling`;
      return decided && names.length === (current?.status?.numberOfSelectedClusters ?? 0)
        ? { state, done: names }
        : { state };
    },
    { what: `placement ${placement}` },
  );
}

/** Waits until every work of the replica set is Applied for its generation on `clusters`; returns them. */
async function waitForWorks(
  hub: KubeClient,
  replicaSet: string,
  clusters: readonly string[],
): Promise<ManifestWork[]> {
  return waitWithProgress(
    process.stdout,
    180_000,
    async () => {
      const { items } = await hub.listAll<ManifestWork>(Resources.ManifestWork.apiVersion, "ManifestWork", {
        labelSelector: `${Labels.manifestWorkReplicaSet}=default.${replicaSet}`,
      });
      const applied = items.filter((work) => {
        const condition = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
        return condition?.status === "True" && condition.observedGeneration === work.metadata.generation;
      });
      const reached = new Set(applied.map((work) => work.metadata.namespace));
      const state = `${applied.length}/${items.length} works Applied, on ${reached.size}/${clusters.length} clusters`;
      const complete =
        items.length > 0 && applied.length === items.length && clusters.every((c) => reached.has(c));
      return complete ? { state, done: items } : { state };
    },
    { what: `the works of ${replicaSet}` },
  );
}

/**
 * Waits until the root policy reports `state` for every selected cluster and returns the
 * `bosun compliance` table (or one cluster's explanation) as it then stands.
 */
async function waitForCompliance(
  hub: KubeClient,
  policy: string,
  clusters: readonly string[],
  state: string,
  cluster?: string,
): Promise<string> {
  await waitWithProgress(
    process.stdout,
    120_000,
    async () => {
      const root = await hub.getOrUndefined<Policy>({
        apiVersion: Resources.Policy.apiVersion,
        kind: "Policy",
        namespace: "default",
        name: policy,
      });
      const reported = new Map(
        (root?.status?.status ?? []).map((entry) => [entry.clustername, entry.compliant]),
      );
      const there = clusters.filter((name) => reported.get(name) === state);
      const line = `${there.length}/${clusters.length} clusters ${state}`;
      return there.length === clusters.length ? { state: line, done: true } : { state: line };
    },
    { what: `${policy} ${state}` },
  );
  let text = "";
  await runCompliance(
    hub,
    { namespace: "default", policy, cluster, output: "table", color: false },
    { write: (chunk: string) => (text += chunk) },
  );
  return text;
}

/** The LimitRange the baseline policy enforces, deleted on one cluster as an operator might. */
async function driftOn(kubeconfigPath: string): Promise<void> {
  const client = await KubeClient.fromFile(kubeconfigPath);
  try {
    await client.delete({ apiVersion: "v1", kind: "LimitRange", namespace: "shop", name: "shop-defaults" });
    await waitWithProgress(
      process.stdout,
      60_000,
      async () => {
        const back = await client.getOrUndefined({
          apiVersion: "v1",
          kind: "LimitRange",
          namespace: "shop",
          name: "shop-defaults",
        });
        return back
          ? { state: "the agent put shop/shop-defaults back", done: true }
          : { state: "shop/shop-defaults is gone" };
      },
      { pollMs: 200, what: "the remediation" },
    );
  } finally {
    client.close();
  }
}

interface DemoOptions {
  clusters: string;
  dir: string;
  exit?: boolean;
  prometheus: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "start a local hub and managed clusters, join them, place a workload and a policy on them, and show what they report",
    )
    .option("--clusters <n>", "number of managed clusters", "3")
    .option(
      "--dir <dir>",
      "where the control planes and processes keep their data, logs and kubeconfigs",
      defaultLocalDir(),
    )
    .option("--no-prometheus", "do not start a Prometheus scraping the hub")
    .option("--exit", "stop the fleet at the end instead of leaving it running")
    .action(async (options: DemoOptions) => {
      const log = (line: string) => console.log(line);
      const dir = resolve(options.dir);
      log(
        "bosun demo: a hub and managed clusters, each a real kube-apiserver, etcd and kube-controller-manager",
      );
      const fleet = await localUp(dir, parseCount(options.clusters), log);
      try {
        await runDemo(dir, fleet, options, log);
      } catch (error) {
        log(`\nThe demo stopped: ${(error as Error).message}`);
        log(`Logs are in ${dir} (hub-controllers.log, agent-<cluster>.log).`);
        throw error;
      } finally {
        if (options.exit) {
          log("\n--exit: stopping the fleet");
          await fleetDown(dir, () => {});
        }
      }
    });
}

async function runDemo(
  dir: string,
  fleet: LocalFleet,
  options: DemoOptions,
  log: (line: string) => void,
): Promise<void> {
  const { members } = fleet;
  const hubMember = members.find((member) => member.role === "hub")!;
  const clusters = members.filter((member) => member.role === "managed");
  const steps = 9;
  let step = 0;
  const title = (text: string) => log(`\n[${++step}/${steps}] ${text}`);
  const hubFlag = `--kubeconfig ${hubMember.kubeconfigPath}`;

  const hub = await KubeClient.fromFile(hubMember.kubeconfigPath);
  try {
    title("bosun init: the hub's APIs (OCM's CRDs), a bootstrap identity for joining clusters");
    await installCrds(hub, "hub");
    const endpoint = hubEndpointOf(hub);
    await ensureBootstrapIdentity(hub, endpoint);
    const token = await mintBootstrapToken(hub);

    title("bosun hub: the hub controllers (registration, placement, work, governance), in the background");
    const metricsPort = await freePort();
    const webhookPort = await freePort();
    const hubProcess = await startBackground(dir, "hub-controllers", [
      "hub",
      "--kubeconfig",
      hubMember.kubeconfigPath,
      "--metrics-bind-address",
      `127.0.0.1:${metricsPort}`,
      "--webhook-bind-address",
      `127.0.0.1:${webhookPort}`,
    ]);
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    log(`  pid ${hubProcess.pid}, log ${hubProcess.logFile}`);

    title(
      "bosun join on every managed cluster: it reports its claims, and an agent starts in the background",
    );
    for (const [index, cluster] of clusters.entries()) {
      const claims = demoClaims[index % demoClaims.length]!;
      await ensureClaims(cluster.kubeconfigPath, claims);
      await joinCluster(
        {
          kubeconfig: cluster.kubeconfigPath,
          hubToken: token,
          hubApiserver: endpoint.server,
          clusterName: cluster.name,
          timeout: "0",
          agent: "background",
          agentDir: dir,
        },
        () => {},
      );
      const described = Object.entries(claims).map(([name, value]) => `${name}=${value}`);
      log(`  ${cluster.name}: joining with ${described.join(", ")}`);
    }

    title("bosun accept on the hub: each cluster's join request is approved, and the cluster accepted");
    for (const cluster of clusters) {
      const result = await acceptCluster(hub, cluster.name, { waitMs: 120_000 });
      log(
        `  ${cluster.name}: ${result.approved.length ? `approved ${result.approved.join(", ")}` : "accepted before"}`,
      );
    }
    const joined = await waitForFleet(
      hub,
      clusters.map((cluster) => cluster.name),
      180_000,
    );
    log("");
    for (const line of clustersTable(joined).split("\n")) log(`  ${line}`);

    title("Placements choose clusters by claims and CEL (examples/placement-eu.yaml, placement-gpu.yaml)");
    await applyExample(hub, "placement-eu.yaml");
    await applyExample(hub, "placement-gpu.yaml");
    const selected = await decidedClusters(hub, "eu-clusters");
    await decidedClusters(hub, "gpu-clusters");
    log("  bosun explain placement eu-clusters -n default: why each cluster was or was not chosen");
    const explanation = await explainLive(hub, "default", "eu-clusters", Date.now());
    for (const line of renderTable(explanation).split("\n")) log(`    ${line}`);

    title("A workload to the EU placement: a ManifestWorkReplicaSet (examples/replicaset-web.yaml)");
    await applyExample(hub, "replicaset-web.yaml");
    const works = await waitForWorks(hub, "web", selected);
    log("  bosun get works: each chosen cluster's agent pulled its work, applied it and reported back");
    for (const line of worksTable(works).split("\n")) log(`    ${line}`);

    title("A bundle bigger than a ManifestWork may be, to the same placement: bosun apply");
    const catalogue = join(dir, "catalogue");
    const written = await writeCatalogue(catalogue);
    log(
      `  ${catalogue}: a CRD, 700 products of it, a namespace and price lists, ${written.files} files, ${(written.bytes / 2 ** 20).toFixed(1)} MiB`,
    );
    log(`  bosun apply -f ${catalogue} --placement eu-clusters --name catalogue --wait:`);
    let applied = "";
    await runApply(
      hub,
      {
        files: [catalogue],
        name: "catalogue",
        namespace: "default",
        placement: "eu-clusters",
        rollout: "All",
        dryRun: false,
        output: "table",
        wait: false,
        timeoutMs: 300_000,
      },
      { write: (chunk: string) => (applied += chunk) },
    );
    for (const line of applied.trimEnd().split("\n")) log(`    ${line}`);
    const parts = await waitForWorks(hub, "catalogue", selected);
    log("  bosun get works: split into parts under the limit, applied in order (CRD first) on each cluster");
    for (const line of worksTable(parts).split("\n")) log(`    ${line}`);

    title("A policy bound to the EU placement (examples/policy-shop-governed.yaml), first to inform");
    await applyExample(hub, "policy-shop-governed.yaml");
    const showCompliance = async (state: string, cluster?: string) => {
      const text = await waitForCompliance(hub, "shop-baseline", selected, state, cluster);
      for (const line of text.trimEnd().split("\n")) log(`    ${line}`);
    };
    log("  each chosen cluster's agent evaluates it and reports what is missing (bosun compliance):");
    await showCompliance("NonCompliant");
    await applyServerSide(
      hub,
      {
        apiVersion: Resources.Policy.apiVersion,
        kind: "Policy",
        metadata: { name: "shop-baseline", namespace: "default" },
        spec: { remediationAction: "enforce" },
      },
      { fieldManager: "bosun-demo-enforce", force: true },
    );
    log("  switched to enforce: the agents create what is missing, and report again:");
    await showCompliance("Compliant");

    const drifted = clusters.find((cluster) => cluster.name === selected[0]);
    if (drifted) {
      title(`Drift: the enforced LimitRange deleted on ${drifted.name}, as a hurried operator might`);
      await driftOn(drifted.kubeconfigPath);
      log(
        `  bosun compliance shop-baseline --cluster ${drifted.name}: the violation and its remediation, in the history`,
      );
      await showCompliance("Compliant", drifted.name);
    }

    log("\nWhere to look:");
    log(`  the hub's metrics (policy_governance_info, placement and work metrics): ${metricsUrl}`);
    if (options.prometheus) {
      try {
        const prometheus = await startBackgroundPrometheus({
          dir,
          targets: [{ job: "bosun-hub", url: metricsUrl }],
          ruleFiles: [join(import.meta.dirname, "..", "..", "deploy", "prometheus", "bosun-rules.yaml")],
        });
        log(
          `  Prometheus, scraping the hub with bosun's rules: ${prometheus.url}/graph?g0.expr=policy_governance_info`,
        );
      } catch (error) {
        log(
          `  (Prometheus did not start: ${(error as Error).message.split("\n")[0]}; see ${dir}/prometheus.log)`,
        );
      }
    }
  } finally {
    hub.close();
  }
  printReach(fleet, log);
  log("\nbosun against the hub (from this checkout):");
  log(`  npm run bosun -- get clusters ${hubFlag}`);
  log(`  npm run bosun -- get works ${hubFlag}`);
  log(`  npm run bosun -- compliance -n default ${hubFlag}`);
  log(`  npm run bosun -- explain placement eu-clusters -n default ${hubFlag}`);
  if (!options.exit) {
    log(
      `\nEverything keeps running: apply Placements, ManifestWorks and Policies to the hub with kubectl and watch them.`,
    );
    log(`Stop it with: make down   (or: npm run bosun -- local down --dir ${dir})`);
  }
}
