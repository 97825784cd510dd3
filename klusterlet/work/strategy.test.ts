import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OwnerReference } from "../../api/types/meta.ts";
import type { UpdateStrategy } from "../../api/types/work.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { configSpecHash } from "./spec-hash.ts";
import {
  jsonEqual,
  mergeStringMap,
  planApply,
  removeNullCreationTimestamps,
  sameContent,
  type ApplyInput,
} from "./strategy.ts";

const owner = { name: "hash-web", uid: "amw-1" };
const mine: OwnerReference = {
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "AppliedManifestWork",
  name: "hash-web",
  uid: "amw-1",
};
const other: OwnerReference = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "rs-1" };
const hashKey = "open-cluster-management.io/config-spec-hash";

function required(): Unstructured {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "default",
      uid: "from-the-hub",
      labels: { app: "web", "stale-": "" },
      annotations: { note: "hub" },
      ownerReferences: [other],
    },
    spec: { replicas: 2, template: { metadata: { creationTimestamp: null, labels: { app: "web" } } } },
  };
}

type LiveDeployment = Unstructured & {
  spec: { replicas: number; paused?: boolean; revisionHistoryLimit?: number; template: unknown };
  status?: unknown;
  data?: unknown;
};

function live(edit: (o: LiveDeployment) => void = () => undefined): Unstructured {
  const object: LiveDeployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "default",
      uid: "live-uid",
      resourceVersion: "7",
      labels: { app: "web", team: "spoke" },
      annotations: { note: "hub", "deployment.kubernetes.io/revision": "1" },
      ownerReferences: [other, mine],
      finalizers: ["example.com/keep"],
      managedFields: [{ manager: "work-agent" }],
    },
    spec: { replicas: 2, template: { metadata: { creationTimestamp: null, labels: { app: "web" } } } },
    status: { readyReplicas: 2 },
  };
  edit(object);
  return object;
}

const base = (overrides: Partial<ApplyInput>): ApplyInput => ({
  required: required(),
  live: undefined,
  owned: true,
  owner,
  ...overrides,
});

