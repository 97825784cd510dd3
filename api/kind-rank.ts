// The one table that orders manifests by kind.
//
// `applyRank` is the order in which OCM's work agent applies the manifests of one
// ManifestWork (a stable sort on this rank; status still reports by spec index). `splitTier`
// coarsens it into the five tiers bosun uses when it spreads one oversized template over
// several ManifestWorks: the agent applies part i only after parts before it are Applied, so
// the tier order is the order in which whole parts reach a cluster. The one difference from
// the apply rank is deliberate: admission webhooks and APIServices go after every other kind
// (the apply rank puts unknown kinds, 1000, after them), because a webhook or an aggregated
// API that arrives before its backing workload blocks or breaks the writes that follow.

/** OCM's apply ranks. */
export const ApplyRank = {
  /** PriorityClass, Namespace, CRD, StorageClass, PersistentVolume, PodSecurityPolicy. */
  foundation: 0,
  /** Roles, ClusterRoles and their bindings. */
  rbac: 1,
  /** NetworkPolicy, ResourceQuota, LimitRange, PodDisruptionBudget, ServiceAccount. */
  policy: 2,
  /** Secret, ConfigMap, PersistentVolumeClaim. */
  config: 3,
  service: 4,
  /** Pods and their controllers. */
  workload: 5,
  /** Admission webhook configurations and APIServices. */
  admission: 6,
  /** Any kind the table does not name, such as custom resources. */
  other: 1000,
  /** A manifest whose apiVersion or kind cannot be read. */
  unparseable: 1001,
} as const;

/** The tiers of split parts, in the order parts are applied. */
export const SplitTier = {
  /** CRDs, Namespaces and other cluster-wide prerequisites. */
  foundation: 0,
  /** RBAC, ServiceAccounts, quotas and network policies. */
  access: 1,
  /** ConfigMaps, Secrets and PersistentVolumeClaims. */
  config: 2,
  /** Services, workloads, custom resources and every other kind. */
  workload: 3,
  /** Admission webhooks and APIServices: last, once what serves them is in place. */
  admission: 4,
} as const;

export type SplitTierValue = (typeof SplitTier)[keyof typeof SplitTier];

const core = "";

/** `<group>/<kind>` → apply rank; the core group is written as the empty string. */
const ranks: ReadonlyMap<string, number> = new Map<string, number>([
  ["scheduling.k8s.io/PriorityClass", ApplyRank.foundation],
  [`${core}/Namespace`, ApplyRank.foundation],
  ["apiextensions.k8s.io/CustomResourceDefinition", ApplyRank.foundation],
  ["storage.k8s.io/StorageClass", ApplyRank.foundation],
  [`${core}/PersistentVolume`, ApplyRank.foundation],
  ["policy/PodSecurityPolicy", ApplyRank.foundation],
  ["extensions/PodSecurityPolicy", ApplyRank.foundation],

  ["rbac.authorization.k8s.io/ClusterRole", ApplyRank.rbac],
  ["rbac.authorization.k8s.io/ClusterRoleBinding", ApplyRank.rbac],
  ["rbac.authorization.k8s.io/Role", ApplyRank.rbac],
  ["rbac.authorization.k8s.io/RoleBinding", ApplyRank.rbac],

  ["networking.k8s.io/NetworkPolicy", ApplyRank.policy],
  ["extensions/NetworkPolicy", ApplyRank.policy],
  [`${core}/ResourceQuota`, ApplyRank.policy],
  [`${core}/LimitRange`, ApplyRank.policy],
  ["policy/PodDisruptionBudget", ApplyRank.policy],
  [`${core}/ServiceAccount`, ApplyRank.policy],

  [`${core}/Secret`, ApplyRank.config],
  [`${core}/ConfigMap`, ApplyRank.config],
  [`${core}/PersistentVolumeClaim`, ApplyRank.config],

  [`${core}/Service`, ApplyRank.service],

  [`${core}/Pod`, ApplyRank.workload],
  [`${core}/ReplicationController`, ApplyRank.workload],
  ["apps/Deployment", ApplyRank.workload],
  ["apps/StatefulSet", ApplyRank.workload],
  ["apps/DaemonSet", ApplyRank.workload],
  ["apps/ReplicaSet", ApplyRank.workload],
  ["extensions/Deployment", ApplyRank.workload],
  ["extensions/DaemonSet", ApplyRank.workload],
  ["extensions/ReplicaSet", ApplyRank.workload],
  ["batch/Job", ApplyRank.workload],
  ["batch/CronJob", ApplyRank.workload],

  ["admissionregistration.k8s.io/MutatingWebhookConfiguration", ApplyRank.admission],
  ["admissionregistration.k8s.io/ValidatingWebhookConfiguration", ApplyRank.admission],
  ["admissionregistration.k8s.io/ValidatingAdmissionPolicy", ApplyRank.admission],
  ["admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding", ApplyRank.admission],
  ["apiregistration.k8s.io/APIService", ApplyRank.admission],
]);

/** The API group of an apiVersion: "" for "v1", "apps" for "apps/v1". */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** The version of an apiVersion: "v1" for both "v1" and "apps/v1". */
export function apiVersionOnly(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

/** A manifest's apiVersion and kind, when it is an object that has both. */
export function manifestType(manifest: unknown): { apiVersion: string; kind: string } | undefined {
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) return undefined;
  const { apiVersion, kind } = manifest as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string" || apiVersion === "" || kind === "") {
    return undefined;
  }
  return { apiVersion, kind };
}

/** The rank at which OCM's work agent applies a manifest (lower first). */
export function applyRank(manifest: unknown): number {
  const type = manifestType(manifest);
  if (!type) return ApplyRank.unparseable;
  return ranks.get(`${apiGroup(type.apiVersion)}/${type.kind}`) ?? ApplyRank.other;
}

/** The split tier of a manifest: parts holding lower tiers are applied first. */
export function splitTier(manifest: unknown): SplitTierValue {
  const rank = applyRank(manifest);
  switch (rank) {
    case ApplyRank.foundation:
      return SplitTier.foundation;
    case ApplyRank.rbac:
    case ApplyRank.policy:
      return SplitTier.access;
    case ApplyRank.config:
      return SplitTier.config;
    case ApplyRank.admission:
      return SplitTier.admission;
    default:
      return SplitTier.workload;
  }
}
