import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../../api/types/meta.ts";
import type { ManifestWorkStatus } from "../../api/types/work.ts";
import { sameJson, statusChanges, statusNeedsWrite } from "./status-diff.ts";

const condition = (type: string, status: Condition["status"], extra: Partial<Condition> = {}): Condition => ({
  type,
  status,
  reason: "R",
  message: "m",
  lastTransitionTime: "2024-05-01T10:00:00Z",
  ...extra,
});

const base: ManifestWorkStatus = {
  conditions: [condition("Applied", "True", { observedGeneration: 2 }), condition("Available", "True")],
  resourceStatus: {
    manifests: [
      {
        resourceMeta: {
          ordinal: 0,
          group: "apps",
          version: "v1",
          kind: "Deployment",
          resource: "deployments",
          name: "web",
          namespace: "ns",
        },
        statusFeedback: { values: [{ name: "Replicas", fieldValue: { type: "Integer", integer: 2 } }] },
        conditions: [condition("Applied", "True"), condition("Available", "True")],
      },
      {
        resourceMeta: {
          ordinal: 1,
          group: "",
          version: "v1",
          kind: "ConfigMap",
          resource: "configmaps",
          name: "cm",
        },
        conditions: [condition("Applied", "True")],
      },
    ],
  },
};

function edit(change: (status: ManifestWorkStatus) => void): ManifestWorkStatus {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

describe("status diff: no write needed", () => {
  const cases: [string, ManifestWorkStatus][] = [
    ["identical", structuredClone(base)],
    [
      "only transition times differ",
      edit((s) => {
        s.conditions![0]!.lastTransitionTime = "2025-01-01T00:00:00Z";
        s.resourceStatus!.manifests![0]!.conditions[1]!.lastTransitionTime = "2025-01-01T00:00:00Z";
      }),
    ],
    ["work conditions in another order", edit((s) => s.conditions!.reverse())],
    [
      "missing and empty strings are equal",
      edit((s) => {
        s.resourceStatus!.manifests![1]!.resourceMeta.namespace = "";
      }),
    ],
    [
      "missing and zero observedGeneration are equal",
      edit((s) => {
        s.conditions![1]!.observedGeneration = 0;
      }),
    ],
    [
      "no status feedback and empty status feedback are equal",
      edit((s) => {
        s.resourceStatus!.manifests![1]!.statusFeedback = { values: [] };
      }),
    ],
    [
      "key order does not matter",
      edit((s) => {
        s.resourceStatus!.manifests![0]!.statusFeedback = {
          values: [{ fieldValue: { integer: 2, type: "Integer" }, name: "Replicas" }],
        };
      }),
    ],
  ];
  for (const [name, next] of cases) {
    it(name, () => {
      assert.deepEqual(statusChanges(base, next), []);
      assert.equal(statusNeedsWrite(base, next), false);
    });
  }
});

describe("status diff: write needed", () => {
  const cases: [string, ManifestWorkStatus, string[]][] = [
    ["a work condition's status", edit((s) => (s.conditions![1]!.status = "False")), ["conditions"]],
    ["a work condition's message", edit((s) => (s.conditions![1]!.message = "other")), ["conditions"]],
    [
      "a work condition's observedGeneration",
      edit((s) => (s.conditions![0]!.observedGeneration = 3)),
      ["conditions"],
    ],
    ["a new work condition", edit((s) => s.conditions!.push(condition("Deleting", "True"))), ["conditions"]],
    [
      "a manifest condition's reason",
      edit((s) => (s.resourceStatus!.manifests![1]!.conditions[0]!.reason = "Other")),
      ["manifests[1]"],
    ],
    [
      "a feedback value",
      edit((s) => (s.resourceStatus!.manifests![0]!.statusFeedback!.values![0]!.fieldValue.integer = 3)),
      ["manifests[0]"],
    ],
    [
      "feedback disappears",
      edit((s) => delete s.resourceStatus!.manifests![0]!.statusFeedback),
      ["manifests[0]"],
    ],
    [
      "an ordinal",
      edit((s) => (s.resourceStatus!.manifests![1]!.resourceMeta.ordinal = 4)),
      ["manifests[1]"],
    ],
    ["a manifest removed", edit((s) => s.resourceStatus!.manifests!.pop()), ["manifests"]],
    [
      "manifests reordered",
      edit((s) => s.resourceStatus!.manifests!.reverse()),
      ["manifests[0]", "manifests[1]"],
    ],
  ];
  for (const [name, next, changes] of cases) {
    it(name, () => {
      assert.deepEqual(statusChanges(base, next), changes);
      assert.equal(statusNeedsWrite(base, next), true);
    });
  }

  it("a first status after none", () => {
    assert.equal(statusNeedsWrite(undefined, base), true);
    assert.equal(statusNeedsWrite(undefined, {}), false);
  });
});

describe("status diff: sameJson", () => {
  const cases: [unknown, unknown, boolean][] = [
    [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [[1, 2], [2, 1], false],
    [{ a: 1 }, { a: "1" }, false],
  ];
  for (const [a, b, same] of cases) {
    it(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`, () => assert.equal(sameJson(a, b), same));
  }
});
