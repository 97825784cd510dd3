import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlacementDecision } from "../../api/types/placement.ts";
import type { RolloutStrategy } from "../../api/types/work.ts";
import { formatTime } from "../../runtime/time.ts";
import {
  clustersFromDecisions,
  computeRollout,
  parseProgressDeadline,
  thresholdSize,
  type ClusterRolloutStatus,
  type DecidedCluster,
  type RolloutResult,
  type RolloutStatusValue,
} from "./rollout.ts";

const now = Date.UTC(2022, 0, 1);
const ago = (seconds: number) => formatTime(now - seconds * 1000);

/** Groups as [name, clusters]; the index is the position. */
function decided(...groups: [string, string[]][]): DecidedCluster[] {
  return groups.flatMap(([groupName, clusters], groupIndex) =>
    clusters.map((clusterName) => ({ clusterName, group: { groupIndex, groupName } })),
  );
}
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `cluster${from + i}`);
const st = (clusterName: string, status: RolloutStatusValue, secondsAgo?: number): ClusterRolloutStatus =>
  secondsAgo === undefined
    ? { clusterName, status }
    : { clusterName, status, lastTransitionTime: ago(secondsAgo) };

function run(
  strategy: RolloutStrategy,
  clusters: DecidedCluster[],
  statuses: ClusterRolloutStatus[],
): RolloutResult {
  const outcome = computeRollout({ strategy, clusters, statuses, nowMs: now });
  assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
  return outcome;
}

/** name:status[+recheck seconds from now] */
const brief = (list: ClusterRolloutStatus[]) =>
  list.map(
    (s) =>
      `${s.clusterName}:${s.status}${s.recheckAtMs === undefined ? "" : `@${(s.recheckAtMs - now) / 1000}`}`,
  );

interface Case {
  name: string;
  strategy: RolloutStrategy;
  clusters: DecidedCluster[];
  statuses: ClusterRolloutStatus[];
  toRollout: string[];
  timedOut?: string[];
  removed?: string[];
  breach?: boolean;
  recheckAfterMs?: number;
  complete?: boolean;
}

function check(cases: Case[]) {
  for (const c of cases) {
    it(c.name, () => {
      const result = run(c.strategy, c.clusters, c.statuses);
      assert.deepEqual(brief(result.toRollout), c.toRollout);
      assert.deepEqual(brief(result.timedOut), c.timedOut ?? []);
      assert.deepEqual(
        result.removed.map((s) => s.clusterName),
        c.removed ?? [],
      );
      assert.equal(result.maxFailureBreach, c.breach ?? false);
      assert.equal(result.message !== undefined, c.breach ?? false);
      assert.equal(result.recheckAfterMs, c.recheckAfterMs);
      assert.equal(result.complete, c.complete ?? false);
      assert.deepEqual(
        result.toApply,
        result.toRollout.filter((s) => s.status === "ToApply").map((s) => s.clusterName),
      );
    });
  }
}

const twoGroups = decided(["group1", range(1, 2)], ["", range(3, 6)]);
const threeByThree = decided(["group1", range(1, 3)], ["", range(4, 6)], ["", range(7, 9)]);
const two3 = decided(["group1", range(1, 3)], ["", range(4, 6)]);

