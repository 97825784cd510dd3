import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryKube } from "../test/support/memory-kube.ts";
import { KubeApiError } from "./errors.ts";
import { refOf } from "./kube/client.ts";
import type { KubeObject } from "./kube/types.ts";
import { patchStatus, statusPatch } from "./status.ts";

interface Widget extends KubeObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** A widget created, then given `status` through the status subresource; returns it as stored. */
async function storedWidget(kube: MemoryKube, status?: Record<string, unknown>): Promise<Widget> {
  const created = await kube.create<Widget>({
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w1", namespace: "ns", labels: { app: "w" } },
    spec: { size: 3 },
  });
  if (status === undefined) return created;
  return kube.replace<Widget>({ ...created, status }, { subresource: "status" });
}

describe("statusPatch", () => {
  const cases: { name: string; current: unknown; desired: unknown; patch: unknown }[] = [
    {
      name: "equal statuses",
      current: { a: 1, b: { c: [1, 2] } },
      desired: { a: 1, b: { c: [1, 2] } },
      patch: undefined,
    },
    { name: "no status yet", current: undefined, desired: { a: 1 }, patch: { a: 1 } },
    {
      name: "a nested field changes",
      current: { a: 1, b: { c: 2, d: 3 } },
      desired: { a: 1, b: { c: 2, d: 4 } },
      patch: { b: { d: 4 } },
    },
    { name: "a field goes away", current: { a: 1, b: 2 }, desired: { a: 1 }, patch: { b: null } },
    {
      name: "lists are replaced whole",
      current: { l: [1, 2] },
      desired: { l: [1, 3] },
      patch: { l: [1, 3] },
    },
    { name: "nothing desired of an empty status", current: undefined, desired: undefined, patch: undefined },
  ];
  for (const testCase of cases) {
    it(testCase.name, () => {
      assert.deepEqual(statusPatch(testCase.current, testCase.desired), testCase.patch);
    });
  }
});

describe("patchStatus", () => {
  const cases: {
    name: string;
    before: Record<string, unknown>;
    desired: Record<string, unknown>;
    /** The status part of the one patch sent; undefined when nothing is sent. */
    sent: unknown;
  }[] = [
    {
      name: "sends only the changed field",
      before: { phase: "Pending", counts: { ready: 1, total: 3 }, note: "keep" },
      desired: { phase: "Pending", counts: { ready: 2, total: 3 }, note: "keep" },
      sent: { counts: { ready: 2 } },
    },
    {
      name: "removes a field with null",
      before: { phase: "Pending", message: "waiting" },
      desired: { phase: "Running" },
      sent: { phase: "Running", message: null },
    },
    {
      name: "sends nothing when the status is current",
      before: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
      desired: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
      sent: undefined,
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const kube = new MemoryKube();
      const current = await storedWidget(kube, testCase.before);
      const writes = kube.writes.length;
      const result = await patchStatus(kube, current, testCase.desired, { fieldManager: "test" });
      const sent = kube.writes.slice(writes);
      const stored = await kube.get<Widget>(refOf(current));
      if (testCase.sent === undefined) {
        assert.equal(result, undefined);
        assert.deepEqual(sent, [], "no request when nothing changed");
        assert.equal(stored.metadata.resourceVersion, current.metadata.resourceVersion);
        return;
      }
      assert.deepEqual(sent, [
        {
          verb: "patch",
          apiVersion: "example.com/v1",
          kind: "Widget",
          namespace: "ns",
          name: "w1",
          subresource: "status",
          body: { metadata: { resourceVersion: current.metadata.resourceVersion }, status: testCase.sent },
        },
      ]);
      assert.deepEqual(stored.status, testCase.desired);
      assert.deepEqual(result, stored, "returns the object as written");
      assert.notEqual(stored.metadata.resourceVersion, current.metadata.resourceVersion);
      assert.deepEqual(stored.spec, current.spec, "the spec is not written");
      assert.deepEqual(stored.metadata.labels, current.metadata.labels);
    });
  }

  it("fails with 409 Conflict from a stale resourceVersion and leaves the newer status", async () => {
    const kube = new MemoryKube();
    const stale = await storedWidget(kube, { phase: "Pending" });
    const newer = await kube.replace<Widget>(
      { ...stale, status: { phase: "Failed" } },
      { subresource: "status" },
    );
    await assert.rejects(
      patchStatus(kube, stale, { phase: "Running" }),
      (error: unknown) =>
        error instanceof KubeApiError &&
        error.status === 409 &&
        error.reason === "Conflict" &&
        error.conflict,
    );
    const stored = await kube.get<Widget>(refOf(stale));
    assert.deepEqual(stored.status, { phase: "Failed" });
    assert.equal(stored.metadata.resourceVersion, newer.metadata.resourceVersion);

    // From the fresh read, the same write goes through.
    const written = await patchStatus(kube, stored, { phase: "Running" });
    assert.deepEqual(written?.status, { phase: "Running" });
  });

  it("fails with 404 when the object is gone", async () => {
    const kube = new MemoryKube();
    const current = await storedWidget(kube, { phase: "Pending" });
    await kube.delete(refOf(current));
    await assert.rejects(
      patchStatus(kube, current, { phase: "Running" }),
      (error: unknown) => error instanceof KubeApiError && error.notFound,
    );
  });

  it("refuses to write without a resourceVersion to guard it", async () => {
    const kube = new MemoryKube();
    const current = await storedWidget(kube, { phase: "Pending" });
    const { resourceVersion: _dropped, ...metadata } = current.metadata;
    const writes = kube.writes.length;
    await assert.rejects(
      patchStatus(kube, { ...current, metadata }, { phase: "Running" }),
      /no resourceVersion/,
    );
    assert.equal(kube.writes.length, writes);
  });
});
