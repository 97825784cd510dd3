// The hub's kube-apiserver, and separately its etcd, restarted under a running fleet (`bosun
// hub` and two `bosun agent` processes): the agents' and the hub's watches reconnect by
// themselves, a work created just before the outage and one created after it are applied on
// every cluster (the work resync is minutes away, so only live watches can deliver them in
// time), the leases are renewed again and every cluster stays or becomes Available.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import { Lease, ManifestWorkConditions } from "../../api/constants.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { eventually } from "../support/wait.ts";
import { assertAvailable, startProcessFleet, type ProcessFleet } from "./support/process-fleet.ts";

const clusterNames = ["east", "west"] as const;

describe("hub API server and etcd restarted under running agents", () => {
  let fleet: ProcessFleet;

  before(async () => {
    fleet = await startProcessFleet({ name: "faults-restart", clusters: clusterNames });
  });

  after(async () => {
    await fleet?.stop();
  });

  async function createWork(cluster: string, name: string): Promise<void> {
    await fleet.hub.create<ManifestWork>({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name, namespace: cluster },
      spec: {
        workload: {
          manifests: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name, namespace: "default" },
              data: { from: "hub" },
            },
          ],
        },
      },
    });
  }

  async function assertApplied(cluster: string, name: string): Promise<void> {
    const live = await fleet.clusters[cluster]!.client.getOrUndefined<Unstructured>({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "default",
      name,
    });
    assert.ok(live, `${cluster}: ConfigMap ${name} applied`);
    const work = await fleet.hub.get<ManifestWork>({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      namespace: cluster,
      name,
    });
    assert.equal(findCondition(work.status?.conditions, ManifestWorkConditions.applied)?.status, "True");
  }

  async function leaseRenewedAfter(cluster: string, sinceMs: number): Promise<void> {
    const lease = await fleet.hub.get<Unstructured & { spec?: { renewTime?: string } }>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      namespace: cluster,
      name: Lease.name,
    });
    const renewed = Date.parse(lease.spec?.renewTime ?? "");
    assert.ok(
      renewed > sinceMs,
      `${cluster}: lease renewed at ${lease.spec?.renewTime}, not after the outage`,
    );
  }

  async function outage(restart: () => Promise<void>, label: string, t: TestContext): Promise<void> {
    for (const cluster of clusterNames) await createWork(cluster, `${label}-before`);
    await restart();
    const restartedAt = Date.now();
    for (const cluster of clusterNames) await createWork(cluster, `${label}-after`);
    const steps: [string, (cluster: string) => Promise<void>][] = [
      ["work from before applied", (cluster) => assertApplied(cluster, `${label}-before`)],
      ["work from after applied", (cluster) => assertApplied(cluster, `${label}-after`)],
      // The agents renew once per lease duration (60 s), as OCM's do.
      ["lease renewed", (cluster) => leaseRenewedAfter(cluster, restartedAt)],
      ["available", (cluster) => assertAvailable(fleet.hub, cluster)],
    ];
    for (const [what, check] of steps) {
      for (const cluster of clusterNames) {
        await eventually(() => check(cluster), {
          timeoutMs: 120_000,
          intervalMs: 500,
          what: `${cluster}: ${what} after the ${label} restart`,
        });
        t.diagnostic(`${cluster}: ${what} ${Date.now() - restartedAt} ms after the ${label} restart`);
      }
    }
    // Every step holds at once, in the end.
    for (const [, check] of steps) for (const cluster of clusterNames) await check(cluster);
    assert.ok(fleet.hubController.running, "bosun hub survived the outage");
    for (const cluster of clusterNames)
      assert.ok(fleet.clusters[cluster]!.agent.running, `${cluster}'s agent survived`);
  }

  test("kube-apiserver restart: works before and after the outage applied, leases resume", async (t) => {
    await outage(() => fleet.hubPlane.restartApiServer(), "apiserver", t);
  });

  test("etcd restart: works before and after the outage applied, leases resume", async (t) => {
    await outage(() => fleet.hubPlane.restartEtcd(), "etcd", t);
  });
});
