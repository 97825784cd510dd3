// A 50 MiB bundle, packed and delivered: `bosun apply`'s packing into content objects, the
// hub's split into parts, and the time from the apply until every cluster's works are Applied,
// then the same for an update of 1% of the bundle. The hub side is real (one local
// kube-apiserver and etcd, bosun's placement and replica-set controllers over one shared
// cache); the agents are simulated in a worker thread (bench/agents-worker.ts), which reports
// every work Applied and Available for its generation. The payloads are base64 noise that
// compresses about as little as certificates do (the worst case for the number of content
// objects); the packing of a compressible bundle of the same size is measured beside it.
//   npx node bench/bundle.ts [--mib 50] [--clusters 2]
import { createHash } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  BosunBundle,
  BosunBundleLabels,
  Labels,
  ManifestWorkConditions,
  Resources,
} from "../api/constants.ts";
import type { Manifest, ManifestWork, ManifestWorkReplicaSet } from "../api/types/work.ts";
import { applyManifests, planApply } from "../cli/commands/apply.ts";
import { HubInformers } from "../controllers/informers.ts";
import { PlacementController } from "../controllers/placement/controller.ts";
import {
  contentObjects,
  readBundle,
  withBundle,
  type ContentObject,
} from "../controllers/replicasets/bundle.ts";
import { ReplicaSetController } from "../controllers/replicasets/controller.ts";
import { worksMatchTemplate } from "../controllers/replicasets/status.ts";
import { totalManifestSize } from "../controllers/work/manifest.ts";
import { splitManifests, templateHash } from "../controllers/work/split.ts";
import { ensureKubeBinaries } from "../local/binaries.ts";
import { ControlPlane } from "../local/controlplane.ts";
import { systemClock } from "../runtime/clock.ts";
import { findCondition } from "../runtime/conditions.ts";
import { installCrds } from "../runtime/crds.ts";
import { InformerFactory } from "../runtime/informer-factory.ts";
import { KubeClient } from "../runtime/kube/client.ts";
import { bundleManifests } from "../test/support/bundle-fixtures.ts";
import { createBoundClusterSet } from "../test/support/placement-fixtures.ts";
import { SimulatedAgents } from "./agents.ts";

const { values: args } = parseArgs({
  options: {
    mib: { type: "string", default: "50" },
    clusters: { type: "string", default: "2" },
  },
});
const MiB = 1024 * 1024;
const bytes = Number(args.mib) * MiB;
const clusterCount = Number(args.clusters);
const clusterApi = "cluster.open-cluster-management.io";
const logger = pino({ level: "warn" });
const name = "bench-bundle";
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function seconds<T>(run: () => T): [T, number] {
  const started = performance.now();
  const result = run();
  return [result, (performance.now() - started) / 1000];
}

async function waitFor(check: () => boolean, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > 20 * 60_000) throw new Error(`${what}: not done after 20 min`);
    await sleep(50);
  }
  return (performance.now() - started) / 1000;
}

// The bundles -----------------------------------------------------------------------------------

const manifests = bundleManifests({ namespace: "bundle", bytes, customResources: 50 });
const updated: Manifest[] = manifests.map((manifest, index) =>
  manifest.kind === "ConfigMap" && index % 100 === 0
    ? { ...manifest, data: { ...(manifest.data as object), version: "2" } }
    : manifest,
);
/** The same bundle with payloads like configuration files: short keys, values partly random. */
const compressible = manifests.map((manifest) => {
  if (manifest.kind !== "ConfigMap") return manifest;
  const lines: string[] = [];
  for (let j = 0; lines.length * 24 < 40_000; j++) {
    const value = createHash("sha256").update(`${manifest.metadata.name}:${j}`).digest("hex").slice(0, 8);
    lines.push(`setting-${String(j).padStart(4, "0")}: ${value}`);
  }
  return { ...manifest, data: { payload: lines.join("\n") } };
});
const planOptions = { name, namespace: "default", placement: "everywhere" };
const manifestBytes = totalManifestSize(manifests);
console.error(`${manifests.length} manifests, ${round(manifestBytes / MiB)} MiB as OCM counts them`);

