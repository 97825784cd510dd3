import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlacementSpec, SpreadConstraint } from "../../../api/types/placement.ts";
import { schedule, type ScheduleResult } from "./scheduler.ts";
import { cluster, fleet, now, placement } from "../../../test/support/placement-fixtures.ts";

function decided(result: ScheduleResult): string[] {
  return result.placementDecisions.flatMap((pd) => pd.status?.decisions.map((d) => d.clusterName) ?? []);
}

// Zone a holds four clusters, zone b two, zone c one; x has no zone label.
const clusters = [
  cluster("a1", { labels: { zone: "a" }, claims: { region: "eu" } }),
  cluster("a2", { labels: { zone: "a" }, claims: { region: "eu" } }),
  cluster("a3", { labels: { zone: "a" }, claims: { region: "us" } }),
  cluster("a4", { labels: { zone: "a" }, claims: { region: "us" } }),
  cluster("b1", { labels: { zone: "b" }, claims: { region: "eu" } }),
  cluster("b2", { labels: { zone: "b" }, claims: { region: "us" } }),
  cluster("c1", { labels: { zone: "c" }, claims: { region: "eu" } }),
  cluster("x1", { claims: { region: "eu" } }),
];

function run(spec: PlacementSpec, explain = false): ScheduleResult {
  return schedule(placement(spec), fleet({ clusters }), { now, explain });
}

const zone = (extra: Partial<SpreadConstraint> = {}): SpreadConstraint => ({
  topologyKey: "zone",
  topologyKeyType: "Label",
  ...extra,
});

describe("spreadPolicy", () => {
  const cases: [string, PlacementSpec, string[]][] = [
    // Without spread, names break the tie between equal scores.
    ["no spread: by name", { numberOfClusters: 3 }, ["a1", "a2", "a3"]],
    [
      "ScheduleAnyway spreads over zones",
      { numberOfClusters: 3, spreadPolicy: { spreadConstraints: [zone()] } },
      ["a1", "b1", "c1"],
    ],
    [
      "ScheduleAnyway keeps going once zones run out",
      { numberOfClusters: 6, spreadPolicy: { spreadConstraints: [zone()] } },
      ["a1", "a2", "a3", "b1", "b2", "c1"],
    ],
    [
      "DoNotSchedule maxSkew 1 stops when no zone may take more",
      { spreadPolicy: { spreadConstraints: [zone({ whenUnsatisfiable: "DoNotSchedule" })] } },
      ["a1", "a2", "b1", "b2", "c1"],
    ],
    [
      "DoNotSchedule maxSkew 2",
      { spreadPolicy: { spreadConstraints: [zone({ whenUnsatisfiable: "DoNotSchedule", maxSkew: 2 })] } },
      ["a1", "a2", "a3", "b1", "b2", "c1"],
    ],
    [
      "Claim topology keys",
      {
        numberOfClusters: 2,
        spreadPolicy: { spreadConstraints: [{ topologyKey: "region", topologyKeyType: "Claim" }] },
      },
      ["a1", "a3"],
    ],
    [
      "earlier constraints dominate later ones",
      {
        numberOfClusters: 4,
        spreadPolicy: { spreadConstraints: [zone(), { topologyKey: "region", topologyKeyType: "Claim" }] },
      },
      // zones a:2 b:1 c:1, and within that regions eu:2 us:2
      ["a1", "a3", "b2", "c1"],
    ],
    [
      "Exact mode without Spread: only the hard constraints apply",
      {
        numberOfClusters: 3,
        prioritizerPolicy: { mode: "Exact" },
        spreadPolicy: { spreadConstraints: [zone({ whenUnsatisfiable: "DoNotSchedule" })] },
      },
      ["a1", "b1", "c1"],
    ],
  ];
  for (const [name, spec, want] of cases) it(name, () => assert.deepEqual(decided(run(spec)), want));

  it("explains DoNotSchedule rejections and reports the Spread score", () => {
    const result = run(
      { spreadPolicy: { spreadConstraints: [zone({ whenUnsatisfiable: "DoNotSchedule" })] } },
      true,
    );
    const byName = new Map(result.clusters!.map((c) => [c.name, c]));
    assert.deepEqual(byName.get("x1")!.filteredBy, {
      plugin: "Spread",
      reason: "missing topology key zone (Label) required by spreadConstraints[0] (DoNotSchedule)",
    });
    assert.deepEqual(byName.get("a3")!.filteredBy, {
      plugin: "Spread",
      reason: "selecting it would make the skew of zone (Label) 2, above maxSkew 1",
    });
    assert.equal(byName.get("a1")!.weights.Spread, 1);
    assert.equal(typeof byName.get("a1")!.scores.Spread, "number");
    // A satisfied placement: numberOfClusters was not set.
    assert.equal(result.status.conditions?.find((c) => c.type === "PlacementSatisfied")?.status, "True");
  });

  it("fewer than numberOfClusters because of maxSkew is NotAllDecisionsScheduled", () => {
    const result = run({
      numberOfClusters: 7,
      spreadPolicy: { spreadConstraints: [zone({ whenUnsatisfiable: "DoNotSchedule" })] },
    });
    const c = result.status.conditions?.find((x) => x.type === "PlacementSatisfied");
    assert.deepEqual(
      [c?.reason, c?.message],
      ["NotAllDecisionsScheduled", "2 cluster decisions unscheduled"],
    );
  });

  it("a configured Spread weight adds to the decision score", () => {
    const result = run({
      numberOfClusters: 2,
      prioritizerPolicy: {
        mode: "Exact",
        configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "Spread" }, weight: 2 }],
      },
      spreadPolicy: { spreadConstraints: [zone()] },
    });
    assert.deepEqual(
      result.placementDecisions[0]!.status!.decisions.map((d) => [d.clusterName, d.score]),
      [
        ["a1", 200],
        ["b1", 200],
      ],
    );
  });
});
