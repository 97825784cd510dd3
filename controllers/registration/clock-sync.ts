// ManagedClusterConditionClockSynced as a pure function of a lease renewal and the hub time at
// which the hub saw it: an agent renewing its lease writes its own "now" into renewTime, so a
// renewal seen long before or after the time it claims means the two clocks disagree.
import {
  ConditionStatus,
  Lease,
  ManagedClusterConditions,
  ManagedClusterMessages,
  ManagedClusterReasons,
} from "../../api/constants.ts";
import type { Condition, ConditionUpdate } from "../../runtime/conditions.ts";

export interface RenewalSighting {
  /** spec.renewTime of `managed-cluster-lease`, in ms since the epoch (the agent's clock). */
  renewTimeMs: number;
  /** The hub's time when it first saw this renewTime. */
  seenAtMs: number;
  /**
   * True when the hub saw renewTime change to this value, so seenAtMs is close to when the agent
   * wrote it; false when the value was already there when the hub first looked (after a restart),
   * and the renewal may be far older than seenAtMs.
   */
  sawChange: boolean;
}

/** Out of sync when renewTime and the hub's time differ by at least 5 × leaseDurationSeconds. */
export function clockSkewThresholdMs(leaseDurationSeconds: number): number {
  return Lease.graceMultiplier * leaseDurationSeconds * 1000;
}

/**
 * The ClockSynced condition to write, or undefined to leave the current one alone: when its
 * status would not change, or when the sighting cannot tell (a renewal found already old may
 * just be an agent that stopped, not one whose clock is behind).
 */
export function clockSyncUpdate(
  sighting: RenewalSighting,
  leaseDurationSeconds: number,
  current: Condition | undefined,
): ConditionUpdate | undefined {
  const thresholdMs = clockSkewThresholdMs(leaseDurationSeconds);
  const skewMs = sighting.renewTimeMs - sighting.seenAtMs;
  const ahead = skewMs >= thresholdMs;
  const behind = -skewMs >= thresholdMs;
  if (behind && !sighting.sawChange) return undefined;
  const next: ConditionUpdate =
    ahead || behind
      ? {
          type: ManagedClusterConditions.clockSynced,
          status: ConditionStatus.False,
          reason: ManagedClusterReasons.clockOutOfSync,
          message: ManagedClusterMessages.clockOutOfSync,
        }
      : {
          type: ManagedClusterConditions.clockSynced,
          status: ConditionStatus.True,
          reason: ManagedClusterReasons.clockSynced,
          message: ManagedClusterMessages.clockSynced,
        };
  // As OCM: written only when the status changes, not with every renewal.
  return current?.status === next.status && current.reason === next.reason ? undefined : next;
}
