// A 5 MiB bundle end to end: `bosun apply` (the command, as an operator runs it) ships a CRD,
// custom resources of it, a namespace, RBAC and many ConfigMaps to a hub and two joined managed
// clusters. No object stored on the hub comes near etcd's limit, no work exceeds the manifest
// limit, each agent applies the parts in order (the custom resources exist, so their CRD came
// first), and the hub reports every part Applied and Available and the replica set's summary
// counts both clusters. Deleting the replica set takes everything away again.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  BosunBundle,
  BosunBundleAnnotations,
  BosunBundleLabels,
  BosunWorkLabels,
  Labels,
  ManifestWorkConditions,
  Resources,
  Work,
} from "../../api/constants.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { parseBundleRef, type ContentObject } from "../../controllers/replicasets/bundle.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { ReplicaSetController } from "../../controllers/replicasets/controller.ts";
import { totalManifestSize } from "../../controllers/work/manifest.ts";
import { systemClock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { bundleKind, bundleManifests, writeBundleFiles } from "../support/bundle-fixtures.ts";
import { startFleet, type Fleet } from "../support/fleet.ts";
import { eventually } from "../support/wait.ts";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "..", "..", "cli", "bosun.ts");
const logger = pino({ level: "silent" });
const clusterNames = ["east", "west"] as const;
const MiB = 1024 * 1024;
/** etcd's default request limit, which every stored object must stay under. */
const etcdLimit = 1.5 * MiB;
const name = "five-mib";
const replicaSetRef = {
  apiVersion: Resources.ManifestWorkReplicaSet.apiVersion,
  kind: Resources.ManifestWorkReplicaSet.kind,
  namespace: "default",
  name,
};

/** A work in a failure message: where it is and how far its deletion got. */
const describeWork = (work: ManifestWork) => {
  const deleting = findCondition(work.status?.conditions, ManifestWorkConditions.deleting);
  return `${work.metadata.namespace}/${work.metadata.name}${deleting ? ` (${deleting.reason}: ${deleting.message})` : ""}`;
};