const [plan, packSeconds] = seconds(() => planApply(manifests, planOptions));
const [compressiblePlan, compressiblePackSeconds] = seconds(() => planApply(compressible, planOptions));
const [split, splitSeconds] = seconds(() => splitManifests(manifests));
if (!plan.bundle || !compressiblePlan.bundle || !split.ok)
  throw new Error("the bundle did not pack or split");
const compressed = plan.bundle.chunks.reduce((sum, chunk) => sum + chunk.data.length, 0);
// What the hub does once per bundle: read the content objects back, then hash the template.
const stored = contentObjects({ name, namespace: "default", uid: "" }, plan.bundle);
const [read, readSeconds] = seconds(() =>
  readBundle({ hash: plan.bundle!.hash, count: stored.length }, stored, {
    bundle: name,
    namespace: "default",
  }),
);
if (!read.ok) throw new Error(read.message);
const [, hashSeconds] = seconds(() => templateHash(withBundle({}, read.manifests)));
console.error(
  `packed into ${plan.bundle.chunks.length} content objects in ${round(packSeconds)} s ` +
    `(${round(compressed / MiB)} MiB compressed); split into ${split.parts.length} parts in ${round(splitSeconds)} s`,
);

/** Every cluster has works that carry `template` (by its hash) and are Applied for their generation. */
function delivered(
  informers: InformerFactory,
  template: ReturnType<typeof withBundle>,
  hash: string,
): boolean {
  const works = informers
    .informer<ManifestWork>(HubInformers.manifestWorks.resource, HubInformers.manifestWorks.scope)
    .list();
  const byCluster = new Map<string, ManifestWork[]>();
  for (const work of works) {
    if (work.metadata.labels?.[Labels.manifestWorkReplicaSet] !== `default.${name}`) continue;
    byCluster.set(work.metadata.namespace ?? "", [
      ...(byCluster.get(work.metadata.namespace ?? "") ?? []),
      work,
    ]);
  }
  if (byCluster.size < clusterCount) return false;
  for (const clusterWorks of byCluster.values()) {
    if (!worksMatchTemplate(clusterWorks, template, hash)) return false;
    for (const work of clusterWorks) {
      const applied = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
      if (applied?.status !== "True" || applied.observedGeneration !== work.metadata.generation) return false;
    }
  }
  return true;
}

// The hub ---------------------------------------------------------------------------------------

