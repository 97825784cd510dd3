import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffMs, exponentialDelay, nextSlotDelayMs } from "./backoff.ts";

describe("exponentialDelay and backoffMs", () => {
  it("doubles from the base up to the cap, stretched by the jitter", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 10].map((failures) => exponentialDelay(failures, 100, 1000)),
      [100, 200, 400, 800, 1000],
    );
    assert.equal(
      backoffMs(2, 100, 1000, () => 0.5, 0.2),
      220,
    );
  });
});

describe("nextSlotDelayMs", () => {
  const cases: { now: number; phase: number; window: number; minimum?: number; wait: number }[] = [
    // Before the slot in this window: wait for it.
    { now: 60_000, phase: 15_000, window: 60_000, wait: 15_000 },
    { now: 61_000, phase: 15_000, window: 60_000, wait: 14_000 },
    // Past it: the next window's.
    { now: 76_000, phase: 15_000, window: 60_000, wait: 59_000 },
    // Right on it: now.
    { now: 75_000, phase: 15_000, window: 60_000, wait: 0 },
    // A minimum that passes the slot moves to the next one.
    { now: 74_900, phase: 15_000, window: 60_000, minimum: 250, wait: 60_100 },
    { now: 74_000, phase: 15_000, window: 60_000, minimum: 250, wait: 1_000 },
    // A clock before the epoch's window boundary still lands on the phase.
    { now: 5, phase: 10, window: 100, wait: 5 },
  ];
  for (const { now, phase, window, minimum, wait } of cases)
    it(`at ${now} with phase ${phase} of ${window} (minimum ${minimum ?? 0}): waits ${wait}`, () => {
      const delay = nextSlotDelayMs(now, phase, window, minimum);
      assert.equal(delay, wait);
      assert.equal((now + delay) % window, phase, "lands on the phase");
      assert.ok(delay >= (minimum ?? 0) && delay < (minimum ?? 0) + window);
    });

  it("spreads processes with spread phases evenly over one window, however long the outage", () => {
    const window = 60_000;
    const phases = Array.from({ length: 600 }, (_, i) => i * 100);
    for (const outageEnd of [3_000, 185_432, 3_600_000]) {
      const perTenSeconds = new Array<number>(6).fill(0);
      for (const phase of phases) {
        // Each process retries in its slot until the server is back.
        let at = 0;
        while (at < outageEnd) at += nextSlotDelayMs(at, phase, window, 250);
        assert.ok(at - outageEnd < window + 250, `back within a window: ${at - outageEnd}`);
        perTenSeconds[Math.floor(((at - outageEnd) / 10_000) % 6)]!++;
      }
      for (const count of perTenSeconds)
        assert.ok(count >= 95 && count <= 105, `${perTenSeconds.join(", ")}`);
    }
  });
});
