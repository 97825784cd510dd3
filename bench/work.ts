// Work delivery on a real hub: the time from a ManifestWorkReplicaSet change until every
// cluster's ManifestWork is Applied on the hub. The hub side is real (one local kube-apiserver
// and etcd, bosun's placement and replica-set controllers over one shared cache, as `bosun hub`
// runs them); the agents are simulated in a worker thread (bench/agents-worker.ts) by one watcher
// that does what each agent does on the hub for a work: add its finalizer and report Applied and
// Available for the work's generation, once per generation.
//   npx node bench/work.ts [--clusters 100,1000] [--manifests 20] [--agent-writes 32]
//                          [--apiserver-profile FILE]
import { cpus, totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Labels, ManifestWorkConditions, Resources } from "../api/constants.ts";
import type { PlacementDecision } from "../api/types/placement.ts";
import type { ManifestWork } from "../api/types/work.ts";
import { HubInformers } from "../controllers/informers.ts";
import { PlacementController } from "../controllers/placement/controller.ts";
import { ReplicaSetController } from "../controllers/replicasets/controller.ts";
import { ensureKubeBinaries } from "../local/binaries.ts";
import { ControlPlane } from "../local/controlplane.ts";
import { systemClock } from "../runtime/clock.ts";
import { findCondition } from "../runtime/conditions.ts";
import { installCrds } from "../runtime/crds.ts";
import { InformerFactory } from "../runtime/informer-factory.ts";
import { KubeClient } from "../runtime/kube/client.ts";
import { createBoundClusterSet } from "../test/support/placement-fixtures.ts";
import { profileApiServer } from "./apiserver-metrics.ts";
import { SimulatedAgents } from "./agents.ts";

const { values: args } = parseArgs({
  options: {
    clusters: { type: "string", default: "100,1000" },
    manifests: { type: "string", default: "20" },
    "agent-writes": { type: "string", default: "32" },
    // Writes a Go CPU profile of kube-apiserver during the change phase (for `go tool pprof`).
    "apiserver-profile": { type: "string" },
  },
});
const sizes = args.clusters.split(",").map(Number);
const manifestCount = Number(args.manifests);
const clusterApi = "cluster.open-cluster-management.io";
const logger = pino({ level: "warn" });

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

function template(version: number) {
  return {
    workload: {
      manifests: Array.from({ length: manifestCount }, (_, i) => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `app-config-${i}`, namespace: "app" },
        data: { version: String(version), payload: "x".repeat(512) },
      })),
    },
  };
}

/** Every cluster's work carries the template of `version` (whatever its agent reported yet). */
function allWritten(informers: InformerFactory, clusters: number, version: number): boolean {
  const works = informers
    .informer<ManifestWork>(HubInformers.manifestWorks.resource, HubInformers.manifestWorks.scope)
    .list();
  if (works.length < clusters) return false;
  return works.every(
    (work) =>
      (work.spec?.workload?.manifests?.[0] as { data?: { version?: string } } | undefined)?.data?.version ===
      String(version),
  );
}

/** Every cluster has a work of generation `generation` or later reported Applied for it. */
function allApplied(informers: InformerFactory, clusters: number, version: number): boolean {
  const works = informers
    .informer<ManifestWork>(HubInformers.manifestWorks.resource, HubInformers.manifestWorks.scope)
    .list();
  if (works.length < clusters) return false;
  return works.every((work) => {
    const data = (work.spec?.workload?.manifests?.[0] as { data?: { version?: string } } | undefined)?.data;
    const applied = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
    return (
      data?.version === String(version) &&
      applied?.status === "True" &&
      applied.observedGeneration === work.metadata.generation
    );
  });
}

async function waitFor(check: () => boolean, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > 15 * 60_000) throw new Error(`${what}: not done after 15 min`);
    await sleep(20);
  }
  return (performance.now() - started) / 1000;
}

const results: Record<string, number>[] = [];
for (const clusters of sizes) {
  const plane = await ControlPlane.start({
    name: `bench-work-${clusters}`,
    binaries: await ensureKubeBinaries(),
    apiserverArgs: args["apiserver-profile"] ? ["--profiling=true"] : [],
  });
  try {
    const client = await KubeClient.fromFile(plane.kubeconfigPath);
    await installCrds(client, "hub");
    await createBoundClusterSet(client, "fleet");
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
    await client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "everywhere", namespace: "default" },
      spec: {},
    });

    const controllerClient = await KubeClient.fromFile(plane.kubeconfigPath);
    const informers = new InformerFactory({ client: controllerClient, logger });
    const shared = {
      client: controllerClient,
      clock: systemClock(),
      logger,
      registry: new Registry(),
      informers,
    };
    const placements = new PlacementController(shared);
    const replicaSets = new ReplicaSetController(shared);
    const agents = await SimulatedAgents.start({
      kubeconfigPath: plane.kubeconfigPath,
      concurrency: Number(args["agent-writes"]),
      works: "all",
    });
    await placements.start();
    await replicaSets.start();
    try {
      const decided = await waitFor(() => {
        const pds = informers.informer<PlacementDecision>(Resources.PlacementDecision, {
          labelSelector: Labels.placement,
        });
        return pds.list().reduce((sum, pd) => sum + (pd.status?.decisions?.length ?? 0), 0) === clusters;
      }, "placement");
      console.error(`  placement decided ${clusters} clusters in ${decided.toFixed(1)} s`);

      const replicaSetRef = {
        apiVersion: Resources.ManifestWorkReplicaSet.apiVersion,
        kind: "ManifestWorkReplicaSet",
        namespace: "default",
        name: "app",
      };
      const createdAt = performance.now();
      await client.create({
        ...replicaSetRef,
        metadata: { name: "app", namespace: "default" },
        spec: { placementRefs: [{ name: "everywhere" }], manifestWorkTemplate: template(1) },
      });
      await waitFor(() => allApplied(informers, clusters, 1), "create");
      const createSeconds = (performance.now() - createdAt) / 1000;
      console.error(`  created: every work Applied ${createSeconds.toFixed(2)} s after the replica set`);

      const writesBefore = (await agents.stats()).writes;
      const profile = args["apiserver-profile"]
        ? profileApiServer(plane, `${args["apiserver-profile"]}.${clusters}`, 12)
        : undefined;
      const changedAt = performance.now();
      await client.patch(replicaSetRef, "merge", { spec: { manifestWorkTemplate: template(2) } });
      await waitFor(() => allWritten(informers, clusters, 2), "change written");
      const writtenSeconds = (performance.now() - changedAt) / 1000;
      console.error(`  changed: every work rewritten ${writtenSeconds.toFixed(2)} s after the change`);
      await waitFor(() => allApplied(informers, clusters, 2), "change");
      const changeSeconds = (performance.now() - changedAt) / 1000;
      console.error(`  changed: every work Applied ${changeSeconds.toFixed(2)} s after the change`);
      await profile;
      results.push({
        clusters,
        manifestsPerWork: manifestCount,
        createToAllAppliedSeconds: Math.round(createSeconds * 100) / 100,
        changeToAllWrittenSeconds: Math.round(writtenSeconds * 100) / 100,
        changeToAllAppliedSeconds: Math.round(changeSeconds * 100) / 100,
        agentWritesForChange: (await agents.stats()).writes - writesBefore,
        benchProcessRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      });
    } finally {
      await agents.stop();
      await replicaSets.stop();
      await placements.stop();
      await informers.stop();
      controllerClient.close();
      client.close();
    }
  } finally {
    await plane.stop();
  }
}

console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      results,
    },
    null,
    2,
  ),
);
