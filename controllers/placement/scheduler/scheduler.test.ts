import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FleetObjects } from "./fleet.ts";
import { schedule, type ScheduleResult } from "./scheduler.ts";
import {
  addOnScore,
  binding,
  cluster,
  clusterSet,
  decision,
  fleet,
  now,
  placement,
} from "../../../test/support/placement-fixtures.ts";
import type { PlacementSpec } from "../../../api/types/placement.ts";

function condition(result: ScheduleResult, type: string) {
  const c = result.status.conditions?.find((x) => x.type === type);
  return c && [c.status, c.reason, c.message];
}

function decided(result: ScheduleResult): string[] {
  return result.placementDecisions.flatMap((pd) => pd.status?.decisions.map((d) => d.clusterName) ?? []);
}

describe("PlacementSatisfied", () => {
  const three = ["a", "b", "c"].map((n) => cluster(n));
  const cases: [string, Partial<FleetObjects>, PlacementSpec, string[]][] = [
    [
      "no bindings",
      { clusters: three, bindings: [] },
      {},
      [
        "False",
        "NoManagedClusterSetBindings",
        "No valid ManagedClusterSetBindings found in placement namespace",
      ],
    ],
    [
      "binding to a set that does not exist",
      { clusters: three, bindings: [binding("ghost")] },
      {},
      [
        "False",
        "NoManagedClusterSetBindings",
        "No valid ManagedClusterSetBindings found in placement namespace",
      ],
    ],
    [
      "binding in another namespace",
      { clusters: three, bindings: [binding("default", "elsewhere")] },
      {},
      [
        "False",
        "NoManagedClusterSetBindings",
        "No valid ManagedClusterSetBindings found in placement namespace",
      ],
    ],
    [
      "no intersection",
      { clusters: three },
      { clusterSets: ["prod", "dev"] },
      ["False", "NoIntersection", "None of ManagedClusterSets [prod,dev] is bound to placement namespace"],
    ],
    [
      "empty sets",
      { clusters: [] },
      {},
      [
        "False",
        "AllManagedClusterSetsEmpty",
        "All ManagedClusterSets [default] have no member ManagedCluster",
      ],
    ],
    [
      "only deleting clusters",
      { clusters: [cluster("a", { deleting: true })] },
      {},
      [
        "False",
        "AllManagedClusterSetsEmpty",
        "All ManagedClusterSets [default] have no member ManagedCluster",
      ],
    ],
    [
      "nothing matches",
      { clusters: three },
      { predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { x: "y" } } } }] },
      ["False", "NoManagedClusterMatched", "No ManagedCluster matches any of the cluster predicate"],
    ],
    [
      "all scheduled",
      { clusters: three },
      {},
      ["True", "AllDecisionsScheduled", "All cluster decisions scheduled"],
    ],
    [
      "exactly N",
      { clusters: three },
      { numberOfClusters: 3 },
      ["True", "AllDecisionsScheduled", "All cluster decisions scheduled"],
    ],
    [
      "too few",
      { clusters: three },
      { numberOfClusters: 5 },
      ["False", "NotAllDecisionsScheduled", "2 cluster decisions unscheduled"],
    ],
  ];
  for (const [name, objects, spec, want] of cases) {
    it(name, () => {
      const result = schedule(placement(spec), fleet(objects), { now });
      assert.deepEqual(condition(result, "PlacementSatisfied"), want);
      assert.deepEqual(condition(result, "PlacementMisconfigured"), [
        "False",
        "Succeedconfigured",
        "Placement configurations check pass",
      ]);
      // A placement always has at least one PlacementDecision.
      assert.ok(result.placementDecisions.length >= 1);
    });
  }
  it("keeps lastTransitionTime while the status does not change", () => {
    const f = fleet({ clusters: ["a"].map((n) => cluster(n)) });
    const first = schedule(placement(), f, { now });
    const p = placement();
    p.status = first.status;
    const second = schedule(p, f, { now: now + 60_000 });
    assert.deepEqual(second.status, first.status);
  });
});

