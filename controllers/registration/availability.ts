// Lease-based availability and the taints that follow from it, as pure functions of the
// cluster, its lease and the time.
import {
  ConditionStatus,
  Lease,
  ManagedClusterConditions,
  ManagedClusterMessages,
  ManagedClusterReasons,
  TaintEffects,
  Taints,
} from "../../api/constants.ts";
import type { ManagedCluster, Taint } from "../../api/types/cluster.ts";
import { findCondition, type ConditionUpdate } from "../../runtime/conditions.ts";
import { formatTime } from "../../runtime/time.ts";

export interface LeaseTimes {
  /** spec.renewTime of `managed-cluster-lease`, in ms since the epoch. */
  renewTimeMs: number;
}

export function leaseDurationSeconds(cluster: ManagedCluster): number {
  const configured = cluster.spec?.leaseDurationSeconds ?? 0;
  return configured > 0 ? configured : Lease.defaultDurationSeconds;
}

/** How long after its last renewal a lease counts as expired: 5 × leaseDurationSeconds. */
export function leaseGraceMs(cluster: ManagedCluster): number {
  return Lease.graceMultiplier * leaseDurationSeconds(cluster) * 1000;
}

export type LeaseVerdict = { expired: true } | { expired: false; recheckInMs: number };

/** Expired when now ≥ renewTime + grace; otherwise when to look again (the exact expiry). */
export function judgeLease(cluster: ManagedCluster, lease: LeaseTimes, nowMs: number): LeaseVerdict {
  const expiresAtMs = lease.renewTimeMs + leaseGraceMs(cluster);
  return nowMs >= expiresAtMs ? { expired: true } : { expired: false, recheckInMs: expiresAtMs - nowMs };
}

export function leaseStoppedCondition(): ConditionUpdate {
  return {
    type: ManagedClusterConditions.available,
    status: ConditionStatus.Unknown,
    reason: ManagedClusterReasons.leaseUpdateStopped,
    message: ManagedClusterMessages.leaseUpdateStopped,
  };
}

/**
 * The taints the Available condition calls for: unreachable when it is missing or Unknown,
 * unavailable when False, neither when True. Other taints are kept as they are, and a
 * built-in taint that stays keeps its timeAdded. Returns undefined when nothing changes.
 */
export function desiredTaints(cluster: ManagedCluster, nowMs: number): Taint[] | undefined {
  const available = findCondition(cluster.status?.conditions, ManagedClusterConditions.available);
  const wanted =
    !available || available.status === ConditionStatus.Unknown
      ? Taints.unreachable
      : available.status === ConditionStatus.False
        ? Taints.unavailable
        : undefined;
  const current = cluster.spec?.taints ?? [];
  const builtIn = new Set<string>([Taints.unreachable, Taints.unavailable]);
  const next: Taint[] = current.filter((taint) => !builtIn.has(taint.key) || taint.key === wanted);
  if (wanted && !next.some((taint) => taint.key === wanted)) {
    next.push({ key: wanted, effect: TaintEffects.noSelect, timeAdded: formatTime(nowMs) });
  }
  const same =
    next.length === current.length && next.every((taint, index) => taint.key === current[index]?.key);
  return same ? undefined : next;
}
