// Kubernetes Events, as `kubectl describe` and `kubectl get events` show them. Recording is
// best effort: a failed write is logged and never fails a reconcile. Repeats of the same
// event (same object, type, reason and message) within the aggregation window update one
// Event's count and lastTimestamp instead of creating another, as client-go's recorder does.
// In the background mode a record returns at once and the writes follow, a few at a time and
// in the order recorded, so that a burst of Events (one per cluster of a fleet-wide change)
// neither holds up the reconciles that record them nor crowds out their status writes.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Clock } from "./clock.ts";
import type { KubeApi } from "./kube/client.ts";
import type { KubeObject } from "./kube/types.ts";
import { formatTime } from "./time.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  client: KubeApi;
  /** The reporting component, e.g. "bosun-registration". */
  component: string;
  clock: Clock;
  logger: Logger;
  /** Repeats within this window are folded into one Event. Default 10 minutes. */
  aggregationWindowMs?: number;
  /** The most distinct events remembered for folding; the least recent are forgotten first. Default 4096. */
  maxRemembered?: number;
  /** Write in the background, at most `concurrency` at once; beyond `maxPending` waiting writes, drop. */
  background?: { concurrency: number; maxPending: number };
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  lastMs: number;
  /** The Event's last write: true once it exists, false when that write failed. */
  written: Promise<boolean>;
}

/** Events of cluster-scoped objects live in "default", as Kubernetes records them. */
function eventNamespace(object: KubeObject): string {
  return object.metadata.namespace || "default";
}

export class EventRecorder {
  readonly #options: EventRecorderOptions;
  /** Ordered from the least to the most recently recorded, so forgetting starts at the front. */
  readonly #recent = new Map<string, Recorded>();
  /** Background writes not started yet, oldest first. */
  readonly #queue: (() => Promise<void>)[] = [];
  #running = 0;
  #dropped = 0;
  readonly #idle: (() => void)[] = [];

  constructor(options: EventRecorderOptions) {
    this.#options = options;
  }

  /**
   * Records an event about `object`; resolves once written (or once the failure is logged), or
   * at once in the background mode.
   */
  record(object: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const background = this.#options.background;
    if (background && this.#queue.length >= background.maxPending) {
      // Memory stays bounded when the API server cannot keep up; the loss is counted and logged.
      if (this.#dropped++ % 1000 === 0)
        this.#options.logger.warn(
          { dropped: this.#dropped, reason },
          "events dropped: too many waiting to be written",
        );
      return Promise.resolve();
    }
    const now = this.#options.clock.now();
    const window = this.#options.aggregationWindowMs ?? 600_000;
    const key = [object.metadata.uid ?? object.metadata.name, type, reason, message].join("\u0000");
    this.#forgetOlderThan(now - window);
    const failed = (entry: Recorded, error: unknown) => {
      // The Event may have been garbage-collected or the write refused: start afresh next time.
      if (this.#recent.get(key) === entry) this.#recent.delete(key);
      this.#options.logger.warn(
        { err: error, reason, object: object.metadata.name },
        "could not record event",
      );
      return false;
    };
    const previous = this.#recent.get(key);
    if (previous) {
      previous.count++;
      previous.lastMs = now;
      this.#recent.delete(key);
      this.#recent.set(key, previous);
      const { count } = previous;
      const created = previous.written;
      // After the Event's earlier writes, in order: a count never goes back.
      previous.written = this.#run(async () => {
        if (!(await created)) return false;
        try {
          await this.#options.client.patch(
            { apiVersion: "v1", kind: "Event", name: previous.name, namespace: previous.namespace },
            "merge",
            { count, lastTimestamp: formatTime(now) },
          );
          return true;
        } catch (error) {
          return failed(previous, error);
        }
      });
      return this.#settled(previous.written);
    }
    const namespace = eventNamespace(object);
    const name = `${object.metadata.name ?? "object"}.${randomBytes(8).toString("hex")}`;
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component: this.#options.component },
      reportingComponent: this.#options.component,
      reportingInstance: this.#options.component,
      firstTimestamp: formatTime(now),
      lastTimestamp: formatTime(now),
      count: 1,
    };
    const entry: Recorded = { name, namespace, count: 1, lastMs: now, written: Promise.resolve(false) };
    this.#recent.set(key, entry);
    const limit = this.#options.maxRemembered ?? 4096;
    for (const oldest of this.#recent.keys()) {
      if (this.#recent.size <= limit) break;
      this.#recent.delete(oldest);
    }
    entry.written = this.#run(async () => {
      try {
        await this.#options.client.create(event);
        return true;
      } catch (error) {
        return failed(entry, error);
      }
    });
    return this.#settled(entry.written);
  }

  /** What record() returns: the write's end, or nothing to wait for in the background mode. */
  #settled(written: Promise<boolean>): Promise<void> {
    return this.#options.background ? Promise.resolve() : written.then(() => undefined);
  }

  /** Events dropped because too many were waiting (background mode). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Resolves once every event recorded so far is written (or its failure logged): true then,
   * false when `timeoutMs` passed first (an API server that does not answer must not hold up a
   * shutdown).
   */
  flush(timeoutMs?: number): Promise<boolean> {
    if (this.#queue.length === 0 && this.#running === 0) return Promise.resolve(true);
    const drained = new Promise<boolean>((resolve) => this.#idle.push(() => resolve(true)));
    if (timeoutMs === undefined) return drained;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    return Promise.race([drained, timedOut]).finally(() => clearTimeout(timer));
  }

  /** Runs `write` now, or in the background mode once a slot is free (in the order asked). */
  #run(write: () => Promise<boolean>): Promise<boolean> {
    if (!this.#options.background) return write();
    return new Promise((resolve) => {
      this.#queue.push(() => write().then(resolve));
      this.#pump();
    });
  }

  #pump(): void {
    const concurrency = this.#options.background?.concurrency ?? 1;
    while (this.#running < concurrency && this.#queue.length > 0) {
      const next = this.#queue.shift()!;
      this.#running++;
      void next().finally(() => {
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#queue.length === 0)
          for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  #forgetOlderThan(cutoffMs: number): void {
    for (const [key, recorded] of this.#recent) {
      if (recorded.lastMs >= cutoffMs) return;
      this.#recent.delete(key);
    }
  }
}
