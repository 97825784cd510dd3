import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConfigurationPolicyStatus } from "../../api/types/policy.ts";
import {
  type DueInput,
  evaluationDue,
  intervalOf,
  nextEvaluation,
  parseGoDuration,
  retryIntervalMs,
} from "./interval.ts";

describe("parseGoDuration reads what Go's time.ParseDuration reads", () => {
  const cases: [string, number | undefined][] = [
    ["10s", 10_000],
    ["2h", 7_200_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    ["2us", 0.002],
    ["2\u00b5s", 0.002],
    ["1500ns", 0.0015],
    [".5s", 500],
    ["5.s", 5000],
    ["0", 0],
    ["-1m", -60_000],
    ["+3s", 3000],
    ["", undefined],
    ["10", undefined],
    ["s", undefined],
    [".s", undefined],
    ["10 s", undefined],
    ["3d", undefined],
    ["watch", undefined],
  ];
  for (const [text, ms] of cases) {
    it(JSON.stringify(text), () => assert.equal(parseGoDuration(text), ms));
  }
});

describe("intervalOf", () => {
  const cases: [string | undefined, ReturnType<typeof intervalOf>][] = [
    [undefined, { kind: "watch" }],
    ["", { kind: "watch" }],
    ["watch", { kind: "watch" }],
    ["never", { kind: "never" }],
    ["45s", { kind: "every", ms: 45_000 }],
    ["0s", { kind: "every", ms: 0 }],
    ["-5s", { kind: "invalid" }],
    ["soon", { kind: "invalid" }],
  ];
  for (const [value, interval] of cases) {
    it(`${JSON.stringify(value)} is ${interval.kind}`, () => assert.deepEqual(intervalOf(value), interval));
  }
});

describe("evaluationDue: whether an evaluation is due before one is made", () => {
  const now = Date.parse("2024-01-01T00:10:00Z");
  const evaluated = (
    compliant: string | undefined,
    at = "2024-01-01T00:09:30Z",
  ): ConfigurationPolicyStatus => ({
    ...(compliant ? { compliant: compliant as ConfigurationPolicyStatus["compliant"] } : {}),
    lastEvaluated: at,
    lastEvaluatedGeneration: 3,
  });
  const base: DueInput = {
    generation: 3,
    deleting: false,
    interval: { compliant: "1m", noncompliant: "never" },
    status: evaluated("Compliant"),
    namespacesChanged: false,
    nowMs: now,
  };
  const cases: [string, Partial<DueInput>, ReturnType<typeof evaluationDue>][] = [
    [
      "within the compliant interval: not yet, requeued for the rest",
      {},
      { evaluate: false, requeueAfterMs: 30_000 },
    ],
    [
      "the compliant interval has passed",
      { status: evaluated("Compliant", "2024-01-01T00:08:00Z") },
      { evaluate: true },
    ],
    ["never while NonCompliant", { status: evaluated("NonCompliant") }, { evaluate: false }],
    ["never evaluated", { status: undefined }, { evaluate: true }],
    ["a spec change", { generation: 4 }, { evaluate: true }],
    ["being deleted", { deleting: true }, { evaluate: true }],
    ["an unknown state", { status: evaluated(undefined) }, { evaluate: true }],
    ["Terminating", { status: evaluated("Terminating") }, { evaluate: true }],
    ["the selected namespaces changed", { namespacesChanged: true }, { evaluate: true }],
    ["watch", { interval: undefined }, { evaluate: true }],
    ["an invalid interval evaluates", { interval: { compliant: "soon" } }, { evaluate: true }],
    [
      "an unreadable lastEvaluated evaluates",
      { status: evaluated("Compliant", "yesterday") },
      { evaluate: true },
    ],
    [
      "a recreate that timed out is retried whatever the interval",
      {
        status: {
          ...evaluated("NonCompliant"),
          compliancyDetails: [
            {
              Compliant: "NonCompliant",
              conditions: [
                {
                  type: "violation",
                  reason: "K8s update template error",
                  message:
                    "configmaps [a] in namespace b timed out waiting for the object to delete during recreate, will retry on the next policy evaluation",
                },
              ],
            },
          ],
        },
      },
      { evaluate: true },
    ],
  ];
  for (const [name, override, due] of cases) {
    it(name, () => assert.deepEqual(evaluationDue({ ...base, ...override }), due));
  }
});

describe("nextEvaluation: how the next evaluation is scheduled", () => {
  const half = () => 0.5;
  const cases: [string, Parameters<typeof nextEvaluation>, ReturnType<typeof nextEvaluation>][] = [
    ["watch by default", [undefined, "Compliant"], { watch: true }],
    ["watch while NonCompliant", [{ compliant: "10s" }, "NonCompliant"], { watch: true }],
    [
      "an interval, stretched by at most 10%",
      [{ compliant: "10s" }, "Compliant", { random: half }],
      { watch: false, requeueAfterMs: 10_500 },
    ],
    [
      "an unknown state uses the noncompliant interval",
      [{ compliant: "10s", noncompliant: "1m" }, undefined, { random: () => 0 }],
      { watch: false, requeueAfterMs: 60_000 },
    ],
    ["never", [{ noncompliant: "never" }, "NonCompliant"], { watch: false }],
    [
      "an invalid interval: every 10 s",
      [{ compliant: "soon" }, "Compliant"],
      { watch: false, requeueAfterMs: retryIntervalMs },
    ],
    [
      "a kind not served yet is looked at again in watch mode",
      [undefined, "NonCompliant", { retrySoon: true }],
      { watch: true, requeueAfterMs: retryIntervalMs },
    ],
  ];
  for (const [name, args, schedule] of cases) {
    it(name, () => assert.deepEqual(nextEvaluation(...args), schedule));
  }
});
