import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BosunPolicyRollout } from "../../api/constants.ts";
import type { PolicySpec } from "../../api/types/policy.ts";
import {
  clusterOutcome,
  formatRolloutState,
  groupLabel,
  nextRollout,
  parseRolloutState,
  rolloutGroups,
  rolloutRevision,
  rolloutSettings,
  type ClusterEvidence,
  type ClusterOutcome,
  type RolloutDecision,
  type RolloutGroup,
  type RolloutState,
} from "./policy-rollout.ts";

const t0 = Date.parse("2026-03-01T10:00:00.000Z");
const at = (ms: number) => new Date(ms).toISOString();
const minute = 60_000;
const progressive = { [BosunPolicyRollout.annotation]: "progressive" };

function group(index: number, clusters: string[], name = ""): RolloutGroup {
  return { index, name, clusters };
}

const oneGroup = [group(0, ["a", "b"])];
const threeGroups = [group(0, ["a"], "canary"), group(1, ["b", "c"]), group(2, ["d"])];

function state(partial: Partial<RolloutState> & Pick<RolloutState, "releasedGroups">): RolloutState {
  return {
    revision: "r1",
    phase: "Progressing",
    releasedAt: Array.from({ length: partial.releasedGroups }, () => at(t0)),
    message: "",
    ...partial,
  };
}

interface Case {
  name: string;
  annotations?: Record<string, string>;
  stored?: RolloutState | string;
  disabled?: boolean;
  revision?: string;
  groups: RolloutGroup[];
  /** true: succeeded; a string: why not. Unlisted clusters have no replica yet. */
  outcomes?: Record<string, true | string>;
  nowMs?: number;
  expect: {
    progressive?: boolean;
    /** Sorted released clusters; "all" for undefined. */
    released: string[] | "all";
    state?: Partial<RolloutState> | undefined;
    events?: [string, string][];
    /** Substrings of the state message. */
    message?: RegExp;
    eventMessage?: RegExp;
    requeueAfterMs?: number;
    /** Clusters whose outcome may be asked. */
    asked?: string[];
  };
}

