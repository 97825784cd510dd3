// The informer against a real API server whose watch cache is off, so that watches read
// etcd directly and an etcd compaction really expires an informer's resourceVersion. The
// server streams lists (WatchList); `informer-lists.test.ts` has one that does not.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { stringify } from "yaml";
import { Informer, type InformerOptions } from "../../runtime/informer.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("informer", { apiserverArgs: ["--watch-cache=false"] });
const logger = pino({ level: "silent" });

let admin: KubeClient;

/** Records every handler call as "add name", "update name data", "delete name". */
function recordEvents(informer: Informer): string[] {
  const events: string[] = [];
  const data = (object: Unstructured) => JSON.stringify(object.data ?? {});
  informer.addHandlers({
    onAdd: (object) => events.push(`add ${object.metadata.name}`),
    onUpdate: (_previous, current) => events.push(`update ${current.metadata.name} ${data(current)}`),
    onDelete: (object) => events.push(`delete ${object.metadata.name}`),
  });
  return events;
}

async function etcdRevision(etcdUrl: string): Promise<number> {
  const response = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: Buffer.from("/").toString("base64") }),
  });
  const body = (await response.json()) as { header: { revision: string } };
  return Number(body.header.revision);
}

async function compactEtcd(etcdUrl: string): Promise<void> {
  const revision = await etcdRevision(etcdUrl);
  const response = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: "POST",
    body: JSON.stringify({ revision: String(revision), physical: true }),
  });
  assert.equal(response.status, 200, await response.text());
}

function configMap(namespace: string, name: string, data: Record<string, string>): Unstructured {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data };
}