const plane = await ControlPlane.start({ name: "bench-bundle", binaries: await ensureKubeBinaries() });
const figures: Record<string, unknown> = {};
try {
  const client = await KubeClient.fromFile(plane.kubeconfigPath);
  await installCrds(client, "hub");
  await createBoundClusterSet(client, "fleet");
  for (let i = 0; i < clusterCount; i++) {
    const cluster = `cluster-${i}`;
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: cluster } });
    await client.create({
      apiVersion: `${clusterApi}/v1`,
      kind: "ManagedCluster",
      metadata: { name: cluster, labels: { [Labels.clusterSet]: "fleet" } },
      spec: { hubAcceptsClient: true },
    });
  }
  await client.create({
    apiVersion: `${clusterApi}/v1beta1`,
    kind: "Placement",
    metadata: { name: "everywhere", namespace: "default" },
    spec: { clusterSets: ["fleet"] },
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
    concurrency: 32,
    works: "all",
  });
  await placements.start();
  await replicaSets.start();
  try {
    const deliver = async (bundle: Manifest[], what: string) => {
      // What the hub will deliver and its hash, computed before the clock starts.
      const template = withBundle({ workload: { manifests: [] } }, bundle);
      const hash = templateHash(template);
      const reconcilesBefore = replicaSets.reconcilesOf(`default/${name}`);
      const writesBefore = (await agents.stats()).writes;
      const started = performance.now();
      const result = await applyManifests(client, bundle, planOptions);
      const applySeconds = (performance.now() - started) / 1000;
      await waitFor(() => delivered(informers, template, hash), what);
      const totalSeconds = (performance.now() - started) / 1000;
      console.error(
        `  ${what}: written in ${round(applySeconds)} s, every work Applied ${round(totalSeconds)} s after`,
      );
      return {
        applySeconds: round(applySeconds),
        toAllAppliedSeconds: round(totalSeconds),
        contentObjectsWritten: result.objects.filter(
          (o) => o.kind === "ConfigMap" && o.action !== "unchanged" && o.action !== "deleted",
        ).length,
        contentObjectsDeleted: result.objects.filter((o) => o.action === "deleted").length,
        hubReconciles: replicaSets.reconcilesOf(`default/${name}`) - reconcilesBefore,
        agentStatusWrites: (await agents.stats()).writes - writesBefore,
      };
    };
    const worksRevisions = async () =>
      new Map(
        (
          await client.listAll<ManifestWork>(Resources.ManifestWork.apiVersion, "ManifestWork", {
            labelSelector: `${Labels.manifestWorkReplicaSet}=default.${name}`,
          })
        ).items.map((work) => [`${work.metadata.namespace}/${work.metadata.name}`, work.metadata.generation]),
      );

    const create = await deliver(manifests, "create");
    const generations = await worksRevisions();
    const update = await deliver(updated, "update of 1% of the ConfigMaps");
    const after = await worksRevisions();
    const changedParts = [...after].filter(([key, generation]) => generations.get(key) !== generation).length;

    const replicaSet = await client.get<ManifestWorkReplicaSet>({
      apiVersion: Resources.ManifestWorkReplicaSet.apiVersion,
      kind: "ManifestWorkReplicaSet",
      namespace: "default",
      name,
    });
    const contents = (
      await client.listAll<ContentObject>("v1", "ConfigMap", {
        namespace: "default",
        labelSelector: `${BosunBundleLabels.bundle}=${name}`,
      })
    ).items;
    const works = await client.listAll<ManifestWork>(Resources.ManifestWork.apiVersion, "ManifestWork", {
      labelSelector: `${Labels.manifestWorkReplicaSet}=default.${name}`,
    });
    const contentBytes = contents.map(
      (o) => Buffer.from(o.binaryData?.[BosunBundle.dataKey] ?? "", "base64").length,
    );
    Object.assign(figures, {
      manifests: manifests.length,
      manifestMiB: round(manifestBytes / MiB),
      packSeconds: round(packSeconds),
      contentObjects: plan.bundle.chunks.length,
      contentObjectsWithoutGzip: Math.ceil(plan.bundle.inflatedBytes / BosunBundle.maxContentBytes),
      compressedMiB: round(compressed / MiB),
      largestContentObjectKiB: round(Math.max(...contentBytes) / 1024, 1),
      compressible: {
        packSeconds: round(compressiblePackSeconds),
        contentObjects: compressiblePlan.bundle.chunks.length,
        compressedMiB: round(compressiblePlan.bundle.chunks.reduce((sum, c) => sum + c.data.length, 0) / MiB),
      },
      hubReadSeconds: round(readSeconds),
      hubTemplateHashSeconds: round(hashSeconds),
      hubSplitSeconds: round(splitSeconds),
      partsPerCluster: split.parts.length,
      works: works.items.length,
      largestWorkManifestBytes: Math.max(
        ...works.items.map((w) => totalManifestSize(w.spec?.workload?.manifests ?? [])),
      ),
      replicaSetBytes: JSON.stringify(replicaSet).length,
      create,
      update: { ...update, partsRewritten: changedParts },
      benchProcessRssMiB: Math.round(process.memoryUsage().rss / MiB),
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

console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      clusters: clusterCount,
      ...figures,
    },
    null,
    2,
  ),
);