const cases: Case[] = [
  {
    name: "a root without the annotation goes everywhere at once and keeps no state",
    annotations: {},
    groups: threeGroups,
    expect: { progressive: false, released: "all", state: undefined, events: [] },
  },
  {
    name: "a leftover state without the annotation is removed",
    annotations: {},
    stored: state({ releasedGroups: 1 }),
    groups: threeGroups,
    expect: { progressive: false, released: "all", state: undefined, events: [] },
  },
  {
    name: "a disabled root keeps no state (re-enabling rolls out from group 0 again)",
    annotations: progressive,
    stored: state({ releasedGroups: 3, phase: "Succeeded" }),
    disabled: true,
    groups: [],
    expect: { progressive: false, released: "all", state: undefined, events: [] },
  },
  {
    name: "one group (no decisionStrategy): released at once, waiting with the default deadline",
    annotations: progressive,
    groups: oneGroup,
    expect: {
      released: ["a", "b"],
      state: { phase: "Progressing", releasedGroups: 1, releasedAt: [at(t0)] },
      events: [["Normal", "PolicyRolloutGroupReleased"]],
      eventMessage: /^Released decision group 0 to clusters a, b$/,
      message: /released decision group 0 \(1 of 1 groups\)/,
      requeueAfterMs: 10 * minute,
    },
  },
  {
    name: "one group that succeeded: the rollout succeeded and everything is released",
    annotations: progressive,
    stored: state({ releasedGroups: 1 }),
    groups: oneGroup,
    outcomes: { a: true, b: true },
    nowMs: t0 + minute,
    expect: {
      released: "all",
      state: { phase: "Succeeded", releasedGroups: 1 },
      events: [["Normal", "PolicyRolloutSucceeded"]],
      message: /every decision group \(1\) was released and succeeded/,
    },
  },
  {
    name: "several groups: only group 0 is released first",
    annotations: progressive,
    groups: threeGroups,
    expect: {
      released: ["a"],
      state: { phase: "Progressing", releasedGroups: 1 },
      events: [["Normal", "PolicyRolloutGroupReleased"]],
      eventMessage: /Released decision group 0 \(canary\) to clusters a/,
      requeueAfterMs: 10 * minute,
      asked: ["a"],
    },
  },
  {
    name: "group 0 succeeded: group 1 is released with its own release time",
    annotations: progressive,
    stored: state({ releasedGroups: 1 }),
    groups: threeGroups,
    outcomes: { a: true },
    nowMs: t0 + 3 * minute,
    expect: {
      released: ["a", "b", "c"],
      state: { releasedGroups: 2, releasedAt: [at(t0), at(t0 + 3 * minute)] },
      events: [["Normal", "PolicyRolloutGroupReleased"]],
      message: /released decision group 1 \(2 of 3 groups\)/,
      requeueAfterMs: 10 * minute,
      asked: ["a", "b", "c"],
    },
  },
  {
    name: "a group is not released while one cluster of an earlier group has not succeeded",
    annotations: progressive,
    stored: state({ releasedGroups: 2 }),
    groups: threeGroups,
    outcomes: { a: true, b: true, c: "template x is NonCompliant" },
    nowMs: t0 + 4 * minute,
    expect: {
      released: ["a", "b", "c"],
      state: { phase: "Progressing", releasedGroups: 2 },
      events: [],
      requeueAfterMs: 6 * minute,
    },
  },
  {
    name: "groups whose clusters already succeeded are released one after the other in one step",
    annotations: progressive,
    groups: threeGroups,
    outcomes: { a: true, b: true, c: true },
    expect: {
      released: ["a", "b", "c", "d"],
      state: { phase: "Progressing", releasedGroups: 3, releasedAt: [at(t0), at(t0), at(t0)] },
      events: [
        ["Normal", "PolicyRolloutGroupReleased"],
        ["Normal", "PolicyRolloutGroupReleased"],
        ["Normal", "PolicyRolloutGroupReleased"],
      ],
      requeueAfterMs: 10 * minute,
    },
  },
  {
    name: "the deadline of the latest group passed: halted, naming the group, clusters and reasons",
    annotations: { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "2s" },
    stored: state({ releasedGroups: 2, releasedAt: [at(t0 - minute), at(t0)] }),
    groups: threeGroups,
    outcomes: { a: true, b: "template x is NonCompliant" },
    nowMs: t0 + 2000,
    expect: {
      released: ["a", "b", "c"],
      state: { phase: "Halted", reason: "DeadlineExceeded", releasedGroups: 2 },
      events: [["Warning", "PolicyRolloutHalted"]],
      message:
        /^rollout halted: decision group 1 did not succeed within 2s of its release: b \(template x is NonCompliant\), c \(no replica yet\)$/,
      eventMessage: /decision group 1 did not succeed within 2s/,
    },
  },
  {
    name: "just before the deadline it waits for the rest of it",
    annotations: { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "2s" },
    stored: state({ releasedGroups: 1 }),
    groups: threeGroups,
    outcomes: {},
    nowMs: t0 + 1500,
    expect: { released: ["a"], state: { phase: "Progressing" }, events: [], requeueAfterMs: 500 },
  },
  {
    name: "halted stays halted, even once its clusters succeed",
    annotations: progressive,
    stored: state({
      releasedGroups: 2,
      phase: "Halted",
      reason: "DeadlineExceeded",
      message: "rollout halted: …",
    }),
    groups: threeGroups,
    outcomes: { a: true, b: true, c: true, d: true },
    nowMs: t0 + 60 * minute,
    expect: {
      released: ["a", "b", "c"],
      state: { phase: "Halted", reason: "DeadlineExceeded", releasedGroups: 2, message: "rollout halted: …" },
      events: [],
      asked: [],
    },
  },
  {
    name: "a longer deadline does not un-halt (change the policy or remove the state)",
    annotations: { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "1h" },
    stored: state({ releasedGroups: 1, phase: "Halted", reason: "DeadlineExceeded" }),
    groups: threeGroups,
    outcomes: { a: true },
    nowMs: t0 + minute,
    expect: { released: ["a"], state: { phase: "Halted" }, events: [] },
  },
  {
    name: "a policy change mid-rollout starts the new revision at group 0",
    annotations: progressive,
    stored: state({ revision: "r0", releasedGroups: 2 }),
    revision: "r1",
    groups: threeGroups,
    outcomes: { a: "template x has not reported on the current content" },
    nowMs: t0 + minute,
    expect: {
      released: ["a"],
      state: { revision: "r1", phase: "Progressing", releasedGroups: 1, releasedAt: [at(t0 + minute)] },
      events: [["Normal", "PolicyRolloutGroupReleased"]],
      requeueAfterMs: 10 * minute,
    },
  },
  {
    name: "a change after a halt starts again from group 0",
    annotations: progressive,
    stored: state({ revision: "r0", releasedGroups: 2, phase: "Halted", reason: "DeadlineExceeded" }),
    revision: "r1",
    groups: threeGroups,
    expect: {
      released: ["a"],
      state: { revision: "r1", phase: "Progressing", releasedGroups: 1 },
      requeueAfterMs: 10 * minute,
    },
  },
  {
    name: "a cluster that left the decisions no longer holds the rollout back",
    annotations: progressive,
    stored: state({ releasedGroups: 2 }),
    groups: [group(0, ["a"], "canary"), group(1, ["b"]), group(2, ["d"])],
    outcomes: { a: true, b: true },
    nowMs: t0 + minute,
    expect: { released: ["a", "b", "d"], state: { releasedGroups: 3 }, requeueAfterMs: 10 * minute },
  },
  {
    name: "a cluster joining a released group is released and waited for",
    annotations: progressive,
    stored: state({ releasedGroups: 1 }),
    groups: [group(0, ["a", "new"], "canary"), group(1, ["b", "c"])],
    outcomes: { a: true },
    nowMs: t0 + minute,
    expect: { released: ["a", "new"], state: { releasedGroups: 1 }, requeueAfterMs: 9 * minute },
  },
  {
    name: "succeeded stays succeeded: clusters of a new group get the content at once",
    annotations: progressive,
    stored: state({ releasedGroups: 3, phase: "Succeeded", message: "done" }),
    groups: [...threeGroups, group(3, ["e"])],
    expect: { released: "all", state: { phase: "Succeeded", message: "done" }, events: [], asked: [] },
  },
  {
    name: "an unknown rollout mode halts before anything is released, naming the annotation",
    annotations: { [BosunPolicyRollout.annotation]: "fast" },
    groups: threeGroups,
    expect: {
      released: [],
      state: { phase: "Halted", reason: "InvalidAnnotation", releasedGroups: 0, releasedAt: [] },
      events: [["Warning", "PolicyRolloutHalted"]],
      message: /^policy\.bosun\.dev\/rollout: "fast" is not a rollout mode; use "progressive"/,
    },
  },
  {
    name: "an invalid deadline halts, naming the annotation and Go's reason",
    annotations: { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "ten minutes" },
    groups: threeGroups,
    expect: {
      released: [],
      state: { phase: "Halted", reason: "InvalidAnnotation" },
      message:
        /^policy\.bosun\.dev\/rollout-deadline: "ten minutes" is not a valid deadline: time: invalid duration "ten minutes"$/,
    },
  },
  {
    name: "a zero deadline is invalid",
    annotations: { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "0s" },
    groups: threeGroups,
    expect: { released: [], state: { phase: "Halted" }, message: /must be longer than 0/ },
  },
  {
    name: "an invalid annotation mid-rollout keeps the released groups and releases no more",
    annotations: { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "-1m" },
    stored: state({ releasedGroups: 2 }),
    groups: threeGroups,
    outcomes: { a: true, b: true, c: true },
    expect: {
      released: ["a", "b", "c"],
      state: { phase: "Halted", reason: "InvalidAnnotation", releasedGroups: 2 },
      events: [["Warning", "PolicyRolloutHalted"]],
      asked: [],
    },
  },
  {
    name: "an invalid annotation already reported is not reported again",
    annotations: { [BosunPolicyRollout.annotation]: "fast" },
    stored: state({
      releasedGroups: 0,
      phase: "Halted",
      reason: "InvalidAnnotation",
      message:
        'policy.bosun.dev/rollout: "fast" is not a rollout mode; use "progressive" or remove the annotation',
    }),
    groups: threeGroups,
    expect: { released: [], state: { phase: "Halted" }, events: [] },
  },
  {
    name: "a fixed annotation resumes the rollout, the latest group's deadline counting from the fix",
    annotations: progressive,
    stored: state({ releasedGroups: 1, phase: "Halted", reason: "InvalidAnnotation", message: "bad" }),
    groups: threeGroups,
    outcomes: {},
    nowMs: t0 + 30 * minute,
    expect: {
      released: ["a"],
      state: {
        phase: "Progressing",
        reason: undefined,
        releasedGroups: 1,
        releasedAt: [at(t0 + 30 * minute)],
      },
      events: [],
      requeueAfterMs: 10 * minute,
    },
  },
  {
    name: "a fixed annotation before anything was released starts at group 0",
    annotations: progressive,
    stored: state({ releasedGroups: 0, phase: "Halted", reason: "InvalidAnnotation" }),
    groups: threeGroups,
    expect: {
      released: ["a"],
      state: { phase: "Progressing", releasedGroups: 1 },
      requeueAfterMs: 10 * minute,
    },
  },
  {
    name: "restart from the persisted state: nothing new, the same state, no events",
    annotations: progressive,
    stored: formatRolloutState(
      state({ releasedGroups: 2, releasedAt: [at(t0 - minute), at(t0)], message: "x" }),
    ),
    groups: threeGroups,
    outcomes: { a: true, b: true },
    nowMs: t0 + 5 * minute,
    expect: {
      released: ["a", "b", "c"],
      state: { releasedGroups: 2, releasedAt: [at(t0 - minute), at(t0)] },
      events: [],
      requeueAfterMs: 5 * minute,
    },
  },
  {
    name: "a state annotation bosun did not write counts as none: the rollout starts at group 0",
    annotations: progressive,
    stored: '{"revision": "r1", "phase": "Finished"}',
    groups: threeGroups,
    expect: {
      released: ["a"],
      state: { phase: "Progressing", releasedGroups: 1 },
      requeueAfterMs: 10 * minute,
    },
  },
  {
    name: "no cluster selected yet: nothing is released, and the first cluster starts group 0",
    annotations: progressive,
    groups: [],
    expect: { released: [], state: { phase: "Progressing", releasedGroups: 0 }, message: /no cluster/ },
  },
  {
    name: "a removed state (a user's reset) restarts at group 0 even when later groups had the content",
    annotations: progressive,
    groups: threeGroups,
    outcomes: { a: "template x is NonCompliant", b: true, c: true, d: true },
    expect: { released: ["a"], state: { releasedGroups: 1 }, asked: ["a"], requeueAfterMs: 10 * minute },
  },
];