describe("rollout All", () => {
  const all: RolloutStrategy = { type: "All", all: { progressDeadline: "90s" } };
  check([
    {
      name: "rolls out to every cluster at once",
      strategy: all,
      clusters: twoGroups,
      statuses: [],
      toRollout: range(1, 6).map((c) => `${c}:ToApply`),
    },
    {
      name: "times out clusters past the deadline and keeps the rest rolling",
      strategy: all,
      clusters: twoGroups,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Progressing", 120),
        st("cluster4", "Failed", 60),
        st("cluster5", "Progressing", 60),
      ],
      toRollout: ["cluster4:Failed@30", "cluster5:Progressing@30", "cluster6:ToApply"],
      timedOut: ["cluster2:TimeOut@-30", "cluster3:TimeOut@-30"],
      recheckAfterMs: 30_000,
    },
    {
      name: "ignores maxFailures and minSuccessTime",
      strategy: { type: "All", all: { minSuccessTime: "10m", maxFailures: 0 } },
      clusters: twoGroups,
      statuses: [st("cluster1", "Succeeded", 30), st("cluster2", "Failed", 30)],
      toRollout: ["cluster2:Failed", ...range(3, 6).map((c) => `${c}:ToApply`)],
    },
    {
      name: "is complete when every cluster succeeded, and reports removed clusters",
      strategy: {},
      clusters: decided(["", range(1, 2)]),
      statuses: [
        st("cluster1", "Succeeded", 10),
        st("cluster2", "Succeeded", 10),
        st("gone", "Succeeded", 10),
      ],
      toRollout: [],
      removed: ["gone"],
      complete: true,
    },
    {
      name: "waits forever without a deadline",
      strategy: { type: "All", all: { progressDeadline: "None" } },
      clusters: decided(["", ["a"]]),
      statuses: [st("a", "Progressing", 86_400)],
      toRollout: ["a:Progressing"],
    },
  ]);
});

