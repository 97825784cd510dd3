import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition, ConditionStatus } from "../../api/types/meta.ts";
import type { Placement } from "../../api/types/placement.ts";
import type {
  Manifest,
  ManifestWork,
  ManifestWorkReplicaSet,
  ManifestWorkSpec,
} from "../../api/types/work.ts";
import { partLabels, templateHash } from "../work/split.ts";
import { computeRollout } from "./rollout.ts";
import {
  clusterRolloutStatus,
  clusterWorkState,
  desiredWorks,
  replicaSetKey,
  replicaSetStatus,
  workLabels,
  workRolloutStatus,
  worksCarryLabels,
  worksMatchTemplate,
  type PlacementState,
} from "./status.ts";

const T0 = "2022-01-01T00:00:00Z";
const T1 = "2022-01-01T00:01:00Z";
const T2 = "2022-01-01T00:02:00Z";

const cm = (name: string, pad = 0): Manifest => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "app" },
  data: { pad: "x".repeat(pad) },
});

const template: ManifestWorkSpec = { workload: { manifests: [cm("a"), cm("b")] } };

const mwrs = (spec: ManifestWorkSpec = template): ManifestWorkReplicaSet => ({
  apiVersion: "work.open-cluster-management.io/v1alpha1",
  kind: "ManifestWorkReplicaSet",
  metadata: { name: "app", namespace: "default", labels: { team: "web" } },
  spec: { manifestWorkTemplate: spec, placementRefs: [{ name: "p" }], cascadeDeletionPolicy: "Background" },
});

type C = [type: string, status: ConditionStatus, observedGeneration?: number, time?: string];
const conditions = (...list: C[]): Condition[] =>
  list.map(([type, status, observedGeneration = 1, time = T0]) => ({
    type,
    status,
    observedGeneration,
    lastTransitionTime: time,
    reason: "r",
    message: "",
  }));

function work(
  cluster: string,
  list: C[],
  extra: Partial<ManifestWork["metadata"]> = {},
  spec = template,
): ManifestWork {
  return {
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: {
      name: "app",
      namespace: cluster,
      generation: 1,
      labels: {
        "work.open-cluster-management.io/manifestworkreplicaset": "default.app",
        "work.open-cluster-management.io/placementname": "p",
      },
      ...extra,
    },
    spec,
    status: { conditions: conditions(...list) },
  };
}

const applied: C = ["Applied", "True"];
const available: C = ["Available", "True"];

describe("workRolloutStatus", () => {
  const table: [name: string, list: C[], expected: ReturnType<typeof workRolloutStatus>][] = [
    ["no conditions", [], { status: "ToApply" }],
    ["applied for an older generation", [["Applied", "True", 0], available], { status: "ToApply" }],
    ["not applied", [["Applied", "False"], available], { status: "ToApply" }],
    ["applied, nothing else yet", [applied], { status: "ToApply" }],
    [
      "degraded for an older generation",
      [applied, available, ["Degraded", "True", 0]],
      { status: "ToApply" },
    ],
    ["available", [applied, ["Available", "True", 1, T1]], { status: "Succeeded", lastTransitionTime: T1 }],
    [
      "not available",
      [applied, ["Available", "False", 1, T1]],
      { status: "Progressing", lastTransitionTime: T1 },
    ],
    [
      "degraded without Progressing",
      [applied, available, ["Degraded", "True", 1, T2]],
      { status: "Failed", lastTransitionTime: T2 },
    ],
    [
      "progressing",
      [applied, ["Progressing", "True", 1, T1]],
      { status: "Progressing", lastTransitionTime: T1 },
    ],
    [
      "done progressing",
      [applied, ["Progressing", "False", 1, T2]],
      { status: "Succeeded", lastTransitionTime: T2 },
    ],
    [
      "progressing and degraded",
      [applied, ["Progressing", "True"], ["Degraded", "True", 1, T1]],
      { status: "Failed", lastTransitionTime: T1 },
    ],
    [
      "progressing unknown",
      [applied, ["Progressing", "Unknown", 1, T1]],
      { status: "Progressing", lastTransitionTime: T1 },
    ],
    [
      "stale Progressing falls back to Available",
      [applied, ["Progressing", "True", 0], available],
      { status: "Succeeded", lastTransitionTime: T0 },
    ],
  ];
  for (const [name, list, expected] of table) {
    it(name, () => assert.deepEqual(workRolloutStatus(work("c1", list)), expected));
  }
});

