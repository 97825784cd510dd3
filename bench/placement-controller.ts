// The placement controller on a real hub: seeds N ManagedClusters and P varied Placements,
// starts the controller and measures the time until every Placement's status and
// PlacementDecisions agree with the scheduler, the API writes it made and the peak RSS; then
// the time to settle again after a change every placement must re-check, after one that
// changes a few placements' results and after one placement's spec edit; then a restart.
//   npx node bench/placement-controller.ts [--clusters 1000] [--placements 1000]
import { availableParallelism, cpus, totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Registry } from "prom-client";
import { ClusterSetSelectorTypes, Labels, Resources } from "../api/constants.ts";
import type { ManagedCluster, ManagedClusterSet, ManagedClusterSetBinding } from "../api/types/cluster.ts";
import type {
  Placement,
  PlacementDecision,
  PlacementSpec,
  PrioritizerConfig,
} from "../api/types/placement.ts";
import { installCrds } from "../runtime/crds.ts";
import { PlacementCel } from "../controllers/placement/cel/environment.ts";
import { PlacementController } from "../controllers/placement/controller.ts";
import { FleetIndex } from "../controllers/placement/scheduler/fleet.ts";
import { schedule } from "../controllers/placement/scheduler/scheduler.ts";
import { ensureKubeBinaries } from "../local/binaries.ts";
import { ControlPlane } from "../local/controlplane.ts";
import { systemClock } from "../runtime/clock.ts";
import { KubeClient } from "../runtime/kube/client.ts";
import type { KubeList } from "../runtime/kube/types.ts";

const namespace = "default";
const setName = "bench";
const regions = ["eu-west", "eu-central", "us-east", "us-west"];
const tiers = ["gold", "silver", "bronze"];
const platforms = ["AWS", "GCP", "Azure"];
const regionClaim = "region.open-cluster-management.io";
const platformClaim = "platform.open-cluster-management.io";
const kubeVersionClaim = "kubeversion.open-cluster-management.io";
const canaryLabel = "bench.example.com/canary";
const seedConcurrency = 16;
const pollIntervalMs = 500;
const settleTimeoutMs = 60 * 60_000;

const { values: args } = parseArgs({
  options: { clusters: { type: "string", default: "1000" }, placements: { type: "string", default: "1000" } },
});
const clusterCount = Number(args.clusters);
const placementCount = Number(args.placements);
if (!Number.isInteger(clusterCount) || clusterCount < 12)
  throw new Error(`--clusters: must be a whole number of at least 12, not ${args.clusters}`);
if (!Number.isInteger(placementCount) || placementCount < 10)
  throw new Error(`--placements: must be a whole number of at least 10, not ${args.placements}`);

// Fleet and placements --------------------------------------------------------------------------

function clusterName(i: number): string {
  return `cluster-${String(i).padStart(5, "0")}`;
}

function placementName(i: number): string {
  return `p-${String(i).padStart(4, "0")}`;
}

function clusterObject(i: number): ManagedCluster {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1",
    kind: "ManagedCluster",
    metadata: {
      name: clusterName(i),
      labels: {
        [Labels.clusterSet]: setName,
        region: regions[i % 4]!,
        tier: tiers[Math.floor(i / 4) % 3]!,
      },
    },
    spec: { hubAcceptsClient: true },
  };
}

function clusterStatus(i: number): ManagedCluster["status"] {
  const resources = { cpu: `${4 + ((i * 7) % 61)}`, memory: `${16 + ((i * 11) % 113)}Gi` };
  const claims = {
    [regionClaim]: regions[i % 4]!,
    [platformClaim]: platforms[Math.floor(i / 12) % 3]!,
    [kubeVersionClaim]: `v1.${29 + (i % 4)}.0`,
    "id.k8s.io": `id-${i}`,
  };
  return {
    allocatable: resources,
    capacity: resources,
    version: { kubernetes: `v1.${29 + (i % 4)}.${i % 7}` },
    clusterClaims: Object.entries(claims).map(([name, value]) => ({ name, value })),
  };
}

