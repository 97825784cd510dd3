// A work queue for level-based reconcilers. Keys (`namespace/name`) are de-duplicated, a key is
// never processed by two workers at once, failures are retried with per-key exponential
// backoff, and a reconcile can ask to be run again after a delay.
import type { Clock, TimerHandle } from "./clock.ts";
import { TerminalError } from "./errors.ts";
import { exponentialDelay } from "./backoff.ts";
import { jittered } from "./jitter.ts";

/** What a reconcile may return: `requeueAfterMs > 0` runs the key again after that delay. */
export interface ReconcileResult {
  requeueAfterMs?: number;
  /**
   * The reconcile left a write for that re-run to make (it held it back to batch changes), rather
   * than scheduling a periodic check: `whenIdle` waits for the re-run.
   */
  deferred?: boolean;
}

export type ReconcileFunction = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

/**
 * How one run of a key ended: "requeue" when the reconcile asked for a delayed re-run,
 * "error" when it threw and will be retried with backoff, "terminal" when it threw a
 * `TerminalError` and will not be retried.
 */
export type WorkOutcome = "success" | "requeue" | "error" | "terminal";

export interface ProcessedKey {
  key: string;
  outcome: WorkOutcome;
  durationMs: number;
  error?: unknown;
  /** The backoff delay ("error") or the requested delay ("requeue") before the key runs again. */
  retryAfterMs?: number;
  /** Consecutive failures of this key, counting this run. */
  failures: number;
}

export interface WorkQueueObserver {
  /** A key entered the queue, or was marked to run again after its current run. Not called for duplicates. */
  added?(key: string): void;
  /** A worker took `key`, which had waited `waitedMs` since it became ready. */
  started?(key: string, waitedMs: number): void;
  /** The number of keys waiting for a worker changed. */
  depthChanged?(depth: number): void;
  processed?(result: ProcessedKey): void;
}

export interface BackoffOptions {
  /** Delay after the first failure; doubles with every further consecutive failure. Default 5 ms. */
  baseDelayMs?: number;
  /** Upper bound of the exponential delay, before jitter. Default 1000 s. */
  maxDelayMs?: number;
  /** The delay is stretched by up to this fraction at random. Default 0.1. */
  jitterFactor?: number;
}

export interface WorkQueueOptions {
  reconcile: ReconcileFunction;
  clock: Clock;
  /** Keys processed at the same time (each key at most once at a time). Default 1. */
  workers?: number;
  backoff?: BackoffOptions;
  /** Source of randomness for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
  observer?: WorkQueueObserver;
}

export const defaultBackoff: Required<BackoffOptions> = {
  baseDelayMs: 5,
  maxDelayMs: 1_000_000,
  jitterFactor: 0.1,
};

interface DelayedAdd {
  dueAt: number;
  handle: TimerHandle;
  /** Deferred work, not a periodic check: the queue is not idle while it waits. */
  holdsIdle: boolean;
}

export class WorkQueue {
  readonly #reconcile: ReconcileFunction;
  readonly #clock: Clock;
  readonly #workers: number;
  readonly #backoff: Required<BackoffOptions>;
  readonly #random: () => number;
  readonly #observer: WorkQueueObserver;