describe("a cluster with several parts", () => {
  const part = (index: number, list: C[]) => work("c1", list, { name: index ? `app-part-${index}` : "app" });
  it("succeeds only when every part succeeded, from the last success", () => {
    const status = clusterRolloutStatus("c1", [
      part(0, [applied, ["Available", "True", 1, T1]]),
      part(1, [applied, ["Available", "True", 1, T2]]),
    ]);
    assert.deepEqual(status, { clusterName: "c1", status: "Succeeded", lastTransitionTime: T2 });
  });
  it("is progressing from the first part that started while a later part waits", () => {
    const status = clusterRolloutStatus("c1", [
      part(0, [applied, ["Available", "False", 1, T1]]),
      part(1, []),
    ]);
    assert.deepEqual(status, { clusterName: "c1", status: "Progressing", lastTransitionTime: T1 });
  });
  it("fails when any part fails", () => {
    const status = clusterRolloutStatus("c1", [
      part(0, [applied, available]),
      part(1, [applied, ["Progressing", "True"], ["Degraded", "True", 1, T2]]),
    ]);
    assert.equal(status.status, "Failed");
    assert.equal(status.lastTransitionTime, T2);
  });
  it("is ToApply while no part got anywhere, and counts missing parts", () => {
    assert.equal(clusterRolloutStatus("c1", [part(0, []), part(1, [])]).status, "ToApply");
    assert.equal(clusterRolloutStatus("c1", []).status, "ToApply");
    assert.equal(clusterRolloutStatus("c1", [part(0, [applied, available])], 2).status, "Progressing");
  });
  it("is applied and available only when every part is", () => {
    assert.deepEqual(clusterWorkState([part(0, [applied, available]), part(1, [applied])]), {
      applied: true,
      available: false,
      progressing: false,
      degraded: false,
    });
    assert.deepEqual(
      clusterWorkState([
        part(0, [applied, available]),
        part(1, [
          ["Applied", "False"],
          ["Progressing", "True"],
        ]),
      ]),
      {
        applied: false,
        available: false,
        progressing: true,
        degraded: false,
      },
    );
  });
});

describe("worksMatchTemplate", () => {
  it("compares an unsplit work's spec, whatever the key order", () => {
    const reordered = {
      workload: {
        manifests: template.workload!.manifests!.map((m) => ({
          data: m.data,
          metadata: m.metadata,
          kind: m.kind,
          apiVersion: m.apiVersion,
        })),
      },
    };
    assert.equal(worksMatchTemplate([work("c1", [], {}, reordered as ManifestWorkSpec)], template), true);
    assert.equal(
      worksMatchTemplate([work("c1", [], {}, { workload: { manifests: [cm("a")] } })], template),
      false,
    );
    assert.equal(worksMatchTemplate([], template), false);
  });
  it("wants every part of the template's hash", () => {
    const hash = templateHash(template);
    const p = (i: number, h = hash) =>
      work("c1", [], { name: `w${i}`, labels: partLabels(i, 2, h) }, { workload: { manifests: [] } });
    assert.equal(worksMatchTemplate([p(0), p(1)], template), true);
    assert.equal(worksMatchTemplate([p(0)], template), false);
    assert.equal(worksMatchTemplate([p(0), p(1, "other")], template), false);
    assert.equal(worksMatchTemplate([p(0), p(0)], template), false);
  });
  it("takes the caller's hash of the template instead of hashing it again", () => {
    const p = (i: number) =>
      work("c1", [], { name: `w${i}`, labels: partLabels(i, 2, "given") }, { workload: { manifests: [] } });
    assert.equal(worksMatchTemplate([p(0), p(1)], template, "given"), true);
    assert.equal(worksMatchTemplate([p(0), p(1)], template), false, "not the template's own hash");
  });
});

describe("the labels of the works", () => {
  it("are the replica set's own and OCM's two", () => {
    assert.deepEqual(workLabels(mwrs(), "p"), {
      team: "web",
      "work.open-cluster-management.io/manifestworkreplicaset": "default.app",
      "work.open-cluster-management.io/placementname": "p",
    });
  });
  const cases: { what: string; works: ManifestWork[]; carried: boolean }[] = [
    {
      what: "a work with every label",
      works: [work("c1", [], { labels: { ...workLabels(mwrs(), "p") } })],
      carried: true,
    },
    {
      what: "a work with more labels",
      works: [work("c1", [], { labels: { ...workLabels(mwrs(), "p"), extra: "1" } })],
      carried: true,
    },
    { what: "a work without the replica set's own label", works: [work("c1", [])], carried: false },
    {
      what: "a work with another value",
      works: [work("c1", [], { labels: { ...workLabels(mwrs(), "p"), team: "db" } })],
      carried: false,
    },
    {
      what: "a deleting work without them, beside one with them",
      works: [
        work("c1", [], { name: "old", deletionTimestamp: T0 }),
        work("c1", [], { labels: { ...workLabels(mwrs(), "p") } }),
      ],
      carried: true,
    },
  ];
  for (const { what, works, carried } of cases) {
    it(`${what}: ${carried ? "carried" : "not carried"}`, () => {
      assert.equal(worksCarryLabels(works, workLabels(mwrs(), "p")), carried);
    });
  }
});

