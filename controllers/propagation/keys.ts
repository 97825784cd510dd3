// How governance objects point at each other, as index keys: a binding at its subjects and
// its placement, a PolicySet at its members, a replicated Policy at its root.
import { Groups, keyOfDottedName, Labels, PolicyLabels, Resources } from "../../api/constants.ts";
import type { PlacementDecision } from "../../api/types/placement.ts";
import type { PlacementBinding, Policy, PolicySet } from "../../api/types/policy.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { KubeObject } from "../../runtime/kube/types.ts";

/** A root Policy has no root-policy label; a replicated one carries its root's `<ns>.<name>`. */
export function isReplicatedPolicy(policy: KubeObject): boolean {
  return policy.metadata.labels?.[PolicyLabels.rootPolicy] !== undefined;
}

/** `Policy:<ns>/<name>` and `PolicySet:<ns>/<name>` for each subject of a binding. */
export function bindingSubjectKeys(binding: PlacementBinding): string[] {
  const namespace = binding.metadata.namespace ?? "";
  const subjects = Array.isArray(binding.subjects) ? binding.subjects : [];
  return subjects
    .filter((subject) => subject?.apiGroup === Groups.policy && typeof subject.name === "string")
    .map((subject) => `${subject.kind}:${namespace}/${subject.name}`);
}

/** `<ns>/<placement>` of a binding's placementRef. */
export function bindingPlacementKeys(binding: PlacementBinding): string[] {
  const name = binding.placementRef?.name;
  return typeof name === "string" ? [`${binding.metadata.namespace ?? ""}/${name}`] : [];
}

/** `<ns>/<policy>` for each member of a PolicySet. */
export function policySetMemberKeys(set: PolicySet): string[] {
  const namespace = set.metadata.namespace ?? "";
  const policies = Array.isArray(set.spec?.policies) ? set.spec.policies : [];
  return policies.filter((name) => typeof name === "string").map((name) => `${namespace}/${name}`);
}

/** The root policy key `<ns>/<name>` of a replicated Policy from its root-policy label. */
export function rootKeyOf(replica: Pick<Policy, "metadata"> | KubeObject): string | undefined {
  return keyOfDottedName(replica.metadata.labels?.[PolicyLabels.rootPolicy]);
}

/** The clusters a binding's Placement decides; undefined when it names no existing Placement. */
export function decidedClusters(
  binding: PlacementBinding,
  placements: Informer<KubeObject>,
  decisions: Informer<PlacementDecision>,
): string[] | undefined {
  const ref = binding.placementRef;
  if (ref?.kind !== Resources.Placement.kind || ref.apiGroup !== Resources.Placement.group) return undefined;
  const namespace = binding.metadata.namespace ?? "";
  if (!placements.get(`${namespace}/${ref.name}`)) return undefined;
  const clusters = new Set<string>();
  for (const decision of decisions.byLabel(Labels.placement, ref.name)) {
    if (decision.metadata.namespace !== namespace) continue;
    for (const entry of decision.status?.decisions ?? [])
      if (entry.clusterName) clusters.add(entry.clusterName);
  }
  return [...clusters];
}

/** A decision group of a Placement, from its PlacementDecision's labels. */
export interface DecisionGroup {
  /** The decision-group-index; Infinity when the label is missing or not a number. */
  index: number;
  name: string;
}

/**
 * Each cluster a binding's Placement decides with the decision group of its PlacementDecision
 * (the lowest index when several name it); undefined when it names no existing Placement.
 * A decision without a usable index puts its clusters after every numbered group.
 */
export function decidedClusterGroups(
  binding: PlacementBinding,
  placements: Informer<KubeObject>,
  decisions: Informer<PlacementDecision>,
): Map<string, DecisionGroup> | undefined {
  const ref = binding.placementRef;
  if (ref?.kind !== Resources.Placement.kind || ref.apiGroup !== Resources.Placement.group) return undefined;
  const namespace = binding.metadata.namespace ?? "";
  if (!placements.get(`${namespace}/${ref.name}`)) return undefined;
  const groups = new Map<string, DecisionGroup>();
  for (const decision of decisions.byLabel(Labels.placement, ref.name)) {
    if (decision.metadata.namespace !== namespace) continue;
    const labels = decision.metadata.labels ?? {};
    const indexText = labels[Labels.decisionGroupIndex] ?? "";
    const group = {
      index: /^\d+$/.test(indexText) ? Number(indexText) : Infinity,
      name: labels[Labels.decisionGroupName] ?? "",
    };
    for (const entry of decision.status?.decisions ?? []) {
      if (!entry.clusterName) continue;
      const known = groups.get(entry.clusterName);
      if (!known || group.index < known.index) groups.set(entry.clusterName, group);
    }
  }
  return groups;
}
