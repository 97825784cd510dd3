import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  findCondition,
  removeCondition,
  setCondition,
  type Condition,
  type ConditionUpdate,
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
