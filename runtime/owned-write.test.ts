import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryKube } from "../test/support/memory-kube.ts";
import { KubeApiError } from "./errors.ts";
import type { KubeObject } from "./kube/types.ts";
import { writeOwnedFields } from "./owned-write.ts";

interface Widget extends KubeObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

async function storedWidget(kube: MemoryKube): Promise<Widget> {
  const created = await kube.create<Widget>({
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w1", namespace: "ns", labels: { app: "w", old: "x" } },
    spec: { size: 3, items: [1, 2] },
  });
  return kube.replace<Widget>({ ...created, status: { ready: 1 } }, { subresource: "status" });
}

const patch = { metadata: { labels: { old: null, tier: "web" } }, spec: { items: [3] } };

describe("writeOwnedFields", () => {
  it("replaces the object at the cached resourceVersion, and leaves the cached copy unchanged", async () => {
    const kube = new MemoryKube();
    const cached = await storedWidget(kube);
    const before = JSON.stringify(cached);
    const written = await writeOwnedFields(kube, cached, patch, { fieldManager: "owner" });
    assert.equal(JSON.stringify(cached), before);
    assert.deepEqual(written.metadata.labels, { app: "w", tier: "web" });
    assert.deepEqual(written.spec, { size: 3, items: [3] });
    assert.deepEqual(written.status, { ready: 1 }, "the status is not the owner's to write");
    assert.deepEqual(
      kube.writes.slice(-1).map((write) => write.verb),
      ["replace"],
    );
  });

  it("falls back to the merge patch when another writer changed the object since the cache read it", async () => {
    const kube = new MemoryKube();
    const cached = await storedWidget(kube);
    // The agent reports a new status: the cached resourceVersion is stale now.
    await kube.replace<Widget>({ ...cached, status: { ready: 2 } }, { subresource: "status" });
    const written = await writeOwnedFields(kube, cached, patch);
    assert.deepEqual(
      kube.writes.slice(-2).map((write) => write.verb),
      ["replace", "patch"],
    );
    assert.deepEqual(written.metadata.labels, { app: "w", tier: "web" });
    assert.deepEqual(written.spec, { size: 3, items: [3] });
    assert.deepEqual(written.status, { ready: 2 }, "the newer status is kept");
  });

  it("throws any other failure as it came", async () => {
    const kube = new MemoryKube();
    const cached = await storedWidget(kube);
    await kube.delete({ apiVersion: "example.com/v1", kind: "Widget", namespace: "ns", name: "w1" });
    await assert.rejects(
      writeOwnedFields(kube, cached, patch),
      (error: unknown) => error instanceof KubeApiError && error.notFound,
    );
  });
});