describe("planApply: Update", () => {
  const update: UpdateStrategy = { type: "Update" };

  it("creates a missing object owned by the AppliedManifestWork alone", () => {
    assert.deepEqual(planApply(base({ strategy: update })), {
      action: "create",
      object: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: {
          name: "web",
          namespace: "default",
          labels: { app: "web" },
          annotations: { note: "hub" },
          ownerReferences: [mine],
        },
        spec: { replicas: 2, template: { metadata: { creationTimestamp: null, labels: { app: "web" } } } },
      },
    });
  });

  it("is the default strategy", () => {
    assert.deepEqual(planApply(base({})), planApply(base({ strategy: update })));
  });

  it("creates an unowned object without owner references", () => {
    const plan = planApply(base({ strategy: update, owned: false }));
    assert.equal(plan.action, "create");
    assert.equal(plan.action === "create" && "ownerReferences" in plan.object.metadata, false);
  });

  const merged = {
    name: "web",
    namespace: "default",
    labels: { app: "web", team: "spoke" },
    annotations: { note: "hub", "deployment.kubernetes.io/revision": "1" },
    ownerReferences: [other, mine],
    finalizers: ["example.com/keep"],
    resourceVersion: "7",
  };
  const cases: {
    name: string;
    live: Unstructured;
    owned?: boolean;
    required?: Unstructured;
    expected: "none" | { metadata?: Partial<typeof merged>; spec?: unknown };
  }[] = [
    { name: "nothing to do when only metadata and status differ", live: live(), expected: "none" },
    {
      name: "spec changes replace the object, dropping fields the manifest lacks",
      live: live((o) => {
        o.spec.replicas = 5;
        o.spec.paused = true;
      }),
      expected: {},
    },
    {
      name: "a changed label is written even when the spec is equal",
      live: live((o) => (o.metadata.labels = { app: "old", team: "spoke" })),
      expected: {},
    },
    {
      name: "a missing owner reference is added",
      live: live((o) => (o.metadata.ownerReferences = [other])),
      expected: {},
    },
    {
      name: "a stale owner reference is replaced in place",
      live: live((o) => (o.metadata.ownerReferences = [{ ...mine, uid: "old" }, other])),
      expected: { metadata: { ownerReferences: [mine, other] } },
    },
    {
      name: "an unowned resource loses the owner reference",
      live: live(),
      owned: false,
      expected: { metadata: { ownerReferences: [other] } },
    },
    {
      name: "an unowned resource without the reference is left alone",
      live: live((o) => (o.metadata.ownerReferences = [other])),
      owned: false,
      expected: "none",
    },
    {
      name: "a removal key drops a live label",
      live: live((o) => (o.metadata.labels = { app: "web", team: "spoke", stale: "x" })),
      expected: {},
    },
    {
      name: "another apiVersion is an update",
      live: live((o) => (o.apiVersion = "apps/v1beta2")),
      expected: {},
    },
    {
      name: "server defaults in the live spec count as differences",
      live: live((o) => (o.spec.revisionHistoryLimit = 10)),
      expected: {},
    },
    {
      name: "a live object without finalizers keeps none",
      live: live((o) => {
        delete o.metadata.finalizers;
        o.spec.replicas = 1;
      }),
      expected: { metadata: { finalizers: undefined } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planApply(base({ strategy: update, live: c.live, owned: c.owned ?? true }));
      if (c.expected === "none") {
        assert.deepEqual(plan, { action: "none", reason: "unchanged" });
        return;
      }
      const metadata: Record<string, unknown> = { ...merged, ...c.expected.metadata };
      for (const [key, value] of Object.entries(metadata)) if (value === undefined) delete metadata[key];
      assert.deepEqual(plan, {
        action: "update",
        object: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata,
          spec: { replicas: 2, template: { metadata: { creationTimestamp: null, labels: { app: "web" } } } },
        },
      });
    });
  }

  it("does not modify its inputs", () => {
    const input = base({ strategy: update, live: live((o) => (o.spec.replicas = 9)) });
    const before = structuredClone(input);
    planApply(input);
    assert.deepEqual(input, before);
  });
});

describe("planApply: CreateOnly", () => {
  const createOnly: UpdateStrategy = { type: "CreateOnly" };
  const cases: [string, Unstructured | undefined, boolean, unknown][] = [
    [
      "a changed object keeps its content",
      live((o) => (o.spec.replicas = 9)),
      true,
      { action: "none", reason: "unchanged" },
    ],
    [
      "an adopted object gets the owner reference",
      live((o) => (o.metadata.ownerReferences = [other])),
      true,
      {
        action: "patch-owner",
        patch: { metadata: { uid: "live-uid", resourceVersion: "7", ownerReferences: [other, mine] } },
      },
    ],
    [
      "an orphaned object loses it",
      live(),
      false,
      {
        action: "patch-owner",
        patch: { metadata: { uid: "live-uid", resourceVersion: "7", ownerReferences: [other] } },
      },
    ],
  ];
  for (const [name, object, owned, expected] of cases) {
    it(name, () =>
      assert.deepEqual(planApply(base({ strategy: createOnly, live: object, owned })), expected),
    );
  }

  it("creates a missing object like Update does", () => {
    assert.deepEqual(
      planApply(base({ strategy: createOnly })),
      planApply(base({ strategy: { type: "Update" } })),
    );
  });
});

describe("planApply: ReadOnly", () => {
  for (const [name, object] of [
    ["missing", undefined],
    ["different", live((o) => (o.spec.replicas = 9))],
  ] as const) {
    it(`never writes (${name})`, () =>
      assert.deepEqual(planApply(base({ strategy: { type: "ReadOnly" }, live: object })), {
        action: "none",
        reason: "read-only",
      }));
  }
});