const builtIn = (name: "Balance" | "Steady" | "ResourceAllocatableCPU", weight = 1): PrioritizerConfig => ({
  scoreCoordinate: { type: "BuiltIn", builtIn: name },
  weight,
});

/** Eight kinds of placement in turn, two CEL placements first and a few on the canary label. */
function placementSpec(i: number): PlacementSpec {
  const region = regions[i % 4]!;
  if (i === 0)
    return {
      predicates: [
        {
          requiredClusterSelector: {
            celSelector: { celExpressions: ['managedCluster.metadata.labels["tier"] == "gold"'] },
          },
        },
      ],
    };
  if (i === 1)
    return {
      numberOfClusters: 20,
      predicates: [
        {
          requiredClusterSelector: {
            celSelector: {
              celExpressions: [
                'semver(managedCluster.status.version.kubernetes, true).isGreaterThan(semver("1.30.0"))',
              ],
            },
          },
        },
      ],
      prioritizerPolicy: { configurations: [builtIn("ResourceAllocatableCPU")] },
    };
  if (i % 50 === 9)
    return {
      predicates: [
        { requiredClusterSelector: { labelSelector: { matchLabels: { [canaryLabel]: "true" } } } },
      ],
    };
  switch (i % 8) {
    case 0:
      return { predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { region } } } }] };
    case 1:
      return {
        numberOfClusters: 10,
        predicates: [
          {
            requiredClusterSelector: {
              labelSelector: {
                matchExpressions: [{ key: "tier", operator: "In", values: ["gold", "silver"] }],
              },
            },
          },
        ],
        prioritizerPolicy: { configurations: [builtIn("Balance")] },
      };
    case 2:
      return {
        predicates: [
          {
            requiredClusterSelector: {
              claimSelector: {
                matchExpressions: [{ key: platformClaim, operator: "In", values: [platforms[i % 3]!] }],
              },
            },
          },
        ],
      };
    case 3:
      return {
        numberOfClusters: 20,
        predicates: [
          {
            requiredClusterSelector: {
              claimSelector: {
                matchExpressions: [
                  { key: regionClaim, operator: "In", values: [region, regions[(i + 1) % 4]!] },
                ],
              },
            },
          },
        ],
        prioritizerPolicy: { configurations: [builtIn("Steady", 2), builtIn("Balance")] },
      };
    case 4:
      return {
        predicates: [
          {
            requiredClusterSelector: {
              labelSelector: { matchLabels: { tier: "gold" } },
              claimSelector: { matchExpressions: [{ key: platformClaim, operator: "In", values: ["GCP"] }] },
            },
          },
        ],
      };
    case 5:
      return {
        numberOfClusters: 50,
        prioritizerPolicy: {
          mode: "Additive",
          configurations: [builtIn("Balance"), builtIn("Steady"), builtIn("ResourceAllocatableCPU", 2)],
        },
      };
    case 6:
      return {
        numberOfClusters: 5,
        predicates: [
          {
            requiredClusterSelector: {
              labelSelector: { matchExpressions: [{ key: "region", operator: "NotIn", values: [region] }] },
              claimSelector: {
                matchExpressions: [{ key: kubeVersionClaim, operator: "In", values: ["v1.31.0", "v1.32.0"] }],
              },
            },
          },
        ],
        prioritizerPolicy: { mode: "Exact", configurations: [builtIn("ResourceAllocatableCPU")] },
      };
    default:
      return {
        predicates: [
          { requiredClusterSelector: { labelSelector: { matchLabels: { region, tier: tiers[i % 3]! } } } },
        ],
      };
  }
}

// What the scheduler computes ---------------------------------------------------------------------

interface Expectation {
  count: number;
  /** The PlacementDecision names, sorted and joined. */
  decisionNames: string;
  /** Without numberOfClusters every feasible cluster is chosen: the fingerprint of that set. */
  fingerprint?: number;
}

