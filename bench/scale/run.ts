// The scale harness: one real hub control plane (kube-apiserver, etcd, kube-controller-manager),
// `bosun hub` as its own process, and N simulated agents in another (bench/scale/sim-agent.ts:
// bootstrap, CSR, certificate, ManagedCluster status and claims, lease renewals, a ManifestWork
// watch and status feedback with policy compliance, each with its own identity). Scenarios, in
// order: join; label the clusters and place them (a Placement choosing 100, 20 others by label);
// policies on every cluster; steady state; a label change on one cluster; a hub controller
// restart (the policies switched to enforce while it is down); an API server restart.
//   npm run bench:scale -- --clusters 1000 [--policies 10] [--steady-minutes 10] [--plot]
// Prints a summary table and JSON (stdout); progress goes to stderr.
import { fork, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { pino } from "pino";
import {
  BosunAgent,
  ConditionStatus,
  HubInfo,
  ManagedClusterConditions,
  Namespaces,
  PolicyLabels,
} from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { PlacementDecision } from "../../api/types/placement.ts";
import type { Policy } from "../../api/types/policy.ts";
import { bootstrapKubeconfig } from "../../cli/commands/join.ts";
import { longRunningNodeFlags } from "../../cli/background.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { freePort } from "../../local/ports.ts";
import { ManagedProcess } from "../../local/process.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { Informer } from "../../runtime/informer.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { profileApiServer, readServedTotals } from "../apiserver-metrics.ts";
import type { AgentProcessOptions, AgentProcessStats } from "./agents-process.ts";
import {
  Curve,
  etcdDbBytes,
  fetchText,
  metricValue,
  peakRate,
  peakRequests,
  processCpuSeconds,
  processRssBytes,
  requestCounts,
  type RequestSample,
  sampleRequests,
  writesBetween,
} from "./measure.ts";

const { values: args } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    policies: { type: "string", default: "10" },
    "steady-minutes": { type: "string", default: "10" },
    "write-concurrency": { type: "string", default: "64" },
    "join-concurrency": { type: "string", default: "32" },
    /** How long an agent keeps an idle connection: past the lease interval, renewals reuse it. */
    "idle-socket-seconds": { type: "string", default: "5" },
    /** The agents' `--hub-reconnect-window`, in seconds. */
    "reconnect-window-seconds": { type: "string", default: String(BosunAgent.hubReconnectWindowSeconds) },
    /** The clusters' spec.leaseDurationSeconds (unset: the hub's default, 60 s): what a large fleet's operator may set. */
    "lease-duration-seconds": { type: "string" },
    "timeout-minutes": { type: "string", default: "30" },
    plot: { type: "boolean", default: false },
    /** Takes 30 s CPU profiles of the API server into this directory: mid-join (at half, at most 3,000 clusters) and at rest. */
    "apiserver-profile-dir": { type: "string" },
  },
});
const clusters = Number(args.clusters);
const policies = Number(args.policies);
const steadyMinutes = Number(args["steady-minutes"]);
const timeoutMs = Number(args["timeout-minutes"]) * 60_000;
const profileDir = args["apiserver-profile-dir"];
const namespace = "scale";
const clusterApi = "cluster.open-cluster-management.io";
const policyApi = "policy.open-cluster-management.io";
const tiers = 19;
const logger = pino({ level: "warn" }, pino.destination(2));
const names = Array.from({ length: clusters }, (_, i) => `scale-${String(i).padStart(5, "0")}`);
const repo = join(import.meta.dirname, "..", "..");
const say = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Each result as it comes, so that a run cut short still leaves its figures. */
function announce(result: ScenarioResult): ScenarioResult {
  const { curve: _curve, ...rest } = result;
  say(`RESULT ${JSON.stringify(rest)}`);
  return result;
}

interface ScenarioResult {
  scenario: string;
  seconds?: number;
  figures: Record<string, unknown>;
  curve?: Curve;
  target?: number;
}

