import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Labels } from "../../../api/constants.ts";
import type { PlacementDecision, PlacementStatus } from "../../../api/types/placement.ts";
import { cluster } from "../../support/placement-fixtures.ts";
import {
  DeliberateDifferences,
  decisionsOf,
  deliberateDifference,
  outcomeCoverage,
  outcomeDifferences,
  placementOutcome,
  withoutPreferNoSelect,
  type PlacementOutcome,
} from "./placement-outcome.ts";

function pd(name: string, clusters: string[], group = "", index = "0", namespace = "ns"): PlacementDecision {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1beta1",
    kind: "PlacementDecision",
    metadata: {
      name,
      namespace,
      labels: {
        [Labels.placement]: "p",
        [Labels.decisionGroupName]: group,
        [Labels.decisionGroupIndex]: index,
      },
      ownerReferences: [{ apiVersion: "v1beta1", kind: "Placement", name: "p", uid: "u", controller: true }],
    },
    status: { decisions: clusters.map((clusterName) => ({ clusterName, reason: "why", score: 7 })) },
  };
}

const status: PlacementStatus = {
  numberOfSelectedClusters: 2,
  decisionGroups: [
    { decisionGroupIndex: 0, decisionGroupName: "", decisions: ["p-decision-1"], clusterCount: 2 },
  ],
  conditions: [
    {
      type: "PlacementSatisfied",
      status: "True",
      reason: "AllDecisionsScheduled",
      message: "m",
      lastTransitionTime: "t1",
    },
    {
      type: "PlacementMisconfigured",
      status: "False",
      reason: "Succeedconfigured",
      message: "ok",
      lastTransitionTime: "t2",
    },
  ],
};

describe("placementOutcome", () => {
  it("keeps what both controllers write, without reasons, scores and times, in a stable order", () => {
    const outcome = placementOutcome(status, [
      pd("p-decision-2", ["c"], "", "1"),
      pd("p-decision-1", ["b", "a"]),
    ]);
    assert.deepEqual(outcome, {
      decisions: [
        {
          name: "p-decision-1",
          placement: "p",
          groupName: "",
          groupIndex: "0",
          owner: "Placement/p",
          clusters: ["b", "a"],
        },
        {
          name: "p-decision-2",
          placement: "p",
          groupName: "",
          groupIndex: "1",
          owner: "Placement/p",
          clusters: ["c"],
        },
      ],
      numberOfSelectedClusters: 2,
      decisionGroups: [{ index: 0, name: "", decisions: ["p-decision-1"], clusterCount: 2 }],
      conditions: [
        { type: "PlacementMisconfigured", status: "False", reason: "Succeedconfigured", message: "ok" },
        { type: "PlacementSatisfied", status: "True", reason: "AllDecisionsScheduled", message: "m" },
      ],
    });
  });

  it("decisionsOf takes the placement's label in its namespace only", () => {
    const mine = pd("p-decision-1", ["a"]);
    const elsewhere = pd("p-decision-1", ["a"], "", "0", "other");
    assert.deepEqual(decisionsOf({ metadata: { name: "p", namespace: "ns" } }, [mine, elsewhere]), [mine]);
  });
});

describe("outcomeDifferences", () => {
  const base = placementOutcome(status, [pd("p-decision-1", ["a", "b"])]);
  const cases: [string, (o: PlacementOutcome) => void, string[]][] = [
    ["equal", () => undefined, []],
    [
      "cluster order",
      (o) => o.decisions[0]!.clusters.reverse(),
      ['decisions[0].clusters[0]: "a" ≠ "b"', 'decisions[0].clusters[1]: "b" ≠ "a"'],
    ],
    [
      "a missing decision",
      (o) => o.decisions.pop(),
      [
        'decisions[0]: {"name":"p-decision-1","placement":"p","groupName":"","groupIndex":"0","owner":"Placement/p","clusters":["a","b"]} ≠ undefined',
      ],
    ],
    [
      "a group label",
      (o) => (o.decisions[0]!.groupName = "canary"),
      ['decisions[0].groupName: "" ≠ "canary"'],
    ],
    ["the count", (o) => (o.numberOfSelectedClusters = 3), ["numberOfSelectedClusters: 2 ≠ 3"]],
  ];
  for (const [name, change, want] of cases) {
    it(name, () => {
      const other = structuredClone(base);
      change(other);
      assert.deepEqual(outcomeDifferences(base, other), want);
    });
  }
});

describe("deliberateDifference", () => {
  const ocm = placementOutcome(status, [pd("p-decision-1", ["a", "b"])]);
  const never = () => assert.fail("not needed");
  it("is undefined when the outcomes agree", () =>
    assert.equal(deliberateDifference(ocm, structuredClone(ocm), never), undefined));
  it("names a Misconfigured message that says more", () => {
    const misconfigured = (message: string): PlacementOutcome => ({
      ...ocm,
      conditions: [
        { type: "PlacementMisconfigured", status: "True", reason: "Misconfigured", message },
        ocm.conditions[1]!,
      ],
    });
    assert.equal(
      deliberateDifference(misconfigured(":bad"), misconfigured("DecisionStrategy:spec.x: bad"), never),
      DeliberateDifferences.misconfiguredMessage,
    );
  });
  it("a Misconfigured status of its own is no deliberate difference", () => {
    const other = structuredClone(ocm);
    other.conditions[0] = {
      type: "PlacementMisconfigured",
      status: "True",
      reason: "Misconfigured",
      message: "x",
    };
    assert.equal(
      deliberateDifference(ocm, other, () => other),
      undefined,
    );
  });
  it("names PreferNoSelect when bosun without those taints agrees", () => {
    const other = structuredClone(ocm);
    other.decisions[0]!.clusters = ["a", "c"];
    assert.equal(
      deliberateDifference(ocm, other, () => ocm),
      DeliberateDifferences.preferNoSelect,
    );
    assert.equal(
      deliberateDifference(ocm, other, () => other),
      undefined,
    );
  });
});

describe("withoutPreferNoSelect", () => {
  it("drops only PreferNoSelect taints", () => {
    const fleet = withoutPreferNoSelect({
      clusters: [
        cluster("a", {
          taints: [
            { key: "gpu", effect: "PreferNoSelect" },
            { key: "x", effect: "NoSelect" },
          ],
        }),
        cluster("b"),
      ],
      clusterSets: [],
      bindings: [],
      scores: [],
      decisions: [],
    });
    assert.deepEqual(
      fleet.clusters.map((c) => c.spec?.taints?.map((t) => t.key)),
      [["x"], undefined],
    );
  });
});

describe("outcomeCoverage", () => {
  it("counts what the outcomes exercised", () => {
    const selecting = placementOutcome(status, [pd("p-decision-1", ["a", "b"])]);
    const split = structuredClone(selecting);
    split.decisionGroups = [
      { index: 0, name: "canary", decisions: ["p-decision-1"], clusterCount: 1 },
      { index: 1, name: "", decisions: ["p-decision-2", "p-decision-3"], clusterCount: 150 },
    ];
    const none = placementOutcome({ ...status, numberOfSelectedClusters: 0 }, []);
    assert.deepEqual(outcomeCoverage([selecting, split, none]), {
      pairs: 3,
      selecting: 2,
      noneSelected: 1,
      misconfigured: 0,
      unscheduled: 0,
      severalGroups: 1,
      namedGroups: 1,
      splitGroups: 1,
    });
  });
});
