import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as flushIo } from "node:timers/promises";
import { ManualClock } from "../test/support/manual-clock.ts";
import { TerminalError } from "./errors.ts";
import { exponentialDelay } from "./backoff.ts";
import { objectKey, splitKey } from "./kube/types.ts";
import { WorkQueue, type ProcessedKey, type ReconcileFunction, type WorkQueueOptions } from "./workqueue.ts";

interface Harness {
  clock: ManualClock;
  queue: WorkQueue;
  calls: string[];
  processed: ProcessedKey[];
  added: string[];
  depths: number[];
}

/** A queue on a manual clock, with no jitter unless asked, recording every call and event. */
function harness(
  reconcile: ReconcileFunction,
  options: Partial<Omit<WorkQueueOptions, "reconcile" | "clock" | "observer">> = {},
): Harness {
  const clock = new ManualClock();
  const calls: string[] = [];
  const processed: ProcessedKey[] = [];
  const added: string[] = [];
  const depths: number[] = [];
  const queue = new WorkQueue({
    clock,
    random: () => 0,
    ...options,
    reconcile: (key, signal) => {
      calls.push(key);
      return reconcile(key, signal);
    },
    observer: {
      added: (key) => added.push(key),
      depthChanged: (depth) => depths.push(depth),
      processed: (result) => processed.push(result),
    },
  });
  return { clock, queue, calls, processed, added, depths };
}

const succeed: ReconcileFunction = () => Promise.resolve();
const fail: ReconcileFunction = () => Promise.reject(new Error("boom"));

describe("objectKey and splitKey", () => {
  it("joins namespace and name with a slash, and uses the bare name for cluster-scoped objects", () => {
    assert.equal(objectKey({ metadata: { namespace: "cluster1", name: "policy-a" } }), "cluster1/policy-a");
    assert.equal(objectKey({ metadata: { name: "cluster1" } }), "cluster1");
    assert.equal(objectKey({ metadata: { namespace: "", name: "cluster1" } }), "cluster1");
  });

  it("splits a key back into namespace and name", () => {
    assert.deepEqual(splitKey("cluster1/policy-a"), { namespace: "cluster1", name: "policy-a" });
    assert.deepEqual(splitKey("cluster1"), { name: "cluster1" });
  });
});

describe("exponentialDelay", () => {
  it("doubles from the base delay with every failure", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((failures) => exponentialDelay(failures, 5, 1_000_000)),
      [5, 10, 20, 40, 80],
    );
  });

  it("stops at the cap, even after very many failures", () => {
    assert.equal(exponentialDelay(3, 5, 30), 30);
    assert.equal(exponentialDelay(10_000, 5, 1_000_000), 1_000_000);
  });
});

