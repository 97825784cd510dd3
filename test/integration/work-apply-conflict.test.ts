// The work agent's Update on a real API server when another writer changes the object between
// the agent's read and its write (a controller writing its own status, typically): the write's
// conflict is planned again on a fresh read and applied, not reported as a failed manifest.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ManifestWork } from "../../api/types/work.ts";
import { applyWork } from "../../klusterlet/work/applier.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";

const fixture = useControlPlane("work-apply-conflict");
const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings" };

describe("an Update that meets another writer", () => {
  let client: KubeClient;
  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
  });
  after(() => client?.close());

  test("is planned again on a fresh read and applied, keeping the other writer's change", async () => {
    await client.create({
      ...ref,
      metadata: { name: ref.name, namespace: ref.namespace },
      data: { level: "lax" },
    });
    // Between the agent's read and its write, someone labels the object.
    let interfered = 0;
    const racing = new Proxy(client, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        // The client's methods read its private fields: they run on the client itself.
        if (property !== "replace") return (value as (...a: unknown[]) => unknown).bind(target);
        return async (...args: unknown[]) => {
          if (interfered++ === 0)
            await target.patch(ref, "merge", { metadata: { labels: { other: "writer" } } });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const work: ManifestWork = {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: "w", namespace: "cluster1", uid: "work-uid" },
      spec: {
        workload: {
          manifests: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: ref.name, namespace: ref.namespace },
              data: { level: "strict" },
            },
          ],
        },
      },
    };
    const [result] = await applyWork({
      client: racing,
      work,
      owner: { name: "hub-w", uid: "applied-uid" },
      previousApplied: [],
      crdWaitMs: 1000,
    });
    assert.equal(interfered, 2, `the first write met the other writer's change; the second went through`);
    assert.deepEqual(result?.outcome, { ok: true });
    assert.equal(result?.action, "update");
    const live = await client.get<Unstructured & { data?: Record<string, string> }>(ref);
    assert.equal(live.data?.level, "strict");
    assert.equal(live.metadata.labels?.other, "writer");
  });
});
