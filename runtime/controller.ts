// Runs a reconcile function over a work queue, with metrics and logs for every run.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, type GaugeConfiguration, type Metric, type Registry } from "prom-client";
import type { Clock } from "./clock.ts";
import { isKubeApiError } from "./errors.ts";
import {
  WorkQueue,
  type BackoffOptions,
  type ProcessedKey,
  type ReconcileFunction,
  type WorkOutcome,
} from "./workqueue.ts";

/** The `result` label of `bosun_controller_reconcile_total`. */
export type ReconcileResultLabel = WorkOutcome | "conflict";
export const reconcileResultLabels: readonly ReconcileResultLabel[] = [
  "success",
  "requeue",
  "error",
  "conflict",
  "terminal",
];

/** What every reconcile is handed beside its key: a logger that names the key and this run. */
export interface ReconcileContext {
  logger: Logger;
  /** Unique per run of a key; in every log line of the run. */
  reconcileId: string;
}

export type ContextReconcileFunction = (
  key: string,
  signal: AbortSignal,
  context: ReconcileContext,
) => ReturnType<ReconcileFunction>;

/** How many keys' reconcile counts a controller keeps. */
const maxCountedKeys = 100_000;

export interface ControllerOptions {
  /** The value of the `controller` label and of the `controller` field in logs. */
  name: string;
  reconcile: ContextReconcileFunction;
  /** Keys reconciled at the same time. Default 1. */
  workers?: number;
  backoff?: BackoffOptions;
  registry: Registry;
  logger: Logger;
  clock: Clock;
  /** Source of randomness for backoff jitter. Default Math.random. */
  random?: () => number;
  /** How long `stop()` waits for reconciles in flight. Default 30 s. */
  drainTimeoutMs?: number;
}

