import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as flushIo } from "node:timers/promises";
import { Counter, Registry } from "prom-client";
import { captureLogger, logLevels } from "../test/support/log-capture.ts";
import { ManualClock } from "../test/support/manual-clock.ts";
import { sampleValue } from "../test/support/metric-samples.ts";
import { Controller, reconcileResultLabels, type ControllerOptions } from "./controller.ts";
import { KubeApiError, TerminalError } from "./errors.ts";
import type { ReconcileFunction } from "./workqueue.ts";

function setup(
  reconcile: ReconcileFunction,
  options: Partial<Omit<ControllerOptions, "reconcile" | "clock" | "logger">> = {},
) {
  const registry = options.registry ?? new Registry();
  const clock = new ManualClock();
  const { logger, entries } = captureLogger();
  const calls: string[] = [];
  const controller = new Controller({
    name: "placement",
    registry,
    logger,
    clock,
    random: () => 0,
    ...options,
    reconcile: (key, signal) => {
      calls.push(key);
      return reconcile(key, signal);
    },
  });
  const reconciles = (result: string, name = "placement") =>
    sampleValue(registry, "bosun_controller_reconcile_total", { controller: name, result });
  const sample = (metric: string, labels: Record<string, string> = {}) =>
    sampleValue(registry, metric, { controller: "placement", ...labels });
  return { controller, registry, clock, entries, calls, reconciles, sample };
}

const succeed: ReconcileFunction = () => Promise.resolve();

/** Fails the first run with `error`, succeeds afterwards. */
function failOnceWith(error: Error): ReconcileFunction {
  let runs = 0;
  return () => (++runs === 1 ? Promise.reject(error) : Promise.resolve());
}