/** FNV-1a; summed over names it fingerprints a set without keeping the names. */
function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function expectations(
  placements: Iterable<Placement>,
  clusters: readonly ManagedCluster[],
  fleetObjects: { set: ManagedClusterSet; binding: ManagedClusterSetBinding },
): Map<string, Expectation> {
  // Balance and Steady reorder clusters but change neither how many are chosen nor, without
  // numberOfClusters, which: the fleet needs no decisions for these figures.
  const fleet = new FleetIndex({
    clusters,
    clusterSets: [fleetObjects.set],
    bindings: [fleetObjects.binding],
    scores: [],
    decisions: [],
  });
  const cel = new PlacementCel();
  const now = Date.now();
  const out = new Map<string, Expectation>();
  for (const placement of placements) {
    const result = schedule(placement, fleet, { now, cel });
    const expectation: Expectation = {
      count: result.status.numberOfSelectedClusters ?? 0,
      decisionNames: result.placementDecisions
        .map((pd) => pd.metadata.name ?? "")
        .sort()
        .join(","),
    };
    if (placement.spec.numberOfClusters === undefined) {
      let fingerprint = 0;
      for (const pd of result.placementDecisions)
        for (const d of pd.status?.decisions ?? [])
          fingerprint = (fingerprint + nameHash(d.clusterName)) >>> 0;
      expectation.fingerprint = fingerprint;
    }
    out.set(placement.metadata.name ?? "", expectation);
  }
  return out;
}

interface Progress {
  /** Placements whose status or decisions do not match yet. */
  pending: number;
  decisionObjects: number;
  decisions: number;
}

/**
 * Compares the hub with the expectations, a page at a time: placement counts first, and only
 * when they all match, the PlacementDecisions (names, entries, the chosen set where it is
 * fixed, and no cluster from `excluded`).
 */
async function progress(
  client: KubeClient,
  expected: ReadonlyMap<string, Expectation>,
  excluded: ReadonlySet<string>,
): Promise<Progress> {
  let pending = 0;
  let continueToken: string | undefined;
  do {
    const page: KubeList<Placement> = await client.list<Placement>(
      Resources.Placement.apiVersion,
      Resources.Placement.kind,
      {
        namespace,
        limit: 250,
        continue: continueToken,
      },
    );
    for (const placement of page.items) {
      const expectation = expected.get(placement.metadata.name ?? "");
      if (expectation && placement.status?.numberOfSelectedClusters !== expectation.count) pending++;
    }
    continueToken = page.metadata.continue || undefined;
  } while (continueToken);
  if (pending > 0) return { pending, decisionObjects: 0, decisions: 0 };

  const seen = new Map<string, { names: string[]; count: number; fingerprint: number; excluded: boolean }>();
  let decisionObjects = 0;
  let decisions = 0;
  continueToken = undefined;
  do {
    const page: KubeList<PlacementDecision> = await client.list<PlacementDecision>(
      Resources.PlacementDecision.apiVersion,
      Resources.PlacementDecision.kind,
      { namespace, labelSelector: Labels.placement, limit: 250, continue: continueToken },
    );
    for (const pd of page.items) {
      const owner = pd.metadata.labels?.[Labels.placement] ?? "";
      let entry = seen.get(owner);
      if (!entry) seen.set(owner, (entry = { names: [], count: 0, fingerprint: 0, excluded: false }));
      entry.names.push(pd.metadata.name ?? "");
      decisionObjects++;
      for (const d of pd.status?.decisions ?? []) {
        decisions++;
        entry.count++;
        entry.fingerprint = (entry.fingerprint + nameHash(d.clusterName)) >>> 0;
        if (excluded.has(d.clusterName)) entry.excluded = true;
      }
    }
    continueToken = page.metadata.continue || undefined;
  } while (continueToken);
  for (const [name, expectation] of expected) {
    const entry = seen.get(name);
    const ok =
      entry !== undefined &&
      entry.names.sort().join(",") === expectation.decisionNames &&
      entry.count === expectation.count &&
      !entry.excluded &&
      (expectation.fingerprint === undefined || entry.fingerprint === expectation.fingerprint);
    if (!ok) pending++;
  }
  return { pending, decisionObjects, decisions };
}

