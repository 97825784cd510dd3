import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConfigurationPolicy } from "../../api/types/policy.ts";
import { needsEvaluation, olderThan, wantsFinalizer } from "./triggers.ts";

const policy = (change: (p: ConfigurationPolicy) => void = () => undefined): ConfigurationPolicy => {
  const p: ConfigurationPolicy = {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "ConfigurationPolicy",
    metadata: { name: "p", namespace: "cluster1", generation: 1, resourceVersion: "10" },
    spec: { remediationAction: "inform", "object-templates": [] },
    status: { compliant: "Compliant", lastEvaluated: "2024-01-01T00:00:00Z" },
  };
  change(p);
  return p;
};

describe("needsEvaluation: which updates of a policy are evaluated again", () => {
  const cases: [string, (p: ConfigurationPolicy) => void, boolean][] = [
    [
      "a status write (ours)",
      (p) => (p.status = { ...p.status, lastEvaluated: "2024-01-01T00:01:00Z" }),
      false,
    ],
    ["a label", (p) => (p.metadata.labels = { a: "b" }), false],
    ["a finalizer", (p) => (p.metadata.finalizers = ["x"]), false],
    ["a spec change (generation)", (p) => (p.metadata.generation = 2), true],
    ["the start of a deletion", (p) => (p.metadata.deletionTimestamp = "2024-01-01T00:02:00Z"), true],
    [
      "templates turned off",
      (p) => (p.metadata.annotations = { "policy.open-cluster-management.io/disable-templates": "true" }),
      true,
    ],
    ["a reset of the compliance", (p) => (p.status = { lastEvaluated: "2024-01-01T00:00:00Z" }), true],
  ];
  for (const [name, change, expected] of cases) {
    it(`${name}: ${expected}`, () => assert.equal(needsEvaluation(policy(), policy(change)), expected));
  }
});

describe("wantsFinalizer", () => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ["None", false],
    ["DeleteIfCreated", true],
    ["DeleteAll", true],
  ];
  for (const [behavior, expected] of cases) {
    it(`${behavior ?? "unset"}: ${expected}`, () =>
      assert.equal(
        wantsFinalizer(
          policy((p) => {
            if (behavior) p.spec.pruneObjectBehavior = behavior as "DeleteAll";
          }),
        ),
        expected,
      ));
  }
});

describe("olderThan compares resourceVersions of one object", () => {
  const cases: [string | undefined, string | undefined, boolean][] = [
    ["9", "10", true],
    ["10", "10", false],
    ["11", "10", false],
    [undefined, "10", false],
    ["9", undefined, false],
    ["abc", "10", false],
  ];
  for (const [a, b, expected] of cases)
    it(`${a} < ${b}: ${expected}`, () => assert.equal(olderThan(a, b), expected));
});
