import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Labels } from "../../../api/constants.ts";
import type { GroupStrategy } from "../../../api/types/placement.ts";
import { groupLength } from "./groups.ts";
import { schedule } from "./scheduler.ts";
import { cluster, fleet, now, placement } from "../../../test/support/placement-fixtures.ts";

describe("group length", () => {
  const cases: [number | string, number, number | string][] = [
    [10, 100, 10],
    [150, 310, 150],
    ["25%", 10, 3],
    ["100%", 7, 7],
    ["1%", 310, 4],
    ["50%", 0, 0],
    [0, 5, 5],
    [-3, 5, 5],
    [20, 5, 5],
    ["abc", 5, "DecisionStrategy"],
    ["10", 5, "DecisionStrategy"],
    [1.5, 5, "DecisionStrategy"],
  ];
  for (const [value, total, want] of cases) {
    it(`${JSON.stringify(value)} of ${total}`, () => {
      const got = groupLength(value, total);
      assert.deepEqual(typeof got === "number" ? got : got.plugin, want);
    });
  }
});

function names(n: number, prefix = "cluster"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(3, "0")}`);
}

describe("decision groups and PlacementDecisions", () => {
  it("310 clusters, two 10-cluster canary groups, 150 per group", () => {
    const all = names(310);
    const clusters = all.map((n, i) =>
      cluster(n, { labels: i < 10 ? { canary: "a" } : i < 20 ? { canary: "b" } : {} }),
    );
    const groupStrategy: GroupStrategy = {
      clustersPerDecisionGroup: 150,
      decisionGroups: [
        { groupName: "canary-a", groupClusterSelector: { labelSelector: { matchLabels: { canary: "a" } } } },
        { groupName: "canary-b", groupClusterSelector: { labelSelector: { matchLabels: { canary: "b" } } } },
      ],
    };
    const result = schedule(placement({ decisionStrategy: { groupStrategy } }), fleet({ clusters }), { now });
    assert.equal(result.status.numberOfSelectedClusters, 310);
    assert.deepEqual(
      result.status.decisionGroups?.map((g) => [
        g.decisionGroupIndex,
        g.decisionGroupName,
        g.clusterCount,
        g.decisions,
      ]),
      [
        [0, "canary-a", 10, ["p1-decision-1"]],
        [1, "canary-b", 10, ["p1-decision-2"]],
        [2, "", 150, ["p1-decision-3", "p1-decision-4"]],
        [3, "", 140, ["p1-decision-5", "p1-decision-6"]],
      ],
    );
    assert.deepEqual(
      result.placementDecisions.map((pd) => [
        pd.metadata.name,
        pd.metadata.labels?.[Labels.decisionGroupName],
        pd.metadata.labels?.[Labels.decisionGroupIndex],
        pd.status?.decisions.length,
      ]),
      [
        ["p1-decision-1", "canary-a", "0", 10],
        ["p1-decision-2", "canary-b", "1", 10],
        ["p1-decision-3", "", "2", 100],
        ["p1-decision-4", "", "2", 50],
        ["p1-decision-5", "", "3", 100],
        ["p1-decision-6", "", "3", 40],
      ],
    );
    // Every cluster exactly once; unnamed groups take the rest in name order.
    const decided = result.placementDecisions.flatMap((pd) => pd.status!.decisions.map((d) => d.clusterName));
    assert.equal(new Set(decided).size, 310);
    assert.deepEqual(result.placementDecisions[2]!.status!.decisions[0]!.clusterName, "cluster021");
    assert.deepEqual(result.placementDecisions[5]!.status!.decisions.at(-1)!.clusterName, "cluster310");
  });

  const sharding: [number, number[]][] = [
    [0, [0]],
    [1, [1]],
    [100, [100]],
    [101, [100, 1]],
    [250, [100, 100, 50]],
  ];
  for (const [n, sizes] of sharding) {
    it(`${n} decisions are sharded into ${JSON.stringify(sizes)}`, () => {
      const clusters = names(n).map((x) => cluster(x));
      const result = schedule(placement(), fleet({ clusters }), { now });
      assert.deepEqual(
        result.placementDecisions.map((pd) => pd.status?.decisions.length),
        sizes,
      );
      assert.deepEqual(
        result.placementDecisions.map((pd) => pd.metadata.name),
        sizes.map((_, i) => `p1-decision-${i + 1}`),
      );
      for (const pd of result.placementDecisions) {
        const ds = pd.status!.decisions.map((d) => d.clusterName);
        assert.deepEqual(ds, [...ds].sort());
        assert.deepEqual(pd.metadata.ownerReferences, [
          {
            apiVersion: "cluster.open-cluster-management.io/v1beta1",
            kind: "Placement",
            name: "p1",
            uid: "uid-1",
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
        assert.equal(pd.metadata.labels?.[Labels.placement], "p1");
      }
    });
  }

  it("a named group that matches nothing makes no group", () => {
    const clusters = names(3).map((x) => cluster(x));
    const result = schedule(
      placement({
        decisionStrategy: {
          groupStrategy: {
            decisionGroups: [
              { groupName: "none", groupClusterSelector: { labelSelector: { matchLabels: { x: "y" } } } },
            ],
          },
        },
      }),
      fleet({ clusters }),
      { now },
    );
    assert.deepEqual(
      result.status.decisionGroups?.map((g) => [g.decisionGroupName, g.clusterCount]),
      [["", 3]],
    );
  });

  it("a percentage splits the selected clusters", () => {
    const clusters = names(10).map((x) => cluster(x));
    const result = schedule(
      placement({ decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: "25%" } } }),
      fleet({ clusters }),
      { now },
    );
    assert.deepEqual(
      result.status.decisionGroups?.map((g) => g.clusterCount),
      [3, 3, 3, 1],
    );
  });

  it("a bad clustersPerDecisionGroup makes the placement Misconfigured with no decision at all", () => {
    const clusters = names(3).map((x) => cluster(x));
    const result = schedule(
      placement({ decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: "half" } } }),
      fleet({ clusters }),
      { now },
    );
    const misconfigured = result.status.conditions?.find((c) => c.type === "PlacementMisconfigured");
    assert.equal(misconfigured?.status, "True");
    assert.equal(
      misconfigured?.message,
      'DecisionStrategy:spec.decisionStrategy.groupStrategy.clustersPerDecisionGroup: "half" invalid type: string is not a percentage',
    );
    // As in OCM: the scheduled clusters are counted, but no group and no PlacementDecision.
    assert.equal(result.status.numberOfSelectedClusters, 3);
    assert.deepEqual(result.placementDecisions, []);
    assert.deepEqual(result.status.decisionGroups, []);
  });
});
