// SIGKILL of `bosun agent` while it applies a ManifestWork of many manifests, then a fresh
// agent: every manifest ends applied exactly once (objects applied before the kill keep their
// uid: nothing is deleted and created again), the AppliedManifestWork lists each resource once
// with its live uid, and the work's status reports every manifest once, Applied.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManifestWorkConditions } from "../../api/constants.ts";
import type { AppliedManifestWork, ManifestWork } from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { eventually } from "../support/wait.ts";
import { startProcessFleet, type ProcessFleet } from "./support/process-fleet.ts";

const cluster = "spoke";
const targetNamespace = "bulk";
const configMapCount = 300;
const configMapName = (index: number) => `item-${String(index).padStart(3, "0")}`;
const workRef = {
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "ManifestWork",
  namespace: cluster,
  name: "bulk-config",
};

describe("agent killed while applying a large work", () => {
  let fleet: ProcessFleet;

  before(async () => {
    fleet = await startProcessFleet({ name: "faults-apply", clusters: [cluster] });
  });

  after(async () => {
    await fleet?.stop();
  });

  async function liveConfigMaps(): Promise<Map<string, string>> {
    const { items } = await fleet.clusters[cluster]!.client.listAll<Unstructured>("v1", "ConfigMap", {
      namespace: targetNamespace,
    });
    const live = new Map<string, string>();
    for (const item of items) {
      const name = item.metadata.name ?? "";
      if (name.startsWith("item-")) live.set(name, item.metadata.uid ?? "");
    }
    return live;
  }

  test("a fresh agent finishes the apply: each manifest once, none re-created", async (t) => {
    const member = fleet.clusters[cluster]!;
    await fleet.hub.create<ManifestWork>({
      ...workRef,
      metadata: { name: workRef.name, namespace: cluster },
      spec: {
        workload: {
          manifests: [
            { apiVersion: "v1", kind: "Namespace", metadata: { name: targetNamespace } },
            ...Array.from({ length: configMapCount }, (_, index) => ({
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: configMapName(index), namespace: targetNamespace },
              data: { index: String(index) },
            })),
          ],
        },
      },
    } as ManifestWork);

    const atKill = await eventually(
      async () => {
        const live = await liveConfigMaps();
        // Part-way: some applied (and recorded nowhere yet but the cluster), most still to come.
        assert.ok(live.size >= configMapCount / 6, `${live.size} applied so far`);
        return live;
      },
      { timeoutMs: 120_000, intervalMs: 10, what: "a sixth of the ConfigMaps applied" },
    );
    await member.agent.kill();
    const afterKill = await liveConfigMaps();
    t.diagnostic(
      `killed the agent with ${atKill.size}..${afterKill.size} of ${configMapCount} ConfigMaps applied`,
    );

    await member.restartAgent();

    const expectedNames = Array.from({ length: configMapCount }, (_, index) => configMapName(index));
    await eventually(
      async () => {
        const live = await liveConfigMaps();
        assert.deepEqual([...live.keys()].sort(), expectedNames, "every ConfigMap applied");
        for (const [name, uid] of afterKill) assert.equal(live.get(name), uid, `${name} kept its uid`);

        const { items: applied } = await member.client.listAll<AppliedManifestWork>(
          "work.open-cluster-management.io/v1",
          "AppliedManifestWork",
        );
        const forWork = applied.filter((item) => item.spec?.manifestWorkName === workRef.name);
        assert.equal(forWork.length, 1, "one AppliedManifestWork for the work");
        const resources = forWork[0]!.status?.appliedResources ?? [];
        const keys = resources.map(
          (resource) => `${resource.resource}/${resource.namespace ?? ""}/${resource.name}`,
        );
        assert.equal(new Set(keys).size, keys.length, "no resource listed twice");
        assert.equal(resources.length, configMapCount + 1, "every applied resource listed");
        for (const resource of resources.filter((entry) => entry.resource === "configmaps")) {
          assert.equal(resource.uid, live.get(resource.name), `${resource.name}: the live uid`);
        }

        const work = await fleet.hub.get<ManifestWork>(workRef);
        const appliedCondition = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
        assert.equal(appliedCondition?.status, "True", "the work is Applied");
        assert.equal(appliedCondition?.observedGeneration, work.metadata.generation);
        const ordinals = (work.status?.resourceStatus?.manifests ?? []).map(
          (entry) => entry.resourceMeta.ordinal,
        );
        assert.deepEqual(
          [...ordinals].sort((a, b) => (a ?? 0) - (b ?? 0)),
          Array.from({ length: configMapCount + 1 }, (_, index) => index),
          "each manifest reported once",
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the work applied after the restart" },
    );
  });
});
