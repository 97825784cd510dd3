// Cases on which OCM's own placement controller (v1.0.0) and this scheduler once disagreed, found
// by the placement differential (test/compat/placement-differential.test.ts). Each case in
// ocm-differential.json holds a small fleet, a Placement and what OCM's controller wrote; the
// compatibility suite replays every case through OCM to keep the recorded answers OCM's.
// Differences bosun makes on purpose (condition messages that name the field, PreferNoSelect
// ranking) are allowed and named.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DeliberateDifferences,
  deliberateDifference,
  outcomeDifferences,
  placementOutcome,
  withoutPreferNoSelect,
} from "../../../test/compat/support/placement-outcome.ts";
import { expandCase, loadRecordedCases } from "../../../test/compat/support/placement-cases.ts";
import { now } from "../../../test/support/placement-fixtures.ts";
import { FleetIndex, type FleetObjects } from "./fleet.ts";
import { schedule } from "./scheduler.ts";
import type { Placement } from "../../../api/types/placement.ts";

function outcome(placement: Placement, fleet: FleetObjects) {
  const result = schedule(placement, new FleetIndex(fleet), { now });
  return placementOutcome(result.status, result.placementDecisions);
}

describe("agreement with OCM's placement controller", () => {
  const cases = loadRecordedCases();
  it("has recorded cases", () => assert.ok(cases.length > 0));
  for (const recorded of cases) {
    it(`${recorded.name}: ${recorded.finding}`, () => {
      const ocm = recorded.ocm;
      assert.ok(
        ocm,
        "the case has no recorded answer yet: record OCM's (bench/placement-differential.ts --replay)",
      );
      const { fleet, placement } = expandCase(recorded);
      const bosun = outcome(placement, fleet);
      const differences = outcomeDifferences(ocm, bosun);
      if (differences.length === 0) return;
      const deliberate = deliberateDifference(ocm, bosun, () =>
        outcome(placement, withoutPreferNoSelect(fleet)),
      );
      assert.ok(
        deliberate !== undefined && Object.values(DeliberateDifferences).includes(deliberate as never),
        `bosun differs from OCM:\n  ${differences.join("\n  ")}`,
      );
    });
  }
});
