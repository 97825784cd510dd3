import assert from "node:assert/strict";
import { setImmediate as flush } from "node:timers/promises";
import { describe, it } from "node:test";
import { ManualClock } from "../test/support/manual-clock.ts";
import { backoffMs } from "./backoff.ts";
import { ChangeNotifier, delay, delayUntil } from "./wait.ts";

async function state(promise: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let result: "pending" | "resolved" | "rejected" = "pending";
  promise.then(
    () => (result = "resolved"),
    () => (result = "rejected"),
  );
  for (let i = 0; i < 5; i++) await flush();
  return result;
}

describe("delay", () => {
  it("resolves when the clock reaches the delay", async () => {
    const clock = new ManualClock();
    const waiting = delay(clock, 1000, new AbortController().signal);
    clock.advance(999);
    assert.equal(await state(waiting), "pending");
    clock.advance(1);
    assert.equal(await state(waiting), "resolved");
  });

  it("rejects at once when aborted, and cancels its timer", async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    const waiting = delay(clock, 1000, abort.signal);
    abort.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    assert.deepEqual(clock.pendingDelays, []);
  });
});

describe("delayUntil", () => {
  it("waits in steps no longer than a Node timer can hold", async () => {
    const clock = new ManualClock(0);
    const target = 2 ** 31 + 5000;
    const waiting = delayUntil(clock, target, new AbortController().signal);
    await flush();
    assert.deepEqual(clock.pendingDelays, [2 ** 31 - 1]);
    clock.advance(2 ** 31 - 1);
    await flush();
    assert.deepEqual(clock.pendingDelays, [5001]);
    clock.advance(5001);
    assert.equal(await state(waiting), "resolved");
  });

  it("rejects when aborted even if the time has already come", async () => {
    const clock = new ManualClock(10_000);
    const abort = new AbortController();
    abort.abort(new Error("stopped"));
    await assert.rejects(delayUntil(clock, 5_000, abort.signal), /stopped/);
  });
});

describe("ChangeNotifier", () => {
  it("wakes every waiter on notify", async () => {
    const clock = new ManualClock();
    const changes = new ChangeNotifier();
    const signal = new AbortController().signal;
    const a = changes.wait(clock, signal);
    const b = changes.wait(clock, signal, 60_000);
    assert.equal(await state(a), "pending");
    changes.notify();
    assert.equal(await state(a), "resolved");
    assert.equal(await state(b), "resolved");
    assert.deepEqual(clock.pendingDelays, [], "the timeout is cancelled");
  });

  it("gives up waiting after the timeout, and rejects on abort", async () => {
    const clock = new ManualClock();
    const changes = new ChangeNotifier();
    const timed = changes.wait(clock, new AbortController().signal, 500);
    clock.advance(500);
    assert.equal(await state(timed), "resolved");
    const abort = new AbortController();
    const aborted = changes.wait(clock, abort.signal);
    abort.abort(new Error("bye"));
    await assert.rejects(aborted, /bye/);
  });
});

describe("backoffMs", () => {
  it("doubles from the base up to the maximum, stretched by up to 20%", () => {
    assert.equal(
      backoffMs(1, 1000, 60_000, () => 0),
      1000,
    );
    assert.equal(
      backoffMs(3, 1000, 60_000, () => 0),
      4000,
    );
    assert.equal(
      backoffMs(30, 1000, 60_000, () => 0),
      60_000,
    );
    assert.equal(
      backoffMs(1, 1000, 60_000, () => 1),
      1200,
    );
  });
});