function decide(c: Case): { decision: RolloutDecision; asked: string[] } {
  const annotations = { ...c.annotations };
  if (c.stored !== undefined)
    annotations[BosunPolicyRollout.statusAnnotation] =
      typeof c.stored === "string" ? c.stored : formatRolloutState(c.stored);
  const asked: string[] = [];
  const decision = nextRollout({
    annotations,
    disabled: c.disabled === true,
    revision: c.revision ?? "r1",
    groups: c.groups,
    outcome: (cluster): ClusterOutcome => {
      asked.push(cluster);
      const outcome = c.outcomes?.[cluster];
      return outcome === true
        ? { succeeded: true }
        : { succeeded: false, reason: outcome ?? "no replica yet" };
    },
    nowMs: c.nowMs ?? t0,
  });
  return { decision, asked };
}

describe("nextRollout", () => {
  for (const c of cases) {
    test(c.name, () => {
      const { decision, asked } = decide(c);
      const { expect } = c;
      if (expect.progressive !== undefined) assert.equal(decision.progressive, expect.progressive);
      assert.deepEqual(
        decision.released === undefined ? "all" : [...decision.released].sort(),
        expect.released,
        "released clusters",
      );
      if ("state" in expect && expect.state === undefined) assert.equal(decision.state, undefined);
      else if (expect.state) {
        assert.ok(decision.state, "a state");
        for (const [field, value] of Object.entries(expect.state))
          assert.deepEqual(decision.state[field as keyof RolloutState], value, field);
      }
      if (expect.events)
        assert.deepEqual(
          decision.events.map((event) => [event.type, event.reason]),
          expect.events,
        );
      if (expect.message) assert.match(decision.state?.message ?? "", expect.message);
      if (expect.eventMessage) assert.match(decision.events[0]?.message ?? "", expect.eventMessage);
      assert.equal(decision.requeueAfterMs, expect.requeueAfterMs, "requeueAfterMs");
      if (expect.asked) assert.deepEqual([...new Set(asked)].sort(), expect.asked, "outcomes asked");
    });
  }

  test("the state it returns, persisted and read back, is a fixed point", () => {
    const first = decide({
      name: "",
      annotations: progressive,
      groups: threeGroups,
      expect: { released: [] },
    });
    const again = nextRollout({
      annotations: {
        ...progressive,
        [BosunPolicyRollout.statusAnnotation]: formatRolloutState(first.decision.state!),
      },
      disabled: false,
      revision: "r1",
      groups: threeGroups,
      outcome: () => ({ succeeded: false, reason: "waiting" }),
      nowMs: t0 + 1000,
    });
    assert.equal(formatRolloutState(again.state!), formatRolloutState(first.decision.state!));
    assert.deepEqual(again.events, []);
  });

  test("a halt message lists at most ten clusters", () => {
    const clusters = Array.from({ length: 13 }, (_, i) => `c${String(i).padStart(2, "0")}`);
    const { decision } = decide({
      name: "",
      annotations: progressive,
      stored: state({ releasedGroups: 1 }),
      groups: [group(0, clusters)],
      nowMs: t0 + 10 * minute,
      expect: { released: [] },
    });
    assert.match(decision.state!.message, /c09 \(no replica yet\), and 3 more$/);
    assert.doesNotMatch(decision.state!.message, /c10/);
  });
});

