import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../../api/types/meta.ts";
import {
  aggregateManifestConditions,
  aggregateRuleStatus,
  workAppliedCondition,
  workAvailableCondition,
  workConditions,
  workDeletingCondition,
} from "./work-conditions.ts";

const formatTime = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const t0 = Date.parse("2024-05-01T10:00:00Z");
const t1 = t0 + 60_000;

type Status = Condition["status"];

const c = (
  type: string,
  status: Status,
  reason = "R",
  message = "",
  extra: Partial<Condition> = {},
): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: formatTime(t0),
  ...extra,
});
const manifest = (...conditions: Condition[]) => ({ conditions });
const rule = (type: string, status: Status, message = "") =>
  c(type, status, "ConditionRuleEvaluated", message);

describe("work conditions: Applied", () => {
  const cases: [string, ReturnType<typeof manifest>[], [string, string, string] | undefined][] = [
    [
      "all applied",
      [manifest(c("Applied", "True")), manifest(c("Applied", "True"))],
      ["True", "AppliedManifestWorkComplete", "Apply manifest work complete"],
    ],
    [
      "one failed",
      [manifest(c("Applied", "True")), manifest(c("Applied", "False"))],
      ["False", "AppliedManifestWorkFailed", "Failed to apply manifest work"],
    ],
    [
      "manifests without Applied are ignored",
      [manifest(c("Available", "False")), manifest(c("Applied", "True"))],
      ["True", "AppliedManifestWorkComplete", "Apply manifest work complete"],
    ],
    ["no Applied condition at all", [manifest(c("Available", "True"))], undefined],
    ["no manifests", [], undefined],
  ];
  for (const [name, manifests, expected] of cases) {
    it(name, () => {
      const applied = workAppliedCondition(manifests, 5);
      if (!expected) assert.equal(applied, undefined);
      else {
        assert.deepEqual(applied, {
          type: "Applied",
          status: expected[0],
          reason: expected[1],
          message: expected[2],
          observedGeneration: 5,
        });
      }
    });
  }
});

describe("work conditions: Available", () => {
  const cases: [string, ReturnType<typeof manifest>[], string, string, string][] = [
    [
      "all available",
      [manifest(c("Available", "True")), manifest(c("Available", "True"))],
      "True",
      "ResourcesAvailable",
      "All resources are available",
    ],
    [
      "some unavailable",
      [
        manifest(c("Available", "False")),
        manifest(c("Available", "Unknown")),
        manifest(c("Available", "True")),
      ],
      "False",
      "ResourcesNotAvailable",
      "1 of 3 resources are not available",
    ],
    [
      "some unknown",
      [
        manifest(c("Available", "Unknown")),
        manifest(c("Available", "Unknown")),
        manifest(c("Available", "True")),
      ],
      "Unknown",
      "ResourcesStatusUnknown",
      "2 of 3 resources have unknown status",
    ],
    [
      "none reported",
      [manifest(c("Applied", "True"))],
      "Unknown",
      "ResourcesStatusUnknown",
      "cannot get any available resource ",
    ],
    ["no manifests", [], "Unknown", "ResourcesStatusUnknown", "cannot get any available resource "],
  ];
  for (const [name, manifests, status, reason, message] of cases) {
    it(name, () =>
      assert.deepEqual(workAvailableCondition(manifests, 2), {
        type: "Available",
        status,
        reason,
        message,
        observedGeneration: 2,
      }),
    );
  }
});

describe("work conditions: rule aggregation", () => {
  const counts = (t: number, f: number, u: number) => ({ true: t, false: f, unknown: u, message: "" });
  const cases: [string, ReturnType<typeof counts>, string, string][] = [
    ["Progressing: any True", counts(1, 2, 1), "Progressing", "True"],
    ["Progressing: Unknown without True", counts(0, 2, 1), "Progressing", "Unknown"],
    ["Progressing: all False", counts(0, 2, 0), "Progressing", "False"],
    ["Degraded: any False", counts(3, 1, 1), "Degraded", "False"],
    ["Degraded: Unknown without False", counts(3, 0, 1), "Degraded", "Unknown"],
    ["Complete: all True", counts(2, 0, 0), "Complete", "True"],
    ["custom type: no counts", counts(0, 0, 0), "Custom", "Unknown"],
  ];
  for (const [name, tally, type, status] of cases) {
    it(name, () => assert.equal(aggregateRuleStatus(type, tally), status));
  }

  it("aggregates rule types and Available, sorted by type", () => {
    const aggregated = aggregateManifestConditions(
      [
        manifest(
          c("Available", "True"),
          rule("Progressing", "False", "steady"),
          rule("Complete", "True", "done"),
        ),
        manifest(c("Available", "True"), rule("Complete", "False", "not yet"), c("Applied", "True")),
      ],
      9,
    );
    assert.deepEqual(aggregated, [
      {
        type: "Available",
        status: "True",
        reason: "ResourcesAvailable",
        message: "All resources are available",
        observedGeneration: 9,
      },
      {
        type: "Complete",
        status: "False",
        reason: "ConditionRulesAggregated",
        message: "Aggregated from 2 manifest conditions",
        observedGeneration: 9,
      },
      {
        type: "Progressing",
        status: "False",
        reason: "ConditionRulesAggregated",
        message: "steady",
        observedGeneration: 9,
      },
    ]);
  });

  it("conditions not produced by rules are not aggregated", () => {
    const aggregated = aggregateManifestConditions([manifest(c("Degraded", "True", "SomethingElse"))], 1);
    assert.deepEqual(
      aggregated.map((a) => a.type),
      ["Available"],
    );
  });

  it("a single condition without a message gets the generic one", () => {
    const [, complete] = aggregateManifestConditions([manifest(rule("Complete", "True"))], 1);
    assert.equal(complete?.message, "Aggregated from 1 manifest conditions");
  });
});