async function waitUntilSettled(
  client: KubeClient,
  expected: ReadonlyMap<string, Expectation>,
  excluded: ReadonlySet<string>,
  since: number,
): Promise<{ ms: number; progress: Progress }> {
  for (;;) {
    const state = await progress(client, expected, excluded);
    const ms = performance.now() - since;
    if (state.pending === 0) return { ms, progress: state };
    if (ms > settleTimeoutMs)
      throw new Error(`${state.pending} placements had not settled after ${(ms / 1000).toFixed(0)} s`);
    await sleep(pollIntervalMs);
  }
}

// Measuring the controller ---------------------------------------------------------------------

class WriteTally {
  total = 0;
  failed = 0;
  lastAt = 0;
  readonly byKind = new Map<string, number>();
  /** The placements whose status or decisions were written. */
  readonly placements = new Set<string>();

  reset(): void {
    this.total = 0;
    this.failed = 0;
    this.lastAt = 0;
    this.byKind.clear();
    this.placements.clear();
  }

  summary(): string {
    const parts = [...this.byKind].sort().map(([kind, n]) => `${kind} ${n}`);
    const failed = this.failed ? ` (${this.failed} failed)` : "";
    return `${this.total}${failed} to ${this.placements.size} placements${parts.length ? ` [${parts.join(", ")}]` : ""}`;
  }
}

/** Counts every create, patch, replace and delete the client sends, as "method[/subresource] Kind". */
function countWrites(client: KubeClient, tally: WriteTally): void {
  for (const method of ["create", "patch", "replace", "delete"] as const) {
    const original = client[method].bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      const target = args[0] as { kind?: string; name?: string; metadata?: { name?: string } };
      const name = target.name ?? target.metadata?.name ?? "";
      tally.placements.add(target.kind === "Placement" ? name : name.replace(/-decision-\d+$/, ""));
      const options = (method === "patch" ? args[3] : args[1]) as { subresource?: string } | undefined;
      const key = `${method}${options?.subresource ? `/${options.subresource}` : ""} ${target.kind ?? "?"}`;
      tally.total++;
      tally.byKind.set(key, (tally.byKind.get(key) ?? 0) + 1);
      try {
        return await original(...args);
      } catch (error) {
        tally.failed++;
        throw error;
      } finally {
        tally.lastAt = performance.now();
      }
    };
  }
}