  /** Keys waiting for a worker, in insertion order, with the time each became ready. */
  readonly #ready = new Map<string, number>();
  /** Keys being processed, with the controller of the signal handed to their reconcile. */
  readonly #processing = new Map<string, AbortController>();
  /** When each key in flight started. */
  readonly #startedAt = new Map<string, number>();
  /** Keys added while being processed: they run once more when the current run ends. */
  readonly #dirty = new Set<string>();
  readonly #delayed = new Map<string, DelayedAdd>();
  readonly #failures = new Map<string, number>();
  #idleWaiters: (() => void)[] = [];
  #started = false;
  #shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`workers must be an integer >= 1, got ${workers}`);
    const backoff = { ...defaultBackoff, ...options.backoff };
    if (!(backoff.baseDelayMs > 0) || !(backoff.maxDelayMs >= backoff.baseDelayMs))
      throw new RangeError(
        `backoff needs 0 < baseDelayMs <= maxDelayMs, got ${backoff.baseDelayMs} and ${backoff.maxDelayMs}`,
      );
    if (!(backoff.jitterFactor >= 0))
      throw new RangeError(`backoff jitterFactor must be >= 0, got ${backoff.jitterFactor}`);
    this.#reconcile = options.reconcile;
    this.#clock = options.clock;
    this.#workers = workers;
    this.#backoff = backoff;
    this.#random = options.random ?? Math.random;
    this.#observer = options.observer ?? {};
  }

  /** Keys waiting for a worker (not counting keys in flight or waiting for a delay). */
  get length(): number {
    return this.#ready.size;
  }

  /** Keys being processed now. */
  get inFlight(): number {
    return this.#processing.size;
  }

  /** Keys waiting for a delay (backoff or requeueAfter) to pass. */
  get delayed(): number {
    return this.#delayed.size;
  }

  /** How long each key in flight has been running at `nowMs`. */
  inFlightDurations(nowMs: number = this.#clock.now()): number[] {
    return [...this.#startedAt.values()].map((startedAt) => nowMs - startedAt);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Keys whose last run failed and that wait for (or are in) their retry. */
  get retrying(): number {
    return this.#failures.size;
  }

  /** Consecutive failures of `key` since its last success. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Starts the workers. Keys added before are processed from now on. */
  start(): void {
    if (this.#shuttingDown) throw new Error("work queue has been shut down");
    this.#started = true;
    this.#pump();
  }

  /**
   * Queues `key` to be processed. A key already waiting is not queued twice; a key being
   * processed runs once more after its current run. Cancels a pending delayed add of `key`.
   */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#cancelDelayed(key);
    if (this.#processing.has(key)) {
      if (this.#dirty.has(key)) return;
      this.#dirty.add(key);
      this.#observer.added?.(key);
      return;
    }
    if (this.#ready.has(key)) return;
    this.#enqueueReady(key);
    this.#observer.added?.(key);
    this.#pump();
  }

  /**
   * Queues `key` after `delayMs`. When `key` already has a delayed add, the earlier one wins;
   * when it is already waiting to run now, this is a no-op.
   */
  addAfter(key: string, delayMs: number, options: { holdsIdle?: boolean } = {}): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    if (this.#ready.has(key) || this.#dirty.has(key)) return;
    const dueAt = this.#clock.now() + delayMs;
    const holdsIdle = options.holdsIdle === true;
    const pending = this.#delayed.get(key);
    if (pending) {
      if (pending.dueAt <= dueAt) {
        pending.holdsIdle ||= holdsIdle;
        return;
      }
      this.#clock.clearTimeout(pending.handle);
    }
    const handle = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { dueAt, handle, holdsIdle: holdsIdle || pending?.holdsIdle === true });
  }

  /** Queues `key` after its backoff delay and counts a failure; returns the delay. */
  addRateLimited(key: string): number {
    const failures = this.failures(key);
    const { baseDelayMs, maxDelayMs, jitterFactor } = this.#backoff;
    const delayMs = jittered(exponentialDelay(failures, baseDelayMs, maxDelayMs), jitterFactor, this.#random);
    this.#failures.set(key, failures + 1);
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Clears the failure count of `key`, so its next backoff starts from the base delay. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /**
   * Resolves when no key is waiting for a worker or in flight, and none waits for deferred work
   * (other delayed adds, backoffs and periodic checks, may still be pending).
   */
  whenIdle(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops accepting keys, drops waiting and delayed ones, and waits for the keys in flight to
   * finish. After `drainTimeoutMs` their signals are aborted and this resolves false without
   * waiting for them any longer; true when they all finished in time.
   */
  async shutdown(drainTimeoutMs = 30_000): Promise<boolean> {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      for (const { handle } of this.#delayed.values()) this.#clock.clearTimeout(handle);
      this.#delayed.clear();
      this.#dirty.clear();
      if (this.#ready.size > 0) {
        this.#ready.clear();
        this.#observer.depthChanged?.(0);
      }
      this.#notifyIfIdle();
    }
    if (this.#processing.size === 0) return true;
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const timer = this.#clock.setTimeout(() => {
      for (const controller of this.#processing.values()) controller.abort(new Error("work queue shut down"));
      resolve(false);
    }, drainTimeoutMs);
    void this.whenIdle().then(() => {
      this.#clock.clearTimeout(timer);
      resolve(true);
    });
    return promise;
  }

  #enqueueReady(key: string): void {
    this.#ready.set(key, this.#clock.now());
    this.#observer.depthChanged?.(this.#ready.size);
  }

  #cancelDelayed(key: string): void {
    const pending = this.#delayed.get(key);
    if (!pending) return;
    this.#clock.clearTimeout(pending.handle);
    this.#delayed.delete(key);
  }

  #pump(): void {
    while (this.#started && !this.#shuttingDown && this.#processing.size < this.#workers) {
      const next = this.#ready.entries().next();
      if (next.done) break;
      const [key, readyAt] = next.value;
      this.#ready.delete(key);
      this.#observer.depthChanged?.(this.#ready.size);
      this.#observer.started?.(key, this.#clock.now() - readyAt);
      void this.#process(key);
    }
    this.#notifyIfIdle();
  }

  async #process(key: string): Promise<void> {
    const abort = new AbortController();
    this.#processing.set(key, abort);
    const startedAt = this.#clock.now();
    this.#startedAt.set(key, startedAt);
    let outcome: WorkOutcome;
    let error: unknown;
    let requeueAfterMs: number | undefined;
    let deferred = false;
    try {
      const result = await this.#reconcile(key, abort.signal);
      const delay = result?.requeueAfterMs;
      if (delay !== undefined && Number.isFinite(delay) && delay > 0) {
        outcome = "requeue";
        requeueAfterMs = delay;
        deferred = result?.deferred === true;
      } else {
        outcome = "success";
      }
    } catch (thrown) {
      error = thrown;
      outcome = thrown instanceof TerminalError ? "terminal" : "error";
    }
    const durationMs = this.#clock.now() - startedAt;

    this.#processing.delete(key);
    this.#startedAt.delete(key);
    const dirty = this.#dirty.delete(key);
    let failures = 0;
    let retryAfterMs: number | undefined;
    switch (outcome) {
      case "success":
      case "terminal":
        this.forget(key);
        break;
      case "requeue":
        this.forget(key);
        if (requeueAfterMs !== undefined && !this.#shuttingDown) {
          retryAfterMs = requeueAfterMs;
          this.addAfter(key, requeueAfterMs, { holdsIdle: deferred });
        }
        break;
      case "error": {
        const delayMs = this.addRateLimited(key);
        failures = this.failures(key);
        if (!this.#shuttingDown) retryAfterMs = delayMs;
        break;
      }
    }
    // An add that arrived during the run is newer than any delay: run again now.
    if (dirty && !this.#shuttingDown) {
      this.#cancelDelayed(key);
      this.#enqueueReady(key);
    }
    const failed = outcome === "error" || outcome === "terminal";
    this.#observer.processed?.({
      key,
      outcome,
      durationMs,
      failures,
      ...(failed ? { error } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
    this.#pump();
  }

  #idle(): boolean {
    if (this.#ready.size > 0 || this.#processing.size > 0) return false;
    for (const delayed of this.#delayed.values()) if (delayed.holdsIdle) return false;
    return true;
  }

  #notifyIfIdle(): void {
    if (!this.#idle() || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
