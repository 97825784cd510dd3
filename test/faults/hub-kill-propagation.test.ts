// SIGKILL of `bosun hub` in the middle of propagating a Policy to 30 clusters, then a fresh
// `bosun hub`: the new leader recomputes everything from the hub's state, so every cluster ends
// with exactly one replica and one policy ManifestWork, and the root status lists each cluster
// once. The clusters are registered on the hub directly (accepted, no agents): propagation
// only needs their namespaces and the placement's decisions.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BosunPolicyWorkLabels, Labels, PolicyLabels, Taints } from "../../api/constants.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";
import { eventually } from "../support/wait.ts";
import { hubProcess, type BosunProcess } from "./support/processes.ts";

const fixture = useControlPlane("faults-propagation");
const namespace = "policies";
const clusterCount = 30;
const clusterNames = Array.from(
  { length: clusterCount },
  (_, index) => `cluster-${String(index).padStart(2, "0")}`,
);
const replicaName = `${namespace}.fleet-baseline`;

describe("hub killed during policy propagation", () => {
  let client: KubeClient;
  let dir: string;
  const hubs: BosunProcess[] = [];

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    dir = await mkdtemp(join(tmpdir(), "bosun-faults-propagation-"));
    await installCrds(client, "hub");
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await createBoundClusterSet(client, "fleet", namespace);
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

  async function replicas(): Promise<Policy[]> {
    const { items } = await client.listAll<Policy>("policy.open-cluster-management.io/v1", "Policy", {
      labelSelector: `${PolicyLabels.rootPolicy}=${replicaName}`,
    });
    return items;
  }

  async function policyWorks(): Promise<ManifestWork[]> {
    const { items } = await client.listAll<ManifestWork>(
      "work.open-cluster-management.io/v1",
      "ManifestWork",
      {
        labelSelector: `${BosunPolicyWorkLabels.replica}=${replicaName}`,
      },
    );
    return items;
  }

  test("a fresh hub finishes the propagation: one replica and one work per cluster, each listed once", async (t) => {
    const first = hubProcess(dir, "hub-1", fixture.plane.kubeconfigPath);
    hubs.push(first);
    await first.start();

    await client.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: { name: "all", namespace },
      // No agents renew leases here, so every cluster carries the unreachable taint.
      spec: {
        tolerations: [
          { key: Taints.unreachable, operator: "Exists" },
          { key: Taints.unavailable, operator: "Exists" },
        ],
      },
    });
    await client.create({
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "Policy",
      metadata: { name: "fleet-baseline", namespace },
      spec: {
        disabled: false,
        remediationAction: "inform",
        "policy-templates": [
          {
            objectDefinition: {
              apiVersion: "policy.open-cluster-management.io/v1",
              kind: "ConfigurationPolicy",
              metadata: { name: "baseline-namespace" },
              spec: {
                remediationAction: "inform",
                severity: "low",
                "object-templates": [
                  {
                    complianceType: "musthave",
                    objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: "baseline" } },
                  },
                ],
              },
            },
          },
        ],
      },
    });
    await client.create({
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "PlacementBinding",
      metadata: { name: "fleet-baseline", namespace },
      placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "Placement", name: "all" },
      subjects: [{ apiGroup: "policy.open-cluster-management.io", kind: "Policy", name: "fleet-baseline" }],
    });

    // Kill as soon as the first replica exists: the rest are still to be written.
    const atKill = await eventually(
      async () => {
        const count = (await replicas()).length;
        assert.ok(count > 0, "no replica yet");
        return count;
      },
      { timeoutMs: 120_000, intervalMs: 10, what: "the first replica" },
    );
    await first.kill();
    const worksAtKill = (await policyWorks()).length;
    t.diagnostic(
      `killed the hub with ${atKill} of ${clusterCount} replicas and ${worksAtKill} works written`,
    );

    // The dead leader's lease runs out before the new hub takes over.
    const second = hubProcess(dir, "hub-2", fixture.plane.kubeconfigPath);
    hubs.push(second);
    await second.start();

    await eventually(
      async () => {
        const byCluster = new Map<string, number>();
        for (const replica of await replicas()) {
          assert.equal(replica.metadata.name, replicaName);
          byCluster.set(replica.metadata.namespace!, (byCluster.get(replica.metadata.namespace!) ?? 0) + 1);
        }
        assert.deepEqual([...byCluster.keys()].sort(), clusterNames, "a replica in every cluster namespace");
        assert.ok(
          [...byCluster.values()].every((count) => count === 1),
          "one replica per cluster",
        );

        const works = await policyWorks();
        assert.deepEqual(
          works.map((work) => work.metadata.namespace).sort(),
          clusterNames,
          "exactly one policy ManifestWork per cluster",
        );
        for (const work of works) {
          assert.equal(work.spec?.workload?.manifests?.length, 1, `${work.metadata.namespace}: one template`);
        }

        const root = await client.get<Policy>({
          apiVersion: "policy.open-cluster-management.io/v1",
          kind: "Policy",
          namespace,
          name: "fleet-baseline",
        });
        const listed = (root.status?.status ?? []).map((entry) => entry.clustername ?? "");
        assert.deepEqual([...listed].sort(), clusterNames, "the root status lists every cluster once");
        assert.deepEqual(
          root.status?.placement?.map((entry) => [entry.placementBinding, entry.placement]),
          [["fleet-baseline", "all"]],
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the propagation converged after the restart" },
    );

    // Nothing stray elsewhere: no replica outside a cluster namespace.
    const { items: all } = await client.listAll<Policy>("policy.open-cluster-management.io/v1", "Policy");
    assert.equal(all.filter((policy) => policy.metadata.namespace !== namespace).length, clusterCount);
  });
});
