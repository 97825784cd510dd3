// Leader election on a coordination.k8s.io/v1 Lease, with the protocol of client-go's
// leaderelection package: a candidate takes the Lease when it is missing, free (empty holder)
// or expired, and the leader renews it. Expiry is judged by the local time at which this
// process last saw the Lease record change, never by the timestamps written in it, so clock
// skew between processes cannot hand leadership over early. Writes carry the resourceVersion
// of the last read, so two candidates racing for a free Lease cannot both win.
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.ts";
import { isKubeApiError } from "./errors.ts";
import { jittered } from "./jitter.ts";
import type { Lease, LeaseSpec } from "../api/types/kube.ts";
import type { KubeApi, RequestSpec } from "./kube/client.ts";
import type { HealthCheck } from "./server.ts";
import { formatMicroTime } from "./time.ts";

/** client-go's JitterFactor: every wait of retryPeriod lasts between 1 and 2.2 times it. */
export const leaderElectionJitterFactor = 1.2;

export type { Lease, LeaseSpec } from "../api/types/kube.ts";

/** The part of a Lease that leader election reads and writes. */
export interface LeaderElectionRecord {
  /** "" when nobody holds the Lease. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

// The expiry decision ------------------------------------------------------------------------

/**
 * Whether a Lease record first seen (or last seen changing) at local time `observedAtMs` is still
 * held at `nowMs`: its holder renewed it then, and has `leaseDurationSeconds` to renew it again.
 */
export function leaseValid(observedAtMs: number, leaseDurationSeconds: number, nowMs: number): boolean {
  return observedAtMs + leaseDurationSeconds * 1000 > nowMs;
}

/**
 * Whether `identity` may write itself into the Lease: it is free, ours already, or its holder
 * let it expire (judged by the local time the record was observed).
 */
export function mayAcquire(
  record: Pick<LeaderElectionRecord, "holderIdentity" | "leaseDurationSeconds">,
  identity: string,
  observedAtMs: number,
  nowMs: number,
): boolean {
  return (
    record.holderIdentity === "" ||
    record.holderIdentity === identity ||
    !leaseValid(observedAtMs, record.leaseDurationSeconds, nowMs)
  );
}

export function recordOf(lease: Pick<Lease, "spec">): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime,
    renewTime: spec.renewTime,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

// The elector ---------------------------------------------------------------------------------

export interface LeaderElectorOptions {
  /** Only `request` is used. */
  client: Pick<KubeApi, "request">;
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** Unique per process (e.g. pod name plus a random suffix). */
  identity: string;
  /** How long others wait after last seeing the Lease change before taking it. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before it gives up leading. Default 10 s. */
  renewDeadlineMs?: number;
  /** The wait between attempts, jittered by leaderElectionJitterFactor. Default 2 s. */
  retryPeriodMs?: number;
  clock?: Clock;
  logger: Logger;
  random?: () => number;
  /**
   * Called when this process becomes the leader. `signal` aborts when leadership ends; the work
   * must stop then. Rejections are logged.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once leadership has ended (after the signal aborted); awaited before campaigning again. */
  onStoppedLeading: () => void | Promise<void>;
  /** Called with each new holder this process observes (itself included); not for a released Lease. */
  onNewLeader?: (identity: string) => void;
}

interface Observed {
  record: LeaderElectionRecord;
  /** The record as compared for changes. */
  raw: string;
  /** Local time when this record was first seen. */
  atMs: number;
}

type Attempt = "acquired" | "held" | "failed";

export class LeaderElector {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  readonly #client: Pick<KubeApi, "request">;
  readonly #leaseDurationMs: number;
  readonly #leaseDurationSeconds: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #callbacks: Pick<LeaderElectorOptions, "onStartedLeading" | "onStoppedLeading" | "onNewLeader">;
  /** The last Lease read or written: its resourceVersion guards the next write. */
  #lease: Lease | undefined;
  #observed: Observed | undefined;
  #reportedLeader = "";
  #leading = false;
  #lastError = "";
  #stop: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.namespace = options.namespace;
    this.name = options.name;
    this.#client = options.client;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!options.identity) throw new RangeError("leader election needs a non-empty identity");
    if (!options.namespace || !options.name)
      throw new RangeError("leader election needs a Lease namespace and name");
    if (!(this.#retryPeriodMs > 0)) throw new RangeError("retryPeriodMs must be > 0");
    if (!(this.#renewDeadlineMs > leaderElectionJitterFactor * this.#retryPeriodMs))
      throw new RangeError(`renewDeadlineMs must be > ${leaderElectionJitterFactor} × retryPeriodMs`);
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs))
      throw new RangeError("leaseDurationMs must be > renewDeadlineMs");
    // Others judge expiry by the seconds written in the Lease: round up, never shorten it.
    this.#leaseDurationSeconds = Math.ceil(this.#leaseDurationMs / 1000);
    this.#clock = options.clock ?? systemClock();
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger.child({
      component: "leader-election",
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
    this.#callbacks = {
      onStartedLeading: options.onStartedLeading,
      onStoppedLeading: options.onStoppedLeading,
      onNewLeader: options.onNewLeader,
    };
  }

  /** True while this process leads: from onStartedLeading until its signal aborts. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /** The holder of the Lease as last observed; undefined before the first read or while it is free. */
  get leader(): string | undefined {
    return this.#observed?.record.holderIdentity || undefined;
  }

  /**
   * Campaigns for the Lease until `signal` aborts (or release() is called), leading whenever it
   * holds it: a lost leadership ends the term (onStoppedLeading) and the campaign goes on.
   * Never throws for API failures; they are logged and retried. Stopping does not release the
   * Lease: call release() for that.
   */
  run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error("this LeaderElector is already running");
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    this.#stop = stop;
    this.#running = this.#campaign(stop.signal).finally(() => {
      signal.removeEventListener("abort", onAbort);
      this.#stop = undefined;
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Stops the campaign (ending leadership, with onStoppedLeading) and, when this process holds
   * the Lease, writes it free (holderIdentity "", leaseDurationSeconds 1) so that another
   * candidate takes over at once instead of waiting for it to expire.
   */
  async release(): Promise<void> {
    this.#stop?.abort(new Error("released"));
    await this.#running;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.#lease || this.#observed?.record.holderIdentity !== this.identity) return;
      const now = this.#clock.now();
      const stamp = formatMicroTime(now);
      const record: LeaderElectionRecord = {
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: this.#observed.record.leaseTransitions,
      };
      try {
        const lease = await this.#withDeadline(undefined, this.#renewDeadlineMs, (signal) =>
          this.#update(this.#lease!, record, signal),
        );
        this.#observe(lease);
        this.#logger.info("released the lease");
        return;
      } catch (error) {
        if (!isKubeApiError(error, 409) || attempt > 0) {
          this.#logger.warn({ err: error }, "could not release the lease");
          return;
        }
        // An abandoned renewal may have landed after all: re-read, and release if it is still ours.
        try {
          this.#lease = await this.#withDeadline(undefined, this.#renewDeadlineMs, (signal) =>
            this.#get(signal),
          );
          this.#observe(this.#lease);
        } catch (readError) {
          this.#logger.warn({ err: readError }, "could not release the lease");
          return;
        }
      }
    }
  }

