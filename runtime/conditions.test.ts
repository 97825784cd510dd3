import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import {
  boundedMessage,
  conditionMessageLimit,
  findCondition,
  removeCondition,
  setCondition,
  type Condition,
  type ConditionUpdate,
  withBoundedConditionMessages,
} from "./conditions.ts";
import { formatTime } from "./time.ts";

const t0 = Date.parse("2026-01-02T03:04:05.678Z");
const t1 = t0 + 60_000;

describe("conditions", () => {
  test("formatTime drops fractional seconds as metav1.Time does", () => {
    assert.equal(formatTime(t0), "2026-01-02T03:04:05Z");
  });

  const cases: {
    name: string;
    existing: Condition[] | undefined;
    next: ConditionUpdate;
    expected: Condition[];
  }[] = [
    {
      name: "adds a new condition stamped now",
      existing: undefined,
      next: { type: "Ready", status: "True", reason: "Fine", message: "ok" },
      expected: [
        { type: "Ready", status: "True", reason: "Fine", message: "ok", lastTransitionTime: formatTime(t1) },
      ],
    },
    {
      name: "keeps lastTransitionTime when only the reason or message changes",
      existing: [
        { type: "Ready", status: "True", reason: "Fine", message: "ok", lastTransitionTime: formatTime(t0) },
      ],
      next: { type: "Ready", status: "True", reason: "StillFine", message: "still ok" },
      expected: [
        {
          type: "Ready",
          status: "True",
          reason: "StillFine",
          message: "still ok",
          lastTransitionTime: formatTime(t0),
        },
      ],
    },
    {
      name: "moves lastTransitionTime when the status changes, leaving other conditions alone",
      existing: [
        { type: "Other", status: "False", reason: "R", message: "m", lastTransitionTime: formatTime(t0) },
        { type: "Ready", status: "True", reason: "Fine", message: "ok", lastTransitionTime: formatTime(t0) },
      ],
      next: { type: "Ready", status: "False", reason: "Broken", message: "no" },
      expected: [
        { type: "Other", status: "False", reason: "R", message: "m", lastTransitionTime: formatTime(t0) },
        {
          type: "Ready",
          status: "False",
          reason: "Broken",
          message: "no",
          lastTransitionTime: formatTime(t1),
        },
      ],
    },
  ];
  for (const { name, existing, next, expected } of cases) {
    test(name, () => {
      const before = structuredClone(existing);
      assert.deepEqual(setCondition(existing, next, t1), expected);
      assert.deepEqual(existing, before, "the input list is not modified");
    });
  }

  test("find and remove by type", () => {
    const list: Condition[] = [
      { type: "A", status: "True", reason: "r", message: "", lastTransitionTime: formatTime(t0) },
      { type: "B", status: "False", reason: "r", message: "", lastTransitionTime: formatTime(t0) },
    ];
    assert.equal(findCondition(list, "B")?.status, "False");
    assert.equal(findCondition(list, "C"), undefined);
    assert.deepEqual(
      removeCondition(list, "A").map((condition) => condition.type),
      ["B"],
    );
  });
});

describe("condition messages within the schema's limit", () => {
  const long = "x".repeat(conditionMessageLimit + 10);
  it("cuts a message over the limit to exactly the limit, saying so", () => {
    const bounded = boundedMessage(long);
    assert.equal(bounded.length, conditionMessageLimit);
    assert.match(bounded, /^x+ … \(truncated\)$/);
    assert.equal(boundedMessage("short"), "short");
    assert.equal(boundedMessage("y".repeat(conditionMessageLimit)).length, conditionMessageLimit);
  });
  it("bounds only the top-level conditions that need it and leaves the rest as it is", () => {
    const status = {
      conditions: [
        { type: "A", status: "True", reason: "R", message: long, lastTransitionTime: "t" },
        { type: "B", status: "True", reason: "R", message: "ok", lastTransitionTime: "t" },
      ],
      other: long,
    };
    const bounded = withBoundedConditionMessages(status) as typeof status;
    assert.equal(bounded.conditions[0]!.message.length, conditionMessageLimit);
    assert.equal(bounded.conditions[1], status.conditions[1]);
    assert.equal(bounded.other, long);
    const fine = { conditions: [status.conditions[1]] };
    assert.equal(withBoundedConditionMessages(fine), fine);
    for (const value of [undefined, null, "s", [1], { conditions: "x" }])
      assert.equal(withBoundedConditionMessages(value), value);
  });
});