describe("planApply: ServerSideApply", () => {
  const body = (withReplicas = true): Unstructured => {
    const object = required();
    delete object.metadata.uid;
    const template = { metadata: { labels: { app: "web" } } };
    object.spec = withReplicas ? { replicas: 2, template } : { template };
    return object;
  };

  const plain: [string, UpdateStrategy, string, boolean][] = [
    ["defaults", { type: "ServerSideApply" }, "work-agent", false],
    [
      "an empty field manager",
      { type: "ServerSideApply", serverSideApply: { fieldManager: "" } },
      "work-agent",
      false,
    ],
    [
      "a field manager and force",
      { type: "ServerSideApply", serverSideApply: { fieldManager: "work-agent-x", force: true } },
      "work-agent-x",
      true,
    ],
  ];
  for (const [name, strategy, fieldManager, force] of plain) {
    it(`applies the manifest as written, without uid or null creation times: ${name}`, () => {
      assert.deepEqual(planApply(base({ strategy, live: live((o) => (o.spec.replicas = 9)) })), {
        action: "apply",
        body: body(),
        fieldManager,
        force,
      });
    });
  }

  const ignoring = (
    condition: "OnSpokePresent" | "OnSpokeChange",
    path = ".spec.replicas",
  ): UpdateStrategy => ({
    type: "ServerSideApply",
    serverSideApply: { ignoreFields: [{ condition, jsonPaths: [path] }] },
  });
  const stripped = body(false);
  const strippedHash = configSpecHash(stripped);
  const fullHash = configSpecHash(body());
  const annotated = (object: Unstructured, hash: string): Unstructured => ({
    ...object,
    metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [hashKey]: hash } },
  });

  it("hashes the object without its ignored fields", () => assert.notEqual(strippedHash, fullHash));

  const cases: [string, UpdateStrategy, Unstructured | undefined, boolean, unknown][] = [
    [
      "a missing object is applied in full with the hash",
      ignoring("OnSpokePresent"),
      undefined,
      true,
      { action: "apply", body: annotated(body(), strippedHash), fieldManager: "work-agent", force: false },
    ],
    [
      "an object with the same hash is left alone",
      ignoring("OnSpokePresent"),
      live((o) => (o.metadata.annotations![hashKey] = strippedHash)),
      true,
      { action: "none", reason: "spec-hash-unchanged" },
    ],
    [
      "an object with the same hash still gets its owner reference",
      ignoring("OnSpokePresent"),
      live((o) => {
        o.metadata.annotations![hashKey] = strippedHash;
        o.metadata.ownerReferences = [];
      }),
      true,
      {
        action: "patch-owner",
        patch: { metadata: { uid: "live-uid", resourceVersion: "7", ownerReferences: [mine] } },
      },
    ],
    [
      "an object with another hash gets the manifest without the ignored fields",
      ignoring("OnSpokePresent"),
      live((o) => (o.metadata.annotations![hashKey] = "old")),
      true,
      { action: "apply", body: annotated(stripped, strippedHash), fieldManager: "work-agent", force: false },
    ],
    [
      "an object without annotations counts as another hash",
      ignoring("OnSpokePresent"),
      live((o) => delete o.metadata.annotations),
      true,
      { action: "apply", body: annotated(stripped, strippedHash), fieldManager: "work-agent", force: false },
    ],
    [
      "OnSpokeChange fields stay in the hash and the body",
      ignoring("OnSpokeChange"),
      live((o) => (o.metadata.annotations![hashKey] = strippedHash)),
      true,
      { action: "apply", body: annotated(body(), fullHash), fieldManager: "work-agent", force: false },
    ],
    [
      "OnSpokeChange: an unchanged manifest leaves spoke edits alone",
      ignoring("OnSpokeChange"),
      live((o) => {
        o.metadata.annotations![hashKey] = fullHash;
        o.spec.replicas = 9;
      }),
      true,
      { action: "none", reason: "spec-hash-unchanged" },
    ],
    [
      "an invalid selector fails the manifest",
      ignoring("OnSpokePresent", ".spec.template["),
      live(),
      true,
      {
        action: "error",
        reason: "AppliedManifestSSAIgnoreFieldError",
        message: "JSON Path error in '.spec.template[': unsupported subscript at position 15",
      },
    ],
  ];
  for (const [name, strategy, object, owned, expected] of cases) {
    it(name, () => assert.deepEqual(planApply(base({ strategy, live: object, owned })), expected));
  }

  it("does not modify the manifest", () => {
    const input = base({ strategy: ignoring("OnSpokePresent"), live: live() });
    const before = structuredClone(input.required);
    planApply(input);
    assert.deepEqual(input.required, before);
  });
});

