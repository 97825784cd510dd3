import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jittered } from "./jitter.ts";

describe("jittered", () => {
  it("stretches the duration by the factor times the random draw", () => {
    assert.equal(
      jittered(1000, 0.1, () => 0),
      1000,
    );
    assert.equal(
      jittered(1000, 0.1, () => 0.5),
      1050,
    );
    assert.equal(
      jittered(1000, 0.25, () => 0.5),
      1125,
    );
  });

  it("stays within [ms, ms * (1 + factor)) with the default random source", () => {
    for (let draw = 0; draw < 1000; draw++) {
      const value = jittered(2000, 0.2);
      assert.ok(value >= 2000 && value < 2400, `${value}`);
    }
  });

  it("leaves the duration alone with a factor of 0", () => {
    assert.equal(
      jittered(1000, 0, () => 0.9),
      1000,
    );
  });

  it("rejects negative or non-finite durations and factors", () => {
    assert.throws(() => jittered(-1, 0.1), RangeError);
    assert.throws(() => jittered(Number.POSITIVE_INFINITY, 0.1), RangeError);
    assert.throws(() => jittered(1000, -0.1), RangeError);
    assert.throws(() => jittered(1000, Number.NaN), RangeError);
  });
});
