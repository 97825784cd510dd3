import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PrioritizerPolicy } from "../../../api/types/placement.ts";
import { PlacementCel } from "../cel/environment.ts";
import { addOnScores } from "./addon.ts";
import { balance, balanceScore } from "./balance.ts";
import { resourceAllocatable, resourceScore } from "./resource.ts";
import { steady } from "./steady.ts";
import {
  addOnScore,
  cluster,
  decision,
  fleet,
  now,
  placement,
} from "../../../test/support/placement-fixtures.ts";
import type { PluginContext } from "./types.ts";
import { prioritizerWeights } from "./weights.ts";

function context(f: ReturnType<typeof fleet>, own: string[] = []): PluginContext {
  return {
    placement: placement(),
    namespace: "default",
    name: "p1",
    fleet: f,
    now,
    cel: new PlacementCel(),
    explain: false,
    ownDecisions: new Set(own),
  };
}

describe("Balance score (truncation before doubling)", () => {
  const cases: [number, number, number][] = [
    [0, 3, 100],
    [3, 3, -100],
    [1, 2, 0],
    [1, 3, 32],
    [2, 3, -32],
    [1, 4, 50],
    [3, 4, -50],
    [1, 7, 70],
    [5, 7, -42],
  ];
  for (const [count, max, want] of cases)
    it(`${count} of ${max} → ${want}`, () => assert.equal(balanceScore(count, max), want));
});

describe("Balance prioritizer", () => {
  it("counts other placements' decisions everywhere and skips its own", () => {
    const clusters = ["a", "b", "c", "d"].map((n) => cluster(n));
    const f = fleet({
      clusters,
      decisions: [
        decision("other", ["a", "b"], "team-x"),
        decision("other2", ["a", "b"], "team-y"),
        decision("other3", ["a"], "default"),
        // This placement's own decisions do not count...
        decision("p1", ["c", "a"], "default"),
        // ...but a placement of the same name in another namespace does.
        decision("p1", ["c"], "team-z"),
      ],
    });
    const { scores } = balance(context(f), clusters);
    // counts a=3 (max), b=2, c=1, d=0
    assert.deepEqual([...scores], [-100, -32, 32, 100]);
  });
});

describe("Steady prioritizer", () => {
  it("100 for clusters already decided by this placement", () => {
    const clusters = ["a", "b"].map((n) => cluster(n));
    assert.deepEqual([...steady(context(fleet({ clusters }), ["b"]), clusters).scores], [0, 100]);
  });
});

describe("ResourceAllocatable score (float truncation)", () => {
  const cases: [number, number, number, number][] = [
    // alloc, min, max, want
    [80, 30, 80, 100],
    [30, 30, 80, -100],
    [55, 30, 80, 0],
    [80, 50, 100, 19], // (0.6 - 0.5) * 200 = 19.999… in float64
    [60, 50, 100, -60],
    [70, 50, 100, -19], // -19.999… truncates toward zero
    [90, 50, 100, 60],
    [4, 4, 4, 100],
    [1, 0, 3, -33],
    [2, 0, 3, 33],
  ];
  for (const [alloc, min, max, want] of cases) {
    it(`${alloc} in [${min}, ${max}] → ${want}`, () => assert.equal(resourceScore(alloc, min, max), want));
  }
});

describe("ResourceAllocatable prioritizers", () => {
  it("scales between the least and the most, skipping clusters without capacity", () => {
    const clusters = [
      cluster("a", { allocatable: { cpu: "3800m", memory: "8Gi" } }),
      cluster("b", { allocatable: { cpu: "8", memory: "16Gi" } }),
      cluster("c", { allocatable: { cpu: "4", memory: "12Gi" } }),
      cluster("d", { allocatable: { cpu: "100" }, capacity: {} }),
      cluster("e"),
    ];
    const ctx = context(fleet({ clusters }));
    assert.deepEqual([...resourceAllocatable("cpu")(ctx, clusters).scores], [-100, 100, -90, 0, 0]);
    assert.deepEqual([...resourceAllocatable("memory")(ctx, clusters).scores], [-100, 100, 0, 0, 0]);
  });
  it("every qualifying cluster scores 100 when all are equal", () => {
    const clusters = [
      cluster("a", { allocatable: { cpu: "2" } }),
      cluster("b", { allocatable: { cpu: "2000m" } }),
    ];
    assert.deepEqual(
      [...resourceAllocatable("cpu")(context(fleet({ clusters })), clusters).scores],
      [100, 100],
    );
  });
});

