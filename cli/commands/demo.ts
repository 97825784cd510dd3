// `bosun demo`: the main job on one machine, from nothing. A hub and managed clusters as
// real control planes; the hub controllers and one agent per cluster as background
// processes; every cluster joined over CSR, accepted, and reporting back.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { parseAllDocuments } from "yaml";
import { Labels, ManagedClusterConditions, ManifestWorkConditions, Resources } from "../../api/constants.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { freePort } from "../../local/ports.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { startBackground } from "../background.ts";
import { installCrds } from "../../runtime/crds.ts";
import { acceptCluster } from "./accept.ts";
import { explainLive, renderTable } from "./explain.ts";
import { clustersTable, worksTable } from "./get.ts";
import { runCompliance } from "./compliance.ts";
import { evaluateAgainstServer, readPolicies } from "./policy.ts";
import { joinCluster } from "./join.ts";
import { defaultLocalDir, localUp, parseCount, printReach } from "./local.ts";

const examplesDir = join(import.meta.dirname, "..", "..", "examples");

async function waitForFleet(
  hub: KubeClient,
  names: string[],
  timeoutMs: number,
  log: (line: string) => void,
): Promise<ManagedCluster[]> {
  const deadline = Date.now() + timeoutMs;
  let reported = "";
  for (;;) {
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
    const progress = `${done.length}/${names.length} clusters joined and available`;
    if (progress !== reported) log(`  ${progress}`);
    reported = progress;
    if (done.length === names.length)
      return items.filter((cluster) => names.includes(cluster.metadata.name ?? ""));
    if (Date.now() > deadline)
      throw new Error(`the fleet did not come up within ${timeoutMs / 1000} s (${progress})`);
    await sleep(1000);
  }
}

/** The same policies with remediationAction inform: what holds now, changing nothing. */
function asInform(policies: ReturnType<typeof readPolicies>): ReturnType<typeof readPolicies> {
  return {
    ...policies,
    work: policies.work.map((work) => {
      const policy = work.configurationPolicy;
      if (!policy) return work;
      const spec = { ...(policy.spec as Record<string, unknown>), remediationAction: "inform" };
      return { ...work, configurationPolicy: { ...policy, spec } };
    }),
  };
}

/** Regions the demo gives its clusters, as the claim `region.open-cluster-management.io`. */
const demoRegions = ["eu-west-1", "us-east-1", "eu-central-1", "ap-south-1"];

async function ensureRegionClaim(kubeconfigPath: string, region: string): Promise<void> {
  const client = await KubeClient.fromFile(kubeconfigPath);
  try {
    await installCrds(client, "managed");
    await applyServerSide(
      client,
      {
        apiVersion: "cluster.open-cluster-management.io/v1alpha1",
        kind: "ClusterClaim",
        metadata: { name: "region.open-cluster-management.io" },
        spec: { value: region },
      },
      { fieldManager: "bosun-demo", force: true },
    );
  } finally {
    client.close();
  }
}

/** Applies the example placement and returns the clusters its decisions name, once there are some. */
async function applyExamplePlacement(hub: KubeClient): Promise<string[]> {
  const documents = parseAllDocuments(await readFile(join(examplesDir, "placement-eu.yaml"), "utf8"));
  for (const document of documents) {
    await applyServerSide(hub, document.toJS() as Unstructured, { fieldManager: "bosun-demo", force: true });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { items } = await hub.listAll<Unstructured>(
      Resources.PlacementDecision.apiVersion,
      "PlacementDecision",
      {
        namespace: "default",
        labelSelector: `${Labels.placement}=eu-clusters`,
      },
    );
    const names = items.flatMap(
      (decision) =>
        (decision.status as { decisions?: { clusterName: string }[] } | undefined)?.decisions ?? [],
    );
    if (names.length > 0 || Date.now() > deadline)
      return names.map((decision) => decision.clusterName).sort();
    await sleep(500);
  }
}