class RssSampler {
  peak = 0;
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.sample();
    this.#timer = setInterval(() => this.sample(), 100);
    this.#timer.unref();
  }

  sample(): number {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  resetPeak(): void {
    this.peak = 0;
    this.sample();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

async function reconcileCount(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric("bosun_controller_reconcile_total")?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/** Waits until the controller has reconciled nothing for a second. */
async function quiesce(controller: PlacementController, registry: Registry): Promise<void> {
  for (;;) {
    await controller.whenIdle();
    const before = await reconcileCount(registry);
    await sleep(1000);
    await controller.whenIdle();
    if ((await reconcileCount(registry)) === before) return;
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

// Run --------------------------------------------------------------------------------------------

const logger = pino({ level: "silent" });
const rss = new RssSampler();
console.log(
  `node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"}), ${mib(totalmem())} memory`,
);
console.log(`${clusterCount} clusters × ${placementCount} placements; poll every ${pollIntervalMs} ms`);

const plane = await ControlPlane.start({ name: "bench-hub", binaries: await ensureKubeBinaries() });
const client = await KubeClient.fromFile(plane.kubeconfigPath);
const tally = new WriteTally();
let controllerClient: KubeClient | undefined;
let controller: PlacementController | undefined;
try {
  await installCrds(client, "hub");
  const set = await client.create<ManagedClusterSet>({
    apiVersion: "cluster.open-cluster-management.io/v1beta2",
    kind: "ManagedClusterSet",
    metadata: { name: setName },
    spec: { clusterSelector: { selectorType: ClusterSetSelectorTypes.exclusiveClusterSetLabel } },
  });
  const binding = await client.create<ManagedClusterSetBinding>({
    apiVersion: "cluster.open-cluster-management.io/v1beta2",
    kind: "ManagedClusterSetBinding",
    metadata: { name: setName, namespace },
    spec: { clusterSet: setName },
  });
  const fleetObjects = { set, binding };

  let t = performance.now();
  const clusters: ManagedCluster[] = new Array<ManagedCluster>(clusterCount);
  await forEachLimited([...Array(clusterCount).keys()], seedConcurrency, async (i) => {
    const created = await client.create(clusterObject(i));
    clusters[i] = await client.patch<ManagedCluster>(
      { apiVersion: created.apiVersion, kind: created.kind, name: clusterName(i) },
      "merge",
      { status: clusterStatus(i) },
      { subresource: "status" },
    );
  });
  const seedClustersMs = performance.now() - t;
  console.log(
    `seeded ${clusterCount} clusters (create + status patch, ${seedConcurrency} in flight) in ${seconds(seedClustersMs)}` +
      ` (${((clusterCount * 2) / (seedClustersMs / 1000)).toFixed(0)} writes/s)`,
  );

  t = performance.now();
  const placements = new Map<string, Placement>();
  await forEachLimited([...Array(placementCount).keys()], seedConcurrency, async (i) => {
    const created = await client.create<Placement>({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: { name: placementName(i), namespace },
      spec: placementSpec(i),
    });
    placements.set(created.metadata.name!, created);
  });
  console.log(`created ${placementCount} placements in ${seconds(performance.now() - t)}`);

  t = performance.now();
  let expected = expectations(placements.values(), clusters, fleetObjects);
  const scheduleAllMs = performance.now() - t;
  let expectedSelected = 0;
  for (const e of expected.values()) expectedSelected += e.count;
  console.log(
    `scheduler alone, every placement once: ${scheduleAllMs.toFixed(0)} ms; ${expectedSelected} decisions expected`,
  );

  // Initial settle.
  const baselineRss = rss.sample();
  rss.resetPeak();
  let registry = new Registry();
  controllerClient = await KubeClient.fromFile(plane.kubeconfigPath);
  countWrites(controllerClient, tally);
  const options = { client: controllerClient, clock: systemClock(), logger, registry };
  t = performance.now();
  controller = new PlacementController(options);
  await controller.start();
  const syncedMs = performance.now() - t;
  const initial = await waitUntilSettled(client, expected, new Set(), t);
  await quiesce(controller, registry);
  console.log(
    `initial: informers synced ${seconds(syncedMs)}, settled ${seconds(initial.ms)}, last write ${seconds(tally.lastAt - t)}; ` +
      `${initial.progress.decisionObjects} PlacementDecisions holding ${initial.progress.decisions} decisions; ` +
      `${await reconcileCount(registry)} reconciles; writes ${tally.summary()}; ` +
      `RSS before the controller ${mib(baselineRss)}, peak ${mib(rss.peak)}, now ${mib(rss.sample())}, heap used ${mib(process.memoryUsage().heapUsed)}`,
  );

  /** Applies one change and measures until the hub matches the scheduler again. */
  const measureChange = async (what: string, apply: () => Promise<void>, excluded: ReadonlySet<string>) => {
    await quiesce(controller!, registry);
    tally.reset();
    rss.resetPeak();
    const reconcilesBefore = await reconcileCount(registry);
    const start = performance.now();
    await apply();
    const settled = await waitUntilSettled(client, expected, excluded, start);
    await quiesce(controller!, registry);
    console.log(
      `${what}: settled ${seconds(settled.ms)}, last write ${tally.lastAt ? seconds(tally.lastAt - start) : "-"}; ` +
        `${(await reconcileCount(registry)) - reconcilesBefore} reconciles; writes ${tally.summary()}; ` +
        `peak RSS ${mib(rss.peak)}, heap used ${mib(process.memoryUsage().heapUsed)}`,
    );
  };

  // A NoSelect taint on one cluster: every placement in the set is scheduled again.
  const tainted = clusterName(0);
  const taint = { key: "bench.example.com/maintenance", value: "true", effect: "NoSelect" as const };
  clusters[0] = { ...clusters[0]!, spec: { ...clusters[0]!.spec, taints: [taint] } };
  expected = expectations(placements.values(), clusters, fleetObjects);
  await measureChange(
    `NoSelect taint on ${tainted}`,
    async () => {
      await client.patch(
        { apiVersion: Resources.ManagedCluster.apiVersion, kind: "ManagedCluster", name: tainted },
        "merge",
        { spec: { taints: [{ ...taint, timeAdded: new Date().toISOString() }] } },
      );
    },
    new Set([tainted]),
  );

  // A label only the canary placements select on: all are scheduled again, few results change.
  const canary = clusterName(1);
  const canaryPlacements = [...placements.values()].filter((p) =>
    JSON.stringify(p.spec).includes(canaryLabel),
  );
  const labels = { ...clusters[1]!.metadata.labels, [canaryLabel]: "true" };
  clusters[1] = { ...clusters[1]!, metadata: { ...clusters[1]!.metadata, labels } };
  expected = expectations(placements.values(), clusters, fleetObjects);
  await measureChange(
    `canary label on ${canary} (${canaryPlacements.length} placements select on it)`,
    async () => {
      await client.patch(
        { apiVersion: Resources.ManagedCluster.apiVersion, kind: "ManagedCluster", name: canary },
        "merge",
        { metadata: { labels: { [canaryLabel]: "true" } } },
      );
    },
    new Set([tainted]),
  );

  // One placement's spec: only that placement is scheduled again.
  const edited = placements.get(placementName(3))!;
  placements.set(placementName(3), { ...edited, spec: { ...edited.spec, numberOfClusters: 7 } });
  expected = expectations(placements.values(), clusters, fleetObjects);
  await measureChange(
    `numberOfClusters 20 → 7 on ${placementName(3)}`,
    async () => {
      await client.patch(
        { apiVersion: Resources.Placement.apiVersion, kind: "Placement", namespace, name: placementName(3) },
        "merge",
        { spec: { numberOfClusters: 7 } },
      );
    },
    new Set([tainted]),
  );

  // Restart: a new controller lists everything and checks every placement again.
  await quiesce(controller, registry);
  t = performance.now();
  await controller.stop();
  const stopMs = performance.now() - t;
  controller = undefined;
  tally.reset();
  rss.resetPeak();
  registry = new Registry();
  t = performance.now();
  controller = new PlacementController({ ...options, registry });
  await controller.start();
  const restartSyncedMs = performance.now() - t;
  await controller.whenIdle();
  const checkedMs = performance.now() - t;
  await quiesce(controller, registry);
  const afterRestart = await progress(client, expected, new Set([tainted]));
  console.log(
    `restart: stop ${seconds(stopMs)}; informers synced ${seconds(restartSyncedMs)}, every placement checked ${seconds(checkedMs)}; ` +
      `${await reconcileCount(registry)} reconciles; writes ${tally.summary()}; ` +
      `${afterRestart.pending} placements off afterwards; peak RSS ${mib(rss.peak)}, heap used ${mib(process.memoryUsage().heapUsed)}`,
  );
  if (tally.placements.size > 0) {
    const written = [...tally.placements].sort();
    console.log(`  written on restart: ${written.slice(0, 20).join(" ")}${written.length > 20 ? " …" : ""}`);
  }
} finally {
  await controller?.stop();
  controllerClient?.close();
  client.close();
  rss.stop();
  await plane.stop();
}