describe("a 5 MiB bundle on a hub and two managed clusters", () => {
  let fleet: Fleet;
  let informers: InformerFactory;
  let placements: PlacementController;
  let replicaSets: ReplicaSetController;
  let dir: string;
  const manifests = bundleManifests({ namespace: "bundle", bytes: 5 * MiB, customResources: 25 });
  const configMaps = manifests.filter((m) => m.kind === "ConfigMap").length;

  const works = async () =>
    (
      await fleet.hub.listAll<ManifestWork>(Resources.ManifestWork.apiVersion, "ManifestWork", {
        labelSelector: `${Labels.manifestWorkReplicaSet}=default.${name}`,
      })
    ).items;
  const contents = async () =>
    (
      await fleet.hub.listAll<ContentObject>("v1", "ConfigMap", {
        namespace: "default",
        labelSelector: `${BosunBundleLabels.bundle}=${name}`,
      })
    ).items;

  before(async () => {
    fleet = await startFleet({ name: "bundle-e2e", clusters: clusterNames, logger });
    const hub = fleet.hub;
    // The hub's placement and replica-set controllers over one cache, as `bosun hub` runs them.
    informers = new InformerFactory({ client: hub, logger });
    const shared = { client: hub, clock: systemClock(), logger, registry: new Registry(), informers };
    placements = new PlacementController(shared);
    replicaSets = new ReplicaSetController(shared);
    await placements.start();
    await replicaSets.start();
    await hub.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "default", namespace: "default" },
      spec: { clusterSet: "default" },
    });
    await hub.create({
      apiVersion: Resources.Placement.apiVersion,
      kind: "Placement",
      metadata: { name: "everywhere", namespace: "default" },
      spec: {},
    });
    dir = await mkdtemp(join(tmpdir(), "bosun-bundle-e2e-"));
    await writeBundleFiles(dir, manifests);
  });

  after(async () => {
    await replicaSets?.stop();
    await placements?.stop();
    await informers?.stop();
    await fleet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("bosun apply ships it, every hub object small, every part applied in order on both clusters", async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      [
        cli,
        "apply",
        "-f",
        dir,
        "--placement",
        "everywhere",
        "--name",
        name,
        "--kubeconfig",
        fleet.hubPlane.kubeconfigPath,
        "--wait",
        "--timeout",
        "400",
      ],
      { timeout: 450_000, maxBuffer: 16 * MiB },
    );
    assert.match(
      stdout,
      new RegExp(
        `^ManifestWorkReplicaSet default/${name}: ${manifests.length} manifests, [\\d.]+ MiB, bundled in \\d+ content objects`,
      ),
    );
    assert.match(stderr, /every cluster's works are Applied\n$/);

    // Every object on the hub stays small: the replica set, its content, its works.
    const replicaSet = await fleet.hub.get<ManifestWorkReplicaSet>(replicaSetRef);
    assert.ok(JSON.stringify(replicaSet).length < etcdLimit);
    const stored = await contents();
    const ref = parseBundleRef(replicaSet.metadata.annotations?.[BosunBundleAnnotations.content] ?? "");
    assert.ok(
      ref.ok && ref.value.count === stored.length && stored.length >= 4,
      `${stored.length} content objects`,
    );
    for (const object of stored) {
      const bytes = Buffer.from(object.binaryData?.[BosunBundle.dataKey] ?? "", "base64").length;
      assert.ok(bytes <= BosunBundle.maxContentBytes, `${object.metadata.name}: ${bytes} bytes`);
      assert.ok(JSON.stringify(object).length < etcdLimit);
    }
    const all = await works();
    for (const cluster of clusterNames) {
      const parts = all.filter((work) => work.metadata.namespace === cluster);
      assert.ok(parts.length >= 11, `${cluster}: ${parts.length} parts`);
      assert.deepEqual(
        parts.map((part) => Number(part.metadata.labels?.[BosunWorkLabels.partIndex])).sort((a, b) => a - b),
        parts.map((_, i) => i),
      );
      for (const part of parts) {
        assert.ok(totalManifestSize(part.spec?.workload?.manifests ?? []) <= Work.manifestSizeLimit);
        assert.ok(JSON.stringify(part).length < etcdLimit, part.metadata.name);
        for (const type of [ManifestWorkConditions.applied, ManifestWorkConditions.available]) {
          assert.equal(
            findCondition(part.status?.conditions, type)?.status,
            "True",
            `${part.metadata.name} ${type}`,
          );
        }
      }
    }
    await eventually(async () => {
      const summary = (await fleet.hub.get<ManifestWorkReplicaSet>(replicaSetRef)).status?.summary;
      assert.deepEqual(
        { total: summary?.total, applied: summary?.applied, available: summary?.available },
        { total: 2, applied: 2, available: 2 },
      );
    });

    // On each cluster: the CRD came first, so its custom resources exist; the rest is there too.
    for (const cluster of clusterNames) {
      const client = fleet.clusters[cluster]!.client;
      const widgets = await client.listAll<Unstructured>(bundleKind.apiVersion, bundleKind.kind, {
        namespace: "bundle",
      });
      assert.equal(widgets.items.length, 25, cluster);
      const data = await client.listAll<Unstructured>("v1", "ConfigMap", { namespace: "bundle" });
      assert.equal(
        data.items.filter((item) => item.metadata.name?.startsWith("data-")).length,
        configMaps,
        cluster,
      );
      for (const kind of ["Role", "RoleBinding"]) {
        await client.get({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind,
          namespace: "bundle",
          name: "bundle-reader",
        });
      }
    }
  });

  test("deleting the replica set removes its works, its content and what the agents applied", async () => {
    await fleet.hub.delete(replicaSetRef);
    await eventually(
      async () => {
        assert.deepEqual((await works()).map(describeWork), []);
        assert.deepEqual(
          (await contents()).map((object) => object.metadata.name),
          [],
        );
        for (const cluster of clusterNames) {
          const data = await fleet.clusters[cluster]!.client.listAll<Unstructured>("v1", "ConfigMap", {
            namespace: "bundle",
          });
          assert.equal(
            data.items.filter((item) => item.metadata.name?.startsWith("data-")).length,
            0,
            cluster,
          );
        }
      },
      { timeoutMs: 180_000, what: "the bundle removed from the hub and both clusters" },
    );
  });
});
