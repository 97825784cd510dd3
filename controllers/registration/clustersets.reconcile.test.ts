// The status reconciles of ManagedClusterSets and their bindings, driven through tables of cases
// over an in-memory API: the controller reads informer caches filled from it and writes status
// back with the cached resourceVersion.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Labels } from "../../api/constants.ts";
import type { ManagedCluster, ManagedClusterSet, ManagedClusterSetBinding } from "../../api/types/cluster.ts";
import type { Condition } from "../../api/types/meta.ts";
import { KubeApiError, TerminalError } from "../../runtime/errors.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import type { Informer } from "../../runtime/informer.ts";
import { refOf } from "../../runtime/kube/client.ts";
import { objectKey, type KubeObject } from "../../runtime/kube/types.ts";
import { formatTime } from "../../runtime/time.ts";
import { ManualClock } from "../../test/support/manual-clock.ts";
import { MemoryKube } from "../../test/support/memory-kube.ts";
import { eventually } from "../../test/support/wait.ts";
import { clusterSetCountIntervalMs } from "./clustersets.ts";
import { RegistrationControllers } from "./controller.ts";

const setApiVersion = "cluster.open-cluster-management.io/v1beta2";

function cluster(name: string, labels: Record<string, string> = {}, finalizers?: string[]): ManagedCluster {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1",
    kind: "ManagedCluster",
    metadata: { name, labels, finalizers },
    spec: { hubAcceptsClient: true },
  };
}

function exclusiveSet(name: string): ManagedClusterSet {
  return {
    apiVersion: setApiVersion,
    kind: "ManagedClusterSet",
    metadata: { name },
    spec: { clusterSelector: { selectorType: "ExclusiveClusterSetLabel" } },
  };
}

function labelSelectorSet(name: string, matchLabels: Record<string, string>): ManagedClusterSet {
  return {
    apiVersion: setApiVersion,
    kind: "ManagedClusterSet",
    metadata: { name },
    spec: { clusterSelector: { selectorType: "LabelSelector", labelSelector: { matchLabels } } },
  };
}

function binding(namespace: string, clusterSet: string): ManagedClusterSetBinding {
  return {
    apiVersion: setApiVersion,
    kind: "ManagedClusterSetBinding",
    metadata: { name: clusterSet, namespace },
    spec: { clusterSet },
  };
}

interface Hub {
  kube: MemoryKube;
  clock: ManualClock;
  controllers: RegistrationControllers;
  stop(): Promise<void>;
}

/** Seeds the in-memory API, then starts the shared informers and waits for their caches. */
async function hubWith(objects: readonly KubeObject[], deleting: readonly KubeObject[] = []): Promise<Hub> {
  const clock = new ManualClock();
  const kube = new MemoryKube({ clock });
  for (const object of objects) await kube.create(object);
  for (const object of deleting) await kube.delete(refOf(object));
  const logger = pino({ level: "silent" });
  const informers = new InformerFactory({ client: kube, logger });
  const controllers = new RegistrationControllers({
    client: kube,
    clock,
    logger,
    registry: new Registry(),
    informers,
  });
  informers.start();
  await informers.waitForSync({ timeoutMs: 5_000 });
  return {
    kube,
    clock,
    controllers,
    stop: async () => {
      await controllers.stop();
      await informers.stop();
    },
  };
}

/** Waits until the cache holds the stored version of the object. */
async function caughtUp<T extends KubeObject>(
  informer: Informer<T>,
  kube: MemoryKube,
  object: T,
): Promise<void> {
  const stored = await kube.get(refOf(object));
  await eventually(
    () =>
      assert.equal(
        informer.get(objectKey(object))?.metadata.resourceVersion,
        stored.metadata.resourceVersion,
      ),
    { timeoutMs: 5_000, intervalMs: 2, what: `the cache of ${objectKey(object)}` },
  );
}