describe("rolloutSettings", () => {
  const table: [string, Record<string, string> | undefined, ReturnType<typeof rolloutSettings>][] = [
    ["no annotations", undefined, { mode: "off" }],
    [
      "progressive, default deadline",
      progressive,
      { mode: "progressive", deadlineMs: 600_000, deadline: "10m" },
    ],
    [
      "progressive, 1h30m",
      { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "1h30m" },
      { mode: "progressive", deadlineMs: 5_400_000, deadline: "1h30m" },
    ],
    [
      "a deadline without the rollout annotation is ignored",
      { [BosunPolicyRollout.deadlineAnnotation]: "bogus" },
      { mode: "off" },
    ],
    [
      "the mode is case-sensitive",
      { [BosunPolicyRollout.annotation]: "Progressive" },
      {
        mode: "invalid",
        message:
          'policy.bosun.dev/rollout: "Progressive" is not a rollout mode; use "progressive" or remove the annotation',
      },
    ],
    [
      "a unit is required",
      { ...progressive, [BosunPolicyRollout.deadlineAnnotation]: "30" },
      {
        mode: "invalid",
        message:
          'policy.bosun.dev/rollout-deadline: "30" is not a valid deadline: time: missing unit in duration "30"',
      },
    ],
  ];
  for (const [name, annotations, expected] of table)
    test(name, () => assert.deepEqual(rolloutSettings(annotations), expected));
});

