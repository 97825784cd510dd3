// Cluster-set membership and the status conditions of sets and bindings.
import {
  BuiltInClusterSets,
  ClusterSetSelectorTypes,
  ConditionStatus,
  Labels,
  ManagedClusterSetBindingConditions,
  ManagedClusterSetBindingReasons,
  ManagedClusterSetConditions,
  ManagedClusterSetMessages,
  ManagedClusterSetReasons,
} from "../../api/constants.ts";
import type { ManagedCluster, ManagedClusterSet } from "../../api/types/cluster.ts";
import type { Condition, ConditionUpdate } from "../../runtime/conditions.ts";
import { compileLabelSelector, matchesLabels } from "../../api/selectors.ts";

/** The clusters of a set, by its selector type; an error names the offending field. */
export function clusterSetMembers(
  set: ManagedClusterSet,
  clusters: readonly ManagedCluster[],
): ManagedCluster[] | Error {
  const selector = set.spec?.clusterSelector;
  const type = selector?.selectorType ?? ClusterSetSelectorTypes.exclusiveClusterSetLabel;
  if (type === ClusterSetSelectorTypes.exclusiveClusterSetLabel) {
    return clusters.filter((cluster) => cluster.metadata.labels?.[Labels.clusterSet] === set.metadata.name);
  }
  if (type === ClusterSetSelectorTypes.labelSelector) {
    const compiled = compileLabelSelector(selector?.labelSelector ?? {});
    if (!compiled.ok) {
      return new Error(`spec.clusterSelector.labelSelector is invalid: ${compiled.error.message}`);
    }
    return clusters.filter((cluster) => matchesLabels(compiled.selector, cluster.metadata.labels));
  }
  return new Error(`spec.clusterSelector.selectorType "${String(type)}" is not supported`);
}

export function clusterSetEmptyCondition(members: number): ConditionUpdate {
  return members === 0
    ? {
        type: ManagedClusterSetConditions.clusterSetEmpty,
        status: ConditionStatus.True,
        reason: ManagedClusterSetReasons.noClusterMatched,
        message: ManagedClusterSetMessages.noClusterMatched,
      }
    : {
        type: ManagedClusterSetConditions.clusterSetEmpty,
        status: ConditionStatus.False,
        reason: ManagedClusterSetReasons.clustersSelected,
        message: `${members} ManagedClusters selected`,
      };
}

export function boundCondition(setExists: boolean, setName: string): ConditionUpdate {
  return setExists
    ? {
        type: ManagedClusterSetBindingConditions.bound,
        status: ConditionStatus.True,
        reason: ManagedClusterSetBindingReasons.clusterSetBound,
        message: "",
      }
    : {
        type: ManagedClusterSetBindingConditions.bound,
        status: ConditionStatus.False,
        reason: ManagedClusterSetBindingReasons.clusterSetNotFound,
        message: `ManagedClusterSet ${setName} not found`,
      };
}

/** The sets every hub has: `default` (the exclusive label new clusters get) and `global` (everything). */
export function builtInClusterSets(): ManagedClusterSet[] {
  return [
    {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSet",
      metadata: { name: BuiltInClusterSets.default },
      spec: { clusterSelector: { selectorType: ClusterSetSelectorTypes.exclusiveClusterSetLabel } },
    },
    {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSet",
      metadata: { name: BuiltInClusterSets.global },
      spec: { clusterSelector: { selectorType: ClusterSetSelectorTypes.labelSelector, labelSelector: {} } },
    },
  ];
}

/**
 * The names of the sets that hold any of these versions of a cluster (before and after a
 * change). A set whose selector is invalid is included: its status must say so.
 */
export function setsSelecting(
  sets: readonly ManagedClusterSet[],
  versions: readonly ManagedCluster[],
): Set<string> {
  const names = new Set<string>();
  for (const set of sets) {
    const members = clusterSetMembers(set, versions);
    if (members instanceof Error || members.length > 0) names.add(set.metadata.name ?? "");
  }
  return names;
}

/** A set's member count is written at most this often; emptiness changes are written at once. */
export const clusterSetCountIntervalMs = 1_000;

/**
 * How long a set's status write should wait (0: write now). A fleet joining changes the count
 * in the message with every cluster, two sets at a time (the default and the global set); a
 * write per count would be a write per join for each. A set turning empty or non-empty is
 * written at once, since placements and bindings act on that.
 */
export function clusterSetWriteDelayMs(
  current: Condition | undefined,
  desired: ConditionUpdate,
  lastWrittenMs: number | undefined,
  nowMs: number,
): number {
  const countOnly =
    current !== undefined &&
    current.status === desired.status &&
    current.reason === desired.reason &&
    current.message !== desired.message;
  if (!countOnly || lastWrittenMs === undefined) return 0;
  return Math.max(0, lastWrittenMs + clusterSetCountIntervalMs - nowMs);
}