function conditionOf(object: { status?: { conditions?: Condition[] } }, type: string): Condition | undefined {
  return object.status?.conditions?.find((condition) => condition.type === type);
}

describe("ManagedClusterSet status", () => {
  const cases: {
    name: string;
    set: ManagedClusterSet;
    clusters: ManagedCluster[];
    /** Clusters that are being deleted (held by a finalizer): never members. */
    deleting?: ManagedCluster[];
    expected: Pick<Condition, "status" | "reason" | "message">;
  }[] = [
    {
      name: "an empty set is ClusterSetEmpty",
      set: exclusiveSet("s1"),
      clusters: [cluster("c1", { [Labels.clusterSet]: "other" })],
      expected: { status: "True", reason: "NoClusterMatched", message: "No ManagedCluster selected" },
    },
    {
      name: "members by the exclusive label are counted",
      set: exclusiveSet("s1"),
      clusters: [
        cluster("c1", { [Labels.clusterSet]: "s1" }),
        cluster("c2", { [Labels.clusterSet]: "s1" }),
        cluster("c3", { [Labels.clusterSet]: "other" }),
        cluster("c4"),
      ],
      expected: { status: "False", reason: "ClustersSelected", message: "2 ManagedClusters selected" },
    },
    {
      name: "members by a label selector are counted",
      set: labelSelectorSet("prod", { env: "prod" }),
      clusters: [
        cluster("c1", { env: "prod" }),
        cluster("c2", { env: "prod", [Labels.clusterSet]: "s1" }),
        cluster("c3", { env: "dev" }),
      ],
      expected: { status: "False", reason: "ClustersSelected", message: "2 ManagedClusters selected" },
    },
    {
      name: "a cluster being deleted is not a member",
      set: exclusiveSet("s1"),
      clusters: [cluster("c1", { [Labels.clusterSet]: "s1" })],
      deleting: [cluster("c2", { [Labels.clusterSet]: "s1" }, ["example.com/hold"])],
      expected: { status: "False", reason: "ClustersSelected", message: "1 ManagedClusters selected" },
    },
    {
      name: "a set whose last member is being deleted is empty",
      set: exclusiveSet("s1"),
      clusters: [],
      deleting: [cluster("c1", { [Labels.clusterSet]: "s1" }, ["example.com/hold"])],
      expected: { status: "True", reason: "NoClusterMatched", message: "No ManagedCluster selected" },
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const deleting = testCase.deleting ?? [];
      const hub = await hubWith([testCase.set, ...testCase.clusters, ...deleting], deleting);
      try {
        assert.equal(
          hub.controllers.clusters.list().filter((c) => c.metadata.deletionTimestamp).length,
          deleting.length,
        );
        const name = testCase.set.metadata.name!;
        await hub.controllers.reconcileSet(name);
        const stored = await hub.kube.get<ManagedClusterSet>(refOf(testCase.set));
        assert.deepEqual(conditionOf(stored, "ClusterSetEmpty"), {
          type: "ClusterSetEmpty",
          ...testCase.expected,
          lastTransitionTime: formatTime(hub.clock.now()),
        });
        assert.deepEqual(stored.spec, testCase.set.spec, "a status write leaves the spec alone");

        // Once the cache has the written status, a reconcile has nothing to write.
        await caughtUp(hub.controllers.sets, hub.kube, testCase.set);
        const writes = hub.kube.writes.length;
        await hub.controllers.reconcileSet(name);
        assert.equal(hub.kube.writes.length, writes, "no request when the status is current");
      } finally {
        await hub.stop();
      }
    });
  }

  it("a set whose selector type is unknown fails terminally and writes nothing", async () => {
    const set: ManagedClusterSet = {
      ...exclusiveSet("odd"),
      spec: { clusterSelector: { selectorType: "Placement" as string as "LabelSelector" } },
    };
    const hub = await hubWith([set]);
    try {
      const writes = hub.kube.writes.length;
      await assert.rejects(hub.controllers.reconcileSet("odd"), TerminalError);
      assert.equal(hub.kube.writes.length, writes);
    } finally {
      await hub.stop();
    }
  });

  it("a set gone from the cache is not written", async () => {
    const hub = await hubWith([]);
    try {
      await hub.controllers.reconcileSet("missing");
      assert.deepEqual(hub.kube.writes, []);
    } finally {
      await hub.stop();
    }
  });

  it("a stale cache gets 409 Conflict, keeps the newer object, and a retry converges", async () => {
    const set = exclusiveSet("s1");
    const hub = await hubWith([set, cluster("c1", { [Labels.clusterSet]: "s1" })]);
    try {
      // Someone else writes the set while the cache has not seen it yet.
      const release = hub.kube.holdWatches();
      const newer = await hub.kube.patch<ManagedClusterSet>(refOf(set), "merge", {
        metadata: { labels: { team: "a" } },
      });
      assert.notEqual(
        hub.controllers.sets.get("s1")?.metadata.resourceVersion,
        newer.metadata.resourceVersion,
        "the cache is stale",
      );
      await assert.rejects(
        hub.controllers.reconcileSet("s1"),
        (error: unknown) => error instanceof KubeApiError && error.status === 409 && error.conflict,
      );
      const untouched = await hub.kube.get<ManagedClusterSet>(refOf(set));
      assert.equal(untouched.metadata.resourceVersion, newer.metadata.resourceVersion);
      assert.equal(untouched.status, undefined, "the stale write did not land");

      // The watch delivers the newer set; the retry works from it.
      release();
      await caughtUp(hub.controllers.sets, hub.kube, set);
      await hub.controllers.reconcileSet("s1");
      const converged = await hub.kube.get<ManagedClusterSet>(refOf(set));
      assert.equal(conditionOf(converged, "ClusterSetEmpty")?.message, "1 ManagedClusters selected");
      assert.deepEqual(converged.metadata.labels, { team: "a" }, "the other writer's change is kept");
    } finally {
      await hub.stop();
    }
  });

  it("a member joining turns an empty set non-empty, with a new transition time", async () => {
    const set = exclusiveSet("s1");
    const hub = await hubWith([set]);
    try {
      await hub.controllers.reconcileSet("s1");
      const empty = await hub.kube.get<ManagedClusterSet>(refOf(set));
      assert.equal(conditionOf(empty, "ClusterSetEmpty")?.status, "True");

      hub.clock.advance(60_000);
      const joined = await hub.kube.create(cluster("c1", { [Labels.clusterSet]: "s1" }));
      await caughtUp(hub.controllers.clusters, hub.kube, joined);
      await caughtUp(hub.controllers.sets, hub.kube, set);
      await hub.controllers.reconcileSet("s1");
      const full = await hub.kube.get<ManagedClusterSet>(refOf(set));
      assert.deepEqual(conditionOf(full, "ClusterSetEmpty"), {
        type: "ClusterSetEmpty",
        status: "False",
        reason: "ClustersSelected",
        message: "1 ManagedClusters selected",
        lastTransitionTime: formatTime(hub.clock.now()),
      });
    } finally {
      await hub.stop();
    }
  });

  it("members joining one after another: a new count waits out the interval, then is written once", async () => {
    const set = exclusiveSet("s1");
    const hub = await hubWith([set, cluster("c1", { [Labels.clusterSet]: "s1" })]);
    try {
      await hub.controllers.reconcileSet("s1");
      await caughtUp(hub.controllers.sets, hub.kube, set);
      for (const name of ["c2", "c3"]) {
        const joined = await hub.kube.create(cluster(name, { [Labels.clusterSet]: "s1" }));
        await caughtUp(hub.controllers.clusters, hub.kube, joined);
      }
      const writes = hub.kube.writes.length;
      hub.clock.advance(clusterSetCountIntervalMs / 2);
      const waiting = await hub.controllers.reconcileSet("s1");
      assert.deepEqual(waiting, { requeueAfterMs: clusterSetCountIntervalMs / 2 });
      assert.equal(hub.kube.writes.length, writes, "no write within the interval");

      hub.clock.advance(clusterSetCountIntervalMs / 2);
      assert.equal(await hub.controllers.reconcileSet("s1"), undefined);
      const stored = await hub.kube.get<ManagedClusterSet>(refOf(set));
      assert.equal(conditionOf(stored, "ClusterSetEmpty")?.message, "3 ManagedClusters selected");
      assert.equal(hub.kube.writes.length, writes + 1, "one write for both joins");
    } finally {
      await hub.stop();
    }
  });
});