describe("rollout state annotation", () => {
  test("round-trips, and equal states format equally", () => {
    const value = state({ releasedGroups: 2, phase: "Halted", reason: "DeadlineExceeded", message: "m" });
    const text = formatRolloutState(value);
    assert.deepEqual(parseRolloutState(text), value);
    assert.equal(formatRolloutState(parseRolloutState(text)!), text);
  });
  const invalid: [string, string][] = [
    ["not JSON", "{"],
    ["a list", "[]"],
    ["an unknown phase", JSON.stringify({ ...state({ releasedGroups: 0 }), phase: "Done" })],
    ["an unknown reason", JSON.stringify({ ...state({ releasedGroups: 0 }), reason: "Tired" })],
    ["a negative count", JSON.stringify({ ...state({ releasedGroups: 0 }), releasedGroups: -1 })],
    [
      "times not matching the count",
      JSON.stringify({ ...state({ releasedGroups: 2 }), releasedAt: [at(t0)] }),
    ],
    ["a time that is not one", JSON.stringify({ ...state({ releasedGroups: 1 }), releasedAt: ["soon"] })],
  ];
  for (const [name, text] of invalid)
    test(`${name} is no state`, () => assert.equal(parseRolloutState(text), undefined));
});

describe("rolloutRevision", () => {
  const spec = (extra: Partial<PolicySpec> = {}): PolicySpec => ({
    disabled: false,
    remediationAction: "enforce",
    "policy-templates": [{ objectDefinition: { kind: "ConfigurationPolicy", metadata: { name: "x" } } }],
    ...extra,
  });
  test("does not depend on key order or on disabled", () => {
    const reordered = {
      "policy-templates": [{ objectDefinition: { metadata: { name: "x" }, kind: "ConfigurationPolicy" } }],
      remediationAction: "enforce",
      disabled: true,
    } as PolicySpec;
    assert.equal(rolloutRevision(spec()), rolloutRevision(reordered));
    assert.match(rolloutRevision(spec()), /^[0-9a-f]{16}$/);
  });
  test("changes with the templates and with the remediation", () => {
    const base = rolloutRevision(spec());
    assert.notEqual(rolloutRevision(spec({ remediationAction: "inform" })), base);
    assert.notEqual(
      rolloutRevision(
        spec({
          "policy-templates": [
            { objectDefinition: { kind: "ConfigurationPolicy", metadata: { name: "y" } } },
          ],
        }),
      ),
      base,
    );
  });
});

