import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../../api/types/meta.ts";
import type { ManifestCondition, ManifestResourceMeta } from "../../api/types/work.ts";
import { ConditionRuleCache } from "./condition-rules.ts";
import {
  appliedCondition,
  availableCondition,
  buildResourceMeta,
  findManifestCondition,
  mergeManifestConditions,
  resourceMetaComplete,
  updateManifestStatus,
  type FetchOutcome,
  type ResourceMapper,
} from "./manifest-conditions.ts";

const plurals: Record<string, string> = { Deployment: "deployments", ConfigMap: "configmaps", Job: "jobs" };
const mapper: ResourceMapper = (gvk) => plurals[gvk.kind];

/** RFC 3339 in whole seconds, as conditions carry times. */
const formatTime = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

const t0 = Date.parse("2024-05-01T10:00:00Z");
const t1 = t0 + 60_000;

const meta = (overrides: Partial<ManifestResourceMeta> = {}): ManifestResourceMeta => ({
  ordinal: 0,
  group: "apps",
  version: "v1",
  kind: "Deployment",
  resource: "deployments",
  name: "web",
  namespace: "ns",
  ...overrides,
});

const condition = (
  type: string,
  status: Condition["status"],
  reason: string,
  at = t0,
  extra: Partial<Condition> = {},
): Condition => ({ type, status, reason, message: "", lastTransitionTime: formatTime(at), ...extra });

describe("manifest conditions: resourceMeta", () => {
  const cases: [string, unknown, ManifestResourceMeta, string | undefined][] = [
    [
      "a namespaced object",
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns" } },
      meta({ ordinal: 2 }),
      undefined,
    ],
    [
      "a core object without namespace",
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" } },
      meta({ ordinal: 2, group: "", kind: "ConfigMap", resource: "configmaps", name: "cm", namespace: "" }),
      undefined,
    ],
    [
      "an unmapped kind keeps what is known",
      { apiVersion: "example.io/v1", kind: "Widget", metadata: { name: "w" } },
      meta({ ordinal: 2, group: "example.io", kind: "Widget", resource: "", name: "w", namespace: "" }),
      'the server doesn\'t have a resource type "Widget"',
    ],
    [
      "no kind",
      { apiVersion: "v1", metadata: { name: "x" } },
      meta({ ordinal: 2, group: "", version: "", kind: "", resource: "", name: "", namespace: "" }),
      `Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"x"}}'`,
    ],
    [
      "no manifest",
      undefined,
      meta({ ordinal: 2, group: "", version: "", kind: "", resource: "", name: "", namespace: "" }),
      undefined,
    ],
  ];
  for (const [name, manifest, expected, error] of cases) {
    it(name, () => {
      const result = buildResourceMeta(2, manifest, mapper);
      assert.deepEqual(result.resourceMeta, expected);
      assert.equal(result.error, error);
    });
  }

  const completeness: [Partial<ManifestResourceMeta>, boolean][] = [
    [{}, true],
    [{ namespace: "" }, true],
    [{ resource: "" }, false],
    [{ version: "" }, false],
    [{ name: "" }, false],
  ];
  for (const [overrides, complete] of completeness) {
    it(`complete with ${JSON.stringify(overrides)}: ${complete}`, () =>
      assert.equal(resourceMetaComplete(meta(overrides)), complete));
  }
});

describe("manifest conditions: Applied", () => {
  const cases: [string, Parameters<typeof appliedCondition>[0], string, string, string][] = [
    ["applied", { ok: true }, "True", "AppliedManifestComplete", "Apply manifest complete"],
    [
      "failed",
      { ok: false, error: "conflict" },
      "False",
      "AppliedManifestFailed",
      "Failed to apply manifest: conflict",
    ],
    [
      "ignoreFields failed",
      { ok: false, error: "jq timed out", ignoreFields: true },
      "False",
      "AppliedManifestSSAIgnoreFieldError",
      "Failed to process ignoreFields: jq timed out",
    ],
  ];
  for (const [name, outcome, status, reason, message] of cases) {
    it(name, () =>
      assert.deepEqual(appliedCondition(outcome, 4), {
        type: "Applied",
        status,
        reason,
        message,
        observedGeneration: 4,
      }),
    );
  }
});