export class Controller {
  readonly name: string;
  readonly #queue: WorkQueue;
  readonly #logger: Logger;
  readonly #drainTimeoutMs: number;
  readonly #workers: number;
  /** The reconcile id of each key in flight, for the log line written when it ends. */
  readonly #runs = new Map<string, string>();
  /** Reconciles finished, by outcome: for tests and benchmarks that wait for a counter. */
  readonly counts = { reconciles: 0, success: 0, requeue: 0, error: 0, conflict: 0, terminal: 0 };
  /** Reconciles per key, most recently reconciled last; bounded, so keys of deleted objects age out. */
  readonly #perKey = new Map<string, number>();

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#logger = options.logger.child({ controller: options.name });
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.#workers = options.workers ?? 1;
    const metrics = controllerMetrics(options.registry, options.name, () =>
      this.#queue.inFlightDurations(options.clock.now()),
    );
    const reconcile = options.reconcile;
    this.#queue = new WorkQueue({
      reconcile: (key, signal) => {
        const reconcileId = randomBytes(6).toString("hex");
        this.#runs.set(key, reconcileId);
        return reconcile(key, signal, { logger: this.#logger.child({ key, reconcileId }), reconcileId });
      },
      clock: options.clock,
      workers: this.#workers,
      backoff: options.backoff,
      random: options.random,
      observer: {
        added: () => metrics.adds.inc(),
        depthChanged: (depth) => metrics.depth.set(depth),
        started: (_key, waitedMs) => metrics.queueWait.observe(waitedMs / 1000),
        processed: (processed) => {
          const result = resultLabel(processed);
          this.counts.reconciles++;
          this.counts[result]++;
          this.#countReconcile(processed.key);
          metrics.reconciles.labels({ result }).inc();
          metrics.duration.observe(processed.durationMs / 1000);
          if (processed.retryAfterMs !== undefined && processed.outcome === "error") metrics.retries.inc();
          this.#log(processed, result);
        },
      },
    });
  }

  /** How many times `key` has been reconciled (for tests: wait for a count, not a time). */
  reconcilesOf(key: string): number {
    return this.#perKey.get(key) ?? 0;
  }

  #countReconcile(key: string): void {
    const count = (this.#perKey.get(key) ?? 0) + 1;
    this.#perKey.delete(key);
    this.#perKey.set(key, count);
    if (this.#perKey.size > maxCountedKeys) {
      const oldest = this.#perKey.keys().next();
      if (!oldest.done) this.#perKey.delete(oldest.value);
    }
  }

  /** Keys reconciled at least once, with their counts (the most recent keys, at most 100,000). */
  get reconciledKeys(): ReadonlyMap<string, number> {
    return this.#perKey;
  }

  /** Keys whose last reconcile failed and that wait for their retry. */
  get retrying(): number {
    return this.#queue.retrying;
  }

  /** Keys waiting for a worker. */
  get queueLength(): number {
    return this.#queue.length;
  }

  enqueue(key: string): void {
    this.#queue.add(key);
  }

  /** `holdsIdle`: the delayed run carries deferred work, so `whenIdle` waits for it. */
  enqueueAfter(key: string, delayMs: number, options: { holdsIdle?: boolean } = {}): void {
    this.#queue.addAfter(key, delayMs, options);
  }

  start(): void {
    this.#queue.start();
    this.#logger.info({ workers: this.#workers }, "controller started");
  }

  /** Stops taking keys and waits for reconciles in flight; false when they outlasted the drain timeout. */
  async stop(drainTimeoutMs = this.#drainTimeoutMs): Promise<boolean> {
    const drained = await this.#queue.shutdown(drainTimeoutMs);
    if (drained) this.#logger.info("controller stopped");
    else this.#logger.warn({ drainTimeoutMs }, "controller stopped before reconciles in flight finished");
    return drained;
  }

  /** Resolves when no key is waiting for a worker or being reconciled. */
  whenIdle(): Promise<void> {
    return this.#queue.whenIdle();
  }

  #log(processed: ProcessedKey, result: ReconcileResultLabel): void {
    const { key: queueKey, error, failures, retryAfterMs } = processed;
    const reconcileId = this.#runs.get(queueKey);
    this.#runs.delete(queueKey);
    const ids = reconcileId === undefined ? { key: queueKey } : { key: queueKey, reconcileId };
    switch (result) {
      case "success":
      case "requeue":
        return;
      case "conflict":
        // Optimistic-concurrency conflicts are routine (a stale cache); the retry resolves them.
        this.#logger.debug({ ...ids, err: error, failures, retryAfterMs }, "reconcile conflict, retrying");
        return;
      case "error":
        if (retryAfterMs === undefined)
          this.#logger.error({ ...ids, err: error, failures }, "reconcile failed");
        else this.#logger.error({ ...ids, err: error, failures, retryAfterMs }, "reconcile failed, retrying");
        return;
      case "terminal":
        this.#logger.error({ ...ids, err: error }, "reconcile failed permanently, not retrying");
        return;
    }
  }
}

/** A conflict, or an error caused by one (a reconcile whose only failures were conflicts). */
function isConflict(error: unknown): boolean {
  for (let link = error, depth = 0; link instanceof Error && depth < 8; link = link.cause, depth++)
    if (isKubeApiError(link) && link.conflict) return true;
  return false;
}

function resultLabel(processed: ProcessedKey): ReconcileResultLabel {
  if (processed.outcome === "error" && isConflict(processed.error)) return "conflict";
  return processed.outcome;
}

interface ControllerMetrics {
  depth: Gauge.Internal<string>;
  queueWait: Histogram.Internal<string>;
  adds: Counter.Internal;
  reconciles: { labels(labels: { result: ReconcileResultLabel }): Counter.Internal };
  duration: Histogram.Internal<string>;
  retries: Counter.Internal;
}

export const reconcileDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The metrics of one controller. Controllers sharing a registry share the metric families and
 * differ by their `controller` label.
 */