describe("merging and comparing", () => {
  const maps: [
    string,
    Record<string, string> | undefined,
    Record<string, string> | undefined,
    Record<string, string>,
    boolean,
  ][] = [
    ["adds", { a: "1" }, { b: "2" }, { a: "1", b: "2" }, true],
    ["overwrites", { a: "1" }, { a: "2" }, { a: "2" }, true],
    ["keeps equal values", { a: "1", b: "2" }, { a: "1" }, { a: "1", b: "2" }, false],
    ["removes with a trailing dash", { a: "1", b: "2" }, { "a-": "" }, { b: "2" }, true],
    ["removes with several trailing dashes", { a: "1" }, { "a--": "" }, {}, true],
    ["removing an absent key changes nothing", { a: "1" }, { "z-": "" }, { a: "1" }, false],
    ["no maps", undefined, undefined, {}, false],
  ];
  for (const [name, existing, wanted, merged, modified] of maps) {
    it(`mergeStringMap ${name}`, () =>
      assert.deepEqual(mergeStringMap(existing, wanted), { merged, modified }));
  }

  const equal: [unknown, unknown, boolean][] = [
    [{ a: [1, { b: null }] }, { a: [1, { b: null }] }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: null }, {}, false],
    [{ a: [] }, { a: null }, false],
    [{ a: {} }, { a: [] }, false],
    [[1, 2], [2, 1], false],
    ["1", 1, false],
  ];
  for (const [a, b, expected] of equal) {
    it(`jsonEqual(${JSON.stringify(a)}, ${JSON.stringify(b)}) is ${expected}`, () =>
      assert.equal(jsonEqual(a, b), expected));
  }

  it("sameContent compares identity and everything but metadata and status", () => {
    assert.equal(
      sameContent(
        live(),
        live((o) => (o.status = {})),
      ),
      true,
    );
    assert.equal(
      sameContent(
        live(),
        live((o) => (o.metadata.name = "db")),
      ),
      false,
    );
    assert.equal(
      sameContent(
        live(),
        live((o) => (o.metadata.namespace = "other")),
      ),
      false,
    );
    assert.equal(
      sameContent(
        live(),
        live((o) => (o.kind = "StatefulSet")),
      ),
      false,
    );
    assert.equal(
      sameContent(
        live(),
        live((o) => (o.data = { x: "1" })),
      ),
      false,
    );
  });

  it("removeNullCreationTimestamps clears null ones at any depth and keeps real times", () => {
    const object = {
      metadata: { creationTimestamp: null, name: "x" },
      spec: {
        template: { metadata: { creationTimestamp: null } },
        volumeClaimTemplates: [{ metadata: { creationTimestamp: null, name: "data" } }],
        kept: { metadata: { creationTimestamp: "2026-01-01T00:00:00Z" } },
      },
    };
    removeNullCreationTimestamps(object);
    assert.deepEqual(object, {
      metadata: { name: "x" },
      spec: {
        template: { metadata: {} },
        volumeClaimTemplates: [{ metadata: { name: "data" } }],
        kept: { metadata: { creationTimestamp: "2026-01-01T00:00:00Z" } },
      },
    });
  });
});