describe("manifest conditions: Available", () => {
  const cases: [string, ManifestResourceMeta, FetchOutcome, string, string, string][] = [
    ["found", meta(), { found: true, object: {} }, "True", "ResourceAvailable", "Resource is available"],
    ["missing", meta(), { found: false }, "False", "ResourceNotAvailable", "Resource is not available"],
    [
      "read failed",
      meta(),
      { error: "connection refused" },
      "Unknown",
      "FetchingResourceFailed",
      "Failed to fetch resource: connection refused",
    ],
    [
      "incomplete meta wins over the read",
      meta({ resource: "" }),
      { found: true, object: {} },
      "Unknown",
      "IncompleteResourceMeta",
      "Resource meta is incomplete",
    ],
  ];
  for (const [name, m, fetch, status, reason, message] of cases) {
    it(name, () =>
      assert.deepEqual(availableCondition(m, fetch), { type: "Available", status, reason, message }),
    );
  }
});

describe("manifest conditions: merging an apply pass", () => {
  const applied = appliedCondition({ ok: true }, 2);
  const failed = appliedCondition({ ok: false, error: "boom" }, 2);
  const feedback = { values: [{ name: "Replicas", fieldValue: { type: "Integer" as const, integer: 1 } }] };
  const previous: ManifestCondition[] = [
    {
      resourceMeta: meta(),
      statusFeedback: feedback,
      conditions: [
        condition("Applied", "True", "AppliedManifestComplete", t0, { observedGeneration: 1 }),
        condition("Available", "True", "ResourceAvailable"),
      ],
    },
    { resourceMeta: meta({ ordinal: 1, name: "api" }), conditions: [condition("Applied", "True", "X")] },
  ];

  it("an unchanged manifest keeps feedback, other conditions and transition times", () => {
    const [merged] = mergeManifestConditions(previous, [{ resourceMeta: meta(), conditions: [applied] }], t1);
    assert.deepEqual(merged?.statusFeedback, feedback);
    assert.deepEqual(merged?.conditions, [
      { ...applied, lastTransitionTime: formatTime(t0) },
      condition("Available", "True", "ResourceAvailable"),
    ]);
  });

  it("a status change moves the transition time", () => {
    const [merged] = mergeManifestConditions(previous, [{ resourceMeta: meta(), conditions: [failed] }], t1);
    assert.equal(findConditionOf(merged, "Applied")?.lastTransitionTime, formatTime(t1));
  });

  it("a manifest that moved to another ordinal keeps its entry", () => {
    const [merged] = mergeManifestConditions(
      previous,
      [{ resourceMeta: meta({ ordinal: 5 }), conditions: [applied] }],
      t1,
    );
    assert.equal(merged?.resourceMeta.ordinal, 5);
    assert.deepEqual(merged?.statusFeedback, feedback);
  });

  it("an ordinal match is not used when two previous entries differ only in ordinal", () => {
    const twins = [previous[0]!, { ...previous[0]!, resourceMeta: meta({ ordinal: 3 }) }];
    const [merged] = mergeManifestConditions(
      twins,
      [{ resourceMeta: meta({ ordinal: 7 }), conditions: [applied] }],
      t1,
    );
    assert.deepEqual(merged?.statusFeedback, {}, "fresh: no values taken over");
    assert.deepEqual(merged?.conditions, [{ ...applied, lastTransitionTime: formatTime(t1) }]);
  });

  it("new manifests start fresh, with empty feedback as OCM writes it, and removed ones are dropped", () => {
    const merged = mergeManifestConditions(
      previous,
      [{ resourceMeta: meta({ ordinal: 0, name: "new" }), conditions: [applied] }],
      t1,
    );
    assert.deepEqual(merged, [
      {
        resourceMeta: meta({ name: "new" }),
        statusFeedback: {},
        conditions: [{ ...applied, lastTransitionTime: formatTime(t1) }],
      },
    ]);
  });

  it("finds the previous entry by its whole resourceMeta", () => {
    assert.equal(findManifestCondition(meta({ ordinal: 1, name: "api" }), previous), previous[1]);
    assert.equal(findManifestCondition(meta({ ordinal: 9, name: "api" }), previous), undefined);
  });
});

function findConditionOf(manifest: ManifestCondition | undefined, type: string): Condition | undefined {
  return manifest?.conditions.find((c) => c.type === type);
}

