// The ManifestWorkReplicaSet controller on a real hub, with the placement controller making
// the decisions over the same cache. The agents are simulated by writing ManifestWork status
// conditions on the hub. A work per decided cluster, removed when the cluster leaves; a
// template too big for one work split into stable parts; a progressive rollout that stops at
// a failure; and bad input reported on the replica set alone.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  BosunReplicaSetReasons,
  BosunWorkAnnotations,
  BosunWorkLabels,
  Finalizers,
  Labels,
  ManifestWorkReplicaSetConditions as C,
  ManifestWorkReplicaSetReasons as R,
  Resources,
} from "../../api/constants.ts";
import type { Placement } from "../../api/types/placement.ts";
import type {
  Manifest,
  ManifestWork,
  ManifestWorkReplicaSet,
  ManifestWorkReplicaSetSpec,
} from "../../api/types/work.ts";
import { HubInformers } from "../../controllers/informers.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { ReplicaSetController } from "../../controllers/replicasets/controller.ts";
import { templateHash } from "../../controllers/work/split.ts";
import { totalManifestSize } from "../../controllers/work/manifest.ts";
import { systemClock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { objectKey } from "../../runtime/kube/types.ts";
import { formatTime } from "../../runtime/time.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";

const fixture = useControlPlane("replicasets");
const logger = pino({ level: "silent" });
const clusterApi = "cluster.open-cluster-management.io";
const workApi = "work.open-cluster-management.io";

const replicaSetRef = (name: string) => ({
  apiVersion: `${workApi}/v1alpha1`,
  kind: "ManifestWorkReplicaSet",
  namespace: "default",
  name,
});

function configMap(name: string, data: Record<string, string> = { key: "value" }): Manifest {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data };
}

