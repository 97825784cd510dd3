// ManifestWork admission on a real API server: the hub serves and registers its webhook, and
// the API server refuses oversized, duplicate and nameless manifests with OCM's messages,
// while valid works and replica sets larger than one work's limit are stored.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { runHub, type RunningHub } from "../../controllers/hub.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("work-admission");
const logger = pino({ level: "silent" });

const configMap = (name: string, bytes = 10) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data: { payload: "x".repeat(bytes) },
});

const work = (name: string, manifests: unknown[]) => ({
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "ManifestWork",
  metadata: { name, namespace: "cluster1" },
  spec: { workload: { manifests } },
});

describe("ManifestWork admission", () => {
  let client: KubeClient;
  let hubClient: KubeClient;
  let hub: RunningHub;

  async function refusal(object: unknown): Promise<string> {
    try {
      await client.create(object as Parameters<KubeClient["create"]>[0]);
    } catch (error) {
      assert.ok(error instanceof KubeApiError, String(error));
      return error.message;
    }
    assert.fail("the API server accepted the object");
  }

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "cluster1" } });
    hubClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    hub = await runHub({
      client: hubClient,
      clock: systemClock(),
      logger,
      metrics: { host: "127.0.0.1", port: 0 },
      webhook: { host: "127.0.0.1", port: 0 },
      identity: "work-admission",
    });
    // The API server calls the webhook once its configuration is loaded.
    await eventually(async () => {
      assert.match(await refusal(work("probe", [])), /manifests should not be empty/);
    });
  });

  after(async () => {
    await hub?.stop();
    hubClient?.close();
    client?.close();
  });

  test("a work whose manifests exceed 512000 bytes is refused with OCM's message", async () => {
    const message = await refusal(work("too-big", [configMap("a", 300_000), configMap("b", 300_000)]));
    assert.match(message, /the size of manifests is \d+ bytes which exceeds the 512000 limit/);
  });

  test("duplicate manifests are refused, naming the resource and its type", async () => {
    const message = await refusal(work("twice", [configMap("a"), configMap("a")]));
    assert.match(message, /duplicate manifest for resource default\/a with resource type v1\.ConfigMap/);
  });

  test("a manifest without a name, or with generateName, is refused", async () => {
    const nameless = { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "default" } };
    assert.match(await refusal(work("nameless", [nameless])), /name must be set in manifest/);
    const generated = { ...nameless, metadata: { name: "a", generateName: "a-", namespace: "default" } };
    assert.match(await refusal(work("generated", [generated])), /generateName must not be set in manifest/);
  });

  test("keys that are JavaScript's own names (__proto__, constructor) are data like any other", async () => {
    const manifest = JSON.parse(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"odd","namespace":"default"},' +
        '"data":{"__proto__":"a","constructor":"b","prototype":"c"}}',
    ) as unknown;
    const stored = await client.create<
      { spec?: { workload?: { manifests?: unknown[] } } } & Parameters<KubeClient["create"]>[0]
    >(work("odd-keys", [manifest]));
    const data = (stored.spec?.workload?.manifests?.[0] as { data?: object } | undefined)?.data ?? {};
    assert.deepEqual(Object.entries(data), [
      ["__proto__", "a"],
      ["constructor", "b"],
      ["prototype", "c"],
    ]);
  });

  test("a valid work is stored, and a replica set larger than one work's limit too", async () => {
    const stored = await client.create(work("fine", [configMap("a"), configMap("b")]));
    assert.equal(stored.metadata.name, "fine");
    const big = await client.create({
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "big", namespace: "default" },
      spec: {
        placementRefs: [{ name: "everywhere" }],
        manifestWorkTemplate: {
          workload: { manifests: Array.from({ length: 4 }, (_, i) => configMap(`part-${i}`, 300_000)) },
        },
      },
    });
    assert.equal(big.metadata.name, "big");
  });
});
