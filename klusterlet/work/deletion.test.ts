import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OwnerReference } from "../../api/types/meta.ts";
import type { AppliedManifestResourceMeta, DeleteOption } from "../../api/types/work.ts";
import {
  partitionByDeleteOption,
  planDeletion,
  planOrphaning,
  removedResources,
  sortAppliedResources,
  type DeletionStep,
  type LiveResource,
} from "./deletion.ts";

const amw = (uid: string, name = `amw-${uid}`): OwnerReference => ({
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "AppliedManifestWork",
  name,
  uid,
});
const mine = amw("amw-1");
const replicaSet: OwnerReference = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs-1" };
const record = {
  group: "",
  version: "v1",
  resource: "configmaps",
  namespace: "default",
  name: "cm",
  uid: "cm-1",
};

describe("planOrphaning", () => {
  const cases: [string, LiveResource | undefined, DeletionStep][] = [
    ["the resource is gone", undefined, { action: "forget", reason: "missing" }],
    [
      "not owned by this AppliedManifestWork: left alone",
      { uid: "cm-1", ownerReferences: [replicaSet, amw("amw-2")] },
      { action: "skip", reason: "not-owned" },
    ],
    [
      "owned by it alone: only the reference goes, never the resource",
      { uid: "cm-1", resourceVersion: "4", ownerReferences: [mine] },
      {
        action: "remove-owner",
        ownerReferences: [],
        patch: { metadata: { uid: "cm-1", resourceVersion: "4", ownerReferences: [] } },
      },
    ],
    [
      "other owners keep theirs",
      { uid: "cm-1", ownerReferences: [replicaSet, mine, amw("amw-2")] },
      {
        action: "remove-owner",
        ownerReferences: [replicaSet, amw("amw-2")],
        patch: { metadata: { uid: "cm-1", ownerReferences: [replicaSet, amw("amw-2")] } },
      },
    ],
    [
      "even one being deleted or recreated is only let go of",
      { uid: "cm-9", ownerReferences: [mine], deletionTimestamp: "2026-01-01T00:00:00Z" },
      {
        action: "remove-owner",
        ownerReferences: [],
        patch: { metadata: { uid: "cm-9", ownerReferences: [] } },
      },
    ],
  ];
  for (const [name, live, expected] of cases) {
    it(name, () => assert.deepEqual(planOrphaning(live, "amw-1"), expected));
  }
});

describe("planDeletion", () => {
  const cases: [string, LiveResource | undefined, DeletionStep][] = [
    ["the resource is gone", undefined, { action: "forget", reason: "missing" }],
    [
      "not owned by this AppliedManifestWork",
      { uid: "cm-1", ownerReferences: [replicaSet] },
      { action: "skip", reason: "not-owned" },
    ],
    ["no owners at all", { uid: "cm-1" }, { action: "skip", reason: "not-owned" }],
    [
      "shared with another AppliedManifestWork: only this reference goes",
      { uid: "cm-1", resourceVersion: "9", ownerReferences: [replicaSet, mine, amw("amw-2")] },
      {
        action: "remove-owner",
        ownerReferences: [replicaSet, amw("amw-2")],
        patch: {
          metadata: { uid: "cm-1", resourceVersion: "9", ownerReferences: [replicaSet, amw("amw-2")] },
        },
      },
    ],
    [
      "sharing is checked before the uid",
      { uid: "other", ownerReferences: [mine, amw("amw-2")] },
      {
        action: "remove-owner",
        ownerReferences: [amw("amw-2")],
        patch: { metadata: { uid: "other", ownerReferences: [amw("amw-2")] } },
      },
    ],
    [
      "another owner of another kind does not count as sharing",
      { uid: "cm-1", ownerReferences: [mine, { ...amw("amw-2"), kind: "ManifestWork" }] },
      { action: "delete", options: { propagationPolicy: "Background", uid: "cm-1" } },
    ],
    [
      "another owner of another API version does not count as sharing",
      {
        uid: "cm-1",
        ownerReferences: [mine, { ...amw("amw-2"), apiVersion: "work.open-cluster-management.io/v1alpha1" }],
      },
      { action: "delete", options: { propagationPolicy: "Background", uid: "cm-1" } },
    ],
    [
      "recreated out of band",
      { uid: "cm-2", ownerReferences: [mine] },
      { action: "forget", reason: "recreated" },
    ],
    [
      "already terminating",
      { uid: "cm-1", ownerReferences: [mine], deletionTimestamp: "2026-01-01T00:00:00Z" },
      { action: "pending" },
    ],
    [
      "owned and alive: delete in the background with a uid precondition",
      { uid: "cm-1", ownerReferences: [replicaSet, mine] },
      { action: "delete", options: { propagationPolicy: "Background", uid: "cm-1" } },
    ],
  ];
  for (const [name, live, expected] of cases) {
    it(name, () => assert.deepEqual(planDeletion(record, live, "amw-1"), expected));
  }

  it("a record without uid only matches a live object without one", () => {
    const { uid: _uid, ...withoutUid } = record;
    assert.deepEqual(planDeletion(withoutUid, { uid: "cm-1", ownerReferences: [mine] }, "amw-1"), {
      action: "forget",
      reason: "recreated",
    });
  });
});

