import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cluster, fleet } from "../../../test/support/placement-fixtures.ts";

describe("FleetIndex.celView", () => {
  const cases: [string, Record<string, string>, Record<string, string>][] = [
    ["an exponent", { cpu: "1e1" }, { cpu: "10" }],
    ["a fraction", { cpu: "1.5" }, { cpu: "1500m" }],
    ["a binary amount that fits a larger suffix", { memory: "16384Mi" }, { memory: "16Gi" }],
    ["a decimal amount that fits a larger suffix", { memory: "3000M" }, { memory: "3G" }],
    ["text that is no quantity stays", { cpu: "lots" }, { cpu: "lots" }],
  ];
  for (const [name, allocatable, want] of cases) {
    it(`reads quantities in canonical form, as OCM's typed cluster does: ${name}`, () => {
      const c = cluster("a", { allocatable });
      const view = fleet({ clusters: [c] }).celView(c);
      assert.deepEqual(view.status?.allocatable, want);
      assert.deepEqual(view.status?.capacity, want);
      assert.deepEqual(c.status?.allocatable, allocatable, "the cluster itself is left alone");
    });
  }

  it("a cluster whose quantities are canonical is its own view, and views are kept", () => {
    const canonical = cluster("a", { allocatable: { cpu: "4", memory: "16Gi" } });
    const other = cluster("b", { allocatable: { cpu: "0.5" } });
    const index = fleet({ clusters: [canonical, other] });
    assert.equal(index.celView(canonical), canonical);
    assert.notEqual(index.celView(other), other);
    assert.equal(index.celView(other), index.celView(other));
  });
});