describe("WorkQueue", () => {
  describe("de-duplication and workers", () => {
    it("processes a key added several times before it runs only once, in the order keys were first added", async () => {
      const { queue, calls, added } = harness(succeed);
      queue.add("ns/a");
      queue.add("ns/b");
      queue.add("ns/a");
      queue.add("ns/a");
      assert.equal(queue.length, 2);
      assert.deepEqual(added, ["ns/a", "ns/b"]);
      queue.start();
      await queue.whenIdle();
      assert.deepEqual(calls, ["ns/a", "ns/b"]);
    });

    it("does not process anything before start", async () => {
      const { queue, calls } = harness(succeed);
      queue.add("ns/a");
      await flushIo();
      assert.deepEqual(calls, []);
      queue.start();
      await queue.whenIdle();
      assert.deepEqual(calls, ["ns/a"]);
    });

    it("never runs a key twice at once; adds during its run make it run exactly once more afterwards", async () => {
      const firstRunStarted = Promise.withResolvers<void>();
      const releaseFirstRun = Promise.withResolvers<void>();
      let running = 0;
      let maxRunning = 0;
      let runsOfA = 0;
      const { queue, calls, added } = harness(
        async (key) => {
          if (key !== "ns/a") return;
          runsOfA++;
          running++;
          maxRunning = Math.max(maxRunning, running);
          if (runsOfA === 1) {
            firstRunStarted.resolve();
            await releaseFirstRun.promise;
          }
          running--;
        },
        { workers: 4 },
      );
      queue.start();
      queue.add("ns/a");
      await firstRunStarted.promise;

      queue.add("ns/a");
      queue.add("ns/a");
      queue.add("ns/b");
      await flushIo();
      // Free workers took ns/b but left ns/a alone.
      assert.deepEqual(calls, ["ns/a", "ns/b"]);
      assert.equal(queue.inFlight, 1);
      assert.equal(queue.length, 0);
      assert.deepEqual(added, ["ns/a", "ns/a", "ns/b"]);

      releaseFirstRun.resolve();
      await queue.whenIdle();
      assert.deepEqual(calls, ["ns/a", "ns/b", "ns/a"]);
      assert.equal(maxRunning, 1);
    });

    it("runs at most `workers` keys at the same time", async () => {
      const releases = new Map<string, PromiseWithResolvers<void>>();
      let running = 0;
      let maxRunning = 0;
      const { queue, calls } = harness(
        async (key) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          const release = Promise.withResolvers<void>();
          releases.set(key, release);
          await release.promise;
          running--;
        },
        { workers: 2 },
      );
      queue.add("ns/a");
      queue.add("ns/b");
      queue.add("ns/c");
      queue.start();
      assert.deepEqual(calls, ["ns/a", "ns/b"]);
      assert.equal(queue.inFlight, 2);
      assert.equal(queue.length, 1);

      releases.get("ns/b")!.resolve();
      await flushIo();
      assert.deepEqual(calls, ["ns/a", "ns/b", "ns/c"]);
      releases.get("ns/a")!.resolve();
      releases.get("ns/c")!.resolve();
      await queue.whenIdle();
      assert.equal(maxRunning, 2);
    });

    it("reports the number of waiting keys as it changes", async () => {
      const { queue, depths } = harness(succeed);
      queue.add("ns/a");
      queue.add("ns/b");
      queue.add("ns/a");
      assert.deepEqual(depths, [1, 2]);
      queue.start();
      await queue.whenIdle();
      assert.equal(depths.at(-1), 0);
      assert.equal(queue.length, 0);
    });

    it("rejects a worker count below one", () => {
      assert.throws(() => harness(succeed, { workers: 0 }), RangeError);
    });
  });

  describe("backoff", () => {
    /** Runs `runs` failing attempts of `key` and returns the retry delays asked of the clock. */
    async function retryDelays({ queue, clock }: Harness, key: string, runs: number): Promise<number[]> {
      const delays: number[] = [];
      queue.add(key);
      for (let run = 0; run < runs; run++) {
        await queue.whenIdle();
        const next = clock.nextDueIn;
        assert.ok(next !== undefined, `run ${run + 1} scheduled a retry`);
        delays.push(next);
        clock.advance(next);
      }
      await queue.whenIdle();
      return delays;
    }

    it("retries a failing key with exponentially growing delays", async () => {
      const h = harness(fail);
      h.queue.start();
      assert.deepEqual(await retryDelays(h, "ns/a", 5), [5, 10, 20, 40, 80]);
      assert.deepEqual(h.clock.requestedDelays, [5, 10, 20, 40, 80, 160]);
      assert.equal(h.queue.failures("ns/a"), 6);
      assert.equal(h.calls.length, 6);
      assert.deepEqual(
        h.processed.map((p) => [p.outcome, p.failures, p.retryAfterMs]),
        [
          ["error", 1, 5],
          ["error", 2, 10],
          ["error", 3, 20],
          ["error", 4, 40],
          ["error", 5, 80],
          ["error", 6, 160],
        ],
      );
    });

    it("uses the configured base delay", async () => {
      const h = harness(fail, { backoff: { baseDelayMs: 100 } });
      h.queue.start();
      assert.deepEqual(await retryDelays(h, "ns/a", 3), [100, 200, 400]);
    });

    it("does not retry before the delay has passed", async () => {
      const { queue, clock, calls } = harness(fail);
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      clock.advance(4);
      await queue.whenIdle();
      assert.equal(calls.length, 1);
      clock.advance(1);
      await queue.whenIdle();
      assert.equal(calls.length, 2);
    });

    it("caps the delay at maxDelayMs", async () => {
      const h = harness(fail, { backoff: { baseDelayMs: 5, maxDelayMs: 30 } });
      h.queue.start();
      assert.deepEqual(await retryDelays(h, "ns/a", 5), [5, 10, 20, 30, 30]);
    });

    it("stretches the delay by a random fraction up to the jitter factor", async () => {
      const h = harness(fail, { random: () => 0.5, backoff: { jitterFactor: 0.2 } });
      h.queue.start();
      assert.deepEqual(await retryDelays(h, "ns/a", 3), [5.5, 11, 22]);
    });

    it("starts from the base delay again after a success", async () => {
      let failing = true;
      const h = harness(() => (failing ? Promise.reject(new Error("boom")) : Promise.resolve()));
      h.queue.start();
      assert.deepEqual(await retryDelays(h, "ns/a", 3), [5, 10, 20]);
      assert.equal(h.queue.failures("ns/a"), 4);

      failing = false;
      h.clock.advance(40);
      await h.queue.whenIdle();
      assert.equal(h.queue.failures("ns/a"), 0);
      assert.equal(h.clock.nextDueIn, undefined);

      failing = true;
      assert.deepEqual(await retryDelays(h, "ns/a", 1), [5]);
    });

    it("keeps a separate failure count for every key", async () => {
      const { queue, clock } = harness(fail);
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      clock.advance(5);
      await queue.whenIdle();
      queue.add("ns/b");
      await queue.whenIdle();
      assert.equal(queue.failures("ns/a"), 2);
      assert.equal(queue.failures("ns/b"), 1);
      // ns/b retries after 5 ms; ns/a after 10 ms, counted from its own failure.
      assert.deepEqual(clock.pendingDelays, [5, 10]);
      assert.deepEqual(clock.requestedDelays, [5, 10, 5]);
    });

    it("forget clears the failure count", async () => {
      const { queue } = harness(fail);
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      assert.equal(queue.failures("ns/a"), 1);
      queue.forget("ns/a");
      assert.equal(queue.failures("ns/a"), 0);
    });

    it("treats a reconcile that throws synchronously as a failure", async () => {
      const { queue, clock, processed } = harness(() => {
        throw new Error("sync");
      });
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      assert.equal(processed[0]?.outcome, "error");
      assert.deepEqual(clock.pendingDelays, [5]);
    });

    it("rejects a backoff whose cap is below its base", () => {
      assert.throws(() => harness(fail, { backoff: { baseDelayMs: 10, maxDelayMs: 5 } }), RangeError);
    });
  });

  describe("terminal errors", () => {
    it("does not retry a key whose reconcile threw a TerminalError, and forgets its failures", async () => {
      let attempt = 0;
      const { queue, clock, calls, processed } = harness(() => {
        attempt++;
        return Promise.reject(attempt === 1 ? new Error("transient") : new TerminalError("invalid spec"));
      });
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      assert.equal(queue.failures("ns/a"), 1);
      clock.advance(5);
      await queue.whenIdle();

      assert.equal(calls.length, 2);
      assert.equal(processed[1]?.outcome, "terminal");
      assert.ok(processed[1]?.error instanceof TerminalError);
      assert.equal(processed[1]?.retryAfterMs, undefined);
      assert.equal(queue.failures("ns/a"), 0);
      assert.equal(clock.nextDueIn, undefined);
      clock.advance(10_000_000);
      await queue.whenIdle();
      assert.equal(calls.length, 2);
    });

    it("still runs a terminally failed key again when it is added again", async () => {
      const { queue, calls } = harness(() => Promise.reject(new TerminalError("invalid spec")));
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      queue.add("ns/a");
      await queue.whenIdle();
      assert.equal(calls.length, 2);
    });
  });

  describe("delayed adds", () => {
    it("whenIdle waits for a deferred re-run, not for a periodic check", async () => {
      let runs = 0;
      const { queue, clock, calls } = harness(() => {
        runs++;
        if (runs === 1) return Promise.resolve({ requeueAfterMs: 1_000, deferred: true });
        return Promise.resolve({ requeueAfterMs: 60_000 });
      });
      queue.start();
      queue.add("ns/a");
      let idle = false;
      const waiting = queue.whenIdle().then(() => (idle = true));
      await flushIo();
      assert.equal(idle, false, "idle while a deferred write waits");
      clock.advance(1_000);
      await waiting;
      assert.deepEqual(calls, ["ns/a", "ns/a"]);
      // The periodic check that the second run asked for does not hold whenIdle.
      await queue.whenIdle();
      assert.equal(queue.delayed, 1);
    });

    it("a deferred re-run stays deferred when a later, periodic delay for the same key comes", async () => {
      const { queue, clock } = harness(() => Promise.resolve());
      queue.start();
      queue.addAfter("ns/a", 500, { holdsIdle: true });
      queue.addAfter("ns/a", 60_000);
      let idle = false;
      const waiting = queue.whenIdle().then(() => (idle = true));
      await flushIo();
      assert.equal(idle, false);
      clock.advance(500);
      await waiting;
    });

    it("runs a key again after the requeueAfter delay its reconcile returned, and not before", async () => {
      let runs = 0;
      const { queue, clock, calls, processed } = harness(() => {
        runs++;
        return Promise.resolve(runs === 1 ? { requeueAfterMs: 30_000 } : undefined);
      });
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      assert.deepEqual(clock.pendingDelays, [30_000]);
      assert.equal(processed[0]?.outcome, "requeue");
      assert.equal(processed[0]?.retryAfterMs, 30_000);

      clock.advance(29_999);
      await queue.whenIdle();
      assert.equal(calls.length, 1);
      clock.advance(1);
      await queue.whenIdle();
      assert.equal(calls.length, 2);
      assert.equal(processed[1]?.outcome, "success");
      assert.equal(clock.nextDueIn, undefined);
    });

    it("treats requeueAfterMs of 0 as plain success", async () => {
      const { queue, clock, processed } = harness(() => Promise.resolve({ requeueAfterMs: 0 }));
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      assert.equal(processed[0]?.outcome, "success");
      assert.equal(clock.nextDueIn, undefined);
    });

    it("resets the failure count when a reconcile asks for a requeue", async () => {
      let runs = 0;
      const { queue, clock } = harness(() => {
        runs++;
        return runs === 1 ? Promise.reject(new Error("boom")) : Promise.resolve({ requeueAfterMs: 1000 });
      });
      queue.start();
      queue.add("ns/a");
      await queue.whenIdle();
      assert.equal(queue.failures("ns/a"), 1);
      clock.advance(5);
      await queue.whenIdle();
      assert.equal(queue.failures("ns/a"), 0);
      assert.deepEqual(clock.pendingDelays, [1000]);
    });

    it("keeps the earlier of two delayed adds of one key", async () => {
      const { queue, clock, calls } = harness(succeed);
      queue.start();
      queue.addAfter("ns/late-then-early", 100);
      queue.addAfter("ns/late-then-early", 50);
      queue.addAfter("ns/early-then-late", 50);
      queue.addAfter("ns/early-then-late", 100);
      assert.deepEqual(clock.pendingDelays, [50, 50]);
      assert.equal(queue.delayed, 2);

      clock.advance(50);
      await queue.whenIdle();
      assert.deepEqual(calls, ["ns/late-then-early", "ns/early-then-late"]);
      clock.advance(100);
      await queue.whenIdle();
      assert.equal(calls.length, 2);
    });

    it("lets an immediate add supersede a pending delayed add", async () => {
      const { queue, clock, calls } = harness(succeed);
      queue.start();
      queue.addAfter("ns/a", 100);
      queue.add("ns/a");
      await queue.whenIdle();
      assert.deepEqual(calls, ["ns/a"]);
      assert.equal(queue.delayed, 0);
      assert.equal(clock.nextDueIn, undefined);
      clock.advance(100);
      await queue.whenIdle();
      assert.deepEqual(calls, ["ns/a"]);
    });

    it("ignores a delayed add of a key that is already waiting", () => {
      const { queue, clock } = harness(succeed);
      queue.add("ns/a");
      queue.addAfter("ns/a", 100);
      assert.equal(queue.delayed, 0);
      assert.equal(clock.nextDueIn, undefined);
    });

    it("runs a delayed key that became due before start once the queue starts", async () => {
      const { queue, clock, calls } = harness(succeed);
      queue.addAfter("ns/a", 100);
      clock.advance(100);
      assert.equal(queue.length, 1);
      assert.deepEqual(calls, []);
      queue.start();
      await queue.whenIdle();
      assert.deepEqual(calls, ["ns/a"]);
    });

    it("runs a key added during a failing run again at once, not after the backoff", async () => {
      const started = Promise.withResolvers<void>();
      const release = Promise.withResolvers<void>();
      let runs = 0;
      const { queue, clock, calls } = harness(async () => {
        runs++;
        if (runs === 1) {
          started.resolve();
          await release.promise;
          throw new Error("boom");
        }
      });
      queue.start();
      queue.add("ns/a");
      await started.promise;
      queue.add("ns/a");
      release.resolve();
      await queue.whenIdle();
      assert.equal(calls.length, 2);
      assert.equal(queue.failures("ns/a"), 0);
      assert.equal(clock.nextDueIn, undefined);
    });

    it("runs a key added during a run that asked for a requeue again at once", async () => {
      const started = Promise.withResolvers<void>();
      const release = Promise.withResolvers<void>();
      let runs = 0;
      const { queue, clock, calls } = harness(async () => {
        runs++;
        if (runs === 1) {
          started.resolve();
          await release.promise;
          return { requeueAfterMs: 60_000 };
        }
        return undefined;
      });
      queue.start();
      queue.add("ns/a");
      await started.promise;
      queue.add("ns/a");
      release.resolve();
      await queue.whenIdle();
      assert.equal(calls.length, 2);
      assert.equal(clock.nextDueIn, undefined);
    });
  });

  describe("durations", () => {
    it("measures a run on the injected clock", async () => {
      const started = Promise.withResolvers<void>();
      const release = Promise.withResolvers<void>();
      const { queue, clock, processed } = harness(async () => {
        started.resolve();
        await release.promise;
      });
      queue.start();
      queue.add("ns/a");
      await started.promise;
      clock.advance(250);
      release.resolve();
      await queue.whenIdle();
      assert.equal(processed[0]?.durationMs, 250);
    });
  });

  describe("shutdown", () => {
    /** A queue with one worker whose first run of ns/a is held open until released. */
    function heldOpen(after: () => Promise<void> = () => Promise.resolve()) {
      const started = Promise.withResolvers<AbortSignal>();
      const release = Promise.withResolvers<void>();
      const h = harness(async (key, signal) => {
        if (key !== "ns/a") return;
        started.resolve(signal);
        await release.promise;
        await after();
      });
      return { ...h, started: started.promise, release: () => release.resolve() };
    }

    it("stops accepting keys, drops waiting and delayed ones and waits for the run in flight", async () => {
      const { queue, clock, calls, started, release } = heldOpen();
      queue.start();
      queue.add("ns/a");
      await started;
      queue.add("ns/b");
      queue.addAfter("ns/c", 100);
      assert.equal(queue.length, 1);
      assert.equal(queue.delayed, 1);

      let drained: boolean | undefined;
      const shutdown = queue.shutdown(1000).then((result) => (drained = result));
      assert.equal(queue.shuttingDown, true);
      assert.equal(queue.length, 0);
      assert.equal(queue.delayed, 0);
      queue.add("ns/d");
      queue.addAfter("ns/e", 10);
      assert.equal(queue.length, 0);
      assert.equal(queue.delayed, 0);
      await flushIo();
      assert.equal(drained, undefined, "shutdown waits for the run in flight");

      release();
      await shutdown;
      assert.equal(drained, true);
      assert.equal(clock.nextDueIn, undefined, "the drain timer and the delayed add are cancelled");
      clock.advance(10_000);
      await flushIo();
      assert.deepEqual(calls, ["ns/a"]);
    });

    it("does not retry a run in flight that fails during shutdown, nor run it again when it was re-added", async () => {
      const { queue, clock, calls, processed, started, release } = heldOpen(() =>
        Promise.reject(new Error("boom")),
      );
      queue.start();
      queue.add("ns/a");
      await started;
      queue.add("ns/a");
      const shutdown = queue.shutdown(1000);
      release();
      assert.equal(await shutdown, true);
      assert.equal(processed[0]?.outcome, "error");
      assert.equal(processed[0]?.retryAfterMs, undefined);
      assert.equal(clock.nextDueIn, undefined);
      assert.deepEqual(calls, ["ns/a"]);
    });

    it("aborts runs that outlast the drain timeout and resolves false", async () => {
      const { queue, clock, started, release } = heldOpen();
      queue.start();
      queue.add("ns/a");
      const signal = await started;

      let drained: boolean | undefined;
      const shutdown = queue.shutdown(1000).then((result) => (drained = result));
      assert.deepEqual(clock.pendingDelays, [1000]);
      clock.advance(999);
      await flushIo();
      assert.equal(drained, undefined);
      assert.equal(signal.aborted, false);

      clock.advance(1);
      await shutdown;
      assert.equal(drained, false);
      assert.equal(signal.aborted, true);

      release();
      await queue.whenIdle();
      assert.equal(queue.inFlight, 0);
      assert.equal(clock.nextDueIn, undefined);
    });

    it("resolves true at once when nothing is in flight, and refuses to start again", async () => {
      const { queue, calls } = harness(succeed);
      queue.add("ns/a");
      assert.equal(await queue.shutdown(), true);
      assert.throws(() => queue.start(), /shut down/);
      assert.deepEqual(calls, []);
    });
  });
});

describe("WorkQueue.retrying", () => {
  it("counts a failed key until a retry succeeds, while whenIdle already resolves", async () => {
    let failuresLeft = 1;
    const { clock, queue, calls } = harness(() =>
      failuresLeft-- > 0 ? Promise.reject(new Error("conflict")) : Promise.resolve(),
    );
    queue.start();
    queue.add("ns/a");
    await flushIo();
    await queue.whenIdle();
    // Idle (nothing ready, nothing running), yet a retry is still to come.
    assert.equal(queue.retrying, 1);
    assert.deepEqual(calls, ["ns/a"]);
    clock.advance(1_000);
    await flushIo();
    await queue.whenIdle();
    assert.deepEqual(calls, ["ns/a", "ns/a"]);
    assert.equal(queue.retrying, 0);
  });
});