describe("rollout Progressive", () => {
  const progressive = (extra: Record<string, unknown>): RolloutStrategy => ({
    type: "Progressive",
    progressive: { progressDeadline: "90s", ...extra },
  });
  check([
    {
      name: "starts maxConcurrency clusters in name order",
      strategy: progressive({ maxConcurrency: 2 }),
      clusters: two3,
      statuses: [],
      toRollout: ["cluster1:ToApply", "cluster2:ToApply"],
    },
    {
      name: "counts rolling clusters against maxConcurrency",
      strategy: progressive({ maxConcurrency: 2, maxFailures: 5 }),
      clusters: two3,
      statuses: [st("cluster1", "Progressing", 10), st("cluster2", "Progressing", 10)],
      toRollout: ["cluster1:Progressing@80", "cluster2:Progressing@80"],
      recheckAfterMs: 80_000,
    },
    {
      name: "fills up to maxConcurrency as clusters succeed, and drops removed clusters",
      strategy: progressive({ maxConcurrency: 4 }),
      clusters: threeByThree,
      statuses: [st("cluster1", "Progressing", 60), st("cluster2", "ToApply"), st("cluster10", "ToApply")],
      toRollout: ["cluster1:Progressing@30", "cluster2:ToApply", "cluster3:ToApply", "cluster4:ToApply"],
      removed: ["cluster10"],
      recheckAfterMs: 30_000,
    },
    {
      name: "rolls everything without maxConcurrency",
      strategy: progressive({}),
      clusters: decided(["", range(1, 3)]),
      statuses: [],
      toRollout: range(1, 3).map((c) => `${c}:ToApply`),
    },
    {
      name: "stops starting clusters when failures exceed maxFailures (default 0)",
      strategy: progressive({ maxConcurrency: 2 }),
      clusters: two3,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Progressing", 60),
      ],
      toRollout: ["cluster3:Progressing@30"],
      timedOut: ["cluster2:TimeOut@-30"],
      breach: true,
      recheckAfterMs: 30_000,
    },
    {
      name: "carries on within maxFailures",
      strategy: progressive({ maxConcurrency: 2, maxFailures: 1 }),
      clusters: two3,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Progressing", 60),
      ],
      toRollout: ["cluster3:Progressing@30", "cluster4:ToApply"],
      timedOut: ["cluster2:TimeOut@-30"],
      recheckAfterMs: 30_000,
    },
    {
      name: "soaks succeeded clusters for minSuccessTime",
      strategy: progressive({ maxConcurrency: 2, maxFailures: "100%", minSuccessTime: "1m" }),
      clusters: two3,
      statuses: [
        st("cluster1", "Succeeded", 30),
        st("cluster2", "Failed", 120),
        st("cluster3", "Progressing", 30),
      ],
      toRollout: ["cluster1:Succeeded@30", "cluster3:Progressing@60"],
      timedOut: ["cluster2:TimeOut@-30"],
      recheckAfterMs: 30_000,
    },
    {
      name: "times out at once with a zero deadline",
      strategy: progressive({ maxConcurrency: 2, maxFailures: 3, progressDeadline: "0s" }),
      clusters: two3,
      statuses: [
        st("cluster1", "Succeeded", 30),
        st("cluster2", "Progressing", 30),
        st("cluster3", "Progressing", 30),
      ],
      toRollout: ["cluster4:ToApply", "cluster5:ToApply"],
      timedOut: ["cluster2:TimeOut@-30", "cluster3:TimeOut@-30"],
    },
    {
      name: "takes percentages of all clusters, rounding up",
      strategy: progressive({ maxConcurrency: "50%", maxFailures: "100%", progressDeadline: "None" }),
      clusters: twoGroups,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Progressing", 60),
      ],
      toRollout: ["cluster2:Failed", "cluster3:Progressing", "cluster4:ToApply"],
    },
    {
      name: "tolerates no failure with 0%",
      strategy: progressive({ maxConcurrency: "50%", maxFailures: "0%", progressDeadline: "None" }),
      clusters: twoGroups,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Progressing", 60),
      ],
      toRollout: ["cluster2:Failed", "cluster3:Progressing"],
      breach: true,
    },
    {
      name: "rolls mandatory groups first, even when they are not first",
      strategy: progressive({ maxConcurrency: 1, mandatoryDecisionGroups: [{ groupName: "canary" }] }),
      clusters: decided(["", range(1, 2)], ["canary", range(3, 4)]),
      statuses: [],
      toRollout: ["cluster3:ToApply", "cluster4:ToApply"],
    },
    {
      name: "names a mandatory group by index",
      strategy: progressive({ mandatoryDecisionGroups: [{ groupIndex: 1 }] }),
      clusters: decided(["", range(1, 2)], ["", range(3, 4)]),
      statuses: [],
      toRollout: ["cluster3:ToApply", "cluster4:ToApply"],
    },
    {
      name: "stops when a mandatory group fails",
      strategy: progressive({ maxConcurrency: 3, mandatoryDecisionGroups: [{ groupName: "group1" }] }),
      clusters: decided(["group1", range(1, 2)], ["", range(3, 4)], ["", range(5, 6)]),
      statuses: [st("cluster1", "Failed", 120), st("cluster2", "Failed", 60)],
      toRollout: ["cluster2:Failed@30"],
      timedOut: ["cluster1:TimeOut@-30"],
      breach: true,
      recheckAfterMs: 30_000,
    },
    {
      name: "goes on with maxConcurrency of the rest once mandatory groups succeed",
      strategy: progressive({ maxConcurrency: 3, mandatoryDecisionGroups: [{ groupName: "group1" }] }),
      clusters: decided(["group1", range(1, 2)], ["", range(3, 4)], ["", range(5, 6)]),
      statuses: [st("cluster1", "Succeeded", 60), st("cluster2", "Succeeded", 120)],
      toRollout: ["cluster3:ToApply", "cluster4:ToApply", "cluster5:ToApply"],
    },
    {
      name: "is complete once everything succeeded and soaked",
      strategy: progressive({ maxConcurrency: 1, minSuccessTime: "30s" }),
      clusters: decided(["", range(1, 2)]),
      statuses: [st("cluster1", "Succeeded", 60), st("cluster2", "Succeeded", 31)],
      toRollout: [],
      complete: true,
    },
  ]);

  it("says why it stopped", () => {
    const result = run(progressive({ maxConcurrency: 2, maxFailures: 1 }), two3, [
      st("cluster1", "Failed", 10),
      st("cluster2", "Failed", 120),
    ]);
    assert.equal(
      result.message,
      "rollout stopped: 2 clusters failed or timed out (cluster1, cluster2), more than maxFailures 1",
    );
    const mandatory = run(progressive({ mandatoryDecisionGroups: [{ groupName: "group1" }] }), two3, [
      st("cluster1", "Failed", 10),
    ]);
    assert.equal(
      mandatory.message,
      "rollout stopped: mandatory decision group group1 has 1 failed or timed-out clusters (cluster1), " +
        "and mandatory groups tolerate no failures",
    );
  });
});

