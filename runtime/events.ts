// Kubernetes Events, as `kubectl describe` and `kubectl get events` show them. Recording is
// best effort: a failed write is logged and never fails a reconcile. Repeats of the same
// event (same object, type, reason and message) within the aggregation window update one
// Event's count and lastTimestamp instead of creating another, as client-go's recorder does.
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
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  lastMs: number;
}

/** Events of cluster-scoped objects live in "default", as Kubernetes records them. */
function eventNamespace(object: KubeObject): string {
  return object.metadata.namespace || "default";
}

export class EventRecorder {
  readonly #options: EventRecorderOptions;
  /** Ordered from the least to the most recently recorded, so forgetting starts at the front. */
  readonly #recent = new Map<string, Recorded>();

  constructor(options: EventRecorderOptions) {
    this.#options = options;
  }

  /** Records an event about `object`; resolves once written (or once the failure is logged). */
  async record(object: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.#options.clock.now();
    const window = this.#options.aggregationWindowMs ?? 600_000;
    const key = [object.metadata.uid ?? object.metadata.name, type, reason, message].join("\u0000");
    this.#forgetOlderThan(now - window);
    const previous = this.#recent.get(key);
    try {
      if (previous) {
        previous.count++;
        previous.lastMs = now;
        this.#recent.delete(key);
        this.#recent.set(key, previous);
        await this.#options.client.patch(
          { apiVersion: "v1", kind: "Event", name: previous.name, namespace: previous.namespace },
          "merge",
          { count: previous.count, lastTimestamp: formatTime(now) },
        );
        return;
      }
      const namespace = eventNamespace(object);
      const name = `${object.metadata.name ?? "object"}.${randomBytes(8).toString("hex")}`;
      await this.#options.client.create({
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
      });
      this.#recent.set(key, { name, namespace, count: 1, lastMs: now });
      const limit = this.#options.maxRemembered ?? 4096;
      for (const oldest of this.#recent.keys()) {
        if (this.#recent.size <= limit) break;
        this.#recent.delete(oldest);
      }
    } catch (error) {
      // The Event may have been garbage-collected or the write refused: start afresh next time.
      this.#recent.delete(key);
      this.#options.logger.warn(
        { err: error, reason, object: object.metadata.name },
        "could not record event",
      );
    }
  }

  #forgetOlderThan(cutoffMs: number): void {
    for (const [key, recorded] of this.#recent) {
      if (recorded.lastMs >= cutoffMs) return;
      this.#recent.delete(key);
    }
  }
}