describe("work conditions: a whole pass", () => {
  const appliedManifest = manifest(
    c("Applied", "True", "AppliedManifestComplete"),
    c("Available", "True", "ResourceAvailable"),
    rule("Complete", "True", "Job is finished"),
  );

  it("sets Applied, Available and rule aggregates", () => {
    const conditions = workConditions({
      previous: [],
      manifests: [appliedManifest],
      generation: 2,
      nowMs: t1,
    });
    assert.deepEqual(
      conditions.map((x) => [x.type, x.status, x.reason, x.observedGeneration, x.lastTransitionTime]),
      [
        ["Applied", "True", "AppliedManifestWorkComplete", 2, formatTime(t1)],
        ["Available", "True", "ResourcesAvailable", 2, formatTime(t1)],
        ["Complete", "True", "ConditionRulesAggregated", 2, formatTime(t1)],
      ],
    );
  });

  it("an unchanged pass keeps every transition time", () => {
    const first = workConditions({ previous: [], manifests: [appliedManifest], generation: 2, nowMs: t0 });
    assert.deepEqual(
      workConditions({ previous: first, manifests: [appliedManifest], generation: 2, nowMs: t1 }),
      first,
    );
  });

  it("nothing is aggregated before the work has an Applied condition", () => {
    const conditions = workConditions({
      previous: [],
      manifests: [manifest(c("Available", "True"))],
      generation: 1,
      nowMs: t1,
    });
    assert.deepEqual(conditions, []);
  });

  it("with an Applied condition, Available is set even without manifests", () => {
    const previous = [c("Applied", "True", "AppliedManifestWorkComplete")];
    const conditions = workConditions({ previous, manifests: [], generation: 1, nowMs: t1 });
    assert.deepEqual(
      conditions.map((x) => [x.type, x.status]),
      [
        ["Applied", "True"],
        ["Available", "Unknown"],
      ],
    );
  });

  it("drops aggregates of rules removed in a newer generation and keeps other conditions", () => {
    const previous = [
      c("Applied", "True", "AppliedManifestWorkComplete", "", { observedGeneration: 1 }),
      c("Degraded", "False", "ConditionRulesAggregated", "", { observedGeneration: 1 }),
      c("Custom", "True", "SetBySomeoneElse"),
    ];
    const conditions = workConditions({
      previous,
      manifests: [manifest(c("Applied", "True"), c("Available", "True"))],
      generation: 2,
      nowMs: t1,
    });
    assert.deepEqual(
      conditions.map((x) => x.type),
      ["Applied", "Custom", "Available"],
    );
  });

  it("adds Deleting while deleting", () => {
    const conditions = workConditions({
      previous: [],
      manifests: [appliedManifest],
      generation: 3,
      nowMs: t1,
      deleting: true,
    });
    assert.deepEqual(conditions.at(-1), { ...workDeletingCondition(3), lastTransitionTime: formatTime(t1) });
    assert.deepEqual(workDeletingCondition(3), {
      type: "Deleting",
      status: "True",
      reason: "WorkDeleting",
      message: "ManifestWork is being deleted",
      observedGeneration: 3,
    });
  });

  it("a status flip moves only that condition's transition time", () => {
    const first = workConditions({ previous: [], manifests: [appliedManifest], generation: 2, nowMs: t0 });
    const broken = manifest(
      c("Applied", "False", "AppliedManifestFailed"),
      c("Available", "True", "ResourceAvailable"),
      rule("Complete", "True", "Job is finished"),
    );
    const second = workConditions({ previous: first, manifests: [broken], generation: 2, nowMs: t1 });
    assert.deepEqual(
      second.map((x) => [x.type, x.status, x.lastTransitionTime]),
      [
        ["Applied", "False", formatTime(t1)],
        ["Available", "True", formatTime(t0)],
        ["Complete", "True", formatTime(t0)],
      ],
    );
  });
});
