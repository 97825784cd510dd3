// The RBAC a cluster's agent identity gets on the hub. Subjects are always the cluster's
// groups (`system:open-cluster-management:<cluster>` and `open-cluster-management:<cluster>`),
// so a certificate issued for cluster A grants nothing in cluster B's namespace.
import { ClusterRBAC, Groups, Labels, Permissions, RBAC, Resources } from "../../api/constants.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";

const rbacApiVersion = "rbac.authorization.k8s.io/v1";

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): Unstructured {
  return { apiVersion: rbacApiVersion, kind: "ClusterRole", metadata: { name, labels }, rules };
}

function groupSubjects(cluster: string) {
  return ClusterRBAC.groups(cluster).map((name) => ({
    apiGroup: "rbac.authorization.k8s.io",
    kind: "Group",
    name,
  }));
}

/**
 * The per-cluster ClusterRole. Accepted: CSRs, certificate renewal, and its own
 * ManagedCluster and status. Not accepted: read access to its own ManagedCluster only, so a
 * waiting agent can see whether it has been accepted.
 */
export function clusterRoleFor(cluster: string, accepted: boolean): Unstructured {
  const ownCluster = {
    apiGroups: [Groups.cluster],
    resources: [Resources.ManagedCluster.plural],
    resourceNames: [cluster],
  };
  const rules: PolicyRule[] = accepted
    ? [
        {
          apiGroups: ["certificates.k8s.io"],
          resources: ["certificatesigningrequests"],
          verbs: ["create", "get", "list", "watch"],
        },
        {
          apiGroups: [Permissions.renewClientCertificate.group],
          resources: [
            `${Permissions.renewClientCertificate.resource}/${Permissions.renewClientCertificate.subresource}`,
          ],
          verbs: [Permissions.renewClientCertificate.verb],
        },
        { ...ownCluster, verbs: ["get", "list", "update", "watch"] },
        {
          ...ownCluster,
          resources: [`${Resources.ManagedCluster.plural}/status`],
          verbs: ["patch", "update"],
        },
      ]
    : [{ ...ownCluster, verbs: ["get", "list", "watch"] }];
  return clusterRole(ClusterRBAC.clusterRole(cluster), rules, { [Labels.clusterName]: cluster });
}

export function clusterRoleBindingFor(cluster: string): Unstructured {
  const name = ClusterRBAC.clusterRole(cluster);
  return {
    apiVersion: rbacApiVersion,
    kind: "ClusterRoleBinding",
    metadata: { name, labels: { [Labels.clusterName]: cluster } },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: groupSubjects(cluster),
  };
}

function roleBinding(cluster: string, name: string, clusterRoleName: string): Unstructured {
  return {
    apiVersion: rbacApiVersion,
    kind: "RoleBinding",
    metadata: { name, namespace: cluster, labels: { [Labels.clusterName]: cluster } },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName },
    subjects: groupSubjects(cluster),
  };
}

/** The RoleBindings in the cluster namespace that exist only while the cluster is accepted. */
export function acceptedRoleBindingsFor(cluster: string): Unstructured[] {
  return [
    roleBinding(cluster, ClusterRBAC.registrationRoleBinding(cluster), RBAC.registrationClusterRole),
    roleBinding(cluster, ClusterRBAC.workRoleBinding(cluster), RBAC.workClusterRole),
  ];
}

/** The ClusterRoles every accepted cluster's RoleBindings refer to. */
export function sharedClusterRoles(): Unstructured[] {
  return [
    clusterRole(RBAC.registrationClusterRole, [
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["get", "list", "watch", "update"],
      },
      { apiGroups: [Groups.addon], resources: ["managedclusteraddons"], verbs: ["get", "list", "watch"] },
      { apiGroups: [Groups.addon], resources: ["managedclusteraddons/status"], verbs: ["patch", "update"] },
      { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch", "update"] },
    ]),
    clusterRole(RBAC.workClusterRole, [
      { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch", "update"] },
      {
        apiGroups: [Groups.work],
        resources: [Resources.ManifestWork.plural],
        verbs: ["get", "list", "watch", "update", "patch"],
      },
      {
        apiGroups: [Groups.work],
        resources: [`${Resources.ManifestWork.plural}/status`],
        verbs: ["patch", "update"],
      },
    ]),
  ];
}

/**
 * What a bootstrap identity may do, and nothing more: read the hub's CA (cluster-info),
 * create and watch CSRs, create and read ManagedClusters, and join a cluster set.
 */
export function bootstrapClusterRole(): Unstructured {
  return clusterRole(RBAC.bootstrapClusterRole, [
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
    {
      apiGroups: ["certificates.k8s.io"],
      resources: ["certificatesigningrequests"],
      verbs: ["create", "get", "list", "watch"],
    },
    {
      apiGroups: [Groups.cluster],
      resources: [Resources.ManagedCluster.plural],
      verbs: ["get", "create", "list", "watch"],
    },
    {
      apiGroups: [Groups.cluster],
      resources: [`${Permissions.joinClusterSet.resource}/${Permissions.joinClusterSet.subresource}`],
      verbs: [Permissions.joinClusterSet.verb],
    },
  ]);
}

export function bootstrapServiceAccountBinding(
  serviceAccountNamespace: string,
  serviceAccountName: string,
): Unstructured {
  return {
    apiVersion: rbacApiVersion,
    kind: "ClusterRoleBinding",
    metadata: { name: RBAC.bootstrapServiceAccountBinding },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: RBAC.bootstrapClusterRole },
    subjects: [{ kind: "ServiceAccount", name: serviceAccountName, namespace: serviceAccountNamespace }],
  };
}