describe("PlacementMisconfigured: bad input never throws and names the field", () => {
  const clusters = ["a", "b"].map((n) => cluster(n));
  const cases: [string, PlacementSpec, RegExp][] = [
    [
      "invalid label selector",
      {
        predicates: [
          {
            requiredClusterSelector: {
              labelSelector: { matchExpressions: [{ key: "k", operator: "Bogus" as "In" }] },
            },
          },
        ],
      },
      /^Predicate:spec\.predicates\[0\]\.requiredClusterSelector\.labelSelector\.matchExpressions\[0\]\.operator/,
    ],
    [
      "invalid claim selector",
      {
        predicates: [
          {
            requiredClusterSelector: { claimSelector: { matchExpressions: [{ key: "k", operator: "In" }] } },
          },
        ],
      },
      /^Predicate:spec\.predicates\[0\]\.requiredClusterSelector\.claimSelector\.matchExpressions\[0\]\.values/,
    ],
    [
      "CEL compile error",
      {
        predicates: [{ requiredClusterSelector: { celSelector: { celExpressions: ["managedCluster.("] } } }],
      },
      /^Predicate:compilation failed: .*celExpressions\[0\]\)$/,
    ],
    [
      "unknown prioritizer",
      {
        prioritizerPolicy: {
          configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "Fastest" as "Balance" } }],
        },
      },
      /^PrioritizerPolicy:incorrect builtin prioritizer: Fastest \(spec\.prioritizerPolicy\.configurations\[0\]\.scoreCoordinate\.builtIn\)$/,
    ],
    [
      "AddOn without addOn",
      { prioritizerPolicy: { configurations: [{ scoreCoordinate: { type: "AddOn" } }] } },
      /^PrioritizerPolicy:addOn should not be empty/,
    ],
    [
      "bad mode",
      { prioritizerPolicy: { mode: "Sometimes" as "Exact" } },
      /^PrioritizerPolicy:incorrect prioritizer policy mode: Sometimes/,
    ],
    [
      "bad toleration",
      { tolerations: [{ value: "x" }] },
      /^TaintToleration:If the key is empty, operator must be Exists\./,
    ],
    [
      "bad spread constraint",
      { spreadPolicy: { spreadConstraints: [{ topologyKey: "zone", topologyKeyType: "Node" as "Label" }] } },
      /^Spread:spec\.spreadPolicy\.spreadConstraints\[0\]\.topologyKeyType/,
    ],
    ["negative numberOfClusters", { numberOfClusters: -1 }, /^Placement:spec\.numberOfClusters/],
  ];
  for (const [name, spec, message] of cases) {
    it(name, () => {
      const result = schedule(placement(spec), fleet({ clusters }), { now, explain: true });
      const misconfigured = condition(result, "PlacementMisconfigured");
      assert.equal(misconfigured?.[0], "True");
      assert.equal(misconfigured?.[1], "Misconfigured");
      assert.match(misconfigured[2]!, message);
      assert.equal(result.status.numberOfSelectedClusters, 0);
      assert.deepEqual(decided(result), []);
      assert.equal(result.placementDecisions.length, 1);
      assert.ok(result.clusters?.every((c) => !c.selected && c.filteredBy !== null));
    });
  }
  // OCM applies the decision strategy after scheduling: when it cannot be applied, the placement
  // keeps its count of scheduled clusters but only the groups formed before the problem are
  // written, and there is no empty fallback group.
  const strategyCases: [string, PlacementSpec, RegExp, string[][], string][] = [
    [
      "bad clustersPerDecisionGroup",
      { decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: "lots" } } },
      /^DecisionStrategy:spec\.decisionStrategy\.groupStrategy\.clustersPerDecisionGroup/,
      [],
      "AllDecisionsScheduled",
    ],
    [
      "bad group selector",
      {
        decisionStrategy: {
          groupStrategy: {
            decisionGroups: [
              { groupName: "first", groupClusterSelector: { labelSelector: { matchLabels: { a: "1" } } } },
              {
                groupName: "g",
                groupClusterSelector: { labelSelector: { matchExpressions: [{ key: "k", operator: "In" }] } },
              },
            ],
          },
        },
      },
      /^DecisionStrategy:spec\.decisionStrategy\.groupStrategy\.decisionGroups\[1\]\.groupClusterSelector\.labelSelector/,
      [["a"]],
      "AllDecisionsScheduled",
    ],
    [
      "a bad clustersPerDecisionGroup wins over a bad toleration",
      {
        tolerations: [{ value: "x" }],
        decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: "3" } },
      },
      /^DecisionStrategy:spec\.decisionStrategy\.groupStrategy\.clustersPerDecisionGroup/,
      [],
      "NoManagedClusterMatched",
    ],
  ];
  for (const [name, spec, message, written, satisfied] of strategyCases) {
    it(name, () => {
      const labelled = [cluster("a", { labels: { a: "1" } }), cluster("b")];
      const result = schedule(placement(spec), fleet({ clusters: labelled }), { now, explain: true });
      const misconfigured = condition(result, "PlacementMisconfigured");
      assert.equal(misconfigured?.[1], "Misconfigured");
      assert.match(misconfigured[2]!, message);
      assert.equal(condition(result, "PlacementSatisfied")?.[1], satisfied);
      assert.equal(result.status.numberOfSelectedClusters, satisfied === "AllDecisionsScheduled" ? 2 : 0);
      assert.deepEqual(
        result.placementDecisions.map((pd) => pd.status?.decisions.map((d) => d.clusterName)),
        written,
      );
      assert.deepEqual(
        result.clusters?.filter((c) => c.selected).map((c) => c.name),
        written.flat(),
      );
    });
  }
  it("a misconfigured placement does not affect another one", () => {
    const f = fleet({ clusters });
    schedule(placement({ tolerations: [{ value: "x" }] }, "bad"), f, { now });
    assert.deepEqual(decided(schedule(placement({}, "good"), f, { now })), ["a", "b"]);
  });
});