describe("removedResources", () => {
  const r = (resource: string, name: string, extra: Partial<AppliedManifestResourceMeta> = {}) => ({
    group: "apps",
    version: "v1",
    resource,
    namespace: "default",
    name,
    uid: `${resource}-${name}`,
    ...extra,
  });
  const cases: [
    string,
    AppliedManifestResourceMeta[] | undefined,
    AppliedManifestResourceMeta[] | undefined,
    AppliedManifestResourceMeta[],
  ][] = [
    ["nothing before", undefined, [r("deployments", "web")], []],
    ["everything removed", [r("deployments", "web")], undefined, [r("deployments", "web")]],
    [
      "a kept resource",
      [r("deployments", "web"), r("deployments", "db")],
      [r("deployments", "web")],
      [r("deployments", "db")],
    ],
    [
      "another version is the same resource",
      [r("deployments", "web")],
      [r("deployments", "web", { version: "v1beta2" })],
      [],
    ],
    [
      "another uid is the same resource",
      [r("deployments", "web")],
      [r("deployments", "web", { uid: "new" })],
      [],
    ],
    [
      "another group is another resource",
      [r("deployments", "web")],
      [r("deployments", "web", { group: "extensions" })],
      [r("deployments", "web")],
    ],
    [
      "another namespace is another resource",
      [r("deployments", "web")],
      [r("deployments", "web", { namespace: "x" })],
      [r("deployments", "web")],
    ],
    [
      "another resource type",
      [r("deployments", "web")],
      [r("statefulsets", "web")],
      [r("deployments", "web")],
    ],
    [
      "a missing group equals the empty group",
      [{ version: "v1", resource: "configmaps", namespace: "default", name: "cm" }],
      [{ group: "", version: "v1", resource: "configmaps", namespace: "default", name: "cm" }],
      [],
    ],
  ];
  for (const [name, previous, current, expected] of cases) {
    it(name, () => assert.deepEqual(removedResources(previous, current), expected));
  }
});

describe("sortAppliedResources", () => {
  it("orders by group, version, resource, namespace and name without touching the input", () => {
    const list: AppliedManifestResourceMeta[] = [
      { group: "apps", version: "v1", resource: "deployments", namespace: "b", name: "x" },
      { group: "apps", version: "v1", resource: "deployments", namespace: "a", name: "y" },
      { group: "apps", version: "v1", resource: "deployments", namespace: "a", name: "x" },
      { version: "v1", resource: "secrets", name: "s" },
      { group: "apps", version: "v1", resource: "daemonsets", namespace: "z", name: "a" },
      { group: "", version: "v1", resource: "configmaps", namespace: "a", name: "c" },
      { group: "apps", version: "v1beta1", resource: "daemonsets", namespace: "a", name: "a" },
    ];
    const before = structuredClone(list);
    const names = sortAppliedResources(list).map(
      (r) => `${r.group ?? ""}/${r.version}/${r.resource}/${r.namespace ?? ""}/${r.name}`,
    );
    assert.deepEqual(names, [
      "/v1/configmaps/a/c",
      "/v1/secrets//s",
      "apps/v1/daemonsets/z/a",
      "apps/v1/deployments/a/x",
      "apps/v1/deployments/a/y",
      "apps/v1/deployments/b/x",
      "apps/v1beta1/daemonsets/a/a",
    ]);
    assert.deepEqual(list, before);
  });
});

describe("partitionByDeleteOption", () => {
  const cm = { group: "", version: "v1", resource: "configmaps", namespace: "default", name: "cm" };
  const web = { group: "apps", version: "v1", resource: "deployments", namespace: "default", name: "web" };
  const cases: [string, DeleteOption | undefined, string[], string[]][] = [
    ["no deleteOption owns all", undefined, ["cm", "web"], []],
    ["Foreground owns all", { propagationPolicy: "Foreground" }, ["cm", "web"], []],
    ["Orphan owns none", { propagationPolicy: "Orphan" }, [], ["cm", "web"]],
    [
      "SelectivelyOrphan orphans what its rules name",
      {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: {
          orphaningRules: [{ group: "apps", resource: "deployments", namespace: "default", name: "web" }],
        },
      },
      ["cm"],
      ["web"],
    ],
  ];
  for (const [name, option, owned, orphaned] of cases) {
    it(name, () => {
      const result = partitionByDeleteOption([cm, web], option);
      assert.deepEqual(
        { owned: result.owned.map((r) => r.name), orphaned: result.orphaned.map((r) => r.name) },
        { owned, orphaned },
      );
    });
  }
});