describe("ManifestWorkReplicaSet controller", () => {
  let client: KubeClient;
  let controllerClient: KubeClient;
  let informers: InformerFactory;
  let placements: PlacementController;
  let replicaSets: ReplicaSetController;

  async function addCluster(name: string, labels: Record<string, string>): Promise<void> {
    await client.create({
      apiVersion: `${clusterApi}/v1`,
      kind: "ManagedCluster",
      metadata: { name, labels: { [Labels.clusterSet]: "fleet", name, ...labels } },
      spec: { hubAcceptsClient: true },
    });
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }

  async function addPlacement(name: string, spec: Placement["spec"]): Promise<void> {
    await client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name, namespace: "default" },
      spec,
    });
  }

  async function addReplicaSet(
    name: string,
    spec: Partial<ManifestWorkReplicaSetSpec> & Pick<ManifestWorkReplicaSetSpec, "placementRefs">,
  ): Promise<void> {
    await client.create({ ...replicaSetRef(name), metadata: { name, namespace: "default" }, spec });
  }

  const getReplicaSet = (name: string) => client.get<ManifestWorkReplicaSet>(replicaSetRef(name));

  /** Every ManifestWork of a replica set, in any namespace, sorted by namespace and name. */
  async function worksOf(name: string): Promise<ManifestWork[]> {
    const { items } = await client.listAll<ManifestWork>(`${workApi}/v1`, "ManifestWork", {
      labelSelector: `${Labels.manifestWorkReplicaSet}=default.${name}`,
    });
    return items.sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace}/${b.metadata.name}`,
      ),
    );
  }

  const clustersOf = async (name: string) => [
    ...new Set((await worksOf(name)).map((w) => w.metadata.namespace)),
  ];

  /** What a work agent reports: the work applied and available, or applied but degraded. */
  async function report(work: ManifestWork, outcome: "succeeded" | "failed"): Promise<void> {
    const current = await client.get<ManifestWork>({
      apiVersion: `${workApi}/v1`,
      kind: "ManifestWork",
      namespace: work.metadata.namespace,
      name: work.metadata.name!,
    });
    const observedGeneration = current.metadata.generation;
    const condition = (type: string, status: "True" | "False", reason: string) => ({
      type,
      status,
      reason,
      message: "",
      observedGeneration,
      lastTransitionTime: formatTime(Date.now()),
    });
    const conditions =
      outcome === "succeeded"
        ? [
            condition("Applied", "True", "AppliedManifestWorkComplete"),
            condition("Available", "True", "ResourcesAvailable"),
            condition("Progressing", "False", "Completed"),
          ]
        : [
            condition("Applied", "True", "AppliedManifestWorkComplete"),
            condition("Available", "True", "ResourcesAvailable"),
            condition("Progressing", "True", "Applying"),
            condition("Degraded", "True", "ProbeFailed"),
          ];
    await client.patch(
      {
        apiVersion: `${workApi}/v1`,
        kind: "ManifestWork",
        namespace: current.metadata.namespace,
        name: current.metadata.name!,
      },
      "merge",
      { status: { conditions } },
      { subresource: "status" },
    );
  }

  async function reportCluster(replicaSet: string, cluster: string, outcome: "succeeded" | "failed") {
    for (const work of await worksOf(replicaSet)) {
      if (work.metadata.namespace === cluster) await report(work, outcome);
    }
  }

  const workRef = (namespace: string, name: string) => ({
    apiVersion: `${workApi}/v1`,
    kind: "ManifestWork",
    namespace,
    name,
  });
  /** The agent's finalizer on a work, which holds its deletion until the agent lets go. */
  const holdWork = (namespace: string, name: string) =>
    client.patch(workRef(namespace, name), "merge", {
      metadata: { finalizers: [Finalizers.manifestWorkCleanup] },
    });
  const releaseWork = (namespace: string, name: string) =>
    client.patch(workRef(namespace, name), "merge", { metadata: { finalizers: null } });

  const condition = (replicaSet: ManifestWorkReplicaSet, type: string) =>
    findCondition(replicaSet.status?.conditions, type);

  /**
   * Waits until the controllers have caught up: every replica set, placement, decision and
   * replica-set work the API server holds is in their cache at the same resourceVersion (so its
   * events have been handled), no failed reconcile waits for its retry, and none is waiting or
   * running.
   */
  async function settle(): Promise<void> {
    const watched = [
      { resource: Resources.ManifestWorkReplicaSet, scope: {} },
      { resource: Resources.Placement, scope: {} },
      HubInformers.placementDecisions,
      HubInformers.manifestWorks,
    ];
    await eventually(async () => {
      for (const { resource, scope } of watched) {
        const live = await client.listAll(resource.apiVersion, resource.kind, scope);
        const cache = informers.informer(resource, scope);
        assert.equal(cache.size, live.items.length, resource.kind);
        for (const item of live.items) {
          const cached = cache.get(objectKey(item))?.metadata.resourceVersion;
          assert.equal(cached, item.metadata.resourceVersion, `${resource.kind} ${objectKey(item)}`);
        }
      }
      // A write that met a newer one (409) is retried after a backoff: wait for the retries too.
      assert.equal(placements.retrying + replicaSets.retrying, 0, "reconciles waiting for a retry");
    });
    await placements.whenIdle();
    await replicaSets.whenIdle();
  }

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    await createBoundClusterSet(client, "fleet");
    for (const name of ["a1", "a2", "a3"]) await addCluster(name, { app: "web" });
    for (const name of ["c1", "c2", "c3", "c4", "c5"]) {
      await addCluster(name, { app: "staged", ...(name === "c1" ? { canary: "true" } : {}) });
    }
    controllerClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    informers = new InformerFactory({ client: controllerClient, logger });
    const shared = {
      client: controllerClient,
      clock: systemClock(),
      logger,
      registry: new Registry(),
      informers,
    };
    placements = new PlacementController(shared);
    replicaSets = new ReplicaSetController(shared);
    await placements.start();
    await replicaSets.start();
  });

  after(async () => {
    await replicaSets?.stop();
    await placements?.stop();
    await informers?.stop();
    controllerClient?.close();
    client?.close();
  });

  test("All: a work per decided cluster, with OCM's labels; a cluster that leaves loses it", async () => {
    const byApp = (app: string) => [{ requiredClusterSelector: { labelSelector: { matchLabels: { app } } } }];
    await addPlacement("web", { clusterSets: ["fleet"], predicates: byApp("web") });
    const template = { workload: { manifests: [configMap("web-config")] } };
    await addReplicaSet("web-app", { manifestWorkTemplate: template, placementRefs: [{ name: "web" }] });

    const works = await eventually(
      async () => {
        const list = await worksOf("web-app");
        assert.deepEqual(
          list.map((w) => `${w.metadata.namespace}/${w.metadata.name}`),
          ["a1/web-app", "a2/web-app", "a3/web-app"],
        );
        return list;
      },
      { what: "a work per cluster" },
    );
    for (const work of works) {
      assert.equal(work.metadata.labels?.[Labels.manifestWorkReplicaSet], "default.web-app");
      assert.equal(work.metadata.labels?.[Labels.manifestWorkPlacementName], "web");
      assert.equal(work.metadata.labels?.[BosunWorkLabels.partIndex], undefined, "one unsplit work");
      assert.deepEqual(work.spec?.workload?.manifests, template.workload.manifests);
    }
    const uids = new Map(works.map((w) => [w.metadata.namespace, w.metadata.uid]));
    await eventually(async () => {
      const replicaSet = await getReplicaSet("web-app");
      assert.ok(replicaSet.metadata.finalizers?.includes(Finalizers.manifestWorkReplicaSetCleanup));
      assert.equal(condition(replicaSet, C.placementVerified)?.reason, R.asExpected);
      assert.equal(condition(replicaSet, C.placementRolledOut)?.reason, R.progressing);
      assert.equal(replicaSet.status?.summary?.total, 3);
      assert.equal(replicaSet.status?.summary?.available, 0);
    });

    for (const cluster of ["a1", "a2", "a3"]) await reportCluster("web-app", cluster, "succeeded");
    await eventually(async () => {
      const replicaSet = await getReplicaSet("web-app");
      assert.deepEqual(replicaSet.status?.summary, {
        total: 3,
        applied: 3,
        available: 3,
        progressing: 0,
        degraded: 0,
        desiredTotal: 3,
        updated: 3,
      });
      assert.equal(condition(replicaSet, C.placementVerified)?.status, "True");
      assert.equal(condition(replicaSet, C.placementRolledOut)?.reason, R.complete);
      assert.equal(condition(replicaSet, C.placementRolledOut)?.status, "True");
      assert.equal(condition(replicaSet, C.manifestworkApplied)?.reason, R.asExpected);
      assert.equal(condition(replicaSet, C.manifestworkApplied)?.status, "True");
      assert.deepEqual(replicaSet.status?.placementSummary?.[0]?.name, "web");
      assert.equal(
        replicaSet.status?.placementSummary?.[0]?.availableDecisionGroups,
        "1 (3 / 3 clusters applied)",
      );
    });

    // a3 leaves the placement: its work goes, the others stay as they are.
    await client.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: "a3" }, "merge", {
      metadata: { labels: { app: "retired" } },
    });
    await eventually(async () => assert.deepEqual(await clustersOf("web-app"), ["a1", "a2"]), {
      what: "a3's work removed",
    });
    await eventually(async () => {
      const replicaSet = await getReplicaSet("web-app");
      assert.equal(replicaSet.status?.summary?.total, 2);
      assert.equal(replicaSet.status?.summary?.desiredTotal, 2);
      assert.equal(condition(replicaSet, C.manifestworkApplied)?.reason, R.asExpected);
    });
    for (const work of await worksOf("web-app")) {
      assert.equal(work.metadata.uid, uids.get(work.metadata.namespace), "kept, not recreated");
    }
    // Settled: nothing rewrites a status that did not change.
    await settle();
    const before = (await getReplicaSet("web-app")).metadata.resourceVersion;
    await settle();
    assert.equal((await getReplicaSet("web-app")).metadata.resourceVersion, before);

    // Background deletion: the replica set goes without waiting for a work the agent still
    // holds (its finalizer), and that work is deleting.
    await holdWork("a1", "web-app");
    await client.delete(replicaSetRef("web-app"));
    await eventually(async () => {
      assert.equal(await client.getOrUndefined(replicaSetRef("web-app")), undefined);
      const left = await worksOf("web-app");
      assert.deepEqual(
        left.map((w) => `${w.metadata.namespace}/${w.metadata.name}`),
        ["a1/web-app"],
      );
      assert.ok(left[0]!.metadata.deletionTimestamp);
    });
    await releaseWork("a1", "web-app");
    await eventually(async () => assert.deepEqual(await worksOf("web-app"), []));
  });

  test("a template bigger than the limit is split into stable parts, each under it", async () => {
    await addPlacement("just-a1", {
      clusterSets: ["fleet"],
      predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { name: "a1" } } } }],
    });
    const manifests = Array.from({ length: 14 }, (_, i) =>
      configMap(`blob-${String(i).padStart(2, "0")}`, { blob: String(i % 10).repeat(98_000) }),
    );
    assert.ok(totalManifestSize(manifests) > 1_350_000, `${totalManifestSize(manifests)} bytes`);
    await addReplicaSet("big", {
      manifestWorkTemplate: { workload: { manifests } },
      placementRefs: [{ name: "just-a1" }],
      cascadeDeletionPolicy: "Foreground",
    });

    const parts = await eventually(
      async () => {
        const list = await worksOf("big");
        assert.ok(list.length >= 3, `${list.length} parts`);
        const count = Number(list[0]!.metadata.labels?.[BosunWorkLabels.partCount]);
        assert.equal(list.length, count);
        return list;
      },
      { what: "the parts", timeoutMs: 60_000 },
    );
    const hash = templateHash({ workload: { manifests } });
    const stored: string[] = [];
    for (const part of parts) {
      const index = Number(part.metadata.labels?.[BosunWorkLabels.partIndex]);
      assert.equal(part.metadata.namespace, "a1");
      assert.equal(part.metadata.name, index === 0 ? "big" : `big-part-${index}`);
      assert.equal(part.metadata.labels?.[BosunWorkLabels.templateHash], hash);
      assert.equal(part.metadata.labels?.[Labels.manifestWorkPlacementName], "just-a1");
      assert.equal(part.metadata.annotations?.[BosunWorkAnnotations.partOf], "big");
      const size = totalManifestSize(part.spec?.workload?.manifests ?? []);
      assert.ok(size <= 512_000, `${part.metadata.name}: ${size} bytes`);
      stored.push(...(part.spec?.workload?.manifests ?? []).map((m) => m.metadata.name ?? ""));
    }
    assert.deepEqual(stored.sort(), manifests.map((m) => m.metadata.name).sort(), "every manifest once");

    // One manifest changes: only its part gets a new spec; the others keep theirs.
    await client.patch(replicaSetRef("big"), "json", [
      {
        op: "replace",
        path: "/spec/manifestWorkTemplate/workload/manifests/5/data/blob",
        value: "z".repeat(97_000),
      },
    ]);
    const changed = manifests.map((m, i) =>
      i === 5 ? configMap("blob-05", { blob: "z".repeat(97_000) }) : m,
    );
    const newHash = templateHash({ workload: { manifests: changed } });
    const holder = (list: ManifestWork[]) =>
      list.find((w) => w.spec?.workload?.manifests?.some((m) => m.metadata.name === "blob-05"))!;
    const rewritten = await eventually(async () => {
      const list = await worksOf("big");
      for (const part of list) assert.equal(part.metadata.labels?.[BosunWorkLabels.templateHash], newHash);
      const data = holder(list).spec?.workload?.manifests?.find((m) => m.metadata.name === "blob-05")
        ?.data as Record<string, string> | undefined;
      assert.equal(data?.blob?.[0], "z");
      return list;
    });
    const old = new Map(parts.map((p) => [p.metadata.name, p]));
    assert.equal(rewritten.length, parts.length);
    for (const part of rewritten) {
      const previous = old.get(part.metadata.name)!;
      assert.equal(part.metadata.uid, previous.metadata.uid, `${part.metadata.name} kept`);
      if (part.metadata.name === holder(rewritten).metadata.name) {
        assert.equal(part.metadata.generation, previous.metadata.generation! + 1, "its part rewritten");
      } else {
        assert.equal(
          part.metadata.generation,
          previous.metadata.generation,
          `${part.metadata.name} untouched`,
        );
        assert.deepEqual(part.spec, previous.spec);
      }
    }

    // Every part reported: the cluster counts once, available.
    for (const part of rewritten) await report(part, "succeeded");
    await eventually(async () => {
      const replicaSet = await getReplicaSet("big");
      assert.equal(replicaSet.status?.summary?.total, 1);
      assert.equal(replicaSet.status?.summary?.available, 1);
      assert.equal(condition(replicaSet, C.manifestworkApplied)?.reason, R.asExpected);
    });

    // Foreground deletion: every part goes, and the replica set waits for the last one.
    await holdWork("a1", "big");
    await client.delete(replicaSetRef("big"));
    await eventually(async () => {
      assert.deepEqual(
        (await worksOf("big")).map((w) => w.metadata.name),
        ["big"],
      );
    });
    await settle();
    assert.ok((await getReplicaSet("big")).metadata.deletionTimestamp, "still there, deleting");
    await releaseWork("a1", "big");
    await eventually(async () => {
      assert.deepEqual(await worksOf("big"), []);
      assert.equal(await client.getOrUndefined(replicaSetRef("big")), undefined);
    });
  });

  test("Progressive: canary first, then at most 2 at once, stopping at a failure", async () => {
    await addPlacement("staged", {
      clusterSets: ["fleet"],
      predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { app: "staged" } } } }],
      decisionStrategy: {
        groupStrategy: {
          decisionGroups: [
            {
              groupName: "canary",
              groupClusterSelector: { labelSelector: { matchLabels: { canary: "true" } } },
            },
          ],
        },
      },
    });
    await addReplicaSet("staged-app", {
      manifestWorkTemplate: { workload: { manifests: [configMap("staged-config")] } },
      placementRefs: [
        {
          name: "staged",
          rolloutStrategy: {
            type: "Progressive",
            progressive: {
              mandatoryDecisionGroups: [{ groupName: "canary" }],
              maxConcurrency: 2,
              maxFailures: 0,
            },
          },
        },
      ],
    });
    const only = async (clusters: string[], what: string) => {
      await eventually(async () => assert.deepEqual(await clustersOf("staged-app"), clusters), { what });
      await settle();
      assert.deepEqual(await clustersOf("staged-app"), clusters, `${what}, and no more`);
    };

    await only(["c1"], "the canary group first");
    await reportCluster("staged-app", "c1", "succeeded");
    await only(["c1", "c2", "c3"], "then two clusters at once");

    // c3 fails while c2 is still rolling: with maxFailures 0 nothing new starts.
    await reportCluster("staged-app", "c3", "failed");
    await reportCluster("staged-app", "c2", "succeeded");
    await eventually(async () => {
      const replicaSet = await getReplicaSet("staged-app");
      const rolledOut = condition(replicaSet, C.placementRolledOut);
      assert.equal(rolledOut?.status, "False");
      assert.match(
        rolledOut?.message ?? "",
        /placement staged: rollout stopped: 1 clusters failed .*c3.*maxFailures 0/,
      );
      assert.equal(replicaSet.status?.summary?.degraded, 1);
      assert.equal(condition(replicaSet, C.manifestworkApplied)?.reason, R.notAsExpected);
    });
    await only(["c1", "c2", "c3"], "no new cluster after the failure");

    // c3 recovers: the rollout resumes and completes.
    await reportCluster("staged-app", "c3", "succeeded");
    await eventually(async () =>
      assert.deepEqual(await clustersOf("staged-app"), ["c1", "c2", "c3", "c4", "c5"]),
    );
    for (const cluster of ["c4", "c5"]) await reportCluster("staged-app", cluster, "succeeded");
    await eventually(async () => {
      const replicaSet = await getReplicaSet("staged-app");
      assert.equal(condition(replicaSet, C.placementRolledOut)?.reason, R.complete);
      assert.equal(condition(replicaSet, C.placementRolledOut)?.message, "");
      assert.equal(replicaSet.status?.summary?.updated, 5);
    });
  });

  test("bad input is reported on its replica set, naming the manifest, and harms no other", async () => {
    await addReplicaSet("fine", {
      manifestWorkTemplate: { workload: { manifests: [configMap("fine")] } },
      placementRefs: [{ name: "just-a1" }],
    });
    await addReplicaSet("too-big", {
      manifestWorkTemplate: {
        workload: { manifests: [configMap("small"), configMap("huge", { blob: "x".repeat(600_000) })] },
      },
      placementRefs: [{ name: "just-a1" }],
    });
    await addReplicaSet("nameless", {
      manifestWorkTemplate: {
        workload: {
          manifests: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "default" } }],
        },
      },
      placementRefs: [{ name: "just-a1" }],
    });
    await addReplicaSet("ghost", {
      manifestWorkTemplate: { workload: { manifests: [configMap("ghost")] } },
      placementRefs: [{ name: "no-such-placement" }],
    });

    await eventually(async () => {
      const replicaSet = await getReplicaSet("too-big");
      const applied = condition(replicaSet, C.manifestworkApplied);
      assert.equal(applied?.status, "False");
      assert.equal(applied?.reason, BosunReplicaSetReasons.templateInvalid);
      assert.match(applied?.message ?? "", /^spec\.manifestWorkTemplate\.workload\.manifests\[1\]: /);
      assert.match(
        applied?.message ?? "",
        /v1 ConfigMap default\/huge is \d+ bytes, more than the 512000 bytes/,
      );
    });
    await eventually(async () => {
      const applied = condition(await getReplicaSet("nameless"), C.manifestworkApplied);
      assert.equal(applied?.reason, BosunReplicaSetReasons.templateInvalid);
      assert.match(
        applied?.message ?? "",
        /^spec\.manifestWorkTemplate\.workload\.manifests\[0\]\.metadata\.name: name must be set/,
      );
    });
    await eventually(async () => {
      const verified = condition(await getReplicaSet("ghost"), C.placementVerified);
      assert.equal(verified?.status, "False");
      assert.equal(verified?.reason, R.placementDecisionNotFound);
      assert.match(verified?.message ?? "", /no-such-placement/);
    });
    await eventually(async () => {
      assert.deepEqual(await clustersOf("fine"), ["a1"]);
      assert.equal(condition(await getReplicaSet("fine"), C.placementVerified)?.reason, R.asExpected);
    });
    await settle();
    for (const name of ["too-big", "nameless", "ghost"]) assert.deepEqual(await worksOf(name), [], name);

    // A work's change reconciles its own replica set, and no other.
    const keys = ["fine", "too-big", "nameless", "ghost"].map((name) => `default/${name}`);
    const counts = Object.fromEntries(keys.map((key) => [key, replicaSets.reconcilesOf(key)]));
    await reportCluster("fine", "a1", "succeeded");
    await eventually(async () => {
      assert.equal(condition(await getReplicaSet("fine"), C.manifestworkApplied)?.reason, R.asExpected);
    });
    await settle();
    assert.ok(replicaSets.reconcilesOf("default/fine") > counts["default/fine"]!);
    for (const key of keys.slice(1)) assert.equal(replicaSets.reconcilesOf(key), counts[key], key);
  });
});
