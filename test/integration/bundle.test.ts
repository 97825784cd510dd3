// A bundle bigger than any one object, on a real hub: `bosun apply` (its run function) writes a
// ~3 MiB bundle as content ConfigMaps named by a small ManifestWorkReplicaSet; the hub's
// placement and replica-set controllers deliver it as parts under the work limit, in order. A
// missing content object stops the delivery without touching a work; an update moves every work
// to the new bundle and removes the old content; deleting the replica set removes its works,
// and the garbage collector its content. The agents are simulated by writing work status.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  BosunBundle,
  BosunBundleAnnotations,
  BosunBundleLabels,
  BosunReplicaSetReasons,
  BosunWorkLabels,
  Labels,
  ManifestWorkReplicaSetConditions as C,
  ManifestWorkReplicaSetReasons as R,
  Resources,
  Work,
} from "../../api/constants.ts";
import { applyRank, splitTier } from "../../api/kind-rank.ts";
import type { Manifest, ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { runApply, type ApplyResult } from "../../cli/commands/apply.ts";
import { HubInformers } from "../../controllers/informers.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { parseBundleRef, type ContentObject } from "../../controllers/replicasets/bundle.ts";
import { ReplicaSetController } from "../../controllers/replicasets/controller.ts";
import { manifestIdentity, totalManifestSize } from "../../controllers/work/manifest.ts";
import { systemClock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { objectKey } from "../../runtime/kube/types.ts";
import { formatTime } from "../../runtime/time.ts";
import { bundleManifests, writeBundleFiles } from "../support/bundle-fixtures.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("bundle");
const logger = pino({ level: "silent" });
const clusters = ["east", "west"];
const name = "big-bundle";
const MiB = 1024 * 1024;
const replicaSetRef = {
  apiVersion: Resources.ManifestWorkReplicaSet.apiVersion,
  kind: Resources.ManifestWorkReplicaSet.kind,
  namespace: "default",
  name,
};

/** Where a manifest sorts across parts: tier, apply rank, then group, kind, namespace, name. */
function sortKey(manifest: Manifest): string[] {
  const id = manifestIdentity(manifest);
  return [
    String(splitTier(manifest)).padStart(4, "0"),
    String(applyRank(manifest)).padStart(4, "0"),
    id.group,
    id.kind,
    id.namespace,
    id.name,
  ];
}
const compareKeys = (a: string[], b: string[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
};
const identities = (manifests: readonly Manifest[]) =>
  manifests.map((manifest) => sortKey(manifest).slice(2).join("/")).sort();

describe("a bundle bigger than one object", () => {
  let client: KubeClient;
  let controllerClient: KubeClient;
  let informers: InformerFactory;
  let placements: PlacementController;
  let replicaSets: ReplicaSetController;
  let dir: string;

  const contentObjectsOf = async () =>
    (
      await client.listAll<ContentObject>("v1", "ConfigMap", {
        namespace: "default",
        labelSelector: `${BosunBundleLabels.bundle}=${name}`,
      })
    ).items;

  const worksOf = async () =>
    (
      await client.listAll<ManifestWork>(Resources.ManifestWork.apiVersion, "ManifestWork", {
        labelSelector: `${Labels.manifestWorkReplicaSet}=default.${name}`,
      })
    ).items;

  const byCluster = (works: ManifestWork[], cluster: string) =>
    works
      .filter((work) => work.metadata.namespace === cluster)
      .sort(
        (a, b) =>
          Number(a.metadata.labels?.[BosunWorkLabels.partIndex] ?? 0) -
          Number(b.metadata.labels?.[BosunWorkLabels.partIndex] ?? 0),
      );

  /** What the clusters' agents report: every work Applied and Available for its generation. */
  async function reportApplied(): Promise<void> {
    for (const work of await worksOf()) {
      const observedGeneration = work.metadata.generation;
      const condition = (type: string, reason: string) => ({
        type,
        status: "True",
        reason,
        message: "",
        observedGeneration,
        lastTransitionTime: formatTime(Date.now()),
      });
      await client.patch(
        {
          apiVersion: Resources.ManifestWork.apiVersion,
          kind: "ManifestWork",
          namespace: work.metadata.namespace,
          name: work.metadata.name!,
        },
        "merge",
        {
          status: {
            conditions: [
              condition("Applied", "AppliedManifestWorkComplete"),
              condition("Available", "ResourcesAvailable"),
            ],
          },
        },
        { subresource: "status" },
      );
    }
  }

  /** Waits until the controllers' caches hold what the API server holds and nothing is queued. */
  async function settle(): Promise<void> {
    const watched = [
      { resource: Resources.ManifestWorkReplicaSet, scope: {} },
      HubInformers.manifestWorks,
      HubInformers.bundleContents,
    ];
    await eventually(async () => {
      for (const { resource, scope } of watched) {
        const live = await client.listAll(resource.apiVersion, resource.kind, scope);
        const cache = informers.informer(resource, scope);
        assert.equal(cache.size, live.items.length, resource.kind);
        for (const item of live.items) {
          assert.equal(cache.get(objectKey(item))?.metadata.resourceVersion, item.metadata.resourceVersion);
        }
      }
      assert.equal(replicaSets.retrying, 0);
    });
    await replicaSets.whenIdle();
  }

  async function apply(manifests: Manifest[]): Promise<ApplyResult> {
    await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(join(tmpdir(), "bosun-bundle-test-"));
    await writeBundleFiles(dir, manifests);
    const printed: string[] = [];
    const result = await runApply(
      client,
      { files: [dir], name, namespace: "default", placement: "everywhere" },
      { write: (text) => printed.push(text) },
    );
    assert.match(
      printed.join(""),
      new RegExp(`^ManifestWorkReplicaSet default/${name}: ${manifests.length} manifests`),
    );
    return result;
  }

  /** Every cluster's works carry exactly `manifests`, each part under the limit, in part order. */
  async function assertDelivered(manifests: Manifest[]): Promise<ManifestWork[]> {
    return eventually(
      async () => {
        const works = await worksOf();
        for (const cluster of clusters) {
          const parts = byCluster(works, cluster);
          assert.ok(parts.length >= 7, `${cluster}: ${parts.length} parts of a ~3 MiB bundle`);
          parts.forEach((part, index) => {
            assert.equal(part.metadata.labels?.[BosunWorkLabels.partIndex], String(index));
            assert.equal(part.metadata.labels?.[BosunWorkLabels.partCount], String(parts.length));
            const carried = part.spec?.workload?.manifests ?? [];
            assert.ok(
              totalManifestSize(carried) <= Work.manifestSizeLimit,
              `${part.metadata.name} under the limit`,
            );
            assert.ok(JSON.stringify(part).length < 1.5 * MiB);
          });
          // Part i holds only what sorts before everything in part i+1: CRDs and the namespace first.
          for (let i = 0; i + 1 < parts.length; i++) {
            const last = (parts[i]!.spec?.workload?.manifests ?? []).map(sortKey).sort(compareKeys).at(-1)!;
            const next = (parts[i + 1]!.spec?.workload?.manifests ?? []).map(sortKey).sort(compareKeys)[0]!;
            assert.ok(compareKeys(last, next) < 0, `part ${i} ends before part ${i + 1} starts`);
          }
          const first = parts[0]!.spec?.workload?.manifests ?? [];
          assert.ok(
            first.some((m) => m.kind === "CustomResourceDefinition") &&
              first.some((m) => m.kind === "Namespace"),
          );
          assert.deepEqual(
            identities(parts.flatMap((part) => part.spec?.workload?.manifests ?? [])),
            identities(manifests),
            `${cluster} has every manifest once`,
          );
          // The API server stores the works' manifests with their keys sorted: compare values.
          const wanted = new Map(manifests.map((m) => [sortKey(m).join("/"), m]));
          for (const part of parts) {
            for (const m of part.spec?.workload?.manifests ?? []) {
              assert.deepEqual(m, wanted.get(sortKey(m).join("/")), "the bundle's content");
            }
          }
        }
        return works;
      },
      { timeoutMs: 120_000, what: "the bundle delivered to both clusters" },
    );
  }

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    dir = await mkdtemp(join(tmpdir(), "bosun-bundle-test-"));
    await installCrds(client, "hub");
    await createBoundClusterSet(client, "fleet");
    for (const cluster of clusters) {
      await client.create({
        apiVersion: Resources.ManagedCluster.apiVersion,
        kind: "ManagedCluster",
        metadata: { name: cluster, labels: { [Labels.clusterSet]: "fleet" } },
        spec: { hubAcceptsClient: true },
      });
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: cluster } });
    }
    await client.create({
      apiVersion: Resources.Placement.apiVersion,
      kind: "Placement",
      metadata: { name: "everywhere", namespace: "default" },
      spec: { clusterSets: ["fleet"] },
    });
    controllerClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    informers = new InformerFactory({ client: controllerClient, logger });
    const shared = {
      client: controllerClient,
      clock: systemClock(),
      logger,
      registry: new Registry(),
      informers,
    };
    placements = new PlacementController(shared);
    replicaSets = new ReplicaSetController(shared);
    await placements.start();
    await replicaSets.start();
  });

  after(async () => {
    await replicaSets?.stop();
    await placements?.stop();
    await informers?.stop();
    controllerClient?.close();
    client?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const first = bundleManifests({ namespace: "bundle", bytes: 3 * MiB });
  const second = bundleManifests({ namespace: "bundle", bytes: 3.2 * MiB, version: "2" });

  test("a ~3 MiB bundle: content objects under 1 MiB, a small replica set, parts under the limit in order", async () => {
    assert.ok(totalManifestSize(first) >= 3 * MiB);
    const result = await apply(first);
    assert.ok(result.bundle, "bundled, not inline");

    const contents = await contentObjectsOf();
    assert.ok(contents.length >= 2, `${contents.length} content objects`);
    const replicaSet = await client.get<ManifestWorkReplicaSet>(replicaSetRef);
    const ref = parseBundleRef(replicaSet.metadata.annotations?.[BosunBundleAnnotations.content] ?? "");
    assert.deepEqual(ref, { ok: true, value: { hash: result.bundle, count: contents.length } });
    assert.ok(JSON.stringify(replicaSet).length < 1.5 * MiB, "the replica set is small");
    assert.deepEqual(replicaSet.spec?.manifestWorkTemplate?.workload?.manifests, []);
    for (const object of contents) {
      const data = Buffer.from(object.binaryData?.[BosunBundle.dataKey] ?? "", "base64");
      assert.ok(
        data.length <= BosunBundle.maxContentBytes && data.length < MiB,
        `${object.metadata.name}: ${data.length} bytes`,
      );
      assert.equal(object.metadata.labels?.[BosunBundleLabels.contentHash], result.bundle);
      assert.deepEqual(
        object.metadata.ownerReferences?.map((owner) => owner.uid),
        [replicaSet.metadata.uid],
      );
      assert.equal(object.immutable, true);
    }

    await assertDelivered(first);
    await eventually(
      async () => {
        await reportApplied();
        const current = await client.get<ManifestWorkReplicaSet>(replicaSetRef);
        assert.equal(current.status?.summary?.applied, 2);
        assert.equal(current.status?.summary?.total, 2);
        assert.equal(findCondition(current.status?.conditions, C.manifestworkApplied)?.reason, R.asExpected);
      },
      { timeoutMs: 60_000, what: "both clusters counted applied" },
    );
  });

  test("a missing content object stops the delivery and changes no work; written again, it is fine", async () => {
    await settle();
    const before = new Map((await worksOf()).map((work) => [objectKey(work), work.metadata.resourceVersion]));
    const contents = await contentObjectsOf();
    const missing = contents.find(
      (object) => object.metadata.labels?.[BosunBundleLabels.contentIndex] === "1",
    )!;
    await client.delete({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "default",
      name: missing.metadata.name!,
    });

    await eventually(async () => {
      const replicaSet = await client.get<ManifestWorkReplicaSet>(replicaSetRef);
      const condition = findCondition(replicaSet.status?.conditions, C.manifestworkApplied);
      assert.equal(condition?.status, "False");
      assert.equal(condition?.reason, BosunReplicaSetReasons.bundleContentMissing);
      assert.equal(
        condition?.message,
        `bundle content 1/${contents.length} missing: ConfigMap ${missing.metadata.name} in namespace default (bundle ${missing.metadata.labels?.[BosunBundleLabels.contentHash]})`,
      );
    });
    await settle();
    const after = new Map((await worksOf()).map((work) => [objectKey(work), work.metadata.resourceVersion]));
    assert.deepEqual(after, before, "every work as it was");

    // Applying the same files again writes only the missing object back.
    const result = await apply(first);
    assert.deepEqual(
      result.objects
        .filter((object) => object.action !== "unchanged")
        .map((object) => `${object.name} ${object.action}`),
      [`${missing.metadata.name} created`],
    );
    await eventually(async () => {
      const replicaSet = await client.get<ManifestWorkReplicaSet>(replicaSetRef);
      assert.equal(findCondition(replicaSet.status?.conditions, C.manifestworkApplied)?.reason, R.asExpected);
    });
    await settle();
    assert.deepEqual(
      new Map((await worksOf()).map((work) => [objectKey(work), work.metadata.resourceVersion])),
      before,
      "the same bundle again: no work written",
    );
  });

  test("content that was changed is refused, naming what is wrong", async () => {
    const contents = await contentObjectsOf();
    const original = contents.find(
      (object) => object.metadata.labels?.[BosunBundleLabels.contentIndex] === "0",
    )!;
    const impostor = structuredClone(original);
    impostor.metadata = {
      name: `${original.metadata.name}-impostor`,
      namespace: "default",
      labels: original.metadata.labels!,
    };
    await client.create(impostor);
    await eventually(async () => {
      const replicaSet = await client.get<ManifestWorkReplicaSet>(replicaSetRef);
      const condition = findCondition(replicaSet.status?.conditions, C.manifestworkApplied);
      assert.equal(condition?.reason, BosunReplicaSetReasons.bundleContentInvalid);
      assert.match(condition?.message ?? "", /both hold index 0$/);
    });
    await client.delete({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "default",
      name: impostor.metadata.name!,
    });
    await eventually(async () => {
      const replicaSet = await client.get<ManifestWorkReplicaSet>(replicaSetRef);
      assert.equal(findCondition(replicaSet.status?.conditions, C.manifestworkApplied)?.reason, R.asExpected);
    });
  });

  test("an update to a new bundle replaces every work's content, and the old content objects go", async () => {
    const old = await contentObjectsOf();
    const oldHash = old[0]!.metadata.labels?.[BosunBundleLabels.contentHash];
    const result = await apply(second);
    assert.ok(result.bundle && result.bundle !== oldHash);
    assert.deepEqual(
      result.objects
        .filter((object) => object.action === "deleted")
        .map((object) => object.name)
        .sort(),
      old.map((object) => object.metadata.name).sort(),
    );
    const contents = await contentObjectsOf();
    assert.ok(
      contents.every((object) => object.metadata.labels?.[BosunBundleLabels.contentHash] === result.bundle),
    );
    await assertDelivered(second);
  });

  test("deleting the replica set removes its works, and the garbage collector its content", async () => {
    assert.ok((await contentObjectsOf()).length > 0);
    await client.delete(replicaSetRef);
    await eventually(
      async () => {
        assert.equal(await client.getOrUndefined(replicaSetRef), undefined);
        assert.deepEqual((await worksOf()).map(objectKey), []);
        assert.deepEqual((await contentObjectsOf()).map(objectKey), []);
      },
      { timeoutMs: 120_000, what: "works and content removed" },
    );
  });
});
