// `bosun agent` stopped for longer than its lease grace (5 × leaseDurationSeconds, shortened
// here to 4 s so the grace is 20 s): the hub turns the cluster's Available condition Unknown and
// taints it unreachable; what the agent applied stays on the cluster. Started again, the agent
// renews its lease, the cluster is Available again without the taint, its works are still
// applied (the same objects, not re-created) and a work created while it was away arrives.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManagedClusterConditions, ManifestWorkConditions, Taints } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { AppliedManifestWork, ManifestWork } from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { eventually } from "../support/wait.ts";
import {
  assertAvailable,
  clusterRef,
  startProcessFleet,
  type ProcessFleet,
} from "./support/process-fleet.ts";

const cluster = "roamer";

describe("agent offline past its lease grace", () => {
  let fleet: ProcessFleet;

  before(async () => {
    fleet = await startProcessFleet({ name: "faults-offline", clusters: [cluster] });
  });

  after(async () => {
    await fleet?.stop();
  });

  const workRef = (name: string) => ({
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    namespace: cluster,
    name,
  });

  async function createWork(name: string): Promise<void> {
    await fleet.hub.create<ManifestWork>({
      ...workRef(name),
      metadata: { name, namespace: cluster },
      spec: {
        workload: {
          manifests: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name, namespace: "default" },
              data: { a: "1" },
            },
          ],
        },
      },
    } as ManifestWork);
  }

  async function appliedUid(name: string): Promise<string> {
    const live = await fleet.clusters[cluster]!.client.getOrUndefined<Unstructured>({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "default",
      name,
    });
    assert.ok(live?.metadata.uid, `ConfigMap ${name} on the cluster`);
    const work = await fleet.hub.get<ManifestWork>(workRef(name));
    assert.equal(
      findCondition(work.status?.conditions, ManifestWorkConditions.applied)?.status,
      "True",
      name,
    );
    return live.metadata.uid;
  }

  test("Unknown and tainted while away; Available, untainted and still applied when back", async () => {
    const member = fleet.clusters[cluster]!;
    await fleet.hub.patch(clusterRef(cluster), "merge", { spec: { leaseDurationSeconds: 4 } });
    await createWork("kept");
    const uidBefore = await eventually(() => appliedUid("kept"), {
      timeoutMs: 60_000,
      what: "the first work applied",
    });

    await member.agent.stop();
    await eventually(
      async () => {
        const current = await fleet.hub.get<ManagedCluster>(clusterRef(cluster));
        const available = findCondition(current.status?.conditions, ManagedClusterConditions.available);
        assert.equal(available?.status, "Unknown", "Available turns Unknown");
        assert.ok(
          current.spec?.taints?.some((taint) => taint.key === Taints.unreachable),
          "tainted unreachable",
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the cluster judged unreachable" },
    );
    const stillThere = await member.client.getOrUndefined<Unstructured>({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "default",
      name: "kept",
    });
    assert.equal(stillThere?.metadata.uid, uidBefore, "what was applied stays while the agent is away");
    await createWork("while-away");

    await member.restartAgent();
    await eventually(
      async () => {
        await assertAvailable(fleet.hub, cluster);
        assert.equal(await appliedUid("kept"), uidBefore, "the same object, not re-created");
        await appliedUid("while-away");
        const { items } = await member.client.listAll<AppliedManifestWork>(
          "work.open-cluster-management.io/v1",
          "AppliedManifestWork",
        );
        assert.deepEqual(items.map((item) => item.spec?.manifestWorkName).sort(), ["kept", "while-away"]);
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the cluster back and its works applied" },
    );
  });
});
