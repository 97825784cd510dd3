// What the agent reports in its ManagedCluster's status, computed without I/O from what it
// observed: acceptance, the managed API server's health, its version, the nodes and the
// ClusterClaims. Reconcilers run in OCM's order (joining, available, resources, claims) and
// each may stop the chain.
import {
  ClusterClaims,
  ConditionStatus,
  Labels,
  ManagedClusterConditions,
  ManagedClusterMessages,
  ManagedClusterReasons,
} from "../../api/constants.ts";
import type { ClusterClaim, ManagedClusterClaim, ManagedClusterStatus } from "../../api/types/cluster.ts";
import type { ResourceList } from "../../api/types/meta.ts";
import { findCondition, setCondition, type ConditionUpdate } from "../../runtime/conditions.ts";
import { addQuantities, formatQuantity, parseQuantity, type Quantity } from "../../api/quantity.ts";

/** OCM's message for a healthy managed API server. */
export const availableMessage = "Managed cluster is available";
/** How long health checks must keep failing before Available turns False. */
export const availabilityFailureThresholdMs = 20_000;
/** How soon a failed health check is repeated while the failure is still unconfirmed. */
export const availabilityRecheckMs = 5_000;

export interface Node {
  metadata: { name?: string };
  spec?: { unschedulable?: boolean };
  status?: { capacity?: ResourceList; allocatable?: ResourceList };
}

export interface NodeResources {
  capacity: Record<string, string>;
  /** Summed over schedulable nodes only. */
  allocatable: Record<string, string>;
  /** Entries skipped because their value is not a quantity, e.g. `node n1: capacity["cpu"]: ...`. */
  problems: string[];
}

/** Sums node capacity over all nodes and allocatable over schedulable nodes. */
export function sumNodeResources(nodes: readonly Node[]): NodeResources {
  const capacity = new Map<string, Quantity>();
  const allocatable = new Map<string, Quantity>();
  const problems: string[] = [];
  const add = (into: Map<string, Quantity>, list: ResourceList | undefined, where: string) => {
    for (const [name, value] of Object.entries(list ?? {})) {
      let parsed: Quantity;
      try {
        // Read as the API server's JSON decoding reads it: surrounding spaces do not count.
        parsed = parseQuantity(String(value).trim());
      } catch (error) {
        problems.push(`${where}[${JSON.stringify(name)}]: ${(error as Error).message}`);
        continue;
      }
      const sum = into.get(name);
      into.set(name, sum ? addQuantities(sum, parsed) : parsed);
    }
  };
  for (const node of nodes) {
    const name = node.metadata.name ?? "";
    add(capacity, node.status?.capacity, `node ${name}: capacity`);
    if (node.spec?.unschedulable) continue;
    add(allocatable, node.status?.allocatable, `node ${name}: allocatable`);
  }
  const format = (sums: Map<string, Quantity>) =>
    Object.fromEntries(
      [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, formatQuantity(v)]),
    );
  return { capacity: format(capacity), allocatable: format(allocatable), problems };
}

/** The observed capacity, plus the keys that other actors placed in the current capacity. */
export function mergeCapacity(
  current: ResourceList | undefined,
  observed: Record<string, string>,
): ResourceList {
  const merged: ResourceList = { ...observed };
  for (const [key, value] of Object.entries(current ?? {})) if (!(key in merged)) merged[key] = value;
  return merged;
}

export interface ClaimOptions {
  /** Custom (not reserved) claims kept; the rest are cut. Default 20. */
  maxCustomClaims?: number;
  /** Claims whose names end with one of these count as reserved. */
  reservedSuffixes?: readonly string[];
}

export interface SyncedClaims {
  claims: ManagedClusterClaim[];
  /** Names of custom claims cut off by the limit. */
  truncated: string[];
}

/**
 * The claims to report: spoke-only claims dropped, reserved claims first (sorted by name),
 * then custom claims sorted by name and cut to the limit.
 */
export function syncedClaims(claims: readonly ClusterClaim[], options: ClaimOptions = {}): SyncedClaims {
  const maxCustom = options.maxCustomClaims ?? ClusterClaims.defaultMaxCustomClaims;
  const suffixes = options.reservedSuffixes ?? [];
  const reservedNames: readonly string[] = ClusterClaims.reserved;
  const reserved: ManagedClusterClaim[] = [];
  const custom: ManagedClusterClaim[] = [];
  for (const claim of claims) {
    const name = claim.metadata.name;
    const value = claim.spec?.value;
    if (!name || !value) continue;
    if (claim.metadata.labels && Labels.spokeOnly in claim.metadata.labels) continue;
    const isReserved =
      reservedNames.includes(name) || suffixes.some((suffix) => suffix && name.endsWith(suffix));
    (isReserved ? reserved : custom).push({ name, value });
  }
  const byName = (a: ManagedClusterClaim, b: ManagedClusterClaim) =>
    a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0;
  reserved.sort(byName);
  custom.sort(byName);
  const kept = custom.slice(0, Math.max(0, maxCustom));
  return {
    claims: [...reserved, ...kept],
    truncated: custom.slice(kept.length).map((claim) => claim.name!),
  };
}