describe("rolloutGroups", () => {
  test("groups the clusters by index in order, unknown ones last", () => {
    const groupsOf: Record<string, { index: number; name: string }> = {
      b: { index: 1, name: "" },
      a: { index: 0, name: "canary" },
      c: { index: 1, name: "" },
    };
    const groups = rolloutGroups(["c", "x", "a", "b", "a"], (cluster) => groupsOf[cluster]);
    assert.deepEqual(groups, [
      { index: 0, name: "canary", clusters: ["a"] },
      { index: 1, name: "", clusters: ["b", "c"] },
      { index: Infinity, name: "", clusters: ["x"] },
    ]);
    assert.deepEqual(groups.map(groupLabel), [
      "decision group 0 (canary)",
      "decision group 1",
      "the decisions without a group index",
    ]);
  });
});

describe("clusterOutcome", () => {
  const table: [string, ClusterEvidence, ClusterOutcome][] = [
    ["no replica", { missing: "no replica yet" }, { succeeded: false, reason: "no replica yet" }],
    ["no templates", { templates: [] }, { succeeded: true }],
    [
      "enforce, Compliant",
      { templates: [{ template: "x", state: "reported", compliant: "Compliant", enforce: true }] },
      { succeeded: true },
    ],
    [
      "enforce, NonCompliant",
      { templates: [{ template: "x", state: "reported", compliant: "NonCompliant", enforce: true }] },
      { succeeded: false, reason: "template x is NonCompliant" },
    ],
    [
      "inform, NonCompliant is a report",
      { templates: [{ template: "x", state: "reported", compliant: "NonCompliant", enforce: false }] },
      { succeeded: true },
    ],
    [
      "inform, Pending is not",
      { templates: [{ template: "x", state: "reported", compliant: "Pending", enforce: false }] },
      { succeeded: false, reason: "template x is Pending" },
    ],
    [
      "a kind without feedback, applied",
      { templates: [{ template: "g", state: "applied" }] },
      { succeeded: true },
    ],
    [
      "every reason, in template order",
      {
        templates: [
          { template: "x", state: "waiting", reason: "template x is not evaluated yet" },
          { template: "y", state: "reported", compliant: "Compliant", enforce: true },
          { template: "z", state: "reported", compliant: "NonCompliant", enforce: true },
        ],
      },
      { succeeded: false, reason: "template x is not evaluated yet; template z is NonCompliant" },
    ],
  ];
  for (const [name, evidence, expected] of table)
    test(name, () => assert.deepEqual(clusterOutcome(evidence), expected));
});