describe("AddOn prioritizer", () => {
  const clusters = ["a", "b", "c", "d"].map((n) => cluster(n));
  const later = "2026-06-01T13:00:00Z";
  const f = fleet({
    clusters,
    scores: [
      addOnScore("a", "load", { cpu: 70, mem: 5 }),
      addOnScore("b", "load", { mem: 5 }),
      addOnScore("c", "load", { cpu: 90 }, "2026-06-01T11:00:00Z"),
      addOnScore("d", "load", { cpu: -40 }, later),
    ],
  });
  it("reads the score, 0 when missing, 0 and a Warning when expired", () => {
    const result = addOnScores({ resourceName: "load", scoreName: "cpu" })(context(f), clusters);
    assert.deepEqual([...result.scores], [70, 0, 0, -40]);
    assert.equal(result.warning, "AddOnPlacementScores c/load expired");
    assert.equal(result.requeueAt, Date.parse(later) + 1000);
  });
  it("no Warning when nothing expired", () => {
    const result = addOnScores({ resourceName: "load", scoreName: "cpu" })(
      { ...context(f), now: Date.parse("2026-06-01T10:00:00Z") },
      clusters,
    );
    assert.deepEqual([...result.scores], [70, 0, 90, -40]);
    assert.equal(result.warning, undefined);
  });
});

describe("prioritizer weights", () => {
  const names = (policy: PrioritizerPolicy | undefined, spread = false) => {
    const result = prioritizerWeights(
      placement({
        ...(policy ? { prioritizerPolicy: policy } : {}),
        ...(spread
          ? { spreadPolicy: { spreadConstraints: [{ topologyKey: "zone", topologyKeyType: "Label" }] } }
          : {}),
      }),
    );
    return result.ok ? result.prioritizers.map((p) => `${p.name}:${p.weight}`) : result.misconfigured;
  };
  const cases: [string, PrioritizerPolicy | undefined, boolean, unknown][] = [
    ["default is Additive Balance+Steady", undefined, false, ["Balance:1", "Steady:1"]],
    ["empty mode is Additive", { mode: "" }, false, ["Balance:1", "Steady:1"]],
    ["Exact with nothing", { mode: "Exact" }, false, []],
    [
      "Additive overrides and adds",
      {
        mode: "Additive",
        configurations: [
          { scoreCoordinate: { type: "BuiltIn", builtIn: "Steady" }, weight: 3 },
          { scoreCoordinate: { type: "AddOn", addOn: { resourceName: "r", scoreName: "s" } }, weight: -2 },
        ],
      },
      false,
      ["Balance:1", "Steady:3", "AddOn/r/s:-2"],
    ],
    [
      "the same AddOn score twice is two prioritizers (OCM keys weights by the coordinate's addOn pointer)",
      {
        configurations: [
          { scoreCoordinate: { type: "AddOn", addOn: { resourceName: "r", scoreName: "s" } }, weight: -8 },
          { scoreCoordinate: { type: "AddOn", addOn: { resourceName: "r", scoreName: "s" } }, weight: 7 },
        ],
      },
      false,
      ["Balance:1", "Steady:1", "AddOn/r/s:-8", "AddOn/r/s:7"],
    ],
    [
      "the same builtIn twice: the last one wins",
      {
        mode: "Exact",
        configurations: [
          { scoreCoordinate: { type: "BuiltIn", builtIn: "ResourceAllocatableCPU" }, weight: 4 },
          { scoreCoordinate: { type: "BuiltIn", builtIn: "ResourceAllocatableCPU" }, weight: -3 },
        ],
      },
      false,
      ["ResourceAllocatableCPU:-3"],
    ],
    [
      "weight 0 disables",
      { configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "Balance" }, weight: 0 }] },
      false,
      ["Steady:1"],
    ],
    [
      "default weight is 1",
      {
        mode: "Exact",
        configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "ResourceAllocatableCPU" } }],
      },
      false,
      ["ResourceAllocatableCPU:1"],
    ],
    [
      "unknown builtIn with weight 0 is ignored",
      { configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "Nope" as "Balance" }, weight: 0 }] },
      false,
      ["Balance:1", "Steady:1"],
    ],
    ["spreadConstraints add Spread in Additive mode", undefined, true, ["Balance:1", "Steady:1", "Spread:1"]],
    ["but not in Exact mode", { mode: "Exact" }, true, []],
    [
      "unknown builtIn",
      {
        configurations: [
          { scoreCoordinate: { type: "BuiltIn", builtIn: "Cheapest" as "Balance" }, weight: 2 },
        ],
      },
      false,
      {
        plugin: "PrioritizerPolicy",
        message:
          "incorrect builtin prioritizer: Cheapest (spec.prioritizerPolicy.configurations[0].scoreCoordinate.builtIn)",
      },
    ],
    [
      "AddOn without addOn",
      { configurations: [{ scoreCoordinate: { type: "AddOn" } }] },
      false,
      {
        plugin: "PrioritizerPolicy",
        message: "addOn should not be empty (spec.prioritizerPolicy.configurations[0].scoreCoordinate.addOn)",
      },
    ],
    [
      "bad mode",
      { mode: "Random" as "Exact" },
      false,
      {
        plugin: "PrioritizerPolicy",
        message: "incorrect prioritizer policy mode: Random (spec.prioritizerPolicy.mode)",
      },
    ],
    [
      "missing scoreCoordinate",
      { configurations: [{ weight: 1 } as never] },
      false,
      {
        plugin: "PrioritizerPolicy",
        message: "scoreCoordinate field is required (spec.prioritizerPolicy.configurations[0])",
      },
    ],
  ];
  for (const [name, policy, spread, want] of cases)
    it(name, () => assert.deepEqual(names(policy, spread), want));
});
