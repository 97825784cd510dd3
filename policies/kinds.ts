// The kinds a Kubernetes 1.36 API server serves out of the box, plus the kinds bosun's agent
// installs on every managed cluster: enough to map apiVersion/kind to a resource offline.
import { Resources } from "../api/constants.ts";

export interface KindMapping {
  group: string;
  version: string;
  kind: string;
  /** The plural resource name, as in REST paths and OCM's messages ("pods"). */
  resource: string;
  namespaced: boolean;
}

type Entry = [group: string, versions: string, kind: string, resource: string, namespaced: boolean];

const builtIn: Entry[] = [
  ["", "v1", "Binding", "bindings", true],
  ["", "v1", "ComponentStatus", "componentstatuses", false],
  ["", "v1", "ConfigMap", "configmaps", true],
  ["", "v1", "Endpoints", "endpoints", true],
  ["", "v1", "Event", "events", true],
  ["", "v1", "LimitRange", "limitranges", true],
  ["", "v1", "Namespace", "namespaces", false],
  ["", "v1", "Node", "nodes", false],
  ["", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true],
  ["", "v1", "PersistentVolume", "persistentvolumes", false],
  ["", "v1", "Pod", "pods", true],
  ["", "v1", "PodTemplate", "podtemplates", true],
  ["", "v1", "ReplicationController", "replicationcontrollers", true],
  ["", "v1", "ResourceQuota", "resourcequotas", true],
  ["", "v1", "Secret", "secrets", true],
  ["", "v1", "ServiceAccount", "serviceaccounts", true],
  ["", "v1", "Service", "services", true],
  [
    "admissionregistration.k8s.io",
    "v1",
    "MutatingWebhookConfiguration",
    "mutatingwebhookconfigurations",
    false,
  ],
  [
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingWebhookConfiguration",
    "validatingwebhookconfigurations",
    false,
  ],
  ["admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false],
  [
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingAdmissionPolicyBinding",
    "validatingadmissionpolicybindings",
    false,
  ],
  ["admissionregistration.k8s.io", "v1", "MutatingAdmissionPolicy", "mutatingadmissionpolicies", false],
  [
    "admissionregistration.k8s.io",
    "v1",
    "MutatingAdmissionPolicyBinding",
    "mutatingadmissionpolicybindings",
    false,
  ],
  ["apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false],
  ["apiregistration.k8s.io", "v1", "APIService", "apiservices", false],
  ["apps", "v1", "ControllerRevision", "controllerrevisions", true],
  ["apps", "v1", "DaemonSet", "daemonsets", true],
  ["apps", "v1", "Deployment", "deployments", true],
  ["apps", "v1", "ReplicaSet", "replicasets", true],
  ["apps", "v1", "StatefulSet", "statefulsets", true],
  ["authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false],
  ["authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", false],
  ["authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", true],
  ["authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false],
  ["authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false],
  ["authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false],
  ["autoscaling", "v1,v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true],
  ["batch", "v1", "CronJob", "cronjobs", true],
  ["batch", "v1", "Job", "jobs", true],
  ["certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false],
  ["coordination.k8s.io", "v1", "Lease", "leases", true],
  ["discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true],
  ["events.k8s.io", "v1", "Event", "events", true],
  ["flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", false],
  ["flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations", false],
  ["networking.k8s.io", "v1", "IngressClass", "ingressclasses", false],
  ["networking.k8s.io", "v1", "Ingress", "ingresses", true],
  ["networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true],
  ["networking.k8s.io", "v1", "IPAddress", "ipaddresses", false],
  ["networking.k8s.io", "v1", "ServiceCIDR", "servicecidrs", false],
  ["node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false],
  ["policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true],
  ["rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false],
  ["rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false],
  ["rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true],
  ["rbac.authorization.k8s.io", "v1", "Role", "roles", true],
  ["resource.k8s.io", "v1", "DeviceClass", "deviceclasses", false],
  ["resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", true],
  ["resource.k8s.io", "v1", "ResourceClaimTemplate", "resourceclaimtemplates", true],
  ["resource.k8s.io", "v1", "ResourceSlice", "resourceslices", false],
  ["scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false],
  ["storage.k8s.io", "v1", "CSIDriver", "csidrivers", false],
  ["storage.k8s.io", "v1", "CSINode", "csinodes", false],
  ["storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", true],
  ["storage.k8s.io", "v1", "StorageClass", "storageclasses", false],
  ["storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", false],
  ["storage.k8s.io", "v1", "VolumeAttributesClass", "volumeattributesclasses", false],
];

/** Kinds bosun's agent installs on a managed cluster (crds/managed). */
const managedClusterKinds = [
  Resources.ClusterClaim,
  Resources.ConfigurationPolicy,
  Resources.Policy,
  Resources.AppliedManifestWork,
];

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `group/version`, or just the version for the core group, as Go's GroupVersion.String(). */
export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The built-in and managed-cluster kinds, one mapping per served version. */
export function builtInKinds(): KindMapping[] {
  const kinds: KindMapping[] = [];
  for (const [group, versions, kind, resource, namespaced] of builtIn) {
    for (const version of versions.split(",")) kinds.push({ group, version, kind, resource, namespaced });
  }
  for (const r of managedClusterKinds) {
    kinds.push({
      group: r.group,
      version: r.version,
      kind: r.kind,
      resource: r.plural,
      namespaced: r.scope === "Namespaced",
    });
  }
  return kinds;
}

/** The kinds a CustomResourceDefinition declares (one per served version). */
export function kindsOfCrd(crd: unknown): KindMapping[] {
  const spec = (crd as { spec?: Record<string, unknown> } | undefined)?.spec;
  if (!spec) return [];
  const group = typeof spec.group === "string" ? spec.group : "";
  const names = spec.names as { kind?: unknown; plural?: unknown } | undefined;
  if (!group || typeof names?.kind !== "string" || typeof names.plural !== "string") return [];
  const namespaced = spec.scope !== "Cluster";
  const versions = Array.isArray(spec.versions)
    ? (spec.versions as { name?: unknown; served?: unknown }[])
    : [];
  return versions
    .filter((version) => typeof version.name === "string" && version.served !== false)
    .map((version) => ({
      group,
      version: version.name as string,
      kind: names.kind as string,
      resource: names.plural as string,
      namespaced,
    }));
}