describe("desiredWorks", () => {
  it("labels the work as OCM does and keeps the replica set's labels", () => {
    const result = desiredWorks(mwrs(), "cluster1", "p");
    assert.ok(result.ok);
    assert.deepEqual(result.works, [
      {
        apiVersion: "work.open-cluster-management.io/v1",
        kind: "ManifestWork",
        metadata: {
          name: "app",
          namespace: "cluster1",
          labels: {
            team: "web",
            "work.open-cluster-management.io/manifestworkreplicaset": "default.app",
            "work.open-cluster-management.io/placementname": "p",
          },
        },
        spec: template,
      },
    ]);
    assert.deepEqual(result.obsolete, []);
    assert.equal(replicaSetKey(mwrs()), "default.app");
  });
  it("uses generateName for a new work when asked, and keeps an existing work's name", () => {
    const fresh = desiredWorks(mwrs(), "cluster1", "p", [], { generateName: true });
    assert.ok(fresh.ok);
    assert.equal(fresh.works[0]!.metadata.generateName, "app");
    assert.equal(fresh.works[0]!.metadata.name, undefined);
    const kept = desiredWorks(mwrs(), "cluster1", "p", [work("cluster1", [], { name: "appx7k2q" })], {
      generateName: true,
    });
    assert.ok(kept.ok);
    assert.equal(kept.works[0]!.metadata.name, "appx7k2q");
  });
  it("splits an oversized template into labelled parts, and names the parts to delete when it shrinks", () => {
    const big: ManifestWorkSpec = {
      workload: { manifests: Array.from({ length: 6 }, (_, i) => cm(`c${i}`, 200)) },
    };
    const split = desiredWorks(mwrs(big), "cluster1", "p", [], { limitBytes: 700 });
    assert.ok(split.ok);
    assert.deepEqual(
      split.works.map((w) => w.metadata.name),
      ["app", "app-part-1", "app-part-2"],
    );
    for (const [i, w] of split.works.entries()) {
      assert.equal(w.metadata.labels!["work.bosun.dev/part-index"], String(i));
      assert.equal(w.metadata.labels!["work.bosun.dev/part-count"], "3");
      assert.equal(w.metadata.labels!["work.bosun.dev/template-hash"], templateHash(big));
      assert.equal(
        w.metadata.labels!["work.open-cluster-management.io/manifestworkreplicaset"],
        "default.app",
      );
      assert.deepEqual(w.metadata.annotations, { "work.bosun.dev/part-of": "app" });
    }
    const small = desiredWorks(mwrs(), "cluster1", "p", split.works, { limitBytes: 700 });
    assert.ok(small.ok);
    assert.deepEqual(
      small.works.map((w) => w.metadata.name),
      ["app"],
    );
    assert.deepEqual(small.obsolete, ["app-part-1", "app-part-2"]);
  });
  it("reports a manifest too big for any work", () => {
    const result = desiredWorks(mwrs({ workload: { manifests: [cm("huge", 5000)] } }), "cluster1", "p", [], {
      limitBytes: 1000,
    });
    assert.equal(result.ok, false);
  });
});