/**
 * Applies examples/replicaset-web.yaml and waits until every cluster's ManifestWork is Applied
 * (the agents pulled and applied it); returns the works.
 */
async function deliverExampleWorkload(hub: KubeClient, clusters: number): Promise<ManifestWork[]> {
  const documents = parseAllDocuments(await readFile(join(examplesDir, "replicaset-web.yaml"), "utf8"));
  for (const document of documents) {
    await applyServerSide(hub, document.toJS() as Unstructured, { fieldManager: "bosun-demo", force: true });
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { items } = await hub.listAll<ManifestWork>(Resources.ManifestWork.apiVersion, "ManifestWork", {
      labelSelector: `${Labels.manifestWorkReplicaSet}=default.web`,
    });
    const applied = items.filter(
      (work) => findCondition(work.status?.conditions, ManifestWorkConditions.applied)?.status === "True",
    );
    if ((items.length >= clusters && applied.length === items.length) || Date.now() > deadline) return items;
    await sleep(500);
  }
}

/**
 * Waits until the root policy reports `state` for every selected cluster (or a deadline passes)
 * and returns the `bosun compliance` table as it then stands.
 */
async function waitForCompliance(
  hub: KubeClient,
  policy: string,
  clusters: readonly string[],
  state: string,
): Promise<string> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const root = await hub.getOrUndefined<
      Unstructured & { status?: { status?: { clustername?: string; compliant?: string }[] } }
    >({
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "Policy",
      namespace: "default",
      name: policy,
    });
    const reported = new Map(
      (root?.status?.status ?? []).map((entry) => [entry.clustername, entry.compliant]),
    );
    if (clusters.every((cluster) => reported.get(cluster) === state) || Date.now() > deadline) {
      let text = "";
      await runCompliance(
        hub,
        { namespace: "default", policy, output: "table", color: false },
        {
          write: (chunk: string) => (text += chunk),
        },
      );
      return text;
    }
    await sleep(500);
  }
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("start a local hub and managed clusters, join them, and show the fleet")
    .option("--clusters <n>", "number of managed clusters", "2")
    .option(
      "--dir <dir>",
      "where the control planes and processes keep their data, logs and kubeconfigs",
      defaultLocalDir(),
    )
    .action(async (options: { clusters: string; dir: string }) => {
      const log = (line: string) => console.log(line);
      const dir = resolve(options.dir);
      log(
        "bosun demo: a hub and managed clusters, each a real kube-apiserver, etcd and kube-controller-manager",
      );
      const members = await localUp(dir, parseCount(options.clusters), log);
      const hubMember = members.find((member) => member.role === "hub")!;
      const clusters = members.filter((member) => member.role === "managed");

      log("\n[1/8] bosun init: hub APIs, bootstrap identity");
      const hub = await KubeClient.fromFile(hubMember.kubeconfigPath);
      try {
        await installCrds(hub, "hub");
        const endpoint = hubEndpointOf(hub);
        await ensureBootstrapIdentity(hub, endpoint);
        const token = await mintBootstrapToken(hub);

        log("[2/8] bosun hub: the hub controllers, in the background");
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
        log(
          `  pid ${hubProcess.pid}, log ${hubProcess.logFile}, metrics http://127.0.0.1:${metricsPort}/metrics`,
        );

        log("[3/8] bosun join on every managed cluster (an agent each, in the background)");
        for (const [index, cluster] of clusters.entries()) {
          await ensureRegionClaim(cluster.kubeconfigPath, demoRegions[index % demoRegions.length]!);
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
          log(
            `  ${cluster.name}: bootstrap secret written, agent started (log ${dir}/agent-${cluster.name}.log)`,
          );
        }

        log("[4/8] bosun accept on the hub");
        for (const cluster of clusters) {
          const result = await acceptCluster(hub, cluster.name, { waitMs: 120_000 });
          log(
            `  ${cluster.name}: ${result.approved.length ? `approved ${result.approved.join(", ")}` : "accepted before"}`,
          );
        }
        const fleet = await waitForFleet(
          hub,
          clusters.map((cluster) => cluster.name),
          180_000,
          log,
        );
        log(`\n${clustersTable(fleet)}\n`);

        log("[5/8] a Placement by claim (examples/placement-eu.yaml)");
        const selected = await applyExamplePlacement(hub);
        log(`  default/eu-clusters selects: ${selected.join(", ") || "(none)"}\n`);
        log("  bosun explain placement eu-clusters -n default:");
        const explanation = await explainLive(hub, "default", "eu-clusters", Date.now());
        for (const line of renderTable(explanation).split("\n")) log(`    ${line}`);

        log("\n[6/8] a ManifestWorkReplicaSet to that placement (examples/replicaset-web.yaml)");
        const works = await deliverExampleWorkload(hub, selected.length);
        log("  bosun get works: each selected cluster's agent pulled its work and applied it");
        for (const line of worksTable(works).split("\n")) log(`    ${line}`);

        log(
          "\n[7/8] bosun policy evaluate on each selected cluster (examples/policy-baseline.yaml; read-only)",
        );
        const policyFile = join(examplesDir, "policy-baseline.yaml");
        const policies = readPolicies(await readFile(policyFile, "utf8"), policyFile);
        for (const name of selected) {
          const member = clusters.find((cluster) => cluster.name === name);
          if (!member) continue;
          const client = await KubeClient.fromFile(member.kubeconfigPath);
          try {
            const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
            // How the cluster stands now (as inform reports it), then what enforce would change.
            const current = await evaluateAgainstServer(asInform(policies), client, now);
            for (const result of current.results) log(`  ${name}: ${result.message}`);
            const enforced = await evaluateAgainstServer(policies, client, now);
            for (const result of enforced.results) {
              for (const change of result.changes) {
                log(
                  `    enforce would ${change.action} ${change.kind} ${change.namespace ? `${change.namespace}/` : ""}${change.name}`,
                );
              }
            }
          } finally {
            client.close();
          }
        }

        log(
          "\n[8/8] the same baseline as a Policy bound to that placement (examples/policy-shop-governed.yaml)",
        );
        for (const document of parseAllDocuments(
          await readFile(join(examplesDir, "policy-shop-governed.yaml"), "utf8"),
        )) {
          await applyServerSide(hub, document.toJS() as Unstructured, {
            fieldManager: "bosun-demo",
            force: true,
          });
        }
        const showCompliance = async (state: string) => {
          const text = await waitForCompliance(hub, "shop-baseline", selected, state);
          for (const line of text.trimEnd().split("\n")) log(`    ${line}`);
        };
        log("  inform: each chosen cluster's agent evaluates it and reports (bosun compliance):");
        await showCompliance("NonCompliant");
        await applyServerSide(
          hub,
          {
            apiVersion: "policy.open-cluster-management.io/v1",
            kind: "Policy",
            metadata: { name: "shop-baseline", namespace: "default" },
            spec: { remediationAction: "enforce" },
          },
          { fieldManager: "bosun-demo-enforce", force: true },
        );
        log("  enforce: the agents create what is missing, and report again:");
        await showCompliance("Compliant");
      } finally {
        hub.close();
      }
      printReach(members, log);
      log(`\nSee the fleet: npm run bosun -- get clusters --kubeconfig ${hubMember.kubeconfigPath}`);
      log(`See the works: npm run bosun -- get works --kubeconfig ${hubMember.kubeconfigPath}`);
      log(`See compliance: npm run bosun -- compliance -n default --kubeconfig ${hubMember.kubeconfigPath}`);
      log(
        `Explain a placement: npm run bosun -- explain placement eu-clusters -n default --kubeconfig ${hubMember.kubeconfigPath}`,
      );
      log(
        `Everything keeps running. Stop it with: make down   (or: npm run bosun -- local down --dir ${dir})`,
      );
    });
}