describe("manifest conditions: status pass", () => {
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "ns" },
    spec: { replicas: 2 },
    status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 },
  };
  const option = {
    feedbackRules: [{ type: "WellKnownStatus" as const }],
    conditionRules: [
      { condition: "Progressing", type: "CEL" as const, celExpressions: ["object.status.readyReplicas < 2"] },
    ],
  };
  const start: ManifestCondition = {
    resourceMeta: meta(),
    conditions: [condition("Applied", "True", "AppliedManifestComplete", t0, { observedGeneration: 3 })],
  };

  function pass(manifest: ManifestCondition, fetch: FetchOutcome, nowMs: number, generation = 3) {
    return updateManifestStatus({
      manifest,
      fetch,
      option,
      generation,
      nowMs,
      cache: new ConditionRuleCache(),
    });
  }

  it("a found object gets Available, feedback and rule conditions", () => {
    const result = pass(start, { found: true, object: deployment }, t1);
    assert.deepEqual(
      result.statusFeedback?.values?.map((v) => [v.name, v.fieldValue.integer]),
      [
        ["ReadyReplicas", 2],
        ["Replicas", 2],
        ["AvailableReplicas", 2],
      ],
    );
    assert.deepEqual(
      result.conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ["Applied", "True", "AppliedManifestComplete"],
        ["Available", "True", "ResourceAvailable"],
        ["StatusFeedbackSynced", "True", "StatusFeedbackSynced"],
        ["Progressing", "False", "ConditionRuleEvaluated"],
      ],
    );
    assert.equal(findConditionOf(result, "Progressing")?.observedGeneration, 3);
  });

  it("a second identical pass changes nothing", () => {
    const first = pass(start, { found: true, object: deployment }, t1);
    assert.deepEqual(pass(first, { found: true, object: deployment }, t1 + 60_000), first);
  });

  it("changed feedback values re-stamp StatusFeedbackSynced though its status stays", () => {
    const first = pass(start, { found: true, object: deployment }, t1);
    const later = t1 + 60_000;
    const scaled = { ...deployment, status: { ...deployment.status, readyReplicas: 1 } };
    const second = pass(first, { found: true, object: scaled }, later);
    assert.equal(findConditionOf(second, "StatusFeedbackSynced")?.lastTransitionTime, formatTime(later));
    assert.equal(findConditionOf(second, "Available")?.lastTransitionTime, formatTime(t1));
    assert.equal(findConditionOf(second, "Progressing")?.status, "True");
  });

  it("a missing object only updates Available and keeps the rest", () => {
    const first = pass(start, { found: true, object: deployment }, t1);
    const second = pass(first, { found: false }, t1 + 60_000);
    assert.equal(findConditionOf(second, "Available")?.status, "False");
    assert.deepEqual(second.statusFeedback, first.statusFeedback);
    assert.deepEqual(findConditionOf(second, "Progressing"), findConditionOf(first, "Progressing"));
  });

  it("an incomplete meta reports IncompleteResourceMeta and reads nothing", () => {
    const result = pass(
      { ...start, resourceMeta: meta({ resource: "" }) },
      { found: true, object: deployment },
      t1,
    );
    assert.equal(findConditionOf(result, "Available")?.reason, "IncompleteResourceMeta");
    assert.equal(findConditionOf(result, "StatusFeedbackSynced"), undefined);
  });

  it("rule conditions of an older generation are dropped when their rule is gone", () => {
    const first = pass(start, { found: true, object: deployment }, t1, 3);
    const second = updateManifestStatus({
      manifest: first,
      fetch: { found: true, object: deployment },
      option: { feedbackRules: option.feedbackRules },
      generation: 4,
      nowMs: t1,
      cache: new ConditionRuleCache(),
    });
    assert.equal(findConditionOf(second, "Progressing"), undefined);
    assert.ok(findConditionOf(second, "Applied"));
  });

  it("without rules the manifest reports NoStatusFeedbackSynced and no values", () => {
    const result = updateManifestStatus({
      manifest: start,
      fetch: { found: true, object: deployment },
      generation: 3,
      nowMs: t1,
      cache: new ConditionRuleCache(),
    });
    assert.deepEqual(result.statusFeedback, {});
    assert.equal(findConditionOf(result, "StatusFeedbackSynced")?.reason, "NoStatusFeedbackSynced");
  });
});