describe("selection", () => {
  it("top N by score, then name; decisions listed by name", () => {
    const clusters = ["d", "c", "b", "a"].map((n) => cluster(n));
    // Balance: a is used twice elsewhere, b once → a -100, b 0, c and d 100; Steady 0.
    const f = fleet({ clusters, decisions: [decision("x", ["a", "b"], "ns1"), decision("y", ["a"], "ns2")] });
    const result = schedule(placement({ numberOfClusters: 3 }), f, { now });
    assert.deepEqual(decided(result), ["b", "c", "d"]);
    assert.deepEqual(
      result.placementDecisions[0]!.status!.decisions.map((d) => d.score),
      [undefined, 100, 100],
    );
  });
  it("sortBy Score lists decisions by score, highest first", () => {
    const clusters = ["a", "b", "c"].map((n) => cluster(n));
    const f = fleet({ clusters, decisions: [decision("x", ["a", "a", "b"], "ns1")] });
    const result = schedule(placement({ sortBy: "Score" }), f, { now });
    assert.deepEqual(decided(result), ["c", "b", "a"]);
  });
  it("Steady keeps existing decisions", () => {
    const clusters = ["a", "b", "c"].map((n) => cluster(n));
    const f = fleet({ clusters, decisions: [decision("p1", ["c"])] });
    assert.deepEqual(decided(schedule(placement({ numberOfClusters: 1 }), f, { now })), ["c"]);
  });
  it("an untolerated PreferNoSelect taint ranks a cluster last without filtering it", () => {
    const clusters = [
      cluster("a", {
        taints: [{ key: "spot", effect: "PreferNoSelect", timeAdded: "2026-01-01T00:00:00Z" }],
      }),
      cluster("b"),
      cluster("c"),
    ];
    const f = fleet({ clusters, decisions: [decision("x", ["b", "c"], "ns1")] });
    const two = schedule(placement({ numberOfClusters: 2 }), f, { now, explain: true });
    assert.deepEqual(decided(two), ["b", "c"]);
    assert.deepEqual(two.clusters?.[0]?.preferNoSelect, ["spot=:PreferNoSelect"]);
    assert.deepEqual(decided(schedule(placement({ numberOfClusters: 3 }), f, { now })), ["a", "b", "c"]);
    const tolerated = schedule(
      placement({ numberOfClusters: 2, tolerations: [{ key: "spot", operator: "Exists" }] }),
      f,
      { now },
    );
    assert.deepEqual(decided(tolerated), ["a", "b"]);
  });
  it("requeues at the earliest toleration expiry and drops the cluster after it", () => {
    const added = "2026-06-01T11:55:00Z";
    const clusters = [
      cluster("a", { taints: [{ key: "maint", effect: "NoSelect", timeAdded: added }] }),
      cluster("b"),
    ];
    const spec: PlacementSpec = {
      tolerations: [{ key: "maint", operator: "Exists", tolerationSeconds: 600 }],
    };
    const before = schedule(placement(spec), fleet({ clusters }), { now });
    assert.deepEqual(decided(before), ["a", "b"]);
    assert.equal(before.requeueAt, Date.parse(added) + 600_000);
    const after = schedule(placement(spec), fleet({ clusters }), { now: before.requeueAt });
    assert.deepEqual(decided(after), ["b"]);
    assert.equal(after.requeueAt, undefined);
  });
  it("expired add-on scores still produce decisions, with a warning", () => {
    const clusters = ["a", "b"].map((n) => cluster(n));
    const f = fleet({
      clusters,
      scores: [
        addOnScore("b", "gpu", { free: 80 }, "2026-01-01T00:00:00Z"),
        addOnScore("a", "gpu", { free: 20 }),
      ],
    });
    const result = schedule(
      placement({
        numberOfClusters: 1,
        prioritizerPolicy: {
          mode: "Exact",
          configurations: [
            { scoreCoordinate: { type: "AddOn", addOn: { resourceName: "gpu", scoreName: "free" } } },
          ],
        },
      }),
      f,
      { now },
    );
    assert.deepEqual(decided(result), ["a"]);
    assert.equal(result.warning, "AddOnPlacementScores b/gpu expired");
  });
  it("sets: LabelSelector sets, the global set, a nil selector and spec.clusterSets", () => {
    const clusters = [
      cluster("a", { set: "one", labels: { env: "prod" } }),
      cluster("b", { set: "two" }),
      cluster("c", { set: "two" }),
    ];
    const sets = [
      clusterSet("one"),
      clusterSet("two"),
      clusterSet("prod", {
        clusterSelector: { selectorType: "LabelSelector", labelSelector: { matchLabels: { env: "prod" } } },
      }),
      clusterSet("global", { clusterSelector: { selectorType: "LabelSelector", labelSelector: {} } }),
      clusterSet("nil", { clusterSelector: { selectorType: "LabelSelector" } }),
    ];
    const run = (bound: string[], spec: PlacementSpec = {}) =>
      decided(
        schedule(
          placement(spec),
          fleet({ clusters, clusterSets: sets, bindings: bound.map((s) => binding(s)) }),
          { now },
        ),
      );
    assert.deepEqual(run(["two"]), ["b", "c"]);
    assert.deepEqual(run(["prod"]), ["a"]);
    assert.deepEqual(run(["global"]), ["a", "b", "c"]);
    assert.deepEqual(run(["nil"]), []);
    assert.deepEqual(run(["one", "two"], { clusterSets: ["one"] }), ["a"]);
  });
  it("decision reasons say which predicate matched and which taints were tolerated", () => {
    const clusters = [
      cluster("a", { labels: { gpu: "yes" }, taints: [{ key: "gpu", value: "a100", effect: "NoSelect" }] }),
    ];
    const result = schedule(
      placement({
        predicates: [
          { requiredClusterSelector: { labelSelector: { matchLabels: { gpu: "no" } } } },
          { requiredClusterSelector: { labelSelector: { matchLabels: { gpu: "yes" } } } },
        ],
        tolerations: [{ key: "gpu", operator: "Exists" }],
      }),
      fleet({ clusters }),
      { now },
    );
    assert.equal(
      result.placementDecisions[0]!.status!.decisions[0]!.reason,
      "predicates[1] matched; tolerates gpu=a100:NoSelect",
    );
  });
});