async function createNamespace(name: string): Promise<void> {
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

describe("informer", () => {
  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
  });
  after(() => admin?.close());

  test("syncs, then delivers each add, update and delete exactly once, with namespace and label indexes", async () => {
    await createNamespace("informer-basic");
    await admin.create({
      ...configMap("informer-basic", "before-start", { v: "1" }),
      metadata: { name: "before-start", namespace: "informer-basic", labels: { tier: "a" } },
    });
    const informer = new Informer({
      client: admin,
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "informer-basic",
      logger,
    });
    const all = recordEvents(informer);
    const events = {
      get list() {
        return all.filter((event) => !event.includes("kube-root-ca.crt"));
      },
    };
    informer.start();
    try {
      await informer.waitForSync();
      assert.deepEqual(events.list, ["add before-start"]);
      await admin.create({
        ...configMap("informer-basic", "after-start", { v: "1" }),
        metadata: { name: "after-start", namespace: "informer-basic", labels: { tier: "b" } },
      });
      await admin.patch(
        { apiVersion: "v1", kind: "ConfigMap", name: "before-start", namespace: "informer-basic" },
        "merge",
        { data: { v: "2" } },
      );
      await admin.delete({
        apiVersion: "v1",
        kind: "ConfigMap",
        name: "after-start",
        namespace: "informer-basic",
      });
      await eventually(() =>
        assert.deepEqual(events.list, [
          "add before-start",
          "add after-start",
          'update before-start {"v":"2"}',
          "delete after-start",
        ]),
      );
      const names = informer
        .byNamespace("informer-basic")
        .map((object) => object.metadata.name)
        .filter((name) => name !== "kube-root-ca.crt");
      assert.deepEqual(names, ["before-start"]);
      assert.deepEqual(informer.byNamespace("elsewhere"), []);
      assert.deepEqual(
        informer.byLabel("tier", "a").map((object) => object.metadata.name),
        ["before-start"],
      );
      assert.deepEqual(informer.byLabel("tier", "b"), []);
      assert.equal(informer.get("informer-basic/before-start")?.data?.["v" as never], "2");
    } finally {
      await informer.stop();
    }
  });

  test("a watch from a compacted resourceVersion is answered with 410 Expired", async () => {
    const { resourceVersion } = await admin.listAll("v1", "ConfigMap", { namespace: "default" });
    // Two writes: a watch from resourceVersion R resumes at R+1, which must be compacted too.
    await admin.create(configMap("default", "bump-1", { v: "1" }));
    await admin.create(configMap("default", "bump-2", { v: "1" }));
    await compactEtcd(fixture.plane.etcdUrl);
    const watching = (async () => {
      for await (const _event of admin.watch("v1", "ConfigMap", {
        namespace: "default",
        resourceVersion,
        timeoutSeconds: 30,
      })) {
        // The first thing the server says must be the error.
      }
    })();
    await assert.rejects(watching, (error: unknown) => error instanceof KubeApiError && error.status === 410);
  });

  /**
   * A ConfigMap informer cut off from the server (through a proxy) while a ConfigMap changes,
   * one goes and one comes, and etcd is compacted past its resourceVersion; then reconnected.
   * Asserts that it emits only the real differences, once, and goes on watching; returns how
   * its stats moved from the cut on.
   */
  async function throughACompaction(
    ns: string,
    options: Partial<InformerOptions>,
  ): Promise<Informer["stats"]> {
    await createNamespace(ns);
    await admin.create(configMap(ns, "kept", { v: "1" }));
    await admin.create(configMap(ns, "changed", { v: "1" }));
    await admin.create(configMap(ns, "removed", { v: "1" }));

    const proxy = await TcpProxy.start(Number(new URL(fixture.plane.server).port));
    const viaProxy = structuredClone(fixture.plane.kubeconfig);
    viaProxy.clusters[0]!.cluster.server = `https://127.0.0.1:${proxy.port}`;
    const client = await KubeClient.fromString(stringify(viaProxy));
    const informer = new Informer({
      client,
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns,
      logger,
      backoff: { initialMs: 50, maxMs: 400 },
      ...options,
    });
    const events = recordEvents(informer);
    informer.start();
    try {
      await informer.waitForSync();
      const initial = events.splice(0).filter((event) => !event.includes("kube-root-ca.crt"));
      assert.deepEqual(initial.sort(), ["add changed", "add kept", "add removed"]);

      // Cut the informer off, change things behind its back, and compact etcd so that its
      // resourceVersion no longer exists.
      proxy.cut();
      await eventually(() => assert.ok(informer.stats.failures >= 1, "the informer noticed the cut"));
      const before = { ...informer.stats };
      await admin.patch({ apiVersion: "v1", kind: "ConfigMap", name: "changed", namespace: ns }, "merge", {
        data: { v: "2" },
      });
      await admin.delete({ apiVersion: "v1", kind: "ConfigMap", name: "removed", namespace: ns });
      await admin.create(configMap(ns, "added", { v: "1" }));
      await compactEtcd(fixture.plane.etcdUrl);
      proxy.restore();

      // kube-controller-manager publishes kube-root-ca.crt into every namespace when it gets to
      // it, which may be while the informer is cut off: that ConfigMap is not the test's.
      const ours = () => events.filter((event) => !event.includes("kube-root-ca.crt"));
      await eventually(() => {
        assert.ok(informer.stats.lists > before.lists, "the informer read the state again");
        assert.deepEqual(ours().sort(), ["add added", "delete removed", 'update changed {"v":"2"}']);
      });
      assert.deepEqual(
        informer
          .keys()
          .filter((key) => !key.endsWith("kube-root-ca.crt"))
          .sort(),
        [`${ns}/added`, `${ns}/changed`, `${ns}/kept`],
      );

      // The informer keeps watching from the state it read.
      await admin.patch({ apiVersion: "v1", kind: "ConfigMap", name: "kept", namespace: ns }, "merge", {
        data: { v: "3" },
      });
      await eventually(() => assert.ok(events.includes('update kept {"v":"3"}')));
      assert.equal(ours().length, 4, `no duplicated events: ${events.join(", ")}`);
      const stats = { ...informer.stats };
      for (const key of Object.keys(stats) as (keyof typeof stats)[]) stats[key] -= before[key];
      return stats;
    } finally {
      await informer.stop();
      client.close();
      await proxy.close();
    }
  }

  test("listing: survives an etcd compaction while disconnected, relisting after the 410", async () => {
    const moved = await throughACompaction("informer-compaction", { streamingList: false });
    assert.ok(moved.expired >= 1, "the informer's watch was refused with 410");
    assert.equal(moved.streamedLists, 0);
  });

  test("streaming: after an outage, reads the state again in one streamed watch instead of resuming", async () => {
    const moved = await throughACompaction("informer-compaction-streamed", {});
    assert.ok(moved.streamedLists >= 1, "the state was read as a streamed list");
    assert.equal(moved.streamedLists, moved.lists, "and never as a LIST");
    assert.equal(moved.expired, 0, "no watch was sent only to be refused with 410");
  });

  /**
   * A ConfigMap informer on a namespace of its own, with the given options, through an outage:
   * the API server stops until the informer has waited `retries` times (each wait's length and
   * the clock it read before it are recorded), then starts again; a ConfigMap created after
   * that must reach the informer once. Returns the waits.
   */
  async function throughAnOutage(
    ns: string,
    options: Partial<InformerOptions>,
    retries: number,
  ): Promise<{ ms: number; now: number }[]> {
    await createNamespace(ns);
    const waits: { ms: number; now: number }[] = [];
    let lastNow = 0;
    const client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    const informer = new Informer({
      client,
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns,
      logger,
      backoff: { initialMs: 100, maxMs: 800, jitter: 0 },
      ...options,
      now: () => (lastNow = Date.now()),
      delay: async (ms, signal) => {
        waits.push({ ms, now: lastNow });
        await new Promise((resolve) => setTimeout(resolve, ms, signal));
      },
    });
    const events = recordEvents(informer);
    informer.start();
    try {
      await informer.waitForSync();
      await fixture.plane.stopApiServer();
      await eventually(() => assert.ok(waits.length >= retries, `retries so far: ${waits.length}`), {
        timeoutMs: 30_000,
      });
      await fixture.plane.startApiServer();
      // The admin client's pooled connections died with the server: retry until it reconnects.
      await eventually(() => admin.create(configMap(ns, "after-restart", { v: "1" })));
      await eventually(() => assert.ok(events.includes("add after-restart"), events.join(", ")), {
        timeoutMs: 60_000,
      });
      assert.equal(events.filter((event) => event === "add after-restart").length, 1);
      return waits;
    } finally {
      await informer.stop();
      client.close();
    }
  }

  test("recovers with backoff when the API server is stopped and started again", async () => {
    const waits = await throughAnOutage("informer-restart", {}, 4);
    // Exponential, capped: 100, 200, 400, 800, 800, ...
    assert.deepEqual(
      waits.slice(0, 4).map((wait) => wait.ms),
      [100, 200, 400, 800],
    );
  });

  test("with a reconnect window, retries past the prompt one wait for the informer's own slot", async () => {
    const windowMs = 2_000;
    // The first draw is the informer's phase in the window: 0.25 of 2 s.
    const phaseMs = 500;
    const waits = await throughAnOutage(
      "informer-slots",
      { reconnectWindowMs: windowMs, random: () => 0.25 },
      4,
    );
    // The prompt retry is the backoff's first step; every later one lands on the phase.
    assert.equal(waits[0]!.ms, 100);
    for (const { ms, now } of waits.slice(1, 4)) {
      assert.equal((now + ms) % windowMs, phaseMs, `retry in ${ms} ms lands on the phase`);
      assert.ok(ms >= 100 && ms < 100 + windowMs, `${ms} ms`);
    }
  });
});
