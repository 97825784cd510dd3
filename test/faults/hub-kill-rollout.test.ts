// SIGKILL of `bosun hub` in the middle of a Progressive rollout of a ManifestWorkReplicaSet whose
// template is over the manifest limit (so every cluster gets it in several parts), then a fresh
// `bosun hub`: the rollout resumes and completes, every cluster holds exactly its parts (each
// manifest once across them, no stray or duplicate part), and the summary counts each cluster
// once. The clusters are registered on the hub without agents; the test reports what an agent
// would (Applied, Available) on each work it finds.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  BosunWorkLabels,
  Labels,
  ManifestWorkReplicaSetConditions,
  ManifestWorkReplicaSetReasons,
  ManifestWorkConditions,
  Taints,
} from "../../api/constants.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { formatTime } from "../../runtime/time.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";
import { eventually } from "../support/wait.ts";
import { hubProcess, type BosunProcess } from "./support/processes.ts";

const fixture = useControlPlane("faults-rollout");
const clusterNames = Array.from({ length: 8 }, (_, index) => `site-${index}`);
const manifestLimit = 20_000;
const manifestNames = Array.from({ length: 6 }, (_, index) => `blob-${index}`);
const replicaSetRef = {
  apiVersion: "work.open-cluster-management.io/v1alpha1",
  kind: "ManifestWorkReplicaSet",
  namespace: "default",
  name: "split-app",
};

describe("hub killed during a split, progressive ManifestWorkReplicaSet rollout", () => {
  let client: KubeClient;
  let dir: string;
  const hubs: BosunProcess[] = [];

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    dir = await mkdtemp(join(tmpdir(), "bosun-faults-rollout-"));
    await installCrds(client, "hub");
    await createBoundClusterSet(client, "fleet", "default");
    for (const name of clusterNames) {
      await client.create({
        apiVersion: "cluster.open-cluster-management.io/v1",
        kind: "ManagedCluster",
        metadata: { name, labels: { [Labels.clusterSet]: "fleet" } },
        spec: { hubAcceptsClient: true },
      });
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
  });

  after(async () => {
    for (const hub of hubs) await hub.stop();
    client?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function works(): Promise<ManifestWork[]> {
    const { items } = await client.listAll<ManifestWork>(
      "work.open-cluster-management.io/v1",
      "ManifestWork",
      {
        labelSelector: `${Labels.manifestWorkReplicaSet}=default.split-app`,
      },
    );
    return items;
  }

  /** What each cluster's agent would report once it applied a work: Applied, Available, done. */
  async function reportApplied(list: ManifestWork[]): Promise<void> {
    for (const work of list) {
      const generation = work.metadata.generation;
      const applied = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
      if (applied?.status === "True" && applied.observedGeneration === generation) continue;
      const condition = (type: string, status: "True" | "False", reason: string) => ({
        type,
        status,
        reason,
        message: "",
        observedGeneration: generation,
        lastTransitionTime: formatTime(Date.now()),
      });
      await client.patch(
        {
          apiVersion: "work.open-cluster-management.io/v1",
          kind: "ManifestWork",
          namespace: work.metadata.namespace,
          name: work.metadata.name!,
        },
        "merge",
        {
          status: {
            conditions: [
              condition(ManifestWorkConditions.applied, "True", "AppliedManifestWorkComplete"),
              condition(ManifestWorkConditions.available, "True", "ResourcesAvailable"),
              condition(ManifestWorkConditions.progressing, "False", "Completed"),
            ],
          },
        },
        { subresource: "status" },
      );
    }
  }

  test("a fresh hub completes the rollout: each cluster exactly its parts, the summary right", async (t) => {
    const hubArgs = ["--manifest-limit", String(manifestLimit)];
    const first = hubProcess(dir, "hub-1", fixture.plane.kubeconfigPath, hubArgs);
    hubs.push(first);
    await first.start();

    await client.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: { name: "sites", namespace: "default" },
      spec: {
        clusterSets: ["fleet"],
        // No agents renew leases here, so every cluster carries the unreachable taint.
        tolerations: [
          { key: Taints.unreachable, operator: "Exists" },
          { key: Taints.unavailable, operator: "Exists" },
        ],
      },
    });
    await client.create({
      ...replicaSetRef,
      metadata: { name: replicaSetRef.name, namespace: replicaSetRef.namespace },
      spec: {
        manifestWorkTemplate: {
          workload: {
            manifests: manifestNames.map((name, index) => ({
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name, namespace: "default" },
              data: { blob: String(index).repeat(7_000) },
            })),
          },
        },
        placementRefs: [
          { name: "sites", rolloutStrategy: { type: "Progressive", progressive: { maxConcurrency: 2 } } },
        ],
      },
    });

    // Roll part of the way (the agents' reports let each pair of clusters through), then kill.
    const atKill = await eventually(
      async () => {
        const list = await works();
        await reportApplied(list);
        const clusters = new Set(list.map((work) => work.metadata.namespace));
        assert.ok(clusters.size >= 3, `${clusters.size} clusters started`);
        return clusters.size;
      },
      { timeoutMs: 120_000, intervalMs: 50, what: "the rollout part of the way" },
    );
    await first.kill();
    t.diagnostic(`killed the hub with ${atKill} of ${clusterNames.length} clusters started`);

    const second = hubProcess(dir, "hub-2", fixture.plane.kubeconfigPath, hubArgs);
    hubs.push(second);
    await second.start();

    await eventually(
      async () => {
        const list = await works();
        await reportApplied(list);
        const byCluster = Map.groupBy(list, (work) => work.metadata.namespace ?? "");
        assert.deepEqual([...byCluster.keys()].sort(), clusterNames, "every cluster has the work");
        for (const [cluster, parts] of byCluster) {
          const count = Number(parts[0]!.metadata.labels?.[BosunWorkLabels.partCount]);
          assert.ok(count >= 2, `${cluster}: split into ${count} parts`);
          assert.equal(parts.length, count, `${cluster}: exactly its parts`);
          const indexes = parts
            .map((part) => Number(part.metadata.labels?.[BosunWorkLabels.partIndex]))
            .sort((a, b) => a - b);
          assert.deepEqual(
            indexes,
            Array.from({ length: count }, (_, index) => index),
            `${cluster}: each part once`,
          );
          const carried = parts.flatMap((part) =>
            (part.spec?.workload?.manifests ?? []).map((manifest) => manifest.metadata.name ?? ""),
          );
          assert.deepEqual(carried.sort(), manifestNames, `${cluster}: every manifest once`);
        }
        const replicaSet = await client.get<ManifestWorkReplicaSet>(replicaSetRef);
        const summary = replicaSet.status?.summary;
        assert.equal(summary?.total, clusterNames.length, "summary total");
        assert.equal(summary?.available, clusterNames.length, "summary available");
        assert.equal(summary?.applied, clusterNames.length, "summary applied");
        assert.equal(summary?.degraded ?? 0, 0, "summary degraded");
        const rolledOut = findCondition(
          replicaSet.status?.conditions,
          ManifestWorkReplicaSetConditions.placementRolledOut,
        );
        assert.equal(rolledOut?.reason, ManifestWorkReplicaSetReasons.complete, "rolled out");
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the rollout completed after the restart" },
    );
  });
});
