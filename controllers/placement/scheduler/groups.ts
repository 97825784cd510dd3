// Decision groups and their PlacementDecisions. Clusters matching each named decisionGroup (in
// spec order, each cluster in the first group that takes it) form groups of at most
// clustersPerDecisionGroup; the rest form unnamed groups of that size. Each group is split into
// PlacementDecisions of at most 100 decisions, named <placement>-decision-<k> with k counting
// from 1 across groups. With no cluster selected there is one empty unnamed group.
//
// A decision strategy that cannot be applied (a clustersPerDecisionGroup that is not a count or
// a percentage, a group selector that does not compile) is a misconfiguration; as in OCM, the
// groups formed before the problem are kept (none for clustersPerDecisionGroup) and there is no
// empty fallback group, so such a placement may have no PlacementDecision at all.
import {
  Labels,
  Placement as PlacementConstants,
  Resources,
  placementDecisionName,
} from "../../../api/constants.ts";
import { clustersPerDecisionGroup } from "../../../api/defaults.ts";
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type {
  ClusterDecision,
  DecisionGroupStatus,
  Placement,
  PlacementDecision,
} from "../../../api/types/placement.ts";
import type { FleetIndex } from "./fleet.ts";
import { compileClaimSelector, compileLabelSelector, mapLookup, matches, recordLookup } from "./selectors.ts";
import type { Misconfiguration } from "./types.ts";

const plugin = "DecisionStrategy";

/** The size of a decision group, as OCM computes it: n, or ceil(p% of total); ≤0 or >total means total. */
export function groupLength(value: number | string, total: number): number | Misconfiguration {
  let length: number;
  const field = "spec.decisionStrategy.groupStrategy.clustersPerDecisionGroup";
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return { plugin, message: `${field}: ${value} is not a whole number` };
    length = value;
  } else if (value.endsWith("%") && /^[0-9]+(\.[0-9]+)?%$/.test(value)) {
    length = Math.ceil((Number(value.slice(0, -1)) / 100) * total);
  } else {
    return { plugin, message: `${field}: ${JSON.stringify(value)} invalid type: string is not a percentage` };
  }
  return length <= 0 || length > total ? total : length;
}

export interface SelectedCluster {
  cluster: ManagedCluster;
  decision: ClusterDecision;
}

export interface DecisionGroup {
  name: string;
  members: SelectedCluster[];
}

/** Groups the selected clusters, which arrive in the order decisions are listed (sortBy). */
export function decisionGroups(
  placement: Placement,
  selected: readonly SelectedCluster[],
  fleet: FleetIndex,
):
  | { ok: true; groups: DecisionGroup[] }
  | { ok: false; misconfigured: Misconfiguration; groups: DecisionGroup[] } {
  const length = groupLength(clustersPerDecisionGroup(placement.spec), selected.length);
  if (typeof length !== "number") return { ok: false, misconfigured: length, groups: [] };
  const groups: DecisionGroup[] = [];
  const chunk = (name: string, members: SelectedCluster[]) => {
    for (let i = 0; i < members.length; i += Math.max(length, 1)) {
      groups.push({ name, members: members.slice(i, i + Math.max(length, 1)) });
    }
  };
  const taken = new Set<string>();
  for (const [i, group] of (placement.spec.decisionStrategy?.groupStrategy?.decisionGroups ?? []).entries()) {
    const field = `spec.decisionStrategy.groupStrategy.decisionGroups[${i}].groupClusterSelector`;
    const labels = compileLabelSelector(group.groupClusterSelector?.labelSelector, `${field}.labelSelector`);
    if (!labels.ok) return { ok: false, misconfigured: { plugin, message: labels.message }, groups };
    const claims = compileClaimSelector(group.groupClusterSelector?.claimSelector, `${field}.claimSelector`);
    if (!claims.ok) return { ok: false, misconfigured: { plugin, message: claims.message }, groups };
    const members = selected.filter(
      (s) =>
        !taken.has(s.decision.clusterName) &&
        matches(labels.selector, recordLookup(s.cluster.metadata.labels)) &&
        matches(claims.selector, mapLookup(fleet.claims(s.cluster))),
    );
    for (const m of members) taken.add(m.decision.clusterName);
    chunk(group.groupName, members);
  }
  chunk(
    "",
    selected.filter((s) => !taken.has(s.decision.clusterName)),
  );
  if (groups.length === 0) groups.push({ name: "", members: [] });
  return { ok: true, groups };
}

export interface Decisions {
  placementDecisions: PlacementDecision[];
  groupStatus: DecisionGroupStatus[];
}

/** The PlacementDecisions of the groups; decisions keep the order the groups hold them in. */
export function placementDecisions(placement: Placement, groups: readonly DecisionGroup[]): Decisions {
  const name = placement.metadata.name ?? "";
  const namespace = placement.metadata.namespace ?? "";
  const max = PlacementConstants.maxDecisionsPerPlacementDecision;
  const owner = {
    apiVersion: Resources.Placement.apiVersion,
    kind: Resources.Placement.kind,
    name,
    uid: placement.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
  const out: Decisions = { placementDecisions: [], groupStatus: [] };
  let k = 1;
  groups.forEach((group, index) => {
    const names: string[] = [];
    const slices: ClusterDecision[][] = [];
    for (let i = 0; i < group.members.length; i += max) {
      slices.push(group.members.slice(i, i + max).map((m) => m.decision));
    }
    if (slices.length === 0) slices.push([]);
    for (const decisions of slices) {
      const pdName = placementDecisionName(name, k++);
      names.push(pdName);
      out.placementDecisions.push({
        apiVersion: Resources.PlacementDecision.apiVersion as PlacementDecision["apiVersion"],
        kind: "PlacementDecision",
        metadata: {
          name: pdName,
          namespace,
          labels: {
            [Labels.placement]: name,
            [Labels.decisionGroupName]: group.name,
            [Labels.decisionGroupIndex]: String(index),
          },
          ownerReferences: [owner],
        },
        status: { decisions },
      });
    }
    out.groupStatus.push({
      decisionGroupIndex: index,
      decisionGroupName: group.name,
      decisions: names,
      clusterCount: group.members.length,
    });
  });
  return out;
}
