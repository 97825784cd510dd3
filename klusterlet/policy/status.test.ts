import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConfigurationPolicyStatus, HistoryEvent } from "../../api/types/policy.ts";
import type { PolicyEvaluation } from "../../policies/evaluate.ts";
import { eventReason, eventType, maxHistory, nextStatus, type StatusInput } from "./status.ts";

const nowMs = Date.parse("2024-01-01T00:10:00.250Z");
const notFound = "NonCompliant; violation - configmaps [a] not found in namespace x";
const created = "Compliant; notification - configmaps [a] was created successfully in namespace x";
const found = "Compliant; notification - configmaps [a] found as specified in namespace x";

function evaluation(messages: string[], at = "2024-01-01T00:10:00Z"): PolicyEvaluation {
  const message = messages[messages.length - 1]!;
  const compliant = message.startsWith("Compliant") ? "Compliant" : "NonCompliant";
  return {
    name: "p",
    namespace: "cluster1",
    compliant,
    message,
    compliancyDetails: [
      {
        Compliant: compliant,
        conditions: [
          {
            type: compliant === "Compliant" ? "notification" : "violation",
            status: "True",
            lastTransitionTime: at,
            reason: "r",
            message: message.slice(message.indexOf(" - ") + 3),
          },
        ],
        Validity: {},
      },
    ],
    relatedObjects: [],
    changes: [],
    messages,
  };
}

const entry = (message: string, lastTimestamp: string): HistoryEvent => ({ lastTimestamp, message });

describe("nextStatus", () => {
  const base: StatusInput = {
    previous: undefined,
    evaluation: evaluation([notFound]),
    generation: 2,
    nowMs,
    refreshLastEvaluated: false,
  };

  it("a first evaluation writes everything OCM writes, one history entry and one event", () => {
    const result = nextStatus(base);
    assert.deepEqual(result.status, {
      compliant: "NonCompliant",
      compliancyDetails: base.evaluation.compliancyDetails,
      relatedObjects: [],
      lastEvaluatedGeneration: 2,
      history: [entry(notFound, "2024-01-01T00:10:00.250000Z")],
      lastEvaluated: "2024-01-01T00:10:00Z",
    });
    assert.deepEqual(result.sent, [entry(notFound, "2024-01-01T00:10:00.250000Z")]);
    assert.equal(result.changed, true);
  });

  const previous = nextStatus(base).status;

  const cases: {
    name: string;
    input: Partial<StatusInput>;
    history: string[];
    sent: string[];
    changed: boolean;
    lastEvaluated: string;
  }[] = [
    {
      name: "the same message again changes nothing and sends nothing",
      input: { previous, evaluation: evaluation([notFound], "2024-01-01T00:11:00Z"), nowMs: nowMs + 60_000 },
      history: [notFound],
      sent: [],
      changed: false,
      lastEvaluated: "2024-01-01T00:10:00Z",
    },
    {
      name: "an interval policy refreshes lastEvaluated all the same",
      input: { previous, nowMs: nowMs + 60_000, refreshLastEvaluated: true },
      history: [notFound],
      sent: [],
      changed: true,
      lastEvaluated: "2024-01-01T00:11:00Z",
    },
    {
      name: "enforcement's messages are prepended in the order sent, the one already newest skipped",
      input: { previous, evaluation: evaluation([notFound, created]), nowMs: nowMs + 1000 },
      history: [created, notFound],
      sent: [created],
      changed: true,
      lastEvaluated: "2024-01-01T00:10:01Z",
    },
    {
      name: "a change of generation alone is written",
      input: { previous, generation: 3 },
      history: [notFound],
      sent: [],
      changed: true,
      lastEvaluated: "2024-01-01T00:10:00Z",
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, () => {
      const result = nextStatus({ ...base, ...testCase.input });
      assert.deepEqual(
        result.status.history?.map((event) => event.message),
        testCase.history,
      );
      assert.deepEqual(
        result.sent.map((event) => event.message),
        testCase.sent,
      );
      assert.equal(result.changed, testCase.changed);
      assert.equal(result.status.lastEvaluated, testCase.lastEvaluated);
    });
  }

  it("keeps a condition's lastTransitionTime while it stays the same", () => {
    const later = nextStatus({
      ...base,
      previous,
      evaluation: evaluation([notFound], "2024-01-01T00:20:00Z"),
    });
    assert.equal(
      later.status.compliancyDetails?.[0]?.conditions?.[0]?.lastTransitionTime,
      "2024-01-01T00:10:00Z",
    );
    const changed = nextStatus({
      ...base,
      previous,
      evaluation: evaluation([found], "2024-01-01T00:20:00Z"),
    });
    assert.equal(
      changed.status.compliancyDetails?.[0]?.conditions?.[0]?.lastTransitionTime,
      "2024-01-01T00:20:00Z",
    );
  });

  it("gives the messages of one evaluation increasing micro-times, newest first", () => {
    const result = nextStatus({ ...base, evaluation: evaluation([notFound, created, found]) });
    assert.deepEqual(result.status.history, [
      entry(found, "2024-01-01T00:10:00.250002Z"),
      entry(created, "2024-01-01T00:10:00.250001Z"),
      entry(notFound, "2024-01-01T00:10:00.250000Z"),
    ]);
  });

  it(`keeps at most ${maxHistory} entries, dropping the oldest`, () => {
    const old: ConfigurationPolicyStatus = {
      ...previous,
      history: Array.from({ length: maxHistory }, (_, i) =>
        entry(`NonCompliant; old ${i}`, "2023-01-01T00:00:00.000000Z"),
      ),
    };
    const result = nextStatus({ ...base, previous: old, evaluation: evaluation([created]) });
    assert.equal(result.status.history?.length, maxHistory);
    assert.equal(result.status.history?.[0]?.message, created);
    assert.equal(result.status.history?.[maxHistory - 1]?.message, `NonCompliant; old ${maxHistory - 2}`);
  });

  it("leaves compliant out while the compliance is unknown", () => {
    const unknown: PolicyEvaluation = {
      ...evaluation([notFound]),
      compliant: undefined,
      compliancyDetails: [],
      message: "ComplianceState is still unknown",
      messages: ["ComplianceState is still unknown"],
    };
    const result = nextStatus({ ...base, evaluation: unknown });
    assert.equal("compliant" in result.status, false);
  });
});

describe("compliance events", () => {
  const types: [string, "Normal" | "Warning"][] = [
    [found, "Normal"],
    [notFound, "Warning"],
    ["Terminating; violation - Failed to delete objects: x", "Warning"],
    ["ComplianceState is still unknown", "Warning"],
  ];
  for (const [message, type] of types)
    it(`${type}: ${message}`, () => assert.equal(eventType(message), type));
  it("reason names the policy by namespace and name", () => {
    assert.equal(eventReason("cluster1", "p"), "policy: cluster1/p");
    assert.equal(eventReason(undefined, "p"), "policy: p");
  });
});