describe("rollout ProgressivePerGroup", () => {
  const perGroup = (extra: Record<string, unknown>): RolloutStrategy => ({
    type: "ProgressivePerGroup",
    progressivePerGroup: { progressDeadline: "90s", ...extra },
  });
  check([
    {
      name: "starts with the first group",
      strategy: perGroup({}),
      clusters: two3,
      statuses: [],
      toRollout: range(1, 3).map((c) => `${c}:ToApply`),
    },
    {
      name: "keeps rolling the group until it is done",
      strategy: perGroup({}),
      clusters: two3,
      statuses: [st("cluster1", "Progressing", 60), st("cluster2", "ToApply")],
      toRollout: ["cluster1:Progressing@30", "cluster2:ToApply", "cluster3:ToApply"],
      recheckAfterMs: 30_000,
    },
    {
      name: "stops at a failing group when failures exceed maxFailures",
      strategy: perGroup({}),
      clusters: two3,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Progressing", 60),
      ],
      toRollout: ["cluster3:Progressing@30"],
      timedOut: ["cluster2:TimeOut@-30"],
      breach: true,
      recheckAfterMs: 30_000,
    },
    {
      name: "moves to the next group within maxFailures",
      strategy: perGroup({ maxFailures: 2 }),
      clusters: threeByThree,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Succeeded", 60),
      ],
      toRollout: range(4, 6).map((c) => `${c}:ToApply`),
      timedOut: ["cluster2:TimeOut@-30"],
    },
    {
      name: "goes group by group through healthy groups",
      strategy: perGroup({ maxFailures: 2 }),
      clusters: threeByThree,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Succeeded", 60),
        ...range(4, 6).map((c) => st(c, "Succeeded", 60)),
      ],
      toRollout: range(7, 9).map((c) => `${c}:ToApply`),
      timedOut: ["cluster2:TimeOut@-30"],
    },
    {
      name: "stops on a failure without a deadline",
      strategy: perGroup({ progressDeadline: "None" }),
      clusters: threeByThree,
      statuses: [
        st("cluster1", "Succeeded", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Succeeded", 60),
      ],
      toRollout: ["cluster2:Failed"],
      breach: true,
    },
    {
      name: "takes a maxFailures percentage of the group",
      strategy: perGroup({ maxFailures: "50%", progressDeadline: "None" }),
      clusters: threeByThree,
      statuses: [
        st("cluster1", "Failed", 60),
        st("cluster2", "Failed", 120),
        st("cluster3", "Succeeded", 60),
      ],
      toRollout: ["cluster1:Failed", "cluster2:Failed", ...range(4, 6).map((c) => `${c}:ToApply`)],
    },
    {
      name: "rolls mandatory groups before the others",
      strategy: perGroup({ mandatoryDecisionGroups: [{ groupName: "prod-canary" }] }),
      clusters: decided(["", range(1, 2)], ["prod-canary", range(3, 3)], ["", range(4, 5)]),
      statuses: [],
      toRollout: ["cluster3:ToApply"],
    },
    {
      name: "then the first other group",
      strategy: perGroup({ mandatoryDecisionGroups: [{ groupName: "prod-canary" }] }),
      clusters: decided(["", range(1, 2)], ["prod-canary", range(3, 3)], ["", range(4, 5)]),
      statuses: [st("cluster3", "Succeeded", 5)],
      toRollout: ["cluster1:ToApply", "cluster2:ToApply"],
    },
    {
      name: "completes when every group succeeded",
      strategy: perGroup({}),
      clusters: two3,
      statuses: range(1, 6).map((c) => st(c, "Succeeded", 60)),
      toRollout: [],
      complete: true,
    },
    {
      name: "counts skipped clusters as done",
      strategy: perGroup({}),
      clusters: decided(["", ["a", "b"]]),
      statuses: [st("a", "Succeeded", 60), st("b", "Skip")],
      toRollout: [],
      complete: true,
    },
  ]);

  it("says which group stopped it", () => {
    const result = run(perGroup({ maxFailures: 1 }), two3, [
      st("cluster1", "Failed", 10),
      st("cluster2", "Failed", 10),
    ]);
    assert.equal(
      result.message,
      "rollout stopped at decision group group1: 2 of 3 clusters failed or timed out (cluster1, cluster2), more than maxFailures 1",
    );
  });
});

