// A root Policy's status as OCM's propagator fills it: where it is placed, each selected
// cluster's replica compliance (sorted by cluster), and the compliance of the whole.
import { ComplianceStates } from "../../api/constants.ts";
import type { CompliancePerClusterStatus, ComplianceState, PolicyStatus } from "../../api/types/policy.ts";
import { sameJson, type PropagationPlan } from "./replicas.ts";

/**
 * The root's compliance from its clusters': none → undefined; then NonCompliant beats Pending,
 * Pending beats unknown (a cluster that has not reported: undefined), and only when every
 * cluster is Compliant is the root Compliant.
 */
export function rootCompliance(
  values: readonly (ComplianceState | undefined)[],
): ComplianceState | undefined {
  if (values.length === 0) return undefined;
  if (values.includes(ComplianceStates.nonCompliant)) return ComplianceStates.nonCompliant;
  if (values.includes(ComplianceStates.pending)) return ComplianceStates.pending;
  return values.every((value) => value === ComplianceStates.compliant)
    ? ComplianceStates.compliant
    : undefined;
}

/**
 * The root's status from the plan and its replicas' compliance by cluster (absent or
 * undefined: the replica has not reported yet). A disabled root keeps its placement and has
 * no per-cluster status and no compliance.
 */
export function rootStatus(
  plan: PropagationPlan,
  replicaCompliance: ReadonlyMap<string, ComplianceState | undefined>,
  disabled: boolean,
): PolicyStatus {
  const status: PolicyStatus = {};
  if (plan.placement.length > 0) status.placement = plan.placement;
  if (disabled) return status;

  const clusters = [...plan.clusters].sort((a, b) =>
    a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0,
  );
  const perCluster = clusters.map(({ cluster, remainingBindings }) => {
    const entry: CompliancePerClusterStatus = {};
    const compliant = replicaCompliance.get(cluster);
    if (compliant) entry.compliant = compliant;
    entry.clustername = cluster;
    entry.clusternamespace = cluster;
    if (remainingBindings && remainingBindings.length > 0)
      entry.remainingBindings = remainingBindings.map((placementBinding) => ({ placementBinding }));
    return entry;
  });
  if (perCluster.length > 0) status.status = perCluster;
  const compliant = rootCompliance(perCluster.map((entry) => entry.compliant));
  if (compliant) status.compliant = compliant;
  return status;
}

/** The root fields of a status, with empty lists and values the same as absent. */
function comparable(status: PolicyStatus | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (status?.placement?.length) out.placement = status.placement;
  if (status?.status?.length) out.status = status.status;
  if (status?.compliant) out.compliant = status.compliant;
  return out;
}

/** True when the root's placement, per-cluster status or compliance differ between a and b. */
export function statusDiffers(a: PolicyStatus | undefined, b: PolicyStatus): boolean {
  return !sameJson(comparable(a), comparable(b));
}