describe("replicaSetStatus", () => {
  const placement = (selected: number, groups = 1): Placement => ({
    apiVersion: "cluster.open-cluster-management.io/v1beta1",
    kind: "Placement",
    metadata: { name: "p", namespace: "default" },
    spec: {},
    status: {
      numberOfSelectedClusters: selected,
      decisionGroups: Array.from({ length: groups }, () => ({})),
    },
  });
  const rolloutFor = (works: ManifestWork[], clusters: string[]) =>
    computeRollout({
      clusters: clusters.map((clusterName) => ({ clusterName, group: { groupIndex: 0, groupName: "" } })),
      statuses: clusters.map((c) =>
        clusterRolloutStatus(
          c,
          works.filter((w) => w.metadata.namespace === c),
        ),
      ),
      nowMs: Date.UTC(2022, 0, 1, 1),
    });
  const state = (
    works: ManifestWork[],
    clusters: string[],
    extra: Partial<PlacementState> = {},
  ): PlacementState => ({
    name: "p",
    placement: placement(clusters.length),
    rollout: rolloutFor(works, clusters),
    ...extra,
  });
  const reasons = (status: ReturnType<typeof replicaSetStatus>) =>
    Object.fromEntries(status.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

  it("is AsExpected and Complete when every cluster is available", () => {
    const works = [work("c1", [applied, available]), work("c2", [applied, available])];
    const status = replicaSetStatus({ replicaSet: mwrs(), placements: [state(works, ["c1", "c2"])], works });
    assert.deepEqual(reasons(status), {
      PlacementVerified: "True/AsExpected",
      PlacementRolledOut: "True/Complete",
      ManifestworkApplied: "True/AsExpected",
    });
    assert.deepEqual(status.summary, {
      total: 2,
      applied: 2,
      available: 2,
      progressing: 0,
      degraded: 0,
      desiredTotal: 2,
      updated: 2,
    });
    assert.deepEqual(status.placementSummary, [
      {
        name: "p",
        availableDecisionGroups: "1 (2 / 2 clusters applied)",
        summary: {
          total: 2,
          applied: 2,
          available: 2,
          progressing: 0,
          degraded: 0,
          desiredTotal: 2,
          updated: 2,
        },
      },
    ]);
    assert.ok(status.conditions.every((c) => c.message === ""));
  });

  it("is Processing while a cluster progresses", () => {
    const works = [work("c1", [applied, available]), work("c2", [applied, ["Progressing", "True"]])];
    const status = replicaSetStatus({ replicaSet: mwrs(), placements: [state(works, ["c1", "c2"])], works });
    assert.deepEqual(reasons(status), {
      PlacementVerified: "True/AsExpected",
      PlacementRolledOut: "False/Progressing",
      ManifestworkApplied: "False/Processing",
    });
    assert.equal(status.summary?.updated, 1);
  });

  it("is NotAsExpected when a cluster is degraded", () => {
    const works = [work("c1", [applied, ["Progressing", "True"], ["Degraded", "True"]])];
    const status = replicaSetStatus({ replicaSet: mwrs(), placements: [state(works, ["c1"])], works });
    assert.equal(reasons(status).ManifestworkApplied, "False/NotAsExpected");
    assert.equal(status.summary?.degraded, 1);
  });

  it("counts a split cluster once, applied only when all its parts are", () => {
    const big: ManifestWorkSpec = {
      workload: { manifests: Array.from({ length: 6 }, (_, i) => cm(`c${i}`, 200)) },
    };
    const parts = desiredWorks(mwrs(big), "c1", "p", [], { limitBytes: 700 });
    assert.ok(parts.ok);
    const written = parts.works.map((w, i) => ({
      ...w,
      metadata: { ...w.metadata, generation: 1 },
      status: { conditions: conditions(applied, i < 2 ? available : ["Available", "False"]) },
    }));
    const status = replicaSetStatus({
      replicaSet: mwrs(big),
      placements: [state(written, ["c1"])],
      works: written,
    });
    assert.deepEqual(status.summary, {
      total: 1,
      applied: 1,
      available: 0,
      progressing: 0,
      degraded: 0,
      desiredTotal: 1,
      updated: 0,
    });
    assert.equal(reasons(status).ManifestworkApplied, "False/NotAsExpected");
  });

  it("counts clusters written in this reconcile, and not works of an old template", () => {
    const stale = [work("c1", [applied, available], {}, { workload: { manifests: [cm("old")] } })];
    const status = replicaSetStatus({
      replicaSet: mwrs(),
      placements: [state(stale, ["c1", "c2"], { applied: ["c2"] })],
      works: stale,
    });
    assert.equal(status.summary?.total, 1);
    assert.equal(status.placementSummary?.[0]?.availableDecisionGroups, "1 (1 / 2 clusters applied)");
  });

  it("is PlacementDecisionEmpty with no cluster", () => {
    const status = replicaSetStatus({ replicaSet: mwrs(), placements: [state([], [])], works: [] });
    assert.deepEqual(reasons(status), {
      PlacementVerified: "False/PlacementDecisionEmpty",
      PlacementRolledOut: "True/Complete",
      ManifestworkApplied: "False/PlacementDecisionEmpty",
    });
    assert.deepEqual(status.summary, {
      total: 0,
      applied: 0,
      available: 0,
      progressing: 0,
      degraded: 0,
      desiredTotal: 0,
      updated: 0,
    });
  });

  it("reports a missing Placement and updates nothing else", () => {
    const status = replicaSetStatus({ replicaSet: mwrs(), placements: [{ name: "p" }], works: [] });
    assert.deepEqual(status.conditions, [
      {
        type: "PlacementVerified",
        status: "False",
        reason: "PlacementDecisionNotFound",
        message: "Placement p not found in namespace default",
      },
    ]);
    assert.equal(status.summary, undefined);
  });

  it("is NotAsExpected with the error when a rollout strategy is invalid", () => {
    const works = [work("c1", [applied, available])];
    const status = replicaSetStatus({
      replicaSet: mwrs(),
      placements: [
        { name: "p", placement: placement(1), rollout: { ok: false, error: "invalid timeout format" } },
      ],
      works,
    });
    const verified = status.conditions.find((c) => c.type === "PlacementVerified")!;
    assert.equal(`${verified.status}/${verified.reason}`, "False/NotAsExpected");
    assert.equal(verified.message, "placement p: invalid timeout format");
    assert.equal(reasons(status).PlacementRolledOut, "False/Progressing");
  });
});
