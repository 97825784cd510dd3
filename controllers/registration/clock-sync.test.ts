import assert from "node:assert/strict";
import { test } from "node:test";
import { ManagedClusterConditions } from "../../api/constants.ts";
import type { Condition } from "../../runtime/conditions.ts";
import { clockSkewThresholdMs, clockSyncUpdate, type RenewalSighting } from "./clock-sync.ts";

const seenAtMs = Date.parse("2026-01-01T00:00:00Z");
const second = 1000;

const condition = (status: Condition["status"], reason: string): Condition => ({
  type: ManagedClusterConditions.clockSynced,
  status,
  reason,
  message: "earlier",
  lastTransitionTime: "2025-12-31T00:00:00Z",
});
const synced = condition("True", "ManagedClusterClockSynced");
const outOfSync = condition("False", "ManagedClusterClockOutOfSync");

interface Case {
  name: string;
  skewSeconds: number;
  sawChange?: boolean;
  leaseDurationSeconds?: number;
  current?: Condition;
  /** Expected status and reason, or undefined for no write. */
  want?: [string, string];
  message?: RegExp;
}

const cases: Case[] = [
  { name: "same time", skewSeconds: 0, want: ["True", "ManagedClusterClockSynced"] },
  {
    name: "a renewal seen a lease duration late",
    skewSeconds: -60,
    want: ["True", "ManagedClusterClockSynced"],
  },
  { name: "just inside the threshold, ahead", skewSeconds: 299, want: ["True", "ManagedClusterClockSynced"] },
  {
    name: "at the threshold, ahead",
    skewSeconds: 300,
    want: ["False", "ManagedClusterClockOutOfSync"],
    message: /^The clock of hub and agent is out of sync\./,
  },
  {
    name: "10 minutes ahead",
    skewSeconds: 600,
    want: ["False", "ManagedClusterClockOutOfSync"],
  },
  {
    name: "10 minutes behind, seen changing",
    skewSeconds: -600,
    want: ["False", "ManagedClusterClockOutOfSync"],
  },
  {
    name: "an old renewal found at start-up says nothing",
    skewSeconds: -600,
    sawChange: false,
    current: synced,
  },
  {
    name: "an old renewal found at start-up with no condition yet writes none",
    skewSeconds: -600,
    sawChange: false,
  },
  {
    name: "a future renewal found at start-up is out of sync",
    skewSeconds: 600,
    sawChange: false,
    want: ["False", "ManagedClusterClockOutOfSync"],
  },
  {
    name: "a fresh renewal found at start-up is synced",
    skewSeconds: -10,
    sawChange: false,
    want: ["True", "ManagedClusterClockSynced"],
  },
  {
    name: "threshold follows the lease duration",
    skewSeconds: 20,
    leaseDurationSeconds: 4,
    want: ["False", "ManagedClusterClockOutOfSync"],
  },
  {
    name: "just inside a short threshold",
    skewSeconds: 19,
    leaseDurationSeconds: 4,
    want: ["True", "ManagedClusterClockSynced"],
  },
  { name: "already synced: no write", skewSeconds: 5, current: synced },
  { name: "already out of sync: no write though the skew moved", skewSeconds: 612, current: outOfSync },
  { name: "back in sync", skewSeconds: 1, current: outOfSync, want: ["True", "ManagedClusterClockSynced"] },
  {
    name: "falls out of sync",
    skewSeconds: 900,
    current: synced,
    want: ["False", "ManagedClusterClockOutOfSync"],
  },
];

for (const c of cases) {
  test(`clockSyncUpdate: ${c.name}`, () => {
    const sighting: RenewalSighting = {
      renewTimeMs: seenAtMs + c.skewSeconds * second,
      seenAtMs,
      sawChange: c.sawChange ?? true,
    };
    const update = clockSyncUpdate(sighting, c.leaseDurationSeconds ?? 60, c.current);
    if (!c.want) {
      assert.equal(update, undefined);
      return;
    }
    assert.ok(update);
    assert.equal(update.type, "ManagedClusterConditionClockSynced");
    assert.deepEqual([update.status, update.reason], c.want);
    if (c.message) assert.match(update.message ?? "", c.message);
    if (update.status === "True")
      assert.equal(update.message, "The clock of the managed cluster is synced with the hub.");
  });
}

test("clockSkewThresholdMs is 5 × the lease duration", () => {
  assert.equal(clockSkewThresholdMs(60), 300_000);
  assert.equal(clockSkewThresholdMs(4), 20_000);
});