describe("explanation", () => {
  it("lists every candidate in name order with the filter or the scores", () => {
    const clusters = [
      cluster("cluster3", { taints: [{ key: "key1", value: "value1", effect: "NoSelect" }] }),
      cluster("cluster1"),
      cluster("cluster2"),
      cluster("other", { set: "elsewhere" }),
    ];
    const f = fleet({
      clusters,
      decisions: [decision("p1", ["cluster1"]), decision("x", ["cluster2"], "ns")],
    });
    const result = schedule(placement(), f, { now, explain: true });
    assert.deepEqual(result.clusters, [
      {
        name: "cluster1",
        selected: true,
        filteredBy: null,
        scores: { Balance: 100, Steady: 100 },
        weights: { Balance: 1, Steady: 1 },
        total: 200,
        preferNoSelect: [],
      },
      {
        name: "cluster2",
        selected: true,
        filteredBy: null,
        scores: { Balance: -100, Steady: 0 },
        weights: { Balance: 1, Steady: 1 },
        total: -100,
        preferNoSelect: [],
      },
      {
        name: "cluster3",
        selected: false,
        filteredBy: { plugin: "TaintToleration", reason: "taint key1=value1:NoSelect is not tolerated" },
        scores: {},
        weights: {},
        total: 0,
        preferNoSelect: [],
      },
    ]);
    assert.deepEqual(result.placementDecisions[0]!.status!.decisions, [
      { clusterName: "cluster1", reason: "feasible and among the highest scored", score: 200 },
      { clusterName: "cluster2", reason: "feasible and among the highest scored", score: -100 },
    ]);
  });
});
