import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlacementSpec } from "../../api/types/placement.ts";
import {
  balanceWeight,
  generateRound,
  mulberry32,
  Random,
  steadyWeight,
  type GeneratedRound,
} from "./fleet-generator.ts";

const now = Date.parse("2026-06-01T12:00:00Z");
const rounds = Array.from({ length: 60 }, (_, i) => generateRound(i + 1, now));
const specsOf = (round: GeneratedRound): PlacementSpec[] =>
  round.placements.flatMap((p) => [p.placement.spec, ...(p.followUp ? [p.followUp] : [])]);
const allSpecs = rounds.flatMap(specsOf);

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const clustersPerGroup = /^((100|[1-9][0-9]{0,1})%|[1-9][0-9]*)$/;
const groupName = /^[a-zA-Z0-9][-A-Za-z0-9_.]{0,61}[a-zA-Z0-9]$/;

describe("mulberry32", () => {
  it("is deterministic per seed and stays in [0, 1)", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const first = Array.from({ length: 100 }, () => a());
    assert.deepEqual(
      first,
      Array.from({ length: 100 }, () => b()),
    );
    assert.notDeepEqual(
      first,
      Array.from({ length: 100 }, () => c()),
    );
    assert.ok(first.every((x) => x >= 0 && x < 1));
  });

  it("Random.int covers its inclusive range; subset keeps order", () => {
    const random = new Random(7);
    const seen = new Set(Array.from({ length: 500 }, () => random.int(2, 5)));
    assert.deepEqual([...seen].sort(), [2, 3, 4, 5]);
    const items = ["a", "b", "c", "d", "e"];
    for (let i = 0; i < 50; i++) {
      const picked = random.subset(items, 3);
      assert.equal(picked.length, 3);
      assert.deepEqual(picked, [...picked].sort());
    }
  });
});

describe("balanceWeight and steadyWeight", () => {
  const balance = { scoreCoordinate: { type: "BuiltIn" as const, builtIn: "Balance" as const } };
  const steady = { scoreCoordinate: { type: "BuiltIn" as const, builtIn: "Steady" as const } };
  const cases: [string, PlacementSpec, number, number][] = [
    ["default Additive", {}, 1, 1],
    ["Exact without them", { prioritizerPolicy: { mode: "Exact" } }, 0, 0],
    ["Additive, Balance off", { prioritizerPolicy: { configurations: [{ ...balance, weight: 0 }] } }, 0, 1],
    [
      "Exact, Steady 3",
      { prioritizerPolicy: { mode: "Exact", configurations: [{ ...steady, weight: 3 }] } },
      0,
      3,
    ],
    [
      "the last configuration wins",
      {
        prioritizerPolicy: { configurations: [{ ...balance, weight: 0 }, { ...balance, weight: 4 }, steady] },
      },
      4,
      1,
    ],
  ];
  for (const [name, spec, b, s] of cases) {
    it(name, () => {
      assert.equal(balanceWeight(spec), b);
      assert.equal(steadyWeight(spec), s);
    });
  }
});