describe("rollout errors", () => {
  const table: [strategy: RolloutStrategy, error: string][] = [
    [{ type: "All", all: { progressDeadline: "10x" } }, "invalid timeout format"],
    [{ type: "All", all: { progressDeadline: "1h30x" } }, 'time: unknown unit "x" in duration "1h30x"'],
    [
      { type: "Progressive", progressive: { maxFailures: "abc" } },
      "failed to parse the provided maxFailures: 'abc' is an invalid maximum threshold value: string is not a percentage",
    ],
    [
      { type: "ProgressivePerGroup", progressivePerGroup: { maxFailures: "x%" } },
      'failed to parse the provided maxFailures: strconv.ParseFloat: parsing "x": invalid syntax',
    ],
    [
      { type: "Progressive", progressive: { maxConcurrency: "two" } },
      "failed to parse the provided maxConcurrency: 'two' is an invalid maximum threshold value: string is not a percentage",
    ],
    [{ type: "Progressive", progressive: { minSuccessTime: "5" } }, 'time: missing unit in duration "5"'],
    [{ type: "Canary" as "All" }, "incorrect rollout strategy type Canary"],
  ];
  for (const [strategy, error] of table) {
    it(error, () => {
      assert.deepEqual(computeRollout({ strategy, clusters: two3, statuses: [], nowMs: now }), {
        ok: false,
        error,
      });
    });
  }
});

describe("parsing", () => {
  it("reads progress deadlines", () => {
    assert.deepEqual(parseProgressDeadline(undefined), { ok: true, value: Infinity });
    assert.deepEqual(parseProgressDeadline("None"), { ok: true, value: Infinity });
    assert.deepEqual(parseProgressDeadline("2h"), { ok: true, value: 7_200_000 });
    assert.equal(parseProgressDeadline("soon").ok, false);
  });
  it("sizes thresholds", () => {
    const table: [value: number | string | undefined, total: number, fallback: number, size: number][] = [
      [undefined, 6, 6, 6],
      [2, 6, 6, 2],
      [0, 6, 6, 6],
      [-1, 6, 0, 0],
      [9, 6, 6, 6],
      ["50%", 5, 5, 3],
      ["34%", 3, 3, 2],
      ["0%", 6, 0, 0],
      ["100%", 6, 0, 6],
      ["12.5%", 8, 8, 1],
    ];
    for (const [value, total, fallback, size] of table) {
      assert.deepEqual(
        thresholdSize(value, total, fallback),
        { ok: true, value: size },
        `${value} of ${total}`,
      );
    }
  });
  it("reads clusters and groups from PlacementDecisions", () => {
    const pd = (name: string, index: string, group: string, clusters: string[]): PlacementDecision => ({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      metadata: {
        name,
        labels: {
          "cluster.open-cluster-management.io/placement": "p",
          "cluster.open-cluster-management.io/decision-group-index": index,
          "cluster.open-cluster-management.io/decision-group-name": group,
        },
      },
      status: { decisions: clusters.map((clusterName) => ({ clusterName, reason: "" })) },
    });
    const parsed = clustersFromDecisions([
      pd("p-decision-2", "1", "", ["c3"]),
      pd("p-decision-1", "0", "canary", ["c1", "c2"]),
    ]);
    assert.deepEqual(parsed, {
      ok: true,
      value: [
        { clusterName: "c3", group: { groupIndex: 1, groupName: "" } },
        { clusterName: "c1", group: { groupIndex: 0, groupName: "canary" } },
        { clusterName: "c2", group: { groupIndex: 0, groupName: "canary" } },
      ],
    });
    assert.deepEqual(clustersFromDecisions([pd("p-decision-1", "x", "", ["c1"])]), {
      ok: false,
      error: 'incorrect group index: strconv.Atoi: parsing "x": invalid syntax',
    });
  });
});
