// cluster.open-cluster-management.io kinds: ManagedCluster (v1), ManagedClusterSet and
// ManagedClusterSetBinding (v1beta2), ClusterClaim and AddOnPlacementScore (v1alpha1).
import type { Condition, LabelSelector, ObjectMeta, ResourceList, Time } from "./meta.ts";

export type TaintEffect = "NoSelect" | "PreferNoSelect" | "NoSelectIfNew";

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
  /** Set by the hub when the taint is added or changed. */
  timeAdded?: Time | null;
}

export interface ClientConfig {
  url: string;
  /** Base64-encoded PEM bundle. */
  caBundle?: string;
}

export interface ManagedClusterSpec {
  managedClusterClientConfigs?: ClientConfig[];
  hubAcceptsClient?: boolean;
  /** Defaults to 60; 0 means 60. */
  leaseDurationSeconds?: number;
  taints?: Taint[];
}

export interface ManagedClusterClaim {
  name?: string;
  value?: string;
}

export interface ManagedClusterVersion {
  kubernetes?: string;
}

export interface ClusterSetManagedNamespace {
  name: string;
  clusterSet: string;
  conditions?: Condition[];
}

export interface ManagedClusterStatus {
  conditions?: Condition[];
  capacity?: ResourceList;
  allocatable?: ResourceList;
  version?: ManagedClusterVersion;
  clusterClaims?: ManagedClusterClaim[];
  managedNamespaces?: ClusterSetManagedNamespace[];
}

export interface ManagedCluster {
  apiVersion: "cluster.open-cluster-management.io/v1";
  kind: "ManagedCluster";
  metadata: ObjectMeta;
  spec?: ManagedClusterSpec;
  status?: ManagedClusterStatus;
}

export type ClusterSetSelectorType = "ExclusiveClusterSetLabel" | "LabelSelector";

export interface ManagedClusterSelector {
  selectorType: ClusterSetSelectorType;
  labelSelector?: LabelSelector;
}

export interface ManagedNamespaceConfig {
  name: string;
}

export interface ManagedClusterSetSpec {
  clusterSelector?: ManagedClusterSelector;
  managedNamespaces?: ManagedNamespaceConfig[];
}

export interface ManagedClusterSetStatus {
  conditions?: Condition[];
}

export interface ManagedClusterSet {
  apiVersion: "cluster.open-cluster-management.io/v1beta2";
  kind: "ManagedClusterSet";
  metadata: ObjectMeta;
  spec?: ManagedClusterSetSpec;
  status?: ManagedClusterSetStatus;
}

export interface ManagedClusterSetBindingSpec {
  /** The bound set; must equal the binding's name. */
  clusterSet: string;
}

export interface ManagedClusterSetBindingStatus {
  conditions?: Condition[];
}

export interface ManagedClusterSetBinding {
  apiVersion: "cluster.open-cluster-management.io/v1beta2";
  kind: "ManagedClusterSetBinding";
  metadata: ObjectMeta;
  spec: ManagedClusterSetBindingSpec;
  status?: ManagedClusterSetBindingStatus;
}

export interface ClusterClaimSpec {
  value?: string;
}

/** A fact about a managed cluster, named by the claim's key; lives on the managed cluster. */
export interface ClusterClaim {
  apiVersion: "cluster.open-cluster-management.io/v1alpha1";
  kind: "ClusterClaim";
  metadata: ObjectMeta;
  spec?: ClusterClaimSpec;
}

export interface AddOnPlacementScoreItem {
  name: string;
  /** -100..100 */
  value: number;
}

export interface AddOnPlacementScoreStatus {
  conditions?: Condition[];
  scores?: AddOnPlacementScoreItem[];
  /** Null or absent: the scores never expire. */
  validUntil?: Time | null;
}

export interface AddOnPlacementScore {
  apiVersion: "cluster.open-cluster-management.io/v1alpha1";
  kind: "AddOnPlacementScore";
  metadata: ObjectMeta;
  status?: AddOnPlacementScoreStatus;
}