  async #campaign(signal: AbortSignal): Promise<void> {
    this.#logger.info("campaigning for leadership");
    while (!signal.aborted) {
      const acquired = await this.#acquire(signal);
      if (!acquired || signal.aborted) break;
      await this.#lead(signal);
    }
    this.#logger.info("stopped campaigning");
  }

  /** Tries until it holds the Lease (true) or `signal` aborts (false). */
  async #acquire(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const attempt = await this.#tryAcquireOrRenew(signal, this.#renewDeadlineMs);
      this.#reportTransition();
      if (attempt === "acquired") return true;
      await this.#sleep(this.#retryDelay(), signal);
    }
  }

  /** One term: runs onStartedLeading and renews until renewals fail past the deadline or `signal` aborts. */
  async #lead(signal: AbortSignal): Promise<void> {
    const term = new AbortController();
    this.#leading = true;
    this.#logger.info("became the leader");
    // The last renewal the API server accepted was sent at this local time.
    let renewedAt = this.#observed?.atMs ?? this.#clock.now();
    void Promise.resolve()
      .then(() => this.#callbacks.onStartedLeading(term.signal))
      .catch((error: unknown) => this.#logger.error({ err: error }, "onStartedLeading failed"));
    try {
      renewing: while (!signal.aborted) {
        await this.#sleep(this.#retryDelay(), signal);
        const deadline = renewedAt + this.#renewDeadlineMs;
        for (;;) {
          if (signal.aborted) break renewing;
          const startedAt = this.#clock.now();
          const remaining = deadline - startedAt;
          if (remaining <= 0) {
            this.#logger.error(
              { renewDeadlineMs: this.#renewDeadlineMs },
              "failed to renew the lease in time",
            );
            break renewing;
          }
          const attempt = await this.#tryAcquireOrRenew(signal, remaining);
          this.#reportTransition();
          if (attempt === "acquired") {
            renewedAt = startedAt;
            break;
          }
          if (attempt === "held") {
            this.#logger.error({ holder: this.leader }, "the lease is held by another candidate");
            break renewing;
          }
          await this.#sleep(Math.min(this.#retryDelay(), Math.max(0, deadline - this.#clock.now())), signal);
        }
      }
    } finally {
      this.#leading = false;
      term.abort(new Error("leadership lost"));
      this.#logger.info("stopped leading");
      try {
        await this.#callbacks.onStoppedLeading();
      } catch (error) {
        this.#logger.error({ err: error }, "onStoppedLeading failed");
      }
    }
  }

  /**
   * client-go's tryAcquireOrRenew: "acquired" when this process now holds the Lease, "held" when
   * another holder's Lease has not expired, "failed" when the API could not be read or written.
   */
  #tryAcquireOrRenew(signal: AbortSignal, timeoutMs: number): Promise<Attempt> {
    // One deadline for the whole attempt, however many requests it makes.
    return this.#withDeadline(signal, timeoutMs, (bounded) => this.#attempt(signal, bounded));
  }

  /** `stop` aborts when the campaign stops; `bounded` also when the attempt's deadline passes. */
  async #attempt(stop: AbortSignal, bounded: AbortSignal): Promise<Attempt> {
    const now = this.#clock.now();
    const stamp = formatMicroTime(now);
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.#leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };
    const observed = this.#observed;

    // The leader's fast path: renew on top of its own last write, without reading first.
    if (
      this.#lease &&
      observed?.record.holderIdentity === this.identity &&
      leaseValid(observed.atMs, observed.record.leaseDurationSeconds, now)
    ) {
      const renewal = { ...desired, acquireTime: observed.record.acquireTime ?? stamp };
      renewal.leaseTransitions = observed.record.leaseTransitions;
      try {
        const lease = await this.#update(this.#lease, renewal, bounded);
        this.#succeeded(lease, now);
        return "acquired";
      } catch (error) {
        if (stop.aborted) return "failed";
        if (bounded.aborted) return this.#failed(error, "could not renew the lease");
        // A 409 means someone else wrote the Lease: read it and decide again.
        this.#logger.debug({ err: error }, "fast renewal failed, reading the lease");
      }
    }

    let current: Lease;
    try {
      current = await this.#get(bounded);
    } catch (error) {
      if (stop.aborted) return "failed";
      if (!isKubeApiError(error, 404)) return this.#failed(error, "could not read the lease");
      try {
        const created = await this.#create(desired, bounded);
        this.#succeeded(created, now);
        return "acquired";
      } catch (createError) {
        if (stop.aborted) return "failed";
        if (isKubeApiError(createError) && createError.alreadyExists) {
          this.#logger.debug("another candidate created the lease first, retrying later");
          return "failed";
        }
        return this.#failed(createError, "could not create the lease");
      }
    }
    this.#lease = current;
    this.#observe(current);
    const record = this.#observed!.record;
    if (!mayAcquire(record, this.identity, this.#observed!.atMs, now)) {
      this.#lastError = "";
      this.#logger.debug({ holder: record.holderIdentity }, "the lease is held and has not expired");
      return "held";
    }
    if (record.holderIdentity === this.identity) {
      desired.acquireTime = record.acquireTime ?? stamp;
      desired.leaseTransitions = record.leaseTransitions;
    } else {
      desired.leaseTransitions = record.leaseTransitions + 1;
    }
    try {
      const lease = await this.#update(current, desired, bounded);
      this.#succeeded(lease, now);
      return "acquired";
    } catch (error) {
      if (stop.aborted) return "failed";
      if (isKubeApiError(error, 409)) {
        this.#logger.debug("another candidate wrote the lease first, retrying later");
        return "failed";
      }
      return this.#failed(error, "could not update the lease");
    }
  }

  #succeeded(lease: Lease, sentAt: number): void {
    this.#lease = lease;
    const record = recordOf(lease);
    this.#observed = { record, raw: rawRecord(record), atMs: sentAt };
    this.#lastError = "";
  }

  /** Records a Lease as read; the observed time moves only when the record changed. */
  #observe(lease: Lease): void {
    const record = recordOf(lease);
    const raw = rawRecord(record);
    if (this.#observed?.raw === raw) return;
    this.#observed = { record, raw, atMs: this.#clock.now() };
  }

  /** Logs a failed attempt: a warning the first time an error is seen, then at debug level. */
  #failed(error: unknown, message: string): Attempt {
    const text = error instanceof Error ? error.message : String(error);
    if (text !== this.#lastError) this.#logger.warn({ err: error }, message);
    else this.#logger.debug({ err: error }, message);
    this.#lastError = text;
    return "failed";
  }

  #reportTransition(): void {
    const holder = this.#observed?.record.holderIdentity ?? "";
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (!holder) return;
    this.#logger.info({ leader: holder }, "new leader observed");
    try {
      this.#callbacks.onNewLeader?.(holder);
    } catch (error) {
      this.#logger.error({ err: error }, "onNewLeader failed");
    }
  }

  #retryDelay(): number {
    return jittered(this.#retryPeriodMs, leaderElectionJitterFactor, this.#random);
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Runs `call` with a signal that aborts with `signal` or after `timeoutMs` on the clock. */
  async #withDeadline<T>(
    signal: AbortSignal | undefined,
    timeoutMs: number,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const deadline = new AbortController();
    const timer = this.#clock.setTimeout(
      () => deadline.abort(new Error(`lease request timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      return await call(signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal);
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  #path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  #request<T>(spec: RequestSpec): Promise<T> {
    return this.#client.request<T>({ ...spec, timeoutMs: spec.timeoutMs ?? this.#renewDeadlineMs });
  }

  #get(signal: AbortSignal): Promise<Lease> {
    return this.#request<Lease>({ method: "GET", path: this.#path(this.name), signal });
  }

  #create(record: LeaderElectionRecord, signal: AbortSignal): Promise<Lease> {
    const lease: Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.name, namespace: this.namespace },
      spec: specOf(record),
    };
    return this.#request<Lease>({ method: "POST", path: this.#path(), body: lease, signal });
  }

  /** PUT with the resourceVersion of `base`: a 409 when someone else wrote the Lease since. */
  #update(base: Lease, record: LeaderElectionRecord, signal: AbortSignal): Promise<Lease> {
    const lease: Lease = {
      ...base,
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      spec: { ...base.spec, ...specOf(record) },
    };
    return this.#request<Lease>({ method: "PUT", path: this.#path(this.name), body: lease, signal });
  }
}

function specOf(record: LeaderElectionRecord): LeaseSpec {
  const spec: LeaseSpec = {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
  };
  if (record.acquireTime !== undefined) spec.acquireTime = record.acquireTime;
  if (record.renewTime !== undefined) spec.renewTime = record.renewTime;
  return spec;
}

function rawRecord(record: LeaderElectionRecord): string {
  const { holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions } = record;
  return JSON.stringify([holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions]);
}

/**
 * A readiness check for MetricsServer.addReadinessCheck: ready while this process leads or
 * knows which process does (a standby that cannot read the Lease is not ready).
 */
export function leaderReadiness(elector: Pick<LeaderElector, "isLeader" | "leader">): HealthCheck {
  return () => elector.isLeader || elector.leader !== undefined;
}
