// Events on a real API server: created with the involved object, repeats folded into one
// Event's count, cluster-scoped objects' events in "default", and failures never thrown.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { systemClock } from "../../runtime/clock.ts";
import { EventRecorder } from "../../runtime/events.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { KubeObject, Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";

const fixture = useControlPlane("events");

describe("event recorder", () => {
  let client: KubeClient;
  let recorder: EventRecorder;
  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    recorder = new EventRecorder({
      client,
      component: "bosun-test",
      clock: systemClock(),
      logger: pino({ level: "silent" }),
    });
  });
  after(() => client?.close());

  const eventsAbout = async (namespace: string, name: string) =>
    (
      await client.listAll<Unstructured>("v1", "Event", {
        namespace,
        fieldSelector: `involvedObject.name=${name}`,
      })
    ).items;

  test("records an event about an object and folds repeats into its count", async () => {
    const configMap = await client.create<KubeObject>({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "evented", namespace: "default" },
    });
    await recorder.record(configMap, "Warning", "SomethingHappened", "it happened");
    await recorder.record(configMap, "Warning", "SomethingHappened", "it happened");
    await recorder.record(configMap, "Normal", "SomethingElse", "another thing");
    const events = await eventsAbout("default", "evented");
    const byReason = Object.fromEntries(events.map((event) => [event.reason as string, event]));
    assert.deepEqual(Object.keys(byReason).sort(), ["SomethingElse", "SomethingHappened"]);
    const repeated = byReason.SomethingHappened!;
    assert.equal(repeated.count, 2);
    assert.equal(repeated.type, "Warning");
    assert.equal(repeated.message, "it happened");
    assert.deepEqual((repeated.source as { component: string }).component, "bosun-test");
    assert.equal((repeated.involvedObject as { uid: string }).uid, configMap.metadata.uid);
    assert.equal(byReason.SomethingElse!.count, 1);
  });

  test("events of cluster-scoped objects go to default; a failed write is not thrown", async () => {
    const namespace = await client.create<KubeObject>({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "evented-ns" },
    });
    await recorder.record(namespace, "Normal", "Seen", "a cluster-scoped object");
    assert.equal((await eventsAbout("default", "evented-ns")).length, 1);
    // No such namespace: the write fails, the caller carries on.
    await recorder.record(
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "missing-ns" } },
      "Normal",
      "Seen",
      "lost",
    );
  });
});
