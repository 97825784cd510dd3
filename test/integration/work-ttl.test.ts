// The hub's ManifestWork garbage collector on a real API server: a finished work goes once its
// ttlSecondsAfterFinished has passed; an unfinished one, and a replica set's, stay.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { WorkGarbageCollector } from "../../controllers/work/garbage-collector.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { formatTime } from "../../runtime/time.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("work-ttl");
const logger = pino({ level: "silent" });
const workApi = "work.open-cluster-management.io/v1";
const ref = (name: string) => ({ apiVersion: workApi, kind: "ManifestWork", namespace: "cluster1", name });

describe("ManifestWork garbage collection", () => {
  let client: KubeClient;
  let collector: WorkGarbageCollector;

  async function createWork(name: string, ttl: number, labels: Record<string, string> = {}) {
    await client.create({
      apiVersion: workApi,
      kind: "ManifestWork",
      metadata: { name, namespace: "cluster1", labels },
      spec: {
        workload: {
          manifests: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" } }],
        },
        deleteOption: { propagationPolicy: "Foreground", ttlSecondsAfterFinished: ttl },
      },
    });
  }

  /** What the agent reports when the work's condition rules say it is Complete. */
  async function complete(name: string) {
    await client.patch(
      ref(name),
      "merge",
      {
        status: {
          conditions: [
            {
              type: "Complete",
              status: "True",
              reason: "ConditionRulesAggregated",
              message: "",
              lastTransitionTime: formatTime(Date.now()),
            },
          ],
        },
      },
      { subresource: "status" },
    );
  }

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "cluster1" } });
    collector = new WorkGarbageCollector({ client, clock: systemClock(), logger, registry: new Registry() });
    await collector.start();
  });

  after(async () => {
    await collector?.stop();
    client?.close();
  });

  test("a Complete work goes after its TTL; unfinished and replica-set works stay", async () => {
    await createWork("finished", 1);
    await createWork("running", 1);
    await createWork("of-a-replica-set", 0, {
      "work.open-cluster-management.io/manifestworkreplicaset": "default.app",
    });
    await complete("finished");
    await complete("of-a-replica-set");
    await eventually(async () => assert.equal(await client.getOrUndefined(ref("finished")), undefined), {
      what: "the finished work deleted",
    });
    // Every work with a TTL was reconciled when it appeared and when its status changed.
    await collector.whenIdle();
    assert.ok(await client.getOrUndefined(ref("running")), "not Complete: kept");
    assert.ok(await client.getOrUndefined(ref("of-a-replica-set")), "its replica set decides");
  });
});
