// Governance on a real hub: the time from a Policy change until every cluster's compliance is on
// the root Policy. The hub side is real (one local kube-apiserver and etcd; bosun's placement,
// propagation, replica and PolicySet controllers over one shared cache, as `bosun hub` runs
// them); the clusters' agents are simulated by a worker thread (bench/agents-worker.ts) that
// writes the status a work agent and a policy agent would write for every policy ManifestWork.
// Two phases per fleet size: a Policy with two ConfigurationPolicy templates and its binding are
// created (inform: every cluster NonCompliant), then its remediationAction becomes enforce
// (every cluster Compliant).
//   npx node bench/governance.ts [--clusters 100,1000] [--agent-writes 32] [--replica-workers N]
//                                [--apiserver-profile FILE]
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  BosunPolicyWorkLabels,
  Labels,
  ManifestWorkConditions,
  PolicyLabels,
  Resources,
} from "../api/constants.ts";
import type { PlacementDecision } from "../api/types/placement.ts";
import type { ComplianceState, Policy } from "../api/types/policy.ts";
import type { ManifestWork } from "../api/types/work.ts";
import { HubInformers } from "../controllers/informers.ts";
import { PlacementController } from "../controllers/placement/controller.ts";
import { PolicyPropagator } from "../controllers/propagation/propagator.ts";
import { PolicySetController } from "../controllers/propagation/policyset-controller.ts";
import { ReplicaController } from "../controllers/propagation/replica-controller.ts";
import { ensureKubeBinaries } from "../local/binaries.ts";
import { ControlPlane } from "../local/controlplane.ts";
import { systemClock } from "../runtime/clock.ts";
import { findCondition } from "../runtime/conditions.ts";
import { installCrds } from "../runtime/crds.ts";
import { InformerFactory } from "../runtime/informer-factory.ts";
import { KubeClient, type KubeApi } from "../runtime/kube/client.ts";
import { createBoundClusterSet } from "../test/support/placement-fixtures.ts";
import { profileApiServer, readServedTotals, servedBetween } from "./apiserver-metrics.ts";
import { SimulatedAgents } from "./agents.ts";

const { values: args } = parseArgs({
  options: {
    clusters: { type: "string", default: "100,1000" },
    "agent-writes": { type: "string", default: "32" },
    /** Reconcile workers of the replica controller; its default when absent. */
    "replica-workers": { type: "string" },
    /** Writes a Go CPU profile of kube-apiserver over the change phase's first 15 s (`go tool pprof`). */
    "apiserver-profile": { type: "string" },
  },
});
const sizes = args.clusters.split(",").map(Number);
const agentConcurrency = Number(args["agent-writes"]);
const clusterApi = "cluster.open-cluster-management.io";
const policyApi = "policy.open-cluster-management.io";
const namespace = "policies";
const policyName = "baseline";
const replicaName = `${namespace}.${policyName}`;
// Logs go to stderr: stdout carries the JSON results.
const logger = pino({ level: "warn" }, pino.destination(2));
/** Linux reports process times in clock ticks of 1/100 s. */
const ticksPerSecond = 100;

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

/**
 * A client that counts the calls made through it, by method and kind (`patch ManifestWork/status`);
 * calls on the root Policies (those in the policy namespace) are counted apart.
 */