export interface HealthProbe {
  /** HTTP status of /livez (or /healthz after a 403/404); 0 when no answer came. */
  statusCode: number;
  /** Response body or error text, for the condition message. */
  detail: string;
}

export interface AvailabilityVerdict {
  /** The condition to write; undefined keeps the current one. */
  condition?: ConditionUpdate;
  /** False: later reconcilers (resources, claims) are skipped. */
  proceed: boolean;
  /** Re-run the health check this soon to confirm a failure. */
  recheckMs?: number;
}

/**
 * Turns health probes into the Available condition. A failure becomes False only once it has
 * lasted `failureThresholdMs`, so a short API server blip does not flip the condition.
 */
export class AvailabilityTracker {
  readonly #failureThresholdMs: number;
  #firstFailureAt: number | undefined;

  constructor(failureThresholdMs = availabilityFailureThresholdMs) {
    this.#failureThresholdMs = failureThresholdMs;
  }

  observe(probe: HealthProbe, nowMs: number): AvailabilityVerdict {
    if (probe.statusCode === 200) {
      this.#firstFailureAt = undefined;
      return {
        proceed: true,
        condition: {
          type: ManagedClusterConditions.available,
          status: ConditionStatus.True,
          reason: ManagedClusterReasons.available,
          message: availableMessage,
        },
      };
    }
    this.#firstFailureAt ??= nowMs;
    if (nowMs - this.#firstFailureAt >= this.#failureThresholdMs) {
      return {
        proceed: false,
        condition: {
          type: ManagedClusterConditions.available,
          status: ConditionStatus.False,
          reason: ManagedClusterReasons.kubeApiServerUnavailable,
          message: `The kube-apiserver is not ok, status code: ${probe.statusCode}, ${probe.detail}`,
        },
      };
    }
    return { proceed: false, recheckMs: availabilityRecheckMs };
  }
}

export function isAccepted(status: ManagedClusterStatus | undefined): boolean {
  return (
    findCondition(status?.conditions, ManagedClusterConditions.hubAccepted)?.status === ConditionStatus.True
  );
}

export interface Observation {
  availability: AvailabilityVerdict;
  /** `/version`'s gitVersion; undefined leaves the reported version alone. */
  kubernetesVersion?: string;
  nodes?: NodeResources;
  /** Undefined while the claims are unknown (their cache has not synced): keep what is reported. */
  claims?: ManagedClusterClaim[];
}

/**
 * The status the agent wants, or undefined when the cluster is not accepted (then the agent
 * writes nothing). Unchanged inputs give a status equal to `current`, so no write follows.
 */
export function desiredClusterStatus(
  current: ManagedClusterStatus | undefined,
  observation: Observation,
  nowMs: number,
): ManagedClusterStatus | undefined {
  if (!isAccepted(current)) return undefined;
  const status: ManagedClusterStatus = structuredClone(current ?? {});
  let conditions = setCondition(
    status.conditions,
    {
      type: ManagedClusterConditions.joined,
      status: ConditionStatus.True,
      reason: ManagedClusterReasons.joined,
      message: ManagedClusterMessages.joined,
    },
    nowMs,
  );
  const { availability } = observation;
  if (availability.condition) conditions = setCondition(conditions, availability.condition, nowMs);
  status.conditions = conditions;
  if (!availability.proceed) return status;

  if (observation.kubernetesVersion !== undefined)
    status.version = { ...status.version, kubernetes: observation.kubernetesVersion };
  if (observation.nodes) {
    status.capacity = mergeCapacity(status.capacity, observation.nodes.capacity);
    status.allocatable = observation.nodes.allocatable;
  }
  if (observation.claims) status.clusterClaims = observation.claims;
  // Empty lists and maps are left out, as OCM's agent writes them (omitempty).
  if (status.capacity && Object.keys(status.capacity).length === 0) delete status.capacity;
  if (status.allocatable && Object.keys(status.allocatable).length === 0) delete status.allocatable;
  if (status.clusterClaims?.length === 0) delete status.clusterClaims;
  return status;
}
