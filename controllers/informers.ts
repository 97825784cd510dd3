// The informers the hub controllers share, each spelled once so that every controller asking
// for the same objects gets the same cache (one list and one watch per kind per process).
import { BosunBundleLabels, Labels, Lease, Resources } from "../api/constants.ts";
import type { InformerScope, ResourceType } from "../runtime/informer-factory.ts";

interface SharedInformer {
  resource: ResourceType;
  scope: InformerScope;
}

/** The objects of one kind labelled with their cluster's name. */
function labelledWithCluster(apiVersion: string, kind: string): SharedInformer {
  return { resource: { apiVersion, kind }, scope: { labelSelector: Labels.clusterName } };
}

const rbacApi = "rbac.authorization.k8s.io/v1";

export const HubInformers = {
  /** Each cluster's `managed-cluster-lease` in its namespace. */
  clusterLeases: {
    resource: { apiVersion: "coordination.k8s.io/v1", kind: "Lease" },
    scope: { fieldSelector: `metadata.name=${Lease.name}` },
  },
  /** The CSRs made for clusters (labelled with their cluster name). */
  clusterCsrs: labelledWithCluster("certificates.k8s.io/v1", "CertificateSigningRequest"),
  /**
   * Each cluster's access objects on the hub (labelled with their cluster's name): its
   * namespace, ClusterRole and ClusterRoleBinding, and the RoleBindings in its namespace. Read
   * from these caches, a resync or a restart checks 10,000 clusters' access without a request.
   */
  clusterNamespaces: labelledWithCluster("v1", "Namespace"),
  clusterRoles: labelledWithCluster(rbacApi, "ClusterRole"),
  clusterRoleBindings: labelledWithCluster(rbacApi, "ClusterRoleBinding"),
  clusterNamespaceRoleBindings: labelledWithCluster(rbacApi, "RoleBinding"),
  /** PlacementDecisions made by a placement controller (labelled with their placement). */
  placementDecisions: {
    resource: Resources.PlacementDecision,
    scope: { labelSelector: Labels.placement },
  },
  /**
   * Every ManifestWork on the hub: those a ManifestWorkReplicaSet wrote (labelled `<namespace>.<name>`
   * of it, found by that label's index) and those users wrote, which the garbage collector reads.
   */
  manifestWorks: {
    resource: Resources.ManifestWork,
    scope: {},
  },
  /**
   * The content objects of ManifestWorkReplicaSet bundles (ConfigMaps labelled with their
   * replica set): only those, so the hub does not cache every ConfigMap.
   */
  bundleContents: {
    resource: { apiVersion: "v1", kind: "ConfigMap" },
    scope: { labelSelector: BosunBundleLabels.bundle },
  },
} as const satisfies Record<string, SharedInformer>;