function countingClient(client: KubeClient): { api: KubeApi; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const methods = new Set([
    "get",
    "getOrUndefined",
    "list",
    "listAll",
    "create",
    "replace",
    "patch",
    "delete",
    "watch",
  ]);
  const api = new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== "string" || !methods.has(property) || typeof value !== "function") return value;
      return (...callArgs: unknown[]) => {
        const first = callArgs[0];
        const kind =
          typeof first === "object" && first !== null
            ? String((first as { kind?: string }).kind)
            : String(callArgs[1]);
        const options = callArgs.find(
          (arg): arg is { subresource?: string } =>
            typeof arg === "object" && arg !== null && "subresource" in arg,
        );
        const ref = first as { namespace?: string; metadata?: { namespace?: string } } | undefined;
        const root = kind === "Policy" && (ref?.namespace ?? ref?.metadata?.namespace) === namespace;
        const key = `${property} ${kind}${options?.subresource ? `/${options.subresource}` : ""}${root ? " (root)" : ""}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, callArgs);
      };
    },
  });
  return { api, counts };
}

const writeMethods = ["create", "replace", "patch", "delete"];
function writesOf(counts: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...counts].filter(([key]) => writeMethods.includes(key.slice(0, key.indexOf(" ")))));
}
function difference(
  after: ReadonlyMap<string, number>,
  before: ReadonlyMap<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after)
    if (value !== (before.get(key) ?? 0)) out[key] = value - (before.get(key) ?? 0);
  return out;
}

/** Reconciles and the seconds spent in them, by controller, from the controllers' metrics. */
async function reconcileTotals(registry: Registry): Promise<Map<string, { count: number; seconds: number }>> {
  const totals = new Map<string, { count: number; seconds: number }>();
  const entry = (controller: unknown) => {
    const key = String(controller);
    const found = totals.get(key) ?? { count: 0, seconds: 0 };
    totals.set(key, found);
    return found;
  };
  for (const metric of await registry.getMetricsAsJSON()) {
    if (metric.name === "bosun_controller_reconcile_total")
      for (const sample of metric.values) entry(sample.labels.controller).count += sample.value;
    if (metric.name === "bosun_controller_reconcile_duration_seconds")
      for (const sample of metric.values as {
        labels: Record<string, unknown>;
        value: number;
        metricName?: string;
      }[])
        if (sample.metricName?.endsWith("_sum")) entry(sample.labels.controller).seconds += sample.value;
  }
  return totals;
}

/** user+system seconds of another process, from /proc. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function configurationPolicy(name: string) {
  return {
    objectDefinition: {
      apiVersion: `${policyApi}/v1`,
      kind: "ConfigurationPolicy",
      metadata: { name },
      spec: {
        remediationAction: "inform",
        severity: "low",
        "object-templates": [
          {
            complianceType: "musthave",
            objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: `${name}-ns` } },
          },
        ],
      },
    },
  };
}

interface Expectation {
  action: "inform" | "enforce";
  compliant: ComplianceState;
}

/** Milestones of a phase, each the first time every one of the N clusters has reached it. */
const milestoneNames = [
  "replicas written",
  "works written",
  "agents reported",
  "replicas compliant",
  "root compliant",
] as const;
type Milestone = (typeof milestoneNames)[number];

function manifestsAction(work: ManifestWork, action: string): boolean {
  const manifests = work.spec?.workload?.manifests ?? [];
  return (
    manifests.length === 2 &&
    manifests.every(
      (manifest) =>
        (manifest as { spec?: { remediationAction?: string } }).spec?.remediationAction === action,
    )
  );
}

function reached(
  milestone: Milestone,
  clusters: number,
  expected: Expectation,
  policies: ReturnType<InformerFactory["informer"]>,
  works: ReturnType<InformerFactory["informer"]>,
): boolean {
  const replicas = () => policies.byLabel(PolicyLabels.rootPolicy, replicaName) as Policy[];
  const policyWorks = () =>
    (works.byLabel(BosunPolicyWorkLabels.replica, replicaName) as ManifestWork[]).filter(
      (work) => !work.metadata.deletionTimestamp,
    );
  switch (milestone) {
    case "replicas written": {
      const list = replicas();
      return (
        list.length === clusters &&
        list.every((replica) => replica.spec.remediationAction === expected.action)
      );
    }
    case "works written": {
      const list = policyWorks();
      return list.length === clusters && list.every((work) => manifestsAction(work, expected.action));
    }
    case "agents reported": {
      const list = policyWorks();
      return (
        list.length === clusters &&
        list.every((work) => {
          const applied = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
          return (
            manifestsAction(work, expected.action) && applied?.observedGeneration === work.metadata.generation
          );
        })
      );
    }
    case "replicas compliant": {
      const list = replicas();
      return (
        list.length === clusters && list.every((replica) => replica.status?.compliant === expected.compliant)
      );
    }
    case "root compliant": {
      const root = policies.get(`${namespace}/${policyName}`) as Policy | undefined;
      const perCluster = root?.status?.status ?? [];
      return (
        root?.status?.compliant === expected.compliant &&
        perCluster.length === clusters &&
        perCluster.every((entry) => entry.compliant === expected.compliant)
      );
    }
  }
}

interface PhaseResult {
  clusters: number;
  phase: string;
  seconds: Record<Milestone, number>;
  /** From the change until every controller's queue is empty. */
  idleSeconds: number;
  hubWrites: Record<string, number>;
  hubWritesTotal: number;
  hubReads: number;
  agentWrites: number;
  agentFailures: number;
  cpuSeconds: {
    /** The controllers' thread, without the benchmark's own polling (below). */
    hubThread: number;
    polling: number;
    agentThread: number;
    process: number;
    apiserver: number;
    etcd: number;
    controllerManager: number;
  };
  /** The whole process (controllers, their cache, the agents' worker and its cache). */
  peakRssMiB: number;
  /** The controllers' V8 heap (the main thread's isolate) when the root was compliant. */
  hubHeapUsedMiB: number;
  /** Reconciles (and seconds in them) by controller, from the change to "root compliant". */
  reconciles: Record<string, { count: number; seconds: number }>;
  /** What the API server served from the change to "root compliant", every client included. */
  apiserver: ReturnType<typeof servedBetween>;
  loadAverage: number;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

const results: PhaseResult[] = [];
for (const clusters of sizes) {
  const plane = await ControlPlane.start({
    name: `bench-governance-${clusters}`,
    binaries: await ensureKubeBinaries(),
    apiserverArgs: args["apiserver-profile"] ? ["--profiling=true"] : [],
  });
  const pids = plane.record().pids;
  try {
    const client = await KubeClient.fromFile(plane.kubeconfigPath);
    await installCrds(client, "hub");
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await createBoundClusterSet(client, "fleet", namespace);
    console.error(`${clusters} clusters: seeding clusters and their namespaces`);
    await inBatches(
      Array.from({ length: clusters }, (_, i) => `cluster-${String(i).padStart(5, "0")}`),
      16,
      async (name) => {
        await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
        await client.create({
          apiVersion: `${clusterApi}/v1`,
          kind: "ManagedCluster",
          metadata: { name, labels: { [Labels.clusterSet]: "fleet" } },
          spec: { hubAcceptsClient: true },
        });
      },
    );
    // kube-controller-manager gives every new namespace its service account and root CA
    // ConfigMap; let it finish before measuring.
    const namespaces = (await client.listAll("v1", "Namespace")).items.length;
    for (;;) {
      const accounts = await client.listAll("v1", "ServiceAccount", {
        fieldSelector: "metadata.name=default",
      });
      const roots = await client.listAll("v1", "ConfigMap", {
        fieldSelector: "metadata.name=kube-root-ca.crt",
      });
      if (accounts.items.length >= namespaces && roots.items.length >= namespaces) break;
      await sleep(500);
    }
    await client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "everywhere", namespace },
      spec: {},
    });

    const controllerClient = await KubeClient.fromFile(plane.kubeconfigPath);
    const counted = countingClient(controllerClient);
    const informers = new InformerFactory({ client: counted.api, logger });
    const registry = new Registry();
    const shared = { client: counted.api, clock: systemClock(), logger, registry, informers };
    const controllers = {
      placements: new PlacementController(shared),
      propagator: new PolicyPropagator(shared),
      replicas: new ReplicaController({
        ...shared,
        ...(args["replica-workers"] ? { workers: Number(args["replica-workers"]) } : {}),
      }),
      policySets: new PolicySetController(shared),
    };
    const agents = await SimulatedAgents.start({
      kubeconfigPath: plane.kubeconfigPath,
      concurrency: agentConcurrency,
      works: "policy",
    });
    for (const controller of Object.values(controllers)) await controller.start();
    const policies = informers.informer(Resources.Policy);
    const works = informers.informer(HubInformers.manifestWorks.resource, HubInformers.manifestWorks.scope);
    try {
      const decisions = informers.informer<PlacementDecision>(
        HubInformers.placementDecisions.resource,
        HubInformers.placementDecisions.scope,
      );
      const decidedAt = performance.now();
      while (decisions.list().reduce((sum, pd) => sum + (pd.status?.decisions?.length ?? 0), 0) !== clusters)
        await sleep(20);
      console.error(
        `  placement decided ${clusters} clusters in ${seconds(performance.now() - decidedAt)} s`,
      );
      await Promise.all(Object.values(controllers).map((controller) => controller.whenIdle()));

      const policyRef = { apiVersion: `${policyApi}/v1`, kind: "Policy", namespace, name: policyName };
      const phase = async (name: string, expected: Expectation, change: () => Promise<void>) => {
        const before = {
          reconciles: await reconcileTotals(registry),
          served: await readServedTotals(client),
          counts: new Map(counted.counts),
          agents: await agents.stats(),
          hubThread: process.threadCpuUsage(),
          process: process.cpuUsage(),
          apiserver: processCpuSeconds(pids.apiserver),
          etcd: processCpuSeconds(pids.etcd),
          controllerManager: processCpuSeconds(pids.controllerManager),
        };
        let peakRss = process.memoryUsage.rss();
        /** The hub thread's CPU spent checking milestones, taken out of the controllers' figure. */
        let pollingMicros = 0;
        const times: Partial<Record<Milestone, number>> = {};
        const started = performance.now();
        await change();
        while (times["root compliant"] === undefined) {
          const checking = process.threadCpuUsage();
          // Each milestone follows from the ones before it: check only the next ones, in order.
          for (const milestone of milestoneNames) {
            if (times[milestone] !== undefined) continue;
            if (!reached(milestone, clusters, expected, policies, works)) break;
            times[milestone] = performance.now() - started;
          }
          peakRss = Math.max(peakRss, process.memoryUsage.rss());
          const checked = process.threadCpuUsage(checking);
          pollingMicros += checked.user + checked.system;
          if (performance.now() - started > 15 * 60_000) throw new Error(`${name}: not done after 15 min`);
          // Every 50 ms: the times are to 0.05 s, and checking costs the controllers little CPU.
          await sleep(50);
        }
        const heapUsed = process.memoryUsage().heapUsed;
        // CPU first, so that reading the other figures is not counted in it.
        const done = {
          hubThread: process.threadCpuUsage(before.hubThread),
          process: process.cpuUsage(before.process),
          apiserver: processCpuSeconds(pids.apiserver) - before.apiserver,
          etcd: processCpuSeconds(pids.etcd) - before.etcd,
          controllerManager: processCpuSeconds(pids.controllerManager) - before.controllerManager,
          agents: await agents.stats(),
          reconciles: await reconcileTotals(registry),
          served: await readServedTotals(client),
          counts: new Map(counted.counts),
        };
        await Promise.all(Object.values(controllers).map((controller) => controller.whenIdle()));
        const idleSeconds = seconds(performance.now() - started);
        const hubWrites = difference(writesOf(done.counts), writesOf(before.counts));
        const reads = difference(done.counts, before.counts);
        const result: PhaseResult = {
          clusters,
          phase: name,
          seconds: Object.fromEntries(
            milestoneNames.map((m) => [m, seconds(times[m] ?? Number.NaN)]),
          ) as Record<Milestone, number>,
          idleSeconds,
          hubWrites,
          hubWritesTotal: Object.values(hubWrites).reduce((a, b) => a + b, 0),
          hubReads: Object.entries(reads)
            .filter(([key]) => !(key in hubWrites))
            .reduce((sum, [, value]) => sum + value, 0),
          agentWrites: done.agents.writes - before.agents.writes,
          agentFailures: done.agents.failures - before.agents.failures,
          cpuSeconds: {
            hubThread: seconds((done.hubThread.user + done.hubThread.system - pollingMicros) / 1000),
            polling: seconds(pollingMicros / 1000),
            agentThread: seconds(
              (done.agents.cpu.user +
                done.agents.cpu.system -
                before.agents.cpu.user -
                before.agents.cpu.system) /
                1000,
            ),
            process: seconds((done.process.user + done.process.system) / 1000),
            apiserver: Math.round(done.apiserver * 100) / 100,
            etcd: Math.round(done.etcd * 100) / 100,
            controllerManager: Math.round(done.controllerManager * 100) / 100,
          },
          peakRssMiB: Math.round(peakRss / 2 ** 20),
          hubHeapUsedMiB: Math.round(heapUsed / 2 ** 20),
          apiserver: servedBetween(before.served, done.served),
          reconciles: Object.fromEntries(
            [...done.reconciles].map(([controller, { count, seconds: spent }]) => {
              const previous = before.reconciles.get(controller) ?? { count: 0, seconds: 0 };
              return [
                controller,
                {
                  count: count - previous.count,
                  seconds: Math.round((spent - previous.seconds) * 100) / 100,
                },
              ];
            }),
          ),
          loadAverage: Math.round(loadavg()[0]! * 10) / 10,
        };
        console.error(`  ${name}: root compliant after ${result.seconds["root compliant"]} s`, result);
        results.push(result);
      };

      await phase(
        "create policy + binding (inform)",
        { action: "inform", compliant: "NonCompliant" },
        async () => {
          await client.create({
            ...policyRef,
            metadata: { name: policyName, namespace },
            spec: {
              disabled: false,
              remediationAction: "inform",
              "policy-templates": [
                configurationPolicy("baseline-namespaces"),
                configurationPolicy("baseline-quotas"),
              ],
            },
          });
          await client.create({
            apiVersion: `${policyApi}/v1`,
            kind: "PlacementBinding",
            metadata: { name: policyName, namespace },
            placementRef: { apiGroup: clusterApi, kind: "Placement", name: "everywhere" },
            subjects: [{ apiGroup: policyApi, kind: "Policy", name: policyName }],
          });
        },
      );
      await phase(
        "remediationAction inform → enforce",
        { action: "enforce", compliant: "Compliant" },
        async () => {
          const file = args["apiserver-profile"];
          // Not awaited: the profile runs alongside the phase.
          if (file)
            void profileApiServer(plane, `${file}.${clusters}`, 15).catch((error: unknown) =>
              console.error(error),
            );
          await client.patch(policyRef, "merge", { spec: { remediationAction: "enforce" } });
        },
      );
    } finally {
      for (const controller of Object.values(controllers).reverse()) await controller.stop();
      await agents.stop();
      await informers.stop();
      controllerClient.close();
      client.close();
    }
  } finally {
    await plane.stop();
  }
}

// Two tables for stderr (the JSON on stdout has everything): times, then costs.
const timeRows = results.map(
  (r) =>
    `| ${r.clusters} | ${r.phase} | ${milestoneNames.map((m) => `${r.seconds[m].toFixed(2)} s`).join(" | ")} |`,
);
const costRows = results.map((r) => {
  const cpu = r.cpuSeconds;
  const rootWrites = r.hubWrites["patch Policy/status (root)"] ?? 0;
  return (
    `| ${r.clusters} | ${r.phase} | ${r.hubWritesTotal} (${rootWrites}) | ${r.agentWrites} | ` +
    `${cpu.hubThread.toFixed(1)} / ${cpu.agentThread.toFixed(1)} / ${cpu.apiserver.toFixed(1)} / ${cpu.etcd.toFixed(1)} s | ` +
    `${r.peakRssMiB} MiB |`
  );
});
console.error(
  [
    `| clusters | phase | ${milestoneNames.join(" | ")} |`,
    `| ---: | --- | ${milestoneNames.map(() => "---:").join(" | ")} |`,
    ...timeRows,
    "",
    "| clusters | phase | hub writes (root status) | agent writes | CPU hub / agents / apiserver / etcd | peak RSS |",
    "| ---: | --- | ---: | ---: | ---: | ---: |",
    ...costRows,
  ].join("\n"),
);
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      agentWritesInFlight: agentConcurrency,
      results,
    },
    null,
    2,
  ),
);