/** Samples `count()` every 250 ms until it reaches `target`; the seconds it took and the curve. */
async function converge(
  what: string,
  target: number,
  count: () => number,
  stragglers?: () => string,
): Promise<{ seconds: number; curve: Curve }> {
  const started = Date.now();
  const curve = new Curve(started);
  let lastReport = started;
  for (;;) {
    const now = Date.now();
    const value = count();
    curve.add(now, value);
    if (value >= target) return { seconds: Math.round((now - started) / 100) / 10, curve };
    if (now - started > timeoutMs)
      throw new Error(`${what}: ${value} of ${target} after ${timeoutMs / 60_000} min`);
    if (now - lastReport > 10_000) {
      say(`  ${what}: ${value}/${target}${stragglers ? `; not yet: ${stragglers()}` : ""}`);
      lastReport = now;
    }
    await sleep(250);
  }
}

/** The simulated agents' process. */
class AgentsProcess {
  readonly #child: ChildProcess;
  #waiters: ((message: { type: string }) => void)[] = [];

  constructor(options: AgentProcessOptions) {
    this.#child = fork(join(import.meta.dirname, "agents-process.ts"), [], {
      // Thousands of agents allocate fast: a young generation larger than a lean daemon's.
      execArgv: ["--max-semi-space-size=32", "--max-old-space-size=8192"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child.on("message", (message: { type: string }) => this.#waiters.shift()?.(message));
    this.#child.send({ type: "start", options });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  next<T>(): Promise<T> {
    return new Promise((resolve) => this.#waiters.push(resolve as (message: { type: string }) => void));
  }

  async request<T>(message: unknown): Promise<T> {
    const answer = this.next<T>();
    this.#child.send(message as object);
    return answer;
  }

  stats(): Promise<AgentProcessStats> {
    return this.request({ type: "stats" });
  }

  async stop(): Promise<void> {
    const stopped = this.request({ type: "stop" });
    await Promise.race([stopped, sleep(10_000)]);
    this.#child.kill("SIGKILL");
  }
}

function hubController(dir: string, kubeconfigPath: string, metricsPort: number): ManagedProcess {
  return new ManagedProcess({
    name: "bosun-hub",
    command: process.execPath,
    args: [
      ...longRunningNodeFlags,
      join(repo, "cli", "bosun.ts"),
      "hub",
      "--kubeconfig",
      kubeconfigPath,
      "--metrics-bind-address",
      `127.0.0.1:${metricsPort}`,
      "--no-webhook",
      "--auto-approved-csr-users",
      `system:serviceaccount:${Namespaces.operator}:${HubInfo.bootstrapServiceAccount}`,
      "--log-level",
      "warn",
    ],
    logFile: join(dir, "bosun-hub.log"),
    persistent: false,
  });
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

async function main(): Promise<void> {
  const binaries = await ensureKubeBinaries();
  // A fleet's worth of agents: more requests in flight than the defaults allow a single client.
  const plane = await ControlPlane.start({
    name: `scale-${clusters}`,
    binaries,
    apiserverArgs: [
      "--max-requests-inflight=800",
      "--max-mutating-requests-inflight=400",
      ...(profileDir ? ["--profiling=true"] : []),
    ],
  });
  const admin = await KubeClient.fromFile(plane.kubeconfigPath);
  const results: ScenarioResult[] = [];
  let agents: AgentsProcess | undefined;
  let hub: ManagedProcess | undefined;
  const informers: { stop(): Promise<void> }[] = [];
  try {
    await installCrds(admin, "hub");
    const endpoint = hubEndpointOf(admin);
    await ensureBootstrapIdentity(admin, endpoint);
    const token = await mintBootstrapToken(admin, 24 * 3600);
    const metricsPort = await freePort();
    hub = hubController(plane.dir, plane.kubeconfigPath, metricsPort);
    await hub.start();
    const hubMetrics = () => fetchText(`http://127.0.0.1:${metricsPort}/metrics`);

    // What the harness watches (its own informers, not the hub's).
    const managedClusters = new Informer<ManagedCluster>({
      client: admin,
      apiVersion: `${clusterApi}/v1`,
      kind: "ManagedCluster",
      logger,
    });
    const decisions = new Informer<PlacementDecision>({
      client: admin,
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "PlacementDecision",
      namespace,
      logger,
    });
    const roots = new Informer<Policy>({
      client: admin,
      apiVersion: `${policyApi}/v1`,
      kind: "Policy",
      namespace,
      logger,
    });
    for (const informer of [managedClusters, decisions, roots]) {
      informers.push(informer);
      informer.start();
      await informer.waitForSync();
    }
    const available = () =>
      managedClusters
        .list()
        .filter(
          (cluster) =>
            findCondition(cluster.status?.conditions, ManagedClusterConditions.joined)?.status ===
              ConditionStatus.True &&
            findCondition(cluster.status?.conditions, ManagedClusterConditions.available)?.status ===
              ConditionStatus.True,
        ).length;
    const decided = (placement: string) =>
      decisions
        .list()
        .filter((decision) => decision.metadata.labels?.[`${clusterApi}/placement`] === placement)
        .reduce((sum, decision) => sum + (decision.status?.decisions?.length ?? 0), 0);
    const decidedClusters = (placement: string) =>
      new Set(
        decisions
          .list()
          .filter((decision) => decision.metadata.labels?.[`${clusterApi}/placement`] === placement)
          .flatMap((decision) => (decision.status?.decisions ?? []).map((entry) => entry.clusterName)),
      );
    const reported = (compliant: string) =>
      roots
        .list()
        .filter((root) => !root.metadata.labels?.[PolicyLabels.rootPolicy])
        .reduce(
          (sum, root) =>
            sum + (root.status?.status ?? []).filter((entry) => entry.compliant === compliant).length,
          0,
        );

    say(`${clusters} clusters: starting the simulated agents`);
    agents = new AgentsProcess({
      hubServer: endpoint.server,
      caPem: endpoint.caPem,
      bootstrapKubeconfig: bootstrapKubeconfig(endpoint.server, endpoint.caPem, token),
      writeConcurrency: Number(args["write-concurrency"]),
      joinConcurrency: Number(args["join-concurrency"]),
      kubernetesVersion: "v1.36.3",
      idleSocketTimeoutMs: Number(args["idle-socket-seconds"]) * 1000,
      hubReconnectWindowMs: Number(args["reconnect-window-seconds"]) * 1000,
      leaseDurationSeconds: args["lease-duration-seconds"]
        ? Number(args["lease-duration-seconds"])
        : undefined,
    });
    await agents.next();
    const idleAgents = await agents.stats();

    // 1. Join: bootstrap, CSR approved and signed, accepted, Joined and Available.
    say("join");
    const joinCpu = hub.pid ? processCpuSeconds(hub.pid) : 0;
    const joined = agents.request<{ joined: number; failed: number }>({ type: "join", names });
    const profiles: Promise<void>[] = [];
    const profile = (label: string) => {
      if (profileDir)
        profiles.push(
          profileApiServer(plane, `${profileDir}/apiserver-${clusters}-${label}.pprof`, 30).catch(
            (error: unknown) => say(`profile ${label}: ${String(error)}`),
          ),
        );
    };
    const availableAndProfiled = () => {
      const count = available();
      if (profiles.length === 0 && count >= Math.min(clusters / 2, 3000)) profile(`join-at-${count}`);
      return count;
    };
    const join = await converge("joined and available", clusters, availableAndProfiled, () =>
      names
        .filter((name) => {
          const cluster = managedClusters.get(name);
          return (
            findCondition(cluster?.status?.conditions, ManagedClusterConditions.available)?.status !==
            ConditionStatus.True
          );
        })
        .slice(0, 3)
        .map((name) => {
          const cluster = managedClusters.get(name);
          const conditions = (cluster?.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`);
          return `${name} (${cluster ? conditions.join(",") || "no conditions" : "no ManagedCluster"})`;
        })
        .join("; "),
    );
    const joinAnswer = await joined;
    const afterJoin = await agents.stats();
    results.push(
      announce({
        scenario: "join",
        seconds: join.seconds,
        curve: join.curve,
        target: clusters,
        figures: {
          failed: joinAnswer.failed,
          hubCpuSeconds: Math.round((processCpuSeconds(hub.pid!) - joinCpu) * 10) / 10,
          agentKiBEach: Math.round((afterJoin.rssBytes - idleAgents.rssBytes) / clusters / 1024),
        },
      }),
    );

    // 2. Placement: tiers as labels (an admin's write), one Placement choosing 100 by claims,
    //    19 choosing one tier each.
    say("placement");
    for (let i = 0; i < clusters; i += 50)
      await Promise.all(
        names.slice(i, i + 50).map((name, offset) =>
          admin.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name }, "merge", {
            metadata: { labels: { tier: `t${(i + offset) % tiers}` } },
          }),
        ),
      );
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await admin.create({
      apiVersion: `${clusterApi}/v1beta2`,
      kind: "ManagedClusterSetBinding",
      metadata: { name: "global", namespace },
      spec: { clusterSet: "global" },
    });
    const placementStarted = Date.now();
    await admin.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "pick-100", namespace },
      spec: {
        numberOfClusters: 100,
        predicates: [
          {
            requiredClusterSelector: {
              claimSelector: {
                matchExpressions: [
                  {
                    key: "region.open-cluster-management.io",
                    operator: "In",
                    values: ["us-east-1", "eu-west-1"],
                  },
                ],
              },
            },
          },
        ],
      },
    });
    const pick = await converge("pick-100 decided", Math.min(100, Math.ceil(clusters / 2)), () =>
      decided("pick-100"),
    );
    for (let tier = 0; tier < tiers; tier++)
      await admin.create({
        apiVersion: `${clusterApi}/v1beta1`,
        kind: "Placement",
        metadata: { name: `tier-${tier}`, namespace },
        spec: {
          predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { tier: `t${tier}` } } } }],
        },
      });
    await admin.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "everywhere", namespace },
      spec: {},
    });
    const tiered = await converge("tier and everywhere placements decided", clusters * 2, () => {
      let total = decided("everywhere");
      for (let tier = 0; tier < tiers; tier++) total += decided(`tier-${tier}`);
      return total;
    });
    results.push(
      announce({
        scenario: "placement (100 of N, by claims)",
        seconds: pick.seconds,
        curve: pick.curve,
        target: 100,
        figures: {
          "20 more placements decided (s)": tiered.seconds,
          "from the first create (s)": Math.round((Date.now() - placementStarted) / 100) / 10,
        },
      }),
    );

    // 3. Policies on every cluster (inform: NonCompliant everywhere).
    say(`${policies} policies on every cluster`);
    const beforePolicies = await readServedTotals(admin);
    const policyCpu = processCpuSeconds(hub.pid!);
    for (let p = 0; p < policies; p++) {
      await admin.create({
        apiVersion: `${policyApi}/v1`,
        kind: "Policy",
        metadata: { name: `baseline-${p}`, namespace },
        spec: {
          disabled: false,
          remediationAction: "inform",
          "policy-templates": [
            configurationPolicy(`baseline-${p}-a`),
            configurationPolicy(`baseline-${p}-b`),
          ],
        },
      });
    }
    await admin.create({
      apiVersion: `${policyApi}/v1`,
      kind: "PlacementBinding",
      metadata: { name: "baseline", namespace },
      placementRef: { apiGroup: clusterApi, kind: "Placement", name: "everywhere" },
      subjects: Array.from({ length: policies }, (_, p) => ({
        apiGroup: policyApi,
        kind: "Policy",
        name: `baseline-${p}`,
      })),
    });
    const policyPhase = await converge("policies NonCompliant on the roots", clusters * policies, () =>
      reported("NonCompliant"),
    );
    const afterPolicies = await readServedTotals(admin);
    results.push(
      announce({
        scenario: `${policies} policies on every cluster`,
        seconds: policyPhase.seconds,
        curve: policyPhase.curve,
        target: clusters * policies,
        figures: {
          hubCpuSeconds: Math.round((processCpuSeconds(hub.pid!) - policyCpu) * 10) / 10,
          writes: requestCounts(afterPolicies).writes - requestCounts(beforePolicies).writes,
          busiest: writesBetween(beforePolicies, afterPolicies, 5),
        },
      }),
    );

    // 4. Steady state: nothing changes; what does the fleet cost the hub per cluster?
    say(`steady state for ${steadyMinutes} min`);
    // Placement scores move once more after the last change, at most once a scoreRateLimit
    // (60 s by default): the window starts after that.
    await sleep(90_000);
    const steadyStart = {
      at: Date.now(),
      served: await readServedTotals(admin),
      hubCpu: processCpuSeconds(hub.pid!),
      agents: await agents.stats(),
    };
    let peakHubRss = 0;
    const steadyEnd = steadyStart.at + steadyMinutes * 60_000;
    const steadySamples: RequestSample[] = [];
    profile("steady");
    while (Date.now() < steadyEnd) {
      peakHubRss = Math.max(peakHubRss, processRssBytes(hub.pid!));
      steadySamples.push(...(await sampleRequests(admin, Math.min(steadyEnd, Date.now() + 10_000))));
    }
    const steadyPeak10 = peakRate(steadySamples, 10);
    const steadyStop = {
      at: Date.now(),
      served: await readServedTotals(admin),
      hubCpu: processCpuSeconds(hub.pid!),
      agents: await agents.stats(),
    };
    const minutes = (steadyStop.at - steadyStart.at) / 60_000;
    const steadyWrites = requestCounts(steadyStop.served).writes - requestCounts(steadyStart.served).writes;
    const steadyRequests = requestCounts(steadyStop.served).all - requestCounts(steadyStart.served).all;
    const steadyRate = steadyRequests / (minutes * 60);
    results.push(
      announce({
        scenario: `steady state (${steadyMinutes} min)`,
        figures: {
          "writes per cluster per minute": Math.round((steadyWrites / clusters / minutes) * 1000) / 1000,
          "requests per second": Math.round(steadyRate * 10) / 10,
          busiest: writesBetween(steadyStart.served, steadyStop.served, 5),
          "hub CPU (% of a core)":
            Math.round(((steadyStop.hubCpu - steadyStart.hubCpu) / (minutes * 60)) * 1000) / 10,
          "hub RSS (MiB)": Math.round(peakHubRss / 2 ** 20),
          "agents CPU (% of a core)":
            Math.round(
              ((steadyStop.agents.cpu.user +
                steadyStop.agents.cpu.system -
                steadyStart.agents.cpu.user -
                steadyStart.agents.cpu.system) /
                1e6 /
                (minutes * 60)) *
                1000,
            ) / 10,
          "agent memory (KiB each)": Math.round(
            (steadyStop.agents.rssBytes - idleAgents.rssBytes) / clusters / 1024,
          ),
          "etcd db (MiB)": Math.round((await etcdDbBytes(plane.etcdUrl)) / 2 ** 20),
          "clusters Available at the end": available(),
        },
      }),
    );

    // 5. One cluster's label changes: only the placements it can affect are rescheduled.
    say("a label change on one cluster");
    const moved = names[3]!;
    const placementReconciles = () =>
      hubMetrics().then((text) =>
        metricValue(text, "bosun_controller_reconcile_total", { controller: "placement" }),
      );
    const reconcilesBefore = await placementReconciles();
    await admin.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: moved }, "merge", {
      metadata: { labels: { tier: "t4" } },
    });
    const relabel = await converge("the relabelled cluster in tier-4", 1, () =>
      decidedClusters("tier-4").has(moved) && !decidedClusters("tier-3").has(moved) ? 1 : 0,
    );
    await sleep(5_000);
    results.push(
      announce({
        scenario: "label change on one cluster",
        seconds: relabel.seconds,
        figures: {
          placements: tiers + 2,
          "placement reconciles": (await placementReconciles()) - reconcilesBefore,
        },
      }),
    );

    // 6. Hub controller restart with nothing changed: killed and started again; time until its
    //    caches are synced and every replica reconciled with its queues empty, and what it wrote
    //    meanwhile (lease renewals aside: the agents' and the leader elections').
    say("hub controller restart, nothing changed");
    const restart = async () => {
      process.kill(-hub!.pid!, "SIGKILL");
      while (hub!.running) await sleep(100);
      hub = hubController(plane.dir, plane.kubeconfigPath, metricsPort);
      await hub.start();
    };
    const beforeResync = await readServedTotals(admin);
    const resyncStarted = Date.now();
    await restart();
    let resynced: { seconds: number; curve: Curve } | undefined;
    let hubText = "";
    const caughtUp = (text: string) =>
      metricValue(text, "bosun_controller_reconcile_total", { controller: "policy-replica" }) >=
        clusters * policies && metricValue(text, "bosun_controller_queue_depth") === 0;
    for (;;) {
      hubText = await hubMetrics().catch(() => "");
      if (hubText && caughtUp(hubText)) {
        resynced = {
          seconds: Math.round((Date.now() - resyncStarted) / 100) / 10,
          curve: new Curve(resyncStarted),
        };
        break;
      }
      if (Date.now() - resyncStarted > timeoutMs) throw new Error("the restarted hub did not catch up");
      await sleep(500);
    }
    const afterResync = await readServedTotals(admin);
    const resyncWrites = writesBetween(beforeResync, afterResync, 50);
    delete resyncWrites["PUT leases"];
    results.push(
      announce({
        scenario: `hub restart, nothing changed (${clusters} clusters × ${policies} policies)`,
        seconds: resynced.seconds,
        figures: {
          "replica reconciles": metricValue(hubText, "bosun_controller_reconcile_total", {
            controller: "policy-replica",
          }),
          "writes besides leases": Object.values(resyncWrites).reduce((sum, count) => sum + count, 0),
          busiest: Object.fromEntries(Object.entries(resyncWrites).slice(0, 5)),
        },
      }),
    );

    // 7. Hub controller restart: killed, the policies switched to enforce while it is down,
    //    started again: time until every cluster's compliance is Compliant on every root.
    say("hub controller restart, policies changed while it is down");
    process.kill(-hub.pid!, "SIGKILL");
    while (hub.running) await sleep(100);
    for (let p = 0; p < policies; p++)
      await admin.patch(
        { apiVersion: `${policyApi}/v1`, kind: "Policy", namespace, name: `baseline-${p}` },
        "merge",
        {
          spec: { remediationAction: "enforce" },
        },
      );
    hub = hubController(plane.dir, plane.kubeconfigPath, metricsPort);
    const restartedAt = Date.now();
    await hub.start();
    const resync = await converge("Compliant on every root after the restart", clusters * policies, () =>
      reported("Compliant"),
    );
    results.push(
      announce({
        scenario: `hub restart, ${policies} policies to enforce while it was down`,
        seconds: resync.seconds,
        curve: resync.curve,
        target: clusters * policies,
        figures: { "from process start (s)": Math.round((Date.now() - restartedAt) / 100) / 10 },
      }),
    );

    // 8. API server restart: every agent reconnects; the request rate's peak against the steady
    //    rate, and the time until a policy change reaches every cluster again.
    say("API server restart");
    const restartsBefore = (await agents.stats()).watchRestarts;
    await plane.restartApiServer();
    // The agents come back over their reconnect window: sample past its end.
    const samples = await sampleRequests(
      admin,
      Date.now() + Number(args["reconnect-window-seconds"]) * 1000 + 30_000,
    );
    const restartsAfter = (await agents.stats()).watchRestarts;
    for (let p = 0; p < policies; p++)
      await admin.patch(
        { apiVersion: `${policyApi}/v1`, kind: "Policy", namespace, name: `baseline-${p}` },
        "merge",
        {
          spec: { remediationAction: "inform" },
        },
      );
    const recovered = await converge(
      "NonCompliant again after the API server restart",
      clusters * policies,
      () => reported("NonCompliant"),
    );
    const peak = Math.max(0, ...samples.map((sample) => sample.requests));
    const peak10 = peakRate(samples, 10);
    const ratio = (rate: number) => Math.round((rate / Math.max(steadyRate, 0.1)) * 100) / 100;
    results.push(
      announce({
        scenario: "API server restart",
        seconds: recovered.seconds,
        curve: recovered.curve,
        target: clusters * policies,
        figures: {
          "peak requests/s (1 s)": peak,
          "peak requests/s (10 s mean)": peak10,
          "steady requests/s": Math.round(steadyRate * 10) / 10,
          "steady peak requests/s (10 s mean)": steadyPeak10,
          "peak / steady (1 s)": ratio(peak),
          "peak / steady (10 s mean)": ratio(peak10),
          "busiest in the peak 10 s": peakRequests(samples, 10),
          "agent watch restarts": restartsAfter - restartsBefore,
        },
      }),
    );
  } finally {
    for (const informer of informers) await informer.stop();
    await agents?.stop();
    await hub?.stop();
    admin.close();
    await plane.stop();
  }

  const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(
    `\nscale harness: ${clusters} clusters, ${policies} policies — ${machine}, ${new Date().toISOString()}\n`,
  );
  console.log("| scenario | converged in | figures |");
  console.log("| --- | ---: | --- |");
  for (const result of results) {
    const seconds = result.seconds === undefined ? "" : `${result.seconds} s`;
    console.log(
      `| ${result.scenario} | ${seconds} | ${JSON.stringify(result.figures).replaceAll("|", "/")} |`,
    );
  }
  if (args.plot)
    for (const result of results)
      if (result.curve && result.target)
        console.log(`\n${result.scenario}\n${result.curve.plot(result.target)}`);
  console.log(
    `\n${JSON.stringify({ clusters, policies, machine, date: new Date().toISOString(), results: results.map(({ curve, ...rest }) => ({ ...rest, curve: curve?.points })) })}`,
  );
}

await main();