describe("Controller", () => {
  it("exports every series at zero before the first reconcile", async () => {
    const { reconciles, sample } = setup(succeed);
    for (const result of reconcileResultLabels) assert.equal(await reconciles(result), 0, result);
    assert.equal(await sample("bosun_controller_queue_depth"), 0);
    assert.equal(await sample("bosun_controller_adds_total"), 0);
    assert.equal(await sample("bosun_controller_retries_total"), 0);
    assert.equal(await sample("bosun_controller_reconcile_duration_seconds_count"), 0);
  });

  it("counts adds and successful reconciles and reports the queue depth", async () => {
    const { controller, calls, reconciles, sample } = setup(succeed);
    controller.enqueue("ns/a");
    controller.enqueue("ns/b");
    controller.enqueue("ns/a");
    assert.equal(controller.queueLength, 2);
    assert.equal(await sample("bosun_controller_queue_depth"), 2);
    assert.equal(await sample("bosun_controller_adds_total"), 2);

    controller.start();
    await controller.whenIdle();
    assert.deepEqual(calls, ["ns/a", "ns/b"]);
    assert.equal(await reconciles("success"), 2);
    assert.equal(await sample("bosun_controller_queue_depth"), 0);
    assert.equal(await sample("bosun_controller_reconcile_duration_seconds_count"), 2);
  });

  it("runs up to `workers` reconciles at once", async () => {
    const release = Promise.withResolvers<void>();
    const { controller, calls } = setup(() => release.promise, { workers: 3 });
    for (const key of ["ns/a", "ns/b", "ns/c", "ns/d"]) controller.enqueue(key);
    controller.start();
    await flushIo();
    assert.deepEqual(calls, ["ns/a", "ns/b", "ns/c"]);
    assert.equal(controller.queueLength, 1);
    release.resolve();
    await controller.whenIdle();
    assert.equal(calls.length, 4);
  });

  it("records the reconcile duration measured on the clock", async () => {
    const started = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const { controller, clock, sample } = setup(async () => {
      started.resolve();
      await release.promise;
    });
    controller.start();
    controller.enqueue("ns/a");
    await started.promise;
    clock.advance(250);
    release.resolve();
    await controller.whenIdle();
    const histogram = "bosun_controller_reconcile_duration_seconds";
    assert.equal(await sample(`${histogram}_sum`), 0.25);
    assert.equal(await sample(`${histogram}_count`), 1);
    assert.equal(await sample(`${histogram}_bucket`, { le: "0.25" }), 1);
    assert.equal(await sample(`${histogram}_bucket`, { le: "0.1" }), 0);
  });

  it("counts a requested requeue and runs the key again after the delay", async () => {
    let runs = 0;
    const { controller, clock, calls, reconciles } = setup(() =>
      Promise.resolve(++runs === 1 ? { requeueAfterMs: 10_000 } : undefined),
    );
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    assert.equal(await reconciles("requeue"), 1);
    assert.equal(await reconciles("success"), 0);
    assert.deepEqual(clock.pendingDelays, [10_000]);

    clock.advance(10_000);
    await controller.whenIdle();
    assert.equal(calls.length, 2);
    assert.equal(await reconciles("success"), 1);
  });

  it("enqueueAfter runs a key after the delay", async () => {
    const { controller, clock, calls } = setup(succeed);
    controller.start();
    controller.enqueueAfter("ns/a", 500);
    assert.deepEqual(clock.pendingDelays, [500]);
    clock.advance(500);
    await controller.whenIdle();
    assert.deepEqual(calls, ["ns/a"]);
  });

  it("counts a failure, retries it with backoff and logs the error with the key", async () => {
    const { controller, clock, calls, entries, reconciles, sample } = setup(failOnceWith(new Error("boom")));
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    assert.equal(await reconciles("error"), 1);
    assert.equal(await sample("bosun_controller_retries_total"), 1);
    assert.deepEqual(clock.pendingDelays, [5]);

    const errors = entries.filter((entry) => entry.level === logLevels.error);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.msg, "reconcile failed, retrying");
    assert.equal(errors[0]?.key, "ns/a");
    assert.equal(errors[0]?.controller, "placement");
    assert.equal(errors[0]?.retryAfterMs, 5);
    assert.equal((errors[0]?.err as { message?: string } | undefined)?.message, "boom");

    clock.advance(5);
    await controller.whenIdle();
    assert.equal(calls.length, 2);
    assert.equal(await reconciles("success"), 1);
  });

  it("counts a 409 Conflict as a conflict and retries it with backoff", async () => {
    const conflict = new KubeApiError("the object has been modified", 409, "Conflict");
    const { controller, clock, calls, entries, reconciles, sample } = setup(failOnceWith(conflict));
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    assert.equal(await reconciles("conflict"), 1);
    assert.equal(await reconciles("error"), 0);
    assert.equal(await sample("bosun_controller_retries_total"), 1);
    assert.deepEqual(clock.pendingDelays, [5]);
    const logged = entries.find((entry) => entry.msg === "reconcile conflict, retrying");
    assert.equal(logged?.key, "ns/a");
    assert.equal(logged?.level, logLevels.debug);

    clock.advance(5);
    await controller.whenIdle();
    assert.equal(calls.length, 2);
    assert.equal(await reconciles("success"), 1);
  });

  it("counts an error caused by a conflict (a reconcile whose only failures were conflicts) as a conflict", async () => {
    const conflict = new KubeApiError("the object has been modified", 409, "Conflict");
    const wrapped = new Error("replica c1/p: 2 writes failed", { cause: conflict });
    const { controller, entries, reconciles } = setup(failOnceWith(wrapped));
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    assert.equal(await reconciles("conflict"), 1);
    assert.equal(await reconciles("error"), 0);
    assert.equal(
      entries.find((entry) => entry.msg === "reconcile conflict, retrying")?.level,
      logLevels.debug,
    );
  });

  it("counts an error with another cause as an error", async () => {
    const { controller, reconciles } = setup(failOnceWith(new Error("boom", { cause: new Error("inner") })));
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    assert.equal(await reconciles("error"), 1);
    assert.equal(await reconciles("conflict"), 0);
  });

  it("counts a 409 AlreadyExists as an error, not a conflict", async () => {
    const alreadyExists = new KubeApiError("already exists", 409, "AlreadyExists");
    const { controller, reconciles } = setup(failOnceWith(alreadyExists));
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    assert.equal(await reconciles("error"), 1);
    assert.equal(await reconciles("conflict"), 0);
  });

  it("does not retry a terminal error, and counts and logs it with the key", async () => {
    const { controller, clock, calls, entries, reconciles, sample } = setup(() =>
      Promise.reject(new TerminalError("spec.predicates[0] is invalid")),
    );
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    assert.equal(await reconciles("terminal"), 1);
    assert.equal(await reconciles("error"), 0);
    assert.equal(await sample("bosun_controller_retries_total"), 0);
    assert.equal(clock.nextDueIn, undefined);

    const logged = entries.find((entry) => entry.msg === "reconcile failed permanently, not retrying");
    assert.equal(logged?.level, logLevels.error);
    assert.equal(logged?.key, "ns/a");
    assert.equal((logged?.err as { message?: string } | undefined)?.message, "spec.predicates[0] is invalid");

    clock.advance(10_000_000);
    await controller.whenIdle();
    assert.equal(calls.length, 1);
  });

  it("writes the metric families in the Prometheus text format under their bosun names", async () => {
    const { controller, registry } = setup(failOnceWith(new KubeApiError("conflict", 409, "Conflict")));
    controller.start();
    controller.enqueue("ns/a");
    await controller.whenIdle();
    const text = await registry.metrics();
    for (const line of [
      "# TYPE bosun_controller_queue_depth gauge",
      'bosun_controller_queue_depth{controller="placement"} 0',
      'bosun_controller_adds_total{controller="placement"} 1',
      'bosun_controller_reconcile_total{controller="placement",result="conflict"} 1',
      'bosun_controller_reconcile_total{controller="placement",result="success"} 0',
      'bosun_controller_retries_total{controller="placement"} 1',
      "# TYPE bosun_controller_reconcile_duration_seconds histogram",
      'bosun_controller_reconcile_duration_seconds_count{controller="placement"} 1',
    ])
      assert.ok(text.split("\n").includes(line), `missing line: ${line}`);
  });

  it("lets controllers share a registry, each with its own series", async () => {
    const registry = new Registry();
    const placement = setup(succeed, { registry });
    const propagation = setup(() => Promise.reject(new Error("boom")), { registry, name: "propagation" });
    placement.controller.start();
    propagation.controller.start();
    placement.controller.enqueue("ns/a");
    placement.controller.enqueue("ns/b");
    propagation.controller.enqueue("ns/a");
    await placement.controller.whenIdle();
    await propagation.controller.whenIdle();
    assert.equal(await placement.reconciles("success", "placement"), 2);
    assert.equal(await placement.reconciles("error", "placement"), 0);
    assert.equal(await placement.reconciles("success", "propagation"), 0);
    assert.equal(await placement.reconciles("error", "propagation"), 1);
  });

  it("refuses a registry holding a metric of another type under one of its names", () => {
    const registry = new Registry();
    new Counter({ name: "bosun_controller_queue_depth", help: "clash", registers: [registry] });
    assert.throws(() => setup(succeed, { registry }), /bosun_controller_queue_depth/);
  });

  describe("stop", () => {
    it("waits for reconciles in flight, then takes no more keys", async () => {
      const started = Promise.withResolvers<void>();
      const release = Promise.withResolvers<void>();
      const { controller, calls, entries, sample } = setup(async () => {
        started.resolve();
        await release.promise;
      });
      controller.start();
      controller.enqueue("ns/a");
      await started.promise;

      let drained: boolean | undefined;
      const stopped = controller.stop(1000).then((result) => (drained = result));
      await flushIo();
      assert.equal(drained, undefined);
      controller.enqueue("ns/b");
      assert.equal(await sample("bosun_controller_adds_total"), 1);

      release.resolve();
      await stopped;
      assert.equal(drained, true);
      assert.deepEqual(calls, ["ns/a"]);
      assert.ok(entries.some((entry) => entry.msg === "controller stopped"));
    });

    it("counts a failure in flight during stop as an error but not as a retry", async () => {
      const started = Promise.withResolvers<void>();
      const release = Promise.withResolvers<void>();
      const { controller, clock, entries, reconciles, sample } = setup(async () => {
        started.resolve();
        await release.promise;
        throw new Error("boom");
      });
      controller.start();
      controller.enqueue("ns/a");
      await started.promise;
      const stopped = controller.stop(1000);
      release.resolve();
      assert.equal(await stopped, true);
      assert.equal(await reconciles("error"), 1);
      assert.equal(await sample("bosun_controller_retries_total"), 0);
      assert.equal(clock.nextDueIn, undefined);
      const logged = entries.find((entry) => entry.level === logLevels.error);
      assert.equal(logged?.msg, "reconcile failed");
      assert.equal(logged?.key, "ns/a");
    });

    it("gives up after the drain timeout, aborting the reconciles in flight", async () => {
      const started = Promise.withResolvers<AbortSignal>();
      const { controller, clock, entries } = setup(
        (_key, signal) => {
          started.resolve(signal);
          return new Promise(() => {});
        },
        { drainTimeoutMs: 2000 },
      );
      controller.start();
      controller.enqueue("ns/a");
      const signal = await started.promise;

      const stopped = controller.stop();
      assert.deepEqual(clock.pendingDelays, [2000]);
      clock.advance(2000);
      assert.equal(await stopped, false);
      assert.equal(signal.aborted, true);
      const warning = entries.find((entry) => entry.level === logLevels.warn);
      assert.equal(warning?.msg, "controller stopped before reconciles in flight finished");
    });
  });
});
