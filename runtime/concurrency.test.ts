import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { forEachLimited } from "./concurrency.ts";

describe("forEachLimited", () => {
  it("never has more than the limit in flight, and runs every item once", async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(item);
      inFlight--;
    });
    assert.equal(most, 3);
    assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5, 6, 7]);
  });

  it("returns each failure in its item's slot and still runs the rest", async () => {
    const ran: string[] = [];
    const errors = await forEachLimited(["a", "b", "c"], 2, (item) => {
      ran.push(item);
      return item === "b" ? Promise.reject(new Error("b failed")) : Promise.resolve();
    });
    assert.deepEqual(ran.sort(), ["a", "b", "c"]);
    assert.equal(errors[0], undefined);
    assert.match(String(errors[1]), /b failed/);
    assert.equal(errors[2], undefined);
  });

  it("refuses a limit below one", async () => {
    await assert.rejects(
      forEachLimited([1], 0, async () => {}),
      RangeError,
    );
  });
});