describe("generateRound", () => {
  it("is a pure function of the seed and now", () => {
    assert.deepEqual(generateRound(5, now), generateRound(5, now));
    assert.notDeepEqual(generateRound(5, now), generateRound(6, now));
    assert.notDeepEqual(generateRound(5, now).fleet, generateRound(5, now + 3_600_000).fleet);
  });

  it("honours the cluster and placement counts", () => {
    const round = generateRound(3, now, { clusters: [101, 110], placements: 7 });
    assert.ok(round.fleet.clusters.length >= 101 && round.fleet.clusters.length <= 110);
    assert.equal(round.placements.length, 7);
  });

  it("batch placements do not use Balance, sequential ones do; follow-ups only on batch", () => {
    for (const round of rounds) {
      for (const p of round.placements) {
        assert.equal(p.kind === "batch", balanceWeight(p.placement.spec) === 0, p.placement.metadata.name);
        if (p.followUp) {
          assert.equal(p.kind, "batch");
          assert.equal(balanceWeight(p.followUp), 0);
        }
      }
    }
  });

  it("only one score resource expires, and placements that use Balance never read it", () => {
    // OCM retries a placement whose AddOn scores expired; with Balance it would decide anew.
    for (const round of rounds) {
      for (const s of round.fleet.scores) {
        if (s.status?.validUntil && Date.parse(s.status.validUntil) < now)
          assert.equal(s.metadata.name, "gpu-score");
      }
      for (const p of round.placements.filter((p) => p.kind === "sequential")) {
        const addOns = (p.placement.spec.prioritizerPolicy?.configurations ?? []).flatMap((c) =>
          c.scoreCoordinate.addOn ? [c.scoreCoordinate.addOn.resourceName] : [],
        );
        assert.ok(!addOns.includes("gpu-score"), p.placement.metadata.name);
      }
    }
  });

  it("never gives Steady a negative weight (OCM would flip its decisions on every pass)", () => {
    for (const spec of allSpecs) {
      assert.ok(steadyWeight(spec) >= 0);
      for (const c of spec.prioritizerPolicy?.configurations ?? []) {
        if (c.scoreCoordinate.builtIn === "Steady") assert.ok((c.weight ?? 1) >= 0);
      }
    }
  });

  it("writes objects the CRDs accept", () => {
    for (const round of rounds) {
      const names = round.fleet.clusters.map((c) => c.metadata.name!);
      assert.equal(new Set(names).size, names.length);
      for (const name of names) assert.match(name, dns1123Label);
      for (const b of round.bindings) assert.equal(b.metadata.name, b.spec.clusterSet);
      for (const s of [...round.fleet.scores, ...round.act2.scores]) {
        assert.ok(names.includes(s.metadata.namespace!));
        for (const item of s.status?.scores ?? []) assert.ok(item.value >= -100 && item.value <= 100);
      }
      assert.deepEqual(
        round.act2.clusters.map((c) => c.metadata.name),
        names,
      );
    }
    for (const spec of allSpecs) {
      assert.ok((spec.numberOfClusters ?? 0) >= 0);
      for (const c of spec.prioritizerPolicy?.configurations ?? []) {
        assert.ok(Number.isInteger(c.weight ?? 1) && (c.weight ?? 1) >= -10 && (c.weight ?? 1) <= 10);
      }
      for (const t of spec.tolerations ?? []) {
        if (t.key !== undefined) assert.match(t.key, qualifiedKey);
        if (t.effect !== undefined)
          assert.ok(["NoSelect", "PreferNoSelect", "NoSelectIfNew"].includes(t.effect));
      }
      const strategy = spec.decisionStrategy?.groupStrategy;
      if (strategy?.clustersPerDecisionGroup !== undefined) {
        assert.match(String(strategy.clustersPerDecisionGroup), clustersPerGroup);
      }
      for (const g of strategy?.decisionGroups ?? []) assert.match(g.groupName, groupName);
    }
  });

  it("covers every feature the differential is meant to compare", () => {
    const clusters = rounds.flatMap((r) => r.fleet.clusters);
    const taints = clusters.flatMap((c) => c.spec?.taints ?? []);
    const features: Record<string, boolean> = {
      "deleting cluster": clusters.some((c) => c.metadata.deletionTimestamp),
      "NoSelect taint": taints.some((t) => t.effect === "NoSelect"),
      "NoSelectIfNew taint": taints.some((t) => t.effect === "NoSelectIfNew"),
      "PreferNoSelect taint": taints.some((t) => t.effect === "PreferNoSelect"),
      "taint without timeAdded": taints.some((t) => t.timeAdded === null),
      "cluster without capacity": clusters.some((c) => c.status?.allocatable && !c.status.capacity?.cpu),
      "expired score": rounds.some((r) =>
        r.fleet.scores.some((s) => s.status?.validUntil && Date.parse(s.status.validUntil) < now),
      ),
      "LabelSelector set": rounds.some((r) =>
        r.clusterSets.some((s) => s.spec?.clusterSelector?.selectorType === "LabelSelector"),
      ),
      "binding to a missing set": rounds.some((r) =>
        r.bindings.some((b) => b.metadata.name === "missing-set"),
      ),
      "ghost decisions": rounds.some((r) => r.ghostDecisions.length > 0),
      "decisions before the first scheduling": rounds.some((r) =>
        r.ghostDecisions.some((d) => d.metadata.name?.endsWith("-prior")),
      ),
      "decisions labelled with a placement in another namespace": rounds.some((r) =>
        r.ghostDecisions.some((d) => d.metadata.name?.endsWith("-elsewhere")),
      ),
      "claim selector": allSpecs.some((s) =>
        s.predicates?.some((p) => p.requiredClusterSelector?.claimSelector),
      ),
      "CEL selector": allSpecs.some((s) => s.predicates?.some((p) => p.requiredClusterSelector?.celSelector)),
      "two predicates": allSpecs.some((s) => (s.predicates?.length ?? 0) > 1),
      tolerationSeconds: allSpecs.some((s) => s.tolerations?.some((t) => t.tolerationSeconds !== undefined)),
      "Exact mode": allSpecs.some((s) => s.prioritizerPolicy?.mode === "Exact"),
      "AddOn prioritizer": allSpecs.some((s) =>
        s.prioritizerPolicy?.configurations?.some((c) => c.scoreCoordinate.type === "AddOn"),
      ),
      "resource prioritizer": allSpecs.some((s) =>
        s.prioritizerPolicy?.configurations?.some((c) =>
          c.scoreCoordinate.builtIn?.startsWith("ResourceAllocatable"),
        ),
      ),
      "decision groups": allSpecs.some((s) => s.decisionStrategy?.groupStrategy?.decisionGroups?.length),
      "percentage per group": allSpecs.some((s) =>
        String(s.decisionStrategy?.groupStrategy?.clustersPerDecisionGroup).endsWith("%"),
      ),
      "numberOfClusters 0": allSpecs.some((s) => s.numberOfClusters === 0),
      "toleration misconfigured": allSpecs.some((s) =>
        s.tolerations?.some((t) => !t.key && t.operator !== "Exists"),
      ),
      "unknown mode": allSpecs.some((s) => s.prioritizerPolicy?.mode === ("Sum" as "Exact")),
      "same AddOn twice": allSpecs.some((s) => {
        const addOns = (s.prioritizerPolicy?.configurations ?? []).filter((c) => c.scoreCoordinate.addOn);
        return new Set(addOns.map((c) => JSON.stringify(c.scoreCoordinate))).size < addOns.length;
      }),
      "sequential placement": rounds.some((r) => r.placements.some((p) => p.kind === "sequential")),
      "follow-up": rounds.some((r) => r.placements.some((p) => p.followUp)),
      "act 2 adds NoSelectIfNew": rounds.some((r) =>
        r.act2.clusters.some(
          (c, i) =>
            c.spec?.taints?.some((t) => t.effect === "NoSelectIfNew") &&
            !r.fleet.clusters[i]!.spec?.taints?.some((t) => t.effect === "NoSelectIfNew"),
        ),
      ),
    };
    const missing = Object.entries(features)
      .filter(([, present]) => !present)
      .map(([name]) => name);
    assert.deepEqual(missing, []);
  });
});
