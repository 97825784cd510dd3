// Two controllers write different parts of one object's status from their own caches. A
// write from a stale cache must be refused (409), requeued, and succeed on a fresh read,
// so that both writers' fields survive: nothing is overwritten with old data.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { systemClock } from "../../runtime/clock.ts";
import { Controller } from "../../runtime/controller.ts";
import { Informer } from "../../runtime/informer.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { patchStatus, statusPatch } from "../../runtime/status.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { sampleValue } from "../support/metric-samples.ts";
import { testCrd } from "../support/test-crd.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("status-conflicts");
const logger = pino({ level: "silent" });

const gadgetCrd = testCrd("Gadget", "gadgets");

interface Writer {
  controller: Controller;
  informer: Informer;
  registry: Registry;
}

/** A controller that sets status[field] = value on every Gadget, from its own informer cache. */
function writer(
  client: KubeClient,
  name: string,
  field: string,
  value: string,
  beforeWrite?: () => Promise<void>,
): Writer {
  const registry = new Registry();
  const informer = new Informer({ client, apiVersion: "test.bosun.io/v1", kind: "Gadget", logger });
  const controller = new Controller({
    name,
    registry,
    logger,
    clock: systemClock(),
    backoff: { baseDelayMs: 20, maxDelayMs: 500 },
    reconcile: async (key) => {
      const cached = informer.get(key);
      if (!cached) return;
      const desired = { ...(cached.status as Record<string, unknown> | undefined), [field]: value };
      await beforeWrite?.();
      await patchStatus(client, cached, desired, { fieldManager: name });
    },
  });
  informer.addHandlers({
    onAdd: (object) => controller.enqueue(`${object.metadata.namespace}/${object.metadata.name}`),
    onUpdate: (_previous, object) =>
      controller.enqueue(`${object.metadata.namespace}/${object.metadata.name}`),
  });
  return { controller, informer, registry };
}

describe("status writes", () => {
  let admin: KubeClient;
  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await admin.create(gadgetCrd);
    await eventually(() => admin.list("test.bosun.io/v1", "Gadget"));
  });
  after(() => admin?.close());

  test("the status patch is the minimal difference, and equal statuses produce none", () => {
    assert.equal(
      statusPatch({ a: "1", conditions: [{ type: "X" }] }, { a: "1", conditions: [{ type: "X" }] }),
      undefined,
    );
    assert.deepEqual(statusPatch({ a: "1", b: "2" }, { a: "1", b: "3" }), { b: "3" });
    assert.deepEqual(statusPatch({ a: "1", b: "2" }, { a: "1" }), { b: null });
    assert.deepEqual(statusPatch(undefined, { a: "1" }), { a: "1" });
  });

  test("conflicting writers converge: the stale write gets 409, is requeued, and both fields survive", async () => {
    const clientA = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    const clientB = await KubeClient.fromFile(fixture.plane.kubeconfigPath);

    // Writer A's first write waits until writer B has written, so A's cached copy is stale
    // at the moment it writes: that write must be refused, not applied.
    let releaseA!: () => void;
    const bWrote = new Promise<void>((resolve) => (releaseA = resolve));
    let firstAttempt = true;
    const a = writer(clientA, "writer-a", "fromA", "a-value", async () => {
      if (firstAttempt) {
        firstAttempt = false;
        await bWrote;
      }
    });
    const b = writer(clientB, "writer-b", "fromB", "b-value");

    await admin.create({
      apiVersion: "test.bosun.io/v1",
      kind: "Gadget",
      metadata: { name: "g1", namespace: "default" },
      spec: {},
    });
    a.informer.start();
    a.controller.start();
    await a.informer.waitForSync();
    // Let A pick up the key and block inside its first write before B starts.
    await eventually(() => assert.equal(firstAttempt, false));
    b.informer.start();
    b.controller.start();
    await eventually(async () => {
      const gadget = await admin.get<Unstructured>({
        apiVersion: "test.bosun.io/v1",
        kind: "Gadget",
        name: "g1",
        namespace: "default",
      });
      assert.deepEqual(gadget.status, { fromB: "b-value" });
    });
    releaseA();

    try {
      await eventually(async () => {
        const gadget = await admin.get<Unstructured>({
          apiVersion: "test.bosun.io/v1",
          kind: "Gadget",
          name: "g1",
          namespace: "default",
        });
        assert.deepEqual(gadget.status, { fromA: "a-value", fromB: "b-value" });
      });
      const conflicts = await sampleValue(a.registry, "bosun_controller_reconcile_total", {
        controller: "writer-a",
        result: "conflict",
      });
      assert.ok((conflicts ?? 0) >= 1, `writer-a saw ${conflicts} conflicts`);
    } finally {
      for (const w of [a, b]) {
        await w.controller.stop();
        await w.informer.stop();
      }
      clientA.close();
      clientB.close();
    }
  });

  test("a write with nothing to change sends no request", async () => {
    await admin.create({
      apiVersion: "test.bosun.io/v1",
      kind: "Gadget",
      metadata: { name: "g2", namespace: "default" },
      spec: {},
    });
    const ref = { apiVersion: "test.bosun.io/v1", kind: "Gadget", name: "g2", namespace: "default" };
    const written = await patchStatus(admin, await admin.get(ref), { phase: "Ready" });
    assert.ok(written);
    const before = await admin.get(ref);
    assert.equal(await patchStatus(admin, before, { phase: "Ready" }), undefined);
    assert.equal((await admin.get(ref)).metadata.resourceVersion, before.metadata.resourceVersion);
  });
});