describe("ManagedClusterSetBinding status", () => {
  const cases: {
    name: string;
    sets: ManagedClusterSet[];
    binding: ManagedClusterSetBinding;
    expected: Pick<Condition, "status" | "reason" | "message">;
  }[] = [
    {
      name: "a binding to an existing set is Bound",
      sets: [exclusiveSet("s1")],
      binding: binding("team-a", "s1"),
      expected: { status: "True", reason: "ClusterSetBound", message: "" },
    },
    {
      name: "a binding to a missing set is not Bound",
      sets: [exclusiveSet("s1")],
      binding: binding("team-a", "missing"),
      expected: {
        status: "False",
        reason: "ClusterSetNotFound",
        message: "ManagedClusterSet missing not found",
      },
    },
    {
      name: "a binding with no sets at all is not Bound",
      sets: [],
      binding: binding("team-b", "s1"),
      expected: { status: "False", reason: "ClusterSetNotFound", message: "ManagedClusterSet s1 not found" },
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const hub = await hubWith([...testCase.sets, testCase.binding]);
      try {
        const key = objectKey(testCase.binding);
        const cachedVersion = hub.controllers.bindings.get(key)?.metadata.resourceVersion;
        assert.ok(cachedVersion);
        await hub.controllers.reconcileBinding(key);
        const stored = await hub.kube.get<ManagedClusterSetBinding>(refOf(testCase.binding));
        assert.deepEqual(conditionOf(stored, "Bound"), {
          type: "Bound",
          ...testCase.expected,
          lastTransitionTime: formatTime(hub.clock.now()),
        });
        assert.deepEqual(
          hub.kube.writes.filter(
            (write) => write.kind === "ManagedClusterSetBinding" && write.verb !== "create",
          ),
          [
            {
              verb: "patch",
              apiVersion: setApiVersion,
              kind: "ManagedClusterSetBinding",
              namespace: testCase.binding.metadata.namespace,
              name: testCase.binding.metadata.name,
              subresource: "status",
              body: {
                metadata: { resourceVersion: cachedVersion },
                status: { conditions: [conditionOf(stored, "Bound")] },
              },
            },
          ],
          "one status patch, from the cached resourceVersion",
        );
      } finally {
        await hub.stop();
      }
    });
  }

  it("a binding becomes Bound once its set appears", async () => {
    const bound = binding("team-a", "s1");
    const hub = await hubWith([bound]);
    try {
      await hub.controllers.reconcileBinding(objectKey(bound));
      assert.equal(
        conditionOf(await hub.kube.get<ManagedClusterSetBinding>(refOf(bound)), "Bound")?.status,
        "False",
      );

      const set = await hub.kube.create(exclusiveSet("s1"));
      await caughtUp(hub.controllers.sets, hub.kube, set);
      await caughtUp(hub.controllers.bindings, hub.kube, bound);
      await hub.controllers.reconcileBinding(objectKey(bound));
      const stored = await hub.kube.get<ManagedClusterSetBinding>(refOf(bound));
      assert.equal(conditionOf(stored, "Bound")?.status, "True");
      assert.equal(stored.status?.conditions?.length, 1, "the condition is replaced, not added");
    } finally {
      await hub.stop();
    }
  });
});
