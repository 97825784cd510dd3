import assert from "node:assert/strict";
import { test } from "node:test";
import type { AppliedManifestWork } from "../../../api/types/work.ts";
import {
  appliedObjectView,
  appliedView,
  conditionsByType,
  differences,
  judge,
  knownDifferences,
  type Difference,
} from "./agents-compare.ts";

test("differences lists every differing leaf by path; absent and undefined are the same", () => {
  const cases: { bosun: unknown; ocm: unknown; want: Difference[] }[] = [
    { bosun: { a: 1 }, ocm: { a: 1 }, want: [] },
    { bosun: { a: 1, b: undefined }, ocm: { a: 1 }, want: [] },
    { bosun: { a: { b: 1 } }, ocm: { a: { b: 2 } }, want: [{ path: "a.b", bosun: 1, ocm: 2 }] },
    { bosun: { a: [1, 2] }, ocm: { a: [1] }, want: [{ path: "a[1]", bosun: 2, ocm: undefined }] },
    { bosun: { s: {} }, ocm: {}, want: [{ path: "s", bosun: {}, ocm: undefined }] },
    { bosun: { a: [1] }, ocm: { a: { 0: 1 } }, want: [{ path: "a", bosun: [1], ocm: { 0: 1 } }] },
    {
      bosun: { z: 1, y: "x" },
      ocm: { z: 2, y: "w" },
      want: [
        { path: "y", bosun: "x", ocm: "w" },
        { path: "z", bosun: 1, ocm: 2 },
      ],
    },
  ];
  for (const { bosun, ocm, want } of cases) assert.deepEqual(differences(bosun, ocm), want);
});

test("conditions are keyed by type and lose their transition time", () => {
  assert.deepEqual(
    conditionsByType([
      { type: "Applied", status: "True", lastTransitionTime: "t1" },
      { type: "Available", status: "False", lastTransitionTime: "t2" },
    ] as never),
    { Applied: { type: "Applied", status: "True" }, Available: { type: "Available", status: "False" } },
  );
  assert.equal(conditionsByType(undefined), undefined);
});

test("an AppliedManifestWork is compared without its hub hash, uids and agent identity", () => {
  const hash = "a".repeat(64);
  const applied: AppliedManifestWork = {
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "AppliedManifestWork",
    metadata: { name: `${hash}-basic`, uid: "u1", finalizers: ["f"] },
    spec: { hubHash: hash, agentID: "abcde", manifestWorkName: "basic" },
    status: {
      appliedResources: [
        { group: "", version: "v1", resource: "configmaps", namespace: "d", name: "c", uid: "x" },
        { group: "", version: "v1", resource: "configmaps", namespace: "d", name: "n" },
      ],
    },
  };
  assert.deepEqual(appliedView(applied, "abcde"), {
    name: "<hub-hash>-basic",
    labels: undefined,
    finalizers: ["f"],
    spec: { manifestWorkName: "basic", hubHash: "<hub-hash>", agentID: "<own>" },
    status: {
      appliedResources: [
        { group: "", version: "v1", resource: "configmaps", namespace: "d", name: "c", uid: "<uid>" },
        { group: "", version: "v1", resource: "configmaps", namespace: "d", name: "n", uid: undefined },
      ],
      evictionStartTime: undefined,
    },
  });
  // Another agent's id is kept, so that it shows as a difference.
  assert.deepEqual((appliedView(applied, "other") as { spec: { agentID: string } }).spec.agentID, "abcde");
  assert.equal(appliedView(undefined, "x"), undefined);
});

test("an applied object's owner references and labels are compared without uids and hub hashes", () => {
  assert.deepEqual(
    appliedObjectView({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "c",
        labels: { a: "b", "controller-uid": "5cc5dc08-c88f-4cf6-98e0-20ec51fa8465" },
        ownerReferences: [
          {
            apiVersion: "work.open-cluster-management.io/v1",
            kind: "AppliedManifestWork",
            name: `${"b".repeat(64)}-w`,
            uid: "u",
          },
        ],
      },
    }),
    {
      data: undefined,
      labels: { a: "b", "controller-uid": "<uid>" },
      annotations: undefined,
      finalizers: undefined,
      ownerReferences: [
        {
          apiVersion: "work.open-cluster-management.io/v1",
          kind: "AppliedManifestWork",
          name: "<hub-hash>-w",
        },
      ],
    },
  );
});

test("only the known differences are explained", () => {
  const found: Difference[] = [
    {
      path: "work.status.resourceStatus.manifests[0].conditions.Applied.observedGeneration",
      bosun: 1,
      ocm: undefined,
    },
    {
      path: "work.status.resourceStatus.manifests[0].conditions.Available.observedGeneration",
      bosun: 1,
      ocm: undefined,
    },
    {
      path: "work.status.resourceStatus.manifests[2].conditions.Available.reason",
      bosun: "IncompleteResourceMeta",
      ocm: "IncompletedResourceMeta",
    },
    {
      path: "work.status.resourceStatus.manifests[2].conditions.Available.reason",
      bosun: "ResourceAvailable",
      ocm: "IncompletedResourceMeta",
    },
    { path: "applied.labels", bosun: { app: "demo" }, ocm: undefined },
    { path: "applied.labels", bosun: undefined, ocm: { app: "demo" } },
    {
      path: "work.status.conditions.Progressing",
      bosun: { reason: "ConditionRulesAggregated" },
      ocm: undefined,
    },
    { path: "work.status.conditions.Progressing", bosun: { reason: "Other" }, ocm: undefined },
    {
      path: "work.status.resourceStatus.manifests[1].conditions.Degraded.observedGeneration",
      bosun: 2,
      ocm: undefined,
    },
    {
      path: "work.status.resourceStatus.manifests[1].conditions.StatusFeedbackSynced.observedGeneration",
      bosun: 2,
      ocm: undefined,
    },
    {
      path: "work.status.resourceStatus.manifests[1].conditions.Degraded.observedGeneration",
      bosun: 2,
      ocm: 1,
    },
  ];
  const verdict = judge(found, knownDifferences);
  assert.deepEqual(
    verdict.explained.map((e) => found.indexOf(e.difference)),
    [0, 2, 4, 6, 8],
  );
  assert.deepEqual(
    verdict.unexplained.map((d) => found.indexOf(d)),
    [1, 3, 5, 7, 9, 10],
  );
  assert.deepEqual(
    verdict.explained.map((e) => e.known.origin),
    ["newer OCM", "newer OCM", "newer OCM", "newer OCM", "bosun"],
  );
});
