// A PolicySet's status as OCM's policy-set controller fills it: the bindings that place the
// set (read from its members' root placement), the members' compliance on the clusters those
// bindings select, a message naming the members that keep the set from reporting, and the
// exclusions in effect.
import { BosunPolicySetMessages, ComplianceStates, PolicySetMessages } from "../../api/constants.ts";
import type {
  ComplianceState,
  Policy,
  PolicySet,
  PolicySetStatus,
  PolicySetStatusExclusion,
  PolicySetStatusPlacement,
} from "../../api/types/policy.ts";
import type { BindingInput } from "./replicas.ts";

export interface PolicySetMember {
  name: string;
  /** The root Policy; undefined when it does not exist. */
  policy: Policy | undefined;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Valid exclusions (for members of the set, with clusters) and the names of the others. */
function classifyExclusions(set: PolicySet): {
  valid: { policyName: string; clusterNames: string[] }[];
  unknownPolicies: string[];
} {
  const members = new Set(set.spec?.policies ?? []);
  const valid: { policyName: string; clusterNames: string[] }[] = [];
  const unknownPolicies: string[] = [];
  for (const exclusion of set.spec?.exclusions ?? []) {
    if (!members.has(exclusion.policyName)) {
      if (!unknownPolicies.includes(exclusion.policyName)) unknownPolicies.push(exclusion.policyName);
      continue;
    }
    if ((exclusion.clusterNames ?? []).length > 0)
      valid.push({ policyName: exclusion.policyName, clusterNames: exclusion.clusterNames });
  }
  return { valid, unknownPolicies };
}

/** One entry per policy, in the order the policies first appear, clusters deduplicated and sorted. */
function statusExclusions(
  valid: { policyName: string; clusterNames: string[] }[],
): PolicySetStatusExclusion[] {
  const clustersByPolicy = new Map<string, Set<string>>();
  for (const { policyName, clusterNames } of valid) {
    const clusters = clustersByPolicy.get(policyName) ?? new Set<string>();
    for (const cluster of clusterNames) clusters.add(cluster);
    clustersByPolicy.set(policyName, clusters);
  }
  return [...clustersByPolicy].map(([policyName, clusters]) => ({
    policyName,
    clusters: [...clusters].sort(byString),
  }));
}

/**
 * The member's compliance on the given clusters: NonCompliant beats Pending beats Compliant;
 * undefined when none of them has reported.
 */
function complianceOn(policy: Policy, clusters: ReadonlySet<string>): ComplianceState | undefined {
  let found: ComplianceState | undefined;
  for (const entry of policy.status?.status ?? []) {
    if (!entry.clustername || !clusters.has(entry.clustername)) continue;
    if (entry.compliant === ComplianceStates.nonCompliant) return ComplianceStates.nonCompliant;
    if (entry.compliant === ComplianceStates.pending) found = ComplianceStates.pending;
    else if (entry.compliant === ComplianceStates.compliant) found ??= ComplianceStates.compliant;
  }
  return found;
}

/**
 * The PolicySet's status from its members (in spec.policies order) and the bindings of its
 * namespace with the clusters their Placements decide.
 */
export function policySetStatus(
  set: PolicySet,
  members: readonly PolicySetMember[],
  bindings: readonly BindingInput[],
): PolicySetStatus {
  if ((set.spec?.policies ?? []).length === 0) return {};
  const setName = set.metadata.name ?? "";

  const placements = new Map<string, PolicySetStatusPlacement>();
  for (const { policy } of members)
    for (const entry of policy?.status?.placement ?? []) {
      if (entry.policySet !== setName || !entry.placementBinding) continue;
      const placement: PolicySetStatusPlacement = { placementBinding: entry.placementBinding };
      if (entry.placement) placement.placement = entry.placement;
      if (entry.placementRule) placement.placementRule = entry.placementRule;
      placements.set(entry.placementBinding, placement);
    }

  // The clusters the set's bindings select, before any exclusion.
  const setClusters = new Set<string>();
  for (const { binding, clusters } of bindings)
    if (placements.has(binding.metadata.name ?? ""))
      for (const cluster of clusters ?? []) setClusters.add(cluster);

  const { valid, unknownPolicies: unknownExclusions } = classifyExclusions(set);
  const pending: string[] = [];
  const disabled: string[] = [];
  const noStatus: string[] = [];
  const deleted: string[] = [];
  let reporting = 0;
  let aggregate: ComplianceState = ComplianceStates.compliant;
  for (const { name, policy } of members) {
    if (!policy) {
      deleted.push(name);
      continue;
    }
    if (policy.spec?.disabled) {
      disabled.push(name);
      continue;
    }
    const excluded = new Set(valid.filter((e) => e.policyName === name).flatMap((e) => e.clusterNames));
    const relevant = new Set([...setClusters].filter((cluster) => !excluded.has(cluster)));
    const compliance = complianceOn(policy, relevant);
    if (compliance === undefined) noStatus.push(name);
    else {
      reporting++;
      if (compliance === ComplianceStates.nonCompliant) aggregate = compliance;
      else if (compliance === ComplianceStates.pending) {
        pending.push(name);
        if (aggregate !== ComplianceStates.nonCompliant) aggregate = compliance;
      }
    }
  }

  const status: PolicySetStatus = {};
  const placement = [...placements.values()].sort((a, b) =>
    byString(a.placementBinding ?? "", b.placementBinding ?? ""),
  );
  if (placement.length > 0) status.placement = placement;
  // A set reports compliance only once every enabled, existing member has reported.
  if (noStatus.length === 0 && reporting > 0) status.compliant = aggregate;
  const exclusions = statusExclusions(valid);
  status.statusMessage = statusMessage(
    { pending, disabled, noStatus, deleted },
    exclusions,
    unknownExclusions,
  );
  if (exclusions.length > 0) status.exclusions = exclusions;
  return status;
}

function statusMessage(
  lists: { pending: string[]; disabled: string[]; noStatus: string[]; deleted: string[] },
  exclusions: PolicySetStatusExclusion[],
  unknownExclusions: string[],
): string {
  const parts: string[] = [];
  const add = (prefix: string, names: string[]) => {
    if (names.length > 0) parts.push(prefix + names.join(", "));
  };
  add(PolicySetMessages.pendingPrefix, lists.pending);
  add(PolicySetMessages.disabledPrefix, lists.disabled);
  add(PolicySetMessages.noStatusPrefix, lists.noStatus);
  add(PolicySetMessages.deletedPrefix, lists.deleted);
  if (parts.length === 0) parts.push(PolicySetMessages.allReporting);
  add(
    BosunPolicySetMessages.exclusionsPrefix,
    exclusions.map(({ policyName, clusters }) => BosunPolicySetMessages.excludedFrom(policyName, clusters)),
  );
  add(BosunPolicySetMessages.unknownExclusionsPrefix, unknownExclusions);
  return parts.join(PolicySetMessages.separator);
}
