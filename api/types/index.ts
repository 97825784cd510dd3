export type * from "./meta.ts";
export type * from "./cluster.ts";
export type * from "./placement.ts";
export type * from "./work.ts";
export type * from "./policy.ts";
export type * from "./kube.ts";

import type {
  AddOnPlacementScore,
  ClusterClaim,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
} from "./cluster.ts";
import type { Placement, PlacementDecision } from "./placement.ts";
import type { AppliedManifestWork, ManifestWork, ManifestWorkReplicaSet } from "./work.ts";
import type { ConfigurationPolicy, PlacementBinding, Policy, PolicySet } from "./policy.ts";

/** Every kind bosun serves, keyed by kind name. */
export interface BosunObjects {
  ManagedCluster: ManagedCluster;
  ManagedClusterSet: ManagedClusterSet;
  ManagedClusterSetBinding: ManagedClusterSetBinding;
  Placement: Placement;
  PlacementDecision: PlacementDecision;
  ClusterClaim: ClusterClaim;
  AddOnPlacementScore: AddOnPlacementScore;
  ManifestWork: ManifestWork;
  AppliedManifestWork: AppliedManifestWork;
  ManifestWorkReplicaSet: ManifestWorkReplicaSet;
  Policy: Policy;
  PlacementBinding: PlacementBinding;
  ConfigurationPolicy: ConfigurationPolicy;
  PolicySet: PolicySet;
}

export type BosunObject = BosunObjects[keyof BosunObjects];
