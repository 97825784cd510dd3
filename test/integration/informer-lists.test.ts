// The informer against a real API server that does not stream lists (its WatchList feature
// off, as on servers before 1.27 or where it is turned off): the server refuses the streamed
// list, and the informer lists and watches instead, without counting that as a failure.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Informer } from "../../runtime/informer.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("informer-lists", { apiserverArgs: ["--feature-gates=WatchList=false"] });
const logger = pino({ level: "silent" });
const ns = "informer-lists";

let admin: KubeClient;

describe("informer on a server that does not stream lists", () => {
  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  });
  after(() => admin?.close());

  test("the server refuses a streamed list with the parameter named", async () => {
    const watching = (async () => {
      for await (const _event of admin.watch("v1", "ConfigMap", {
        namespace: ns,
        sendInitialEvents: true,
        resourceVersionMatch: "NotOlderThan",
        timeoutSeconds: 5,
      })) {
        // The refusal comes before any event.
      }
    })();
    await assert.rejects(watching, (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /sendInitialEvents/);
      return true;
    });
  });

  test("lists and watches instead, and delivers what changes", async () => {
    await admin.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "before", namespace: ns } });
    const informer = new Informer({
      client: admin,
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns,
      logger,
    });
    const added: string[] = [];
    informer.addHandlers({ onAdd: (object) => added.push(object.metadata.name ?? "") });
    informer.start();
    try {
      await informer.waitForSync();
      assert.ok(informer.get(`${ns}/before`), "the listed state is cached");
      await admin.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after", namespace: ns } });
      await eventually(() => assert.ok(added.includes("after"), added.join(", ")));
      assert.equal(informer.stats.streamedLists, 0);
      assert.equal(informer.stats.lists, 1);
      assert.equal(informer.stats.failures, 0, "the refusal is not a failure to back off from");
      assert.equal(added.filter((name) => name === "after").length, 1);
    } finally {
      await informer.stop();
    }
  });
});
