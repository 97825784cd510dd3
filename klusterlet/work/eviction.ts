// Eviction of AppliedManifestWorks that no ManifestWork stands behind any more: the work is gone
// from the hub (deleted while this agent could not see it, or its finalizer was forced off), or
// the record belongs to another hub (its name does not start with this hub's hash). As OCM's
// agent does, such a record is marked with status.evictionStartTime, and once the grace period
// has passed since then it is deleted, which deletes what it applied (its finalizer's cleanup).
// A work that reappears in time stops the eviction. Nothing is evicted until the agent has seen
// the hub's list of works: a cache that has not synced knows of no work.
import type { AppliedManifestWork } from "../../api/types/work.ts";
import { parseMicroTime } from "../../runtime/time.ts";
import { workNameOf } from "./applied-name.ts";

/** A grace period this long or longer turns eviction off, as in OCM. */
export const evictionDisabledAtMs = 100 * 365 * 24 * 3600 * 1000;

export type EvictionStep =
  /** The record is backed by a work (and not marked): nothing to do. */
  | { action: "none" }
  /** Unbacked and not marked yet: set status.evictionStartTime to now; check again after the grace period. */
  | { action: "mark"; requeueAfterMs: number }
  /** Backed again after being marked: clear status.evictionStartTime. */
  | { action: "unmark" }
  /** Unbacked and marked, grace period not over: check again then. */
  | { action: "wait"; requeueAfterMs: number }
  /** Unbacked past the grace period: delete the record (and so what it applied). */
  | { action: "evict"; reason: string };

export interface EvictionInput {
  applied: Pick<AppliedManifestWork, "metadata" | "status">;
  /** This agent's hub hash. */
  hubHash: string;
  /** Whether the hub has a ManifestWork of that name in this cluster's namespace. */
  workExists: (workName: string) => boolean;
  nowMs: number;
  gracePeriodMs: number;
}

export function evictionStep(input: EvictionInput): EvictionStep {
  const { applied, nowMs, gracePeriodMs } = input;
  if (applied.metadata.deletionTimestamp) return { action: "none" };
  const workName = workNameOf(applied.metadata.name ?? "", input.hubHash);
  const backed = workName !== undefined && input.workExists(workName);
  const started = applied.status?.evictionStartTime;
  if (backed || gracePeriodMs >= evictionDisabledAtMs)
    return started ? { action: "unmark" } : { action: "none" };
  const startedMs = started === undefined ? undefined : parseMicroTime(started);
  if (startedMs === undefined) return { action: "mark", requeueAfterMs: gracePeriodMs };
  const leftMs = startedMs + gracePeriodMs - nowMs;
  if (leftMs > 0) return { action: "wait", requeueAfterMs: leftMs };
  const reason =
    workName === undefined
      ? "it belongs to another hub"
      : `its ManifestWork ${workName} is gone from the hub`;
  return { action: "evict", reason };
}