function controllerMetrics(
  registry: Registry,
  controller: string,
  inFlightMs: () => number[],
): ControllerMetrics {
  const depth = metricFamily(
    registry,
    "bosun_controller_queue_depth",
    Gauge,
    (name) =>
      new Gauge({
        name,
        help: "Keys waiting for a worker",
        labelNames: ["controller"],
        registers: [registry],
      }),
  );
  const adds = metricFamily(
    registry,
    "bosun_controller_adds_total",
    Counter,
    (name) =>
      new Counter({
        name,
        help: "Keys added to the work queue (duplicates of waiting keys not counted)",
        labelNames: ["controller"],
        registers: [registry],
      }),
  );
  const reconciles = metricFamily(
    registry,
    "bosun_controller_reconcile_total",
    Counter,
    (name) =>
      new Counter({
        name,
        help: "Reconciles by result (success, requeue, error, conflict, terminal)",
        labelNames: ["controller", "result"],
        registers: [registry],
      }),
  );
  const duration = metricFamily(
    registry,
    "bosun_controller_reconcile_duration_seconds",
    Histogram,
    (name) =>
      new Histogram({
        name,
        help: "Time spent in one reconcile",
        labelNames: ["controller"],
        buckets: reconcileDurationBuckets,
        registers: [registry],
      }),
  );
  const retries = metricFamily(
    registry,
    "bosun_controller_retries_total",
    Counter,
    (name) =>
      new Counter({
        name,
        help: "Failed reconciles scheduled for a retry with backoff",
        labelNames: ["controller"],
        registers: [registry],
      }),
  );

  const queueWait = metricFamily(
    registry,
    "bosun_controller_queue_wait_seconds",
    Histogram,
    (name) =>
      new Histogram({
        name,
        help: "How long a key waited in the queue before a worker took it",
        labelNames: ["controller"],
        buckets: reconcileDurationBuckets,
        registers: [registry],
      }),
  );
  // Read at scrape time from every controller sharing the registry.
  for (const [name, help, summarise] of inFlightGauges) {
    metricFamily(
      registry,
      name,
      InFlightGauge,
      (metricName) =>
        new InFlightGauge(summarise, {
          name: metricName,
          help,
          labelNames: ["controller"],
          registers: [registry],
        }),
    ).sources.set(controller, inFlightMs);
  }

  const labels = { controller };
  // Export every series from the start, so that rates and alerts see zeros rather than gaps.
  depth.labels(labels).set(0);
  adds.labels(labels).inc(0);
  retries.labels(labels).inc(0);
  for (const result of reconcileResultLabels) reconciles.labels({ controller, result }).inc(0);
  duration.zero(labels);
  queueWait.zero(labels);

  return {
    depth: depth.labels(labels),
    queueWait: queueWait.labels(labels),
    adds: adds.labels(labels),
    reconciles: { labels: ({ result }) => reconciles.labels({ controller, result }) },
    duration: duration.labels(labels),
    retries: retries.labels(labels),
  };
}

const inFlightGauges: [string, string, (durationsMs: number[]) => number][] = [
  [
    "bosun_controller_unfinished_work_seconds",
    "Seconds of work in flight that has not finished (growing without a rising reconcile count: a stuck reconcile)",
    (durationsMs) => durationsMs.reduce((sum, ms) => sum + ms, 0) / 1000,
  ],
  [
    "bosun_controller_longest_running_reconcile_seconds",
    "How long the longest reconcile in flight has been running",
    (durationsMs) => Math.max(0, ...durationsMs) / 1000,
  ],
];

/** A gauge computed at scrape time from the reconciles in flight of each controller. */
class InFlightGauge extends Gauge {
  readonly sources = new Map<string, () => number[]>();

  constructor(summarise: (durationsMs: number[]) => number, configuration: GaugeConfiguration<string>) {
    super({
      ...configuration,
      collect: () => {
        for (const [controller, read] of this.sources) this.labels({ controller }).set(summarise(read()));
      },
    });
  }
}

function metricFamily<T extends Metric<string>>(
  registry: Registry,
  name: string,
  type: abstract new (...args: never[]) => T,
  create: (name: string) => T,
): T {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create(name);
  if (existing instanceof type) return existing;
  throw new Error(`metric ${name} is already registered with another type`);
}
