// Wire constants: every name, label, annotation, finalizer, condition type and reason, CSR
// subject, lease, secret, RBAC and metric name that bosun shares with Open Cluster Management.
// They are spelled exactly as OCM spells them; changing one breaks compatibility with OCM
// agents, hubs, dashboards and alerts.

// ---------------------------------------------------------------------------------------------
// API groups, versions, kinds and resources

export const Groups = {
  cluster: "cluster.open-cluster-management.io",
  work: "work.open-cluster-management.io",
  policy: "policy.open-cluster-management.io",
  /** Virtual subresources checked with SubjectAccessReviews (accept, clientcertificates). */
  register: "register.open-cluster-management.io",
  /** The deprecated PlacementRule API. */
  apps: "apps.open-cluster-management.io",
  addon: "addon.open-cluster-management.io",
  operator: "operator.open-cluster-management.io",
} as const;

export type Scope = "Cluster" | "Namespaced";

export interface ResourceDescriptor {
  readonly group: string;
  readonly version: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly scope: Scope;
  readonly shortNames: readonly string[];
}

function resource<const K extends string>(
  group: string,
  version: string,
  kind: K,
  plural: string,
  scope: Scope,
  shortNames: readonly string[] = [],
) {
  return {
    group,
    version,
    apiVersion: `${group}/${version}`,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    scope,
    shortNames,
  } as const satisfies ResourceDescriptor;
}

/** Every kind bosun serves, with the group/version/plural/scope/short names OCM registers. */
export const Resources = {
  ManagedCluster: resource(Groups.cluster, "v1", "ManagedCluster", "managedclusters", "Cluster", [
    "mcl",
    "mcls",
  ]),
  ManagedClusterSet: resource(
    Groups.cluster,
    "v1beta2",
    "ManagedClusterSet",
    "managedclustersets",
    "Cluster",
    ["mclset", "mclsets"],
  ),
  ManagedClusterSetBinding: resource(
    Groups.cluster,
    "v1beta2",
    "ManagedClusterSetBinding",
    "managedclustersetbindings",
    "Namespaced",
    ["mclsetbinding", "mclsetbindings"],
  ),
  Placement: resource(Groups.cluster, "v1beta1", "Placement", "placements", "Namespaced"),
  PlacementDecision: resource(
    Groups.cluster,
    "v1beta1",
    "PlacementDecision",
    "placementdecisions",
    "Namespaced",
  ),
  ClusterClaim: resource(Groups.cluster, "v1alpha1", "ClusterClaim", "clusterclaims", "Cluster"),
  AddOnPlacementScore: resource(
    Groups.cluster,
    "v1alpha1",
    "AddOnPlacementScore",
    "addonplacementscores",
    "Namespaced",
  ),
  ManifestWork: resource(Groups.work, "v1", "ManifestWork", "manifestworks", "Namespaced"),
  AppliedManifestWork: resource(Groups.work, "v1", "AppliedManifestWork", "appliedmanifestworks", "Cluster"),
  ManifestWorkReplicaSet: resource(
    Groups.work,
    "v1alpha1",
    "ManifestWorkReplicaSet",
    "manifestworkreplicasets",
    "Namespaced",
    ["mwrs"],
  ),
  Policy: resource(Groups.policy, "v1", "Policy", "policies", "Namespaced", ["plc"]),
  PlacementBinding: resource(Groups.policy, "v1", "PlacementBinding", "placementbindings", "Namespaced", [
    "pb",
  ]),
  ConfigurationPolicy: resource(
    Groups.policy,
    "v1",
    "ConfigurationPolicy",
    "configurationpolicies",
    "Namespaced",
  ),
  PolicySet: resource(Groups.policy, "v1beta1", "PolicySet", "policysets", "Namespaced", ["plcset"]),
} as const;

export type BosunKind = keyof typeof Resources;

/** Kinds bosun does not serve but refers to by name. */
export const ForeignKinds = {
  /** The deprecated predecessor of Placement; a PlacementBinding may still name one. */
  PlacementRule: { group: Groups.apps, kind: "PlacementRule" },
  /** Deleted first when a cluster's namespace is cleaned up. */
  ManagedClusterAddOn: { group: Groups.addon, version: "v1beta1", plural: "managedclusteraddons" },
  CertificatePolicy: { group: Groups.policy, version: "v1", kind: "CertificatePolicy" },
  OperatorPolicy: { group: Groups.policy, version: "v1beta1", kind: "OperatorPolicy" },
  Klusterlet: { group: Groups.operator, version: "v1", kind: "Klusterlet", plural: "klusterlets" },
  ConstraintTemplate: { group: "templates.gatekeeper.sh", version: "v1", kind: "ConstraintTemplate" },
  /** Group of every Gatekeeper constraint kind. */
  GatekeeperConstraintsGroup: "constraints.gatekeeper.sh",
} as const;

// ---------------------------------------------------------------------------------------------
// Labels

export const Labels = {
  /** On cluster namespaces, CSRs, leases and per-cluster objects. */
  clusterName: "open-cluster-management.io/cluster-name",
  /** A ManagedCluster's exclusive cluster set. */
  clusterSet: "cluster.open-cluster-management.io/clusterset",
  /** On PlacementDecisions: the owning Placement's name. */
  placement: "cluster.open-cluster-management.io/placement",
  decisionGroupName: "cluster.open-cluster-management.io/decision-group-name",
  decisionGroupIndex: "cluster.open-cluster-management.io/decision-group-index",
  /** Marks add-on CSRs, which the registration agent ignores. */
  addonName: "open-cluster-management.io/addon-name",
  /** ClusterClaims with this label (any value) stay on the managed cluster. */
  spokeOnly: "open-cluster-management.io/spoke-only",
  /** On ManifestWorks created from a ManifestWorkReplicaSet: `<namespace>.<name>`. */
  manifestWorkReplicaSet: "work.open-cluster-management.io/manifestworkreplicaset",
  /** On ManifestWorks created from a ManifestWorkReplicaSet: the Placement name. */
  manifestWorkPlacementName: "work.open-cluster-management.io/placementname",
  /** On the bootstrap token Secret. */
  app: "app",
} as const;

export const LabelValues = {
  bootstrapTokenApp: "cluster-manager",
  /** The value of PolicyLabels.policyType on kinds a Policy may carry as templates. */
  policyTypeTemplate: "template",
} as const;

export const PolicyLabels = {
  /** On replicated Policies: `<rootNamespace>.<rootName>`. */
  rootPolicy: "policy.open-cluster-management.io/root-policy",
  clusterName: "policy.open-cluster-management.io/cluster-name",
  clusterNamespace: "policy.open-cluster-management.io/cluster-namespace",
  /** On policy templates created on the managed cluster: the replicated Policy's name. */
  policy: "policy.open-cluster-management.io/policy",
  /** Unprefixed labels also set on policy templates. */
  legacyClusterName: "cluster-name",
  legacyClusterNamespace: "cluster-namespace",
  /** On a CRD: `template` marks its kind as something a Policy may carry. */
  policyType: "policy.open-cluster-management.io/policy-type",
} as const;

// ---------------------------------------------------------------------------------------------
// Annotations

export const Annotations = {
  /** Integer 0..100 on objects in a cluster namespace; lower is deleted first. */
  cleanupPriority: "open-cluster-management.io/cleanup-priority",
  imageRegistries: "open-cluster-management.io/image-registries",
  /** RFC 3339 time written when the hub accepted a cluster automatically. */
  automaticallyAcceptedOn: "open-cluster-management.io/automatically-accepted-on",
  /** Set to "true" to make the placement controller skip a Placement. */
  experimentalSchedulingDisable: "cluster.open-cluster-management.io/experimental-scheduling-disable",
  objectHash: "open-cluster-management.io/object-hash",
  /** Hash of a server-side-applied manifest without its ignored fields. */
  configSpecHash: "open-cluster-management.io/config-spec-hash",
  /** Annotations the agent sets on its ManagedCluster must start with this prefix. */
  agentPrefix: "agent.open-cluster-management.io",
  managedClusterArn: "agent.open-cluster-management.io/managed-cluster-arn",
  kubectlLastApplied: "kubectl.kubernetes.io/last-applied-configuration",
  argocdCompareOptions: "argocd.argoproj.io/compare-options",
} as const;

export const AnnotationValues = {
  argocdIgnoreExtraneous: "IgnoreExtraneous",
} as const;

export const PolicyAnnotations = {
  standards: "policy.open-cluster-management.io/standards",
  categories: "policy.open-cluster-management.io/categories",
  controls: "policy.open-cluster-management.io/controls",
  /** "true" skips template resolution. */
  disableTemplates: "policy.open-cluster-management.io/disable-templates",
  /** Changing it on a root Policy forces hub templates to resolve again; not copied to replicas. */
  triggerUpdate: "policy.open-cluster-management.io/trigger-update",
  encryptionIv: "policy.open-cluster-management.io/encryption-iv",
  hubTemplatesError: "policy.open-cluster-management.io/hub-templates-error",
  rerun: "policy.open-cluster-management.io/rerun",
  /** Prefix of the labels and annotations kept when copyPolicyMetadata is false. */
  prefix: "policy.open-cluster-management.io/",
} as const;

// ---------------------------------------------------------------------------------------------
// Finalizers

export const Finalizers = {
  /** On an accepted ManagedCluster: removes its RBAC on delete. */
  apiResourceCleanup: "cluster.open-cluster-management.io/api-resource-cleanup",
  /** On a ManagedCluster: deletes the resources in its namespace on delete. */
  resourceCleanup: "cluster.open-cluster-management.io/resource-cleanup",
  /** On a ManifestWork (added by the agent) and on the work RoleBinding. */
  manifestWorkCleanup: "cluster.open-cluster-management.io/manifest-work-cleanup",
  appliedManifestWorkCleanup: "cluster.open-cluster-management.io/applied-manifest-work-cleanup",
  /** On a ManifestWorkReplicaSet. */
  manifestWorkReplicaSetCleanup: "work.open-cluster-management.io/manifest-work-cleanup",
  /** On a managed-cluster Policy that created cluster-scoped templates. */
  cleanupClusterScopedPolicies: "policy.open-cluster-management.io/cleanup-cluster-scoped-policies",
  /** On a ConfigurationPolicy with pruneObjectBehavior DeleteIfCreated or DeleteAll. */
  deleteRelatedObjects: "policy.open-cluster-management.io/delete-related-objects",
} as const;

// ---------------------------------------------------------------------------------------------
// Conditions

export const ConditionStatus = { True: "True", False: "False", Unknown: "Unknown" } as const;
export type ConditionStatusValue = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export const ManagedClusterConditions = {
  hubAccepted: "HubAcceptedManagedCluster",
  /** Defined by OCM but never set: a denial is HubAcceptedManagedCluster=False. */
  hubDenied: "HubDeniedManagedCluster",
  joined: "ManagedClusterJoined",
  available: "ManagedClusterConditionAvailable",
  clockSynced: "ManagedClusterConditionClockSynced",
  deleting: "Deleting",
  /** Set by the agent on its own status when it rotated its client certificate. */
  clusterCertificateRotated: "ClusterCertificateRotated",
} as const;

export const ManagedClusterReasons = {
  hubClusterAdminAccepted: "HubClusterAdminAccepted",
  hubClusterAdminDenied: "HubClusterAdminDenied",
  error: "Error",
  joined: "ManagedClusterJoined",
  available: "ManagedClusterAvailable",
  kubeApiServerUnavailable: "ManagedClusterKubeAPIServerUnavailable",
  leaseUpdateStopped: "ManagedClusterLeaseUpdateStopped",
  clockSynced: "ManagedClusterClockSynced",
  clockOutOfSync: "ManagedClusterClockOutOfSync",
  resourceRemaining: "ResourceRemaining",
  noResource: "NoResource",
  deletingError: "DeletingError",
  clientCertificateUpdated: "ClientCertificateUpdated",
} as const;

export const ManagedClusterMessages = {
  accepted: "Accepted by hub cluster admin",
  joined: "Managed cluster joined",
  leaseUpdateStopped: "Registration agent stopped updating its lease.",
  clockSynced: "The clock of the managed cluster is synced with the hub.",
  clockOutOfSync:
    "The clock of hub and agent is out of sync. This may cause the Unknown status and affect agent functionalities.",
} as const;

export const ManagedClusterSetConditions = { clusterSetEmpty: "ClusterSetEmpty" } as const;
export const ManagedClusterSetReasons = {
  noClusterMatched: "NoClusterMatched",
  clustersSelected: "ClustersSelected",
} as const;
export const ManagedClusterSetMessages = { noClusterMatched: "No ManagedCluster selected" } as const;

export const ClusterSetSelectorTypes = {
  exclusiveClusterSetLabel: "ExclusiveClusterSetLabel",
  labelSelector: "LabelSelector",
} as const;

/** Cluster sets the hub creates. */
export const BuiltInClusterSets = { default: "default", global: "global" } as const;

export const ManagedClusterSetBindingConditions = { bound: "Bound" } as const;
export const ManagedClusterSetBindingReasons = {
  clusterSetBound: "ClusterSetBound",
  clusterSetNotFound: "ClusterSetNotFound",
} as const;

export const PlacementConditions = {
  satisfied: "PlacementSatisfied",
  misconfigured: "PlacementMisconfigured",
} as const;

export const PlacementReasons = {
  noManagedClusterSetBindings: "NoManagedClusterSetBindings",
  noIntersection: "NoIntersection",
  allManagedClusterSetsEmpty: "AllManagedClusterSetsEmpty",
  notAllDecisionsScheduled: "NotAllDecisionsScheduled",
  noManagedClusterMatched: "NoManagedClusterMatched",
  allDecisionsScheduled: "AllDecisionsScheduled",
  misconfigured: "Misconfigured",
  /** OCM's spelling. */
  succeedconfigured: "Succeedconfigured",
} as const;

export const PlacementMessages = {
  noManagedClusterSetBindings: "No valid ManagedClusterSetBindings found in placement namespace",
  noManagedClusterMatched: "No ManagedCluster matches any of the cluster predicate",
  allDecisionsScheduled: "All cluster decisions scheduled",
  configurationsCheckPass: "Placement configurations check pass",
} as const;

export const ManagedClusterEvents = {
  /** Warning: the cluster's agent stopped renewing its lease. */
  availableUnknown: "AvailableUnknown",
} as const;

export const PlacementEvents = {
  decisionCreate: "DecisionCreate",
  decisionCreated: "DecisionCreated",
  decisionUpdate: "DecisionUpdate",
  decisionUpdated: "DecisionUpdated",
  scoreUpdate: "ScoreUpdate",
  decisionDelete: "DecisionDelete",
} as const;

export const ManifestWorkConditions = {
  applied: "Applied",
  available: "Available",
  progressing: "Progressing",
  degraded: "Degraded",
  complete: "Complete",
  deleting: "Deleting",
  statusFeedbackSynced: "StatusFeedbackSynced",
} as const;

export const ManifestWorkReasons = {
  // per manifest
  appliedManifestComplete: "AppliedManifestComplete",
  appliedManifestFailed: "AppliedManifestFailed",
  appliedManifestSSAIgnoreFieldError: "AppliedManifestSSAIgnoreFieldError",
  resourceAvailable: "ResourceAvailable",
  resourceNotAvailable: "ResourceNotAvailable",
  fetchingResourceFailed: "FetchingResourceFailed",
  incompleteResourceMeta: "IncompleteResourceMeta",
  noStatusFeedbackSynced: "NoStatusFeedbackSynced",
  statusFeedbackSynced: "StatusFeedbackSynced",
  statusFeedbackSyncFailed: "StatusFeedbackSyncFailed",
  conditionRuleEvaluated: "ConditionRuleEvaluated",
  conditionRuleInvalid: "ConditionRuleInvalid",
  conditionRuleExpressionError: "ConditionRuleExpressionError",
  conditionRuleInternalError: "ConditionRuleInternalError",
  // per work
  appliedManifestWorkComplete: "AppliedManifestWorkComplete",
  appliedManifestWorkFailed: "AppliedManifestWorkFailed",
  resourcesNotAvailable: "ResourcesNotAvailable",
  resourcesStatusUnknown: "ResourcesStatusUnknown",
  resourcesAvailable: "ResourcesAvailable",
  conditionRulesAggregated: "ConditionRulesAggregated",
  workDeleting: "WorkDeleting",
} as const;

export const ManifestWorkMessages = {
  appliedManifestComplete: "Apply manifest complete",
  appliedManifestWorkComplete: "Apply manifest work complete",
  appliedManifestWorkFailed: "Failed to apply manifest work",
  resourcesAvailable: "All resources are available",
  /** Prefix of a manifest's Applied=False message when its ignoreFields failed; the error follows. */
  ignoreFieldsFailed: "Failed to process ignoreFields: ",
  resourceAvailable: "Resource is available",
  resourceNotAvailable: "Resource is not available",
  /** Prefix of a manifest's Available=Unknown message when reading it failed; the error follows. */
  fetchingResourceFailed: "Failed to fetch resource: ",
  incompleteResourceMeta: "Resource meta is incomplete",
  /** The work's Available=Unknown message when no manifest is available; OCM's trailing space. */
  noAvailableResource: "cannot get any available resource ",
  /** Prefix of StatusFeedbackSynced=False messages; the aggregated errors follow. */
  statusFeedbackSyncFailed: "Sync status feedback failed with error ",
  workDeleting: "ManifestWork is being deleted",
  /** A condition rule's CEL evaluation exhausted the budget shared by one manifest's rules. */
  celBudgetExceeded: "CEL evaluation budget exceeded",
  /** A condition rule expression exceeded the per-expression cost limit (cel-go's message). */
  celCostLimitExceeded: "operation cancelled: actual cost limit exceeded",
  manifestsEmpty: "manifests should not be empty",
  /** Prefix of a manifest's Applied=False message; the apply error follows. */
  appliedManifestFailed: "Failed to apply manifest: ",
  /** Start of the error when the executor may not apply a manifest. */
  notAllowedToApply: "not allowed to apply the resource",
  /** Joins an executor denial to its requeue delay, written as a Go duration ("1m0s"). */
  willTryAgainIn: ", will try again in ",
} as const;

/** What OCM's work webhook answers (pkg/work/webhook); `<...>` parts are filled in. */
export const ManifestWorkWebhookMessages = {
  /** The shared validator's emptiness check, which ManifestWorkReplicaSet templates get (a
   * ManifestWork is first checked by the webhook itself: ManifestWorkMessages.manifestsEmpty). */
  workloadManifestsEmpty: "Workload manifests should not be empty",
  nameRequired: "name must be set in manifest",
  generateNameForbidden: "generateName must not be set in manifest",
  executorServiceAccountNil: "executor service account can not be nil",
  sizeExceeded: (size: number, limit: number) =>
    `the size of manifests is ${size} bytes which exceeds the ${limit} limit`,
  duplicateManifest: (namespace: string, name: string, apiVersion: string, kind: string) =>
    `duplicate manifest for resource ${namespace}/${name} with resource type ${apiVersion}.${kind}`,
  /** Unstructured decoding of a manifest without a kind (apimachinery's wording). */
  kindMissing: (json: string) => `Object 'Kind' is missing in '${json}'`,
  executorDenied: (user: string, saNamespace: string, saName: string, namespace: string) =>
    `user ${user} cannot manipulate the Manifestwork with executor ${saNamespace}/${saName} in namespace ${namespace}`,
} as const;

/** `availableDecisionGroups` of a ManifestWorkReplicaSet placement summary. */
export function availableDecisionGroupsMessage(
  groups: number,
  appliedClusters: number,
  total: number,
): string {
  return `${groups} (${appliedClusters} / ${total} clusters applied)`;
}

export const ManifestWorkReplicaSetConditions = {
  placementVerified: "PlacementVerified",
  placementRolledOut: "PlacementRolledOut",
  manifestworkApplied: "ManifestworkApplied",
} as const;

export const ManifestWorkReplicaSetReasons = {
  asExpected: "AsExpected",
  placementDecisionNotFound: "PlacementDecisionNotFound",
  placementDecisionEmpty: "PlacementDecisionEmpty",
  notAsExpected: "NotAsExpected",
  progressing: "Progressing",
  complete: "Complete",
  processing: "Processing",
} as const;

/** Policy, PolicySet and ConfigurationPolicy compliance values. */
export const ComplianceStates = {
  compliant: "Compliant",
  pending: "Pending",
  nonCompliant: "NonCompliant",
  /** ConfigurationPolicy only: deleting, or pruning failed. */
  terminating: "Terminating",
} as const;

export const RemediationActions = { inform: "inform", enforce: "enforce", informOnly: "informOnly" } as const;

export const ComplianceTypes = {
  mustHave: "musthave",
  mustOnlyHave: "mustonlyhave",
  mustNotHave: "mustnothave",
} as const;

/** ConfigurationPolicy `status.compliancyDetails[].conditions[].type`. */
export const ConfigurationPolicyConditionTypes = {
  notification: "notification",
  violation: "violation",
} as const;

/** ConfigurationPolicy compliance-detail reasons (`condition.reason`). */
export const ConfigurationPolicyReasons = {
  mustHaveExists: "K8s `must have` object already exists",
  creationSuccess: "K8s creation success",
  updateSuccess: "K8s update success",
  deletionSuccess: "K8s deletion success",
  /** Also the reason when the object exists but does not match. */
  mustHaveMissing: "K8s does not have a `must have` object",
  mustNotHaveMissing: "K8s `must not have` object already missing",
  mustNotHaveExists: "K8s has a `must not have` object",
  creationError: "K8s creation error",
  deletionError: "K8s deletion error",
  updateTemplateError: "K8s update template error",
  decodeError: "K8s decode object definition error",
  k8sError: "K8s error",
  missingNamespace: "K8s missing namespace",
  creationSuccessStatusUnchecked: "K8s creation success, status unchecked",
  templateError: "Error processing template",
  hubTemplateFailure: "Hub template resolution failure",
  invalidSpec: "Invalid spec",
  cleanupError: "Error cleaning up child objects",
  namespaceSelectorError: "namespaceSelector error",
  objectSelectorError: "objectSelector error",
  noObjectTemplates: "No object templates",
  apiError: "api error",
} as const;

/** Fixed ConfigurationPolicy messages (templates: `<...>` parts are filled in by the engine). */
export const ConfigurationPolicyMessages = {
  remediationActionMissing: "Policy does not have a RemediationAction specified",
  hubTemplatesNeedAddon:
    "the governance-standalone-hub-templating addon must be enabled to resolve hub templates on the managed cluster",
  kindAndApiVersionRequired: "The kind and apiVersion fields are required on the object template at index",
  namespaceParseError: "Error parsing the namespace from the object definition",
  namespaceMustMatchSelector:
    "The object definition's namespace must match the result from the namespace selector after template resolution",
  nameMustMatchSelector:
    "The object definition's name must match the result from the object selector after template resolution",
  immutableFields:
    'cannot be updated, likely due to immutable fields not matching, you may set spec["object-templates"][].recreateOption to recreate the object',
  createdStatusUnchecked: ", the status of the object will be verified in the next evaluation",
  recreateTimedOut:
    "timed out waiting for the object to delete during recreate, will retry on the next policy evaluation",
  deleteObjectsFailed: "Failed to delete objects: ",
  complianceUnknown: "ComplianceState is still unknown",
  truncatedSuffix: "...[truncated]",
  templateErrorPrefix: "template-error; ",
  failedToCreateTemplate: "Failed to create policy template: ",
} as const;

/** ConfigurationPolicy `status.relatedObjects[].reason`. */
export const RelatedObjectReasons = {
  foundAsExpected: "Resource found as expected",
  notFoundShouldExist: "Resource not found but should exist",
  foundNotMatching: "Resource found but does not match",
  notFoundAsExpected: "Resource not found as expected",
  foundShouldNotExist: "Resource found but should not exist",
  creationSuccess: "K8s creation success",
  updateSuccess: "K8s update success",
  deletionSuccess: "K8s deletion success",
  updateTemplateError: "K8s update template error",
} as const;

export const PolicyEvents = {
  /** Recorded on a root Policy, e.g. when it was disabled and its replicas removed. */
  policyPropagation: "PolicyPropagation",
  policyUpdate: "PolicyUpdate",
  policyInfo: "PolicyInfo",
  complianceStateUpdate: "ComplianceStateUpdate",
  /** Compliance events have the reason `policy: <namespace>/<template>`. */
  complianceReasonPrefix: "policy: ",
  configurationPolicyController: "configuration-policy-controller",
} as const;

export const PolicyMessages = {
  remediationActionUnset: "RemediationAction field of the policy and policy template cannot both be unset",
  nameTooLong: "the combined length of the policy namespace and name cannot exceed 62 characters",
  templateNamesUnique: "All policy-template names must be unique within a policy",
  objectTemplatesExclusive: "spec may only contain one of object-templates and object-templates-raw",
} as const;

/** PolicySet `status.statusMessage` parts; the lists after the prefixes are `, `-joined names. */
export const PolicySetMessages = {
  allReporting: "All policies are reporting status",
  pendingPrefix: "Policies awaiting pending dependencies: ",
  disabledPrefix: "Disabled policies: ",
  noStatusPrefix: "No status provided while awaiting policy status: ",
  deletedPrefix: "Deleted policies: ",
  /** Between the parts of the message. */
  separator: "; ",
} as const;

/** bosun's words where OCM has none: the exclusion note of a PolicySet's statusMessage. */
export const BosunPolicySetMessages = {
  /** Followed by excludedFrom entries, `, `-joined. */
  exclusionsPrefix: "Exclusions: ",
  excludedFrom: (policy: string, clusters: readonly string[]) =>
    `${policy} (excluded from ${clusters.join(", ")})`,
  /** Followed by the names of the policies that spec.exclusions names but spec.policies does not. */
  unknownExclusionsPrefix: "Exclusions name policies not in the set: ",
} as const;

/** Why a PlacementBinding places nothing, as bosun words it in a root Policy's events. */
export const BosunBindingMessages = {
  placementRefKind: (kind: string) =>
    `placementRef.kind: ${JSON.stringify(kind)} is not supported; bind to a Placement`,
  placementRefApiGroup: (apiGroup: string) =>
    `placementRef.apiGroup: ${JSON.stringify(apiGroup)} is not ${Groups.cluster}`,
  placementNotFound: (name: string, namespace: string) =>
    `placementRef.name: placement ${JSON.stringify(name)} not found in namespace ${JSON.stringify(namespace)}`,
  subjectApiGroup: (index: number, apiGroup: string) =>
    `subjects[${index}].apiGroup: ${JSON.stringify(apiGroup)} is not ${Groups.policy}`,
  subjectKind: (index: number, kind: string) =>
    `subjects[${index}].kind: ${JSON.stringify(kind)} is not Policy or PolicySet`,
} as const;

// ---------------------------------------------------------------------------------------------
// Registration: CSRs, identities, lease, namespaces, secrets

export const Csr = {
  /** Subject prefix of every cluster identity: `system:open-cluster-management:<cluster>`. */
  subjectPrefix: "system:open-cluster-management:",
  /** Organization every agent certificate carries. */
  managedClustersGroup: "system:open-cluster-management:managed-clusters",
  signerName: "kubernetes.io/kube-apiserver-client",
  usages: ["digital signature", "key encipherment", "client auth"],
  pemBlockType: "CERTIFICATE REQUEST",
  /** The smallest expirationSeconds the API server accepts. */
  minExpirationSeconds: 3600,
  /** `clusteradm join`'s default client certificate lifetime (one year). */
  defaultExpirationSeconds: 31536000,
  /** The agent stops creating CSRs when the hub holds this many for its cluster. */
  clusterCsrThreshold: 10,
  autoApprovedReason: "AutoApprovedByHubCSRApprovingController",
  creationHaltedEvent: "ClientCertificateCreationHalted",
  /** Usernames of bootstrap tokens start with this prefix. */
  bootstrapUserPrefix: "system:bootstrap:",
  bootstrapGroup: "system:bootstrappers:managedcluster",
  bootstrapServiceAccountUser: "system:serviceaccount:open-cluster-management:agent-registration-bootstrap",
  bootstrapServiceAccountGroups: [
    "system:serviceaccounts:open-cluster-management",
    "system:serviceaccounts:open-cluster-management-hub",
  ],
} as const;

/** Condition types of a certificates.k8s.io/v1 CertificateSigningRequest. */
export const CsrConditionTypes = { approved: "Approved", denied: "Denied", failed: "Failed" } as const;

/** X.509 subject of a cluster's agent certificate. */
export function csrSubject(
  clusterName: string,
  agentName: string,
): { commonName: string; organizations: string[] } {
  return {
    commonName: `${Csr.subjectPrefix}${clusterName}:${agentName}`,
    organizations: [`${Csr.subjectPrefix}${clusterName}`, Csr.managedClustersGroup],
  };
}

/** SubjectAccessReview attributes OCM checks on its virtual subresources. */
export const Permissions = {
  accept: {
    group: Groups.register,
    resource: "managedclusters",
    subresource: "accept",
    verb: "update",
  },
  renewClientCertificate: {
    group: Groups.register,
    resource: "managedclusters",
    subresource: "clientcertificates",
    verb: "renew",
  },
  joinClusterSet: {
    group: Groups.cluster,
    resource: "managedclustersets",
    subresource: "join",
    verb: "create",
  },
  bindClusterSet: {
    group: Groups.cluster,
    resource: "managedclustersets",
    subresource: "bind",
    verb: "create",
  },
  executeAs: { group: Groups.work, resource: "manifestworks", verb: "execute-as" },
} as const;

export const BosunAgent = {
  /**
   * An agent cut off from the hub's API server retries once per this window, in a slot of its
   * own: a fleet that lost the server together comes back spread over the window.
   */
  hubReconnectWindowSeconds: 60,
} as const;

export const Lease = {
  name: "managed-cluster-lease",
  /** The hub creates a missing lease with this holder. */
  holderIdentity: "managed-cluster-lease",
  defaultDurationSeconds: 60,
  /** The hub marks a cluster unknown after this many lease durations without a renewal. */
  graceMultiplier: 5,
  jitterFactor: 0.25,
} as const;

export const Namespaces = {
  agent: "open-cluster-management-agent",
  /** Hub operator namespace, home of the bootstrap ServiceAccount. */
  operator: "open-cluster-management",
  hub: "open-cluster-management-hub",
  kubePublic: "kube-public",
  kubeSystem: "kube-system",
} as const;

export const Secrets = {
  bootstrapHubKubeconfig: "bootstrap-hub-kubeconfig",
  hubKubeconfig: "hub-kubeconfig-secret",
  bootstrapToken: "bootstrap-token-ocmhub",
  bootstrapTokenId: "ocmhub",
  bootstrapTokenPrefix: "bootstrap-token-",
  /** Per-cluster key for hub-template encryption, in the cluster namespace. */
  policyEncryptionKey: "policy-encryption-key",
} as const;

/**
 * The rest of the policy-encryption-key Secret, as OCM's propagator writes it
 * (controllers/propagator/encryption.go); the API reference does not quote these values.
 */
export const BosunPolicyEncryptionKeySecret = {
  /** Data key of the AES-256 key (32 bytes). */
  dataKey: "key",
  /** Label OCM's backup tooling selects. */
  backupLabel: "cluster.open-cluster-management.io/backup",
  backupLabelValue: "policy",
  /** RFC 3339 time the key was generated. */
  lastRotatedAnnotation: "policy.open-cluster-management.io/last-rotated",
} as const;

export const SecretKeys = {
  kubeconfig: "kubeconfig",
  tlsCert: "tls.crt",
  tlsKey: "tls.key",
  clusterName: "cluster-name",
  agentName: "agent-name",
} as const;

/** Names inside the kubeconfigs the agent writes and reads. */
export const KubeconfigNames = {
  bootstrapCluster: "hub",
  bootstrapUser: "bootstrap",
  bootstrapContext: "bootstrap",
  hubUser: "default-auth",
  hubContext: "default-context",
  /** The namespace of the hub kubeconfig's context. */
  hubContextNamespace: "configuration",
  hubKubeconfigDir: "/spoke/hub-kubeconfig",
} as const;

export const HubInfo = {
  clusterInfoConfigMap: "cluster-info",
  rootCaConfigMap: "kube-root-ca.crt",
  rootCaKey: "ca.crt",
  bootstrapServiceAccount: "agent-registration-bootstrap",
  workServiceAccount: "klusterlet-work-sa",
} as const;

/**
 * Bootstrap-token discovery as Kubernetes defines it (the bootstrap signer's cluster-info
 * signatures), which OCM's reference does not name.
 */
export const BosunBootstrapSigning = {
  /** The cluster-info key of a token's signature: the prefix and the token id. */
  signatureKeyPrefix: "jws-kubeconfig-",
  /** The bootstrap-token Secret key that asks the bootstrap signer to sign cluster-info. */
  usageSigning: "usage-bootstrap-signing",
  anonymousUser: "system:anonymous",
  /** Lets a joining cluster read cluster-info before it trusts the hub, without its token. */
  clusterInfoReaderRole: "bosun:cluster-info-reader",
} as const;

export const ClusterClaims = {
  /** Claim names that are never truncated. */
  reserved: [
    "id.k8s.io",
    "kubeversion.open-cluster-management.io",
    "platform.open-cluster-management.io",
    "product.open-cluster-management.io",
  ],
  defaultMaxCustomClaims: 20,
  truncatedEvent: "CustomClusterClaimsTruncated",
} as const;

export const Taints = {
  unavailable: "cluster.open-cluster-management.io/unavailable",
  unreachable: "cluster.open-cluster-management.io/unreachable",
} as const;

export const TaintEffects = {
  noSelect: "NoSelect",
  preferNoSelect: "PreferNoSelect",
  noSelectIfNew: "NoSelectIfNew",
} as const;

export const RBAC = {
  bootstrapClusterRole: "open-cluster-management:bootstrap",
  bootstrapServiceAccountBinding: "open-cluster-management:bootstrap:agent-registration",
  bootstrapGroupBinding: "open-cluster-management:bootstrap:managedcluster",
  registrationClusterRole: "open-cluster-management:managedcluster:registration",
  workClusterRole: "open-cluster-management:managedcluster:work",
} as const;

/** Per-cluster RBAC names. */
export const ClusterRBAC = {
  /** ClusterRole and ClusterRoleBinding of one cluster. */
  clusterRole: (cluster: string) => `open-cluster-management:managedcluster:${cluster}`,
  registrationRoleBinding: (cluster: string) =>
    `open-cluster-management:managedcluster:${cluster}:registration`,
  workRoleBinding: (cluster: string) => `open-cluster-management:managedcluster:${cluster}:work`,
  /** The groups every per-cluster binding names. */
  groups: (cluster: string) => [`${Csr.subjectPrefix}${cluster}`, `open-cluster-management:${cluster}`],
} as const;

// ---------------------------------------------------------------------------------------------
// Placement and work

export const Placement = {
  maxDecisionsPerPlacementDecision: 100,
  decisionNameInfix: "-decision-",
  defaultClustersPerDecisionGroup: "100%",
  filters: { predicate: "Predicate", taintToleration: "TaintToleration" },
  prioritizerModes: { additive: "Additive", exact: "Exact" },
  scoreCoordinateTypes: { builtIn: "BuiltIn", addOn: "AddOn" },
  builtInPrioritizers: {
    balance: "Balance",
    steady: "Steady",
    resourceAllocatableCPU: "ResourceAllocatableCPU",
    resourceAllocatableMemory: "ResourceAllocatableMemory",
    spread: "Spread",
  },
  scoreMin: -100,
  scoreMax: 100,
} as const;

/** `<placement>-decision-<k>`, k counting from 1. */
export function placementDecisionName(placement: string, index: number): string {
  return `${placement}${Placement.decisionNameInfix}${index}`;
}

/** The placement controller's metrics, named as OCM's placement controller names them. */
export const PlacementMetrics = {
  /** Time to schedule one placement (filters and prioritizers). */
  schedulingDuration: "scheduling_scheduling_duration_seconds",
  /** Time to write one placement's decisions and status. */
  bindDuration: "scheduling_bind_duration_seconds",
  /** The value of their `name` label. */
  schedulingName: "placement_scheduling",
} as const;

export const Work = {
  /** The default limit on the summed size of a ManifestWork's manifests, in bytes. */
  manifestSizeLimit: 512000,
  defaultFieldManager: "work-agent",
  appliedManifestWorkEvictionGracePeriodSeconds: 3600,
  /** Agent flag --max-json-raw-length: the longest JsonRaw feedback value, in bytes. */
  maxJsonRawLength: 1024,
  /** Every reason a condition rule sets (and ConditionRulesAggregated) starts with this. */
  conditionRuleReasonPrefix: "ConditionRule",
  /** The Kubernetes CEL limits OCM applies to condition rules: per expression and per manifest. */
  conditionRuleCelPerCallLimit: 1_000_000,
  conditionRuleCelBudget: 10_000_000,
  /** Delay before the agent retries a manifest its executor may not apply. */
  executorDeniedRequeueSeconds: 60,
  /** The agent's full resync of every work, stretched by jitter. */
  agentResyncSeconds: 240,
  /** Propagation of the deletes the agent issues for applied resources. */
  appliedResourceDeletePropagation: "Background",
  /** An executor must be of this subject type. */
  executorSubjectServiceAccount: "ServiceAccount",
  /** Username prefix of a ServiceAccount executor: `system:serviceaccount:<ns>:<name>`. */
  serviceAccountUserPrefix: "system:serviceaccount:",
  wellKnownStatus: {
    readyReplicas: "ReadyReplicas",
    replicas: "Replicas",
    availableReplicas: "AvailableReplicas",
    numberReady: "NumberReady",
    desiredNumberScheduled: "DesiredNumberScheduled",
    numberAvailable: "NumberAvailable",
    jobComplete: "JobComplete",
    jobSucceeded: "JobSucceeded",
    podReady: "PodReady",
    podPhase: "PodPhase",
  },
} as const;

// ---------------------------------------------------------------------------------------------
// bosun's own names (not OCM's): how one ManifestWork template is carried by several
// ManifestWorks when its manifests exceed the size limit. An OCM agent ignores them and
// applies every part as an ordinary ManifestWork.

export const BosunWorkLabels = {
  /** 0-based position of a part; the agent applies part i once parts below i are Applied. */
  partIndex: "work.bosun.dev/part-index",
  /** How many parts the template was split into. */
  partCount: "work.bosun.dev/part-count",
  /** Hash of the whole template: parts of one generation carry the same value. */
  templateHash: "work.bosun.dev/template-hash",
} as const;

export const BosunWorkReasons = {
  /** A part's Applied=False reason while the parts before it are not Applied yet. */
  earlierPartsNotApplied: "EarlierPartsNotApplied",
} as const;

export const BosunWorkAnnotations = {
  /** The name of part 0, shared by every part of one split template. */
  partOf: "work.bosun.dev/part-of",
} as const;

/** Reasons bosun's ManifestWorkReplicaSet controller adds to OCM's. */
export const BosunReplicaSetReasons = {
  /**
   * On ManifestworkApplied: the template fails OCM's validation, or one of its manifests is
   * bigger than any ManifestWork may carry; the message names the field and why.
   */
  templateInvalid: "TemplateInvalid",
  /**
   * On ManifestworkApplied: the replica set names a bundle (BosunBundleAnnotations.content)
   * whose content objects are not all there yet; its works are left as they are.
   */
  bundleContentMissing: "BundleContentMissing",
  /** On ManifestworkApplied: a content object of the named bundle cannot be read or does not match its hash. */
  bundleContentInvalid: "BundleContentInvalid",
} as const;

export const BosunWork = {
  /** Parts after the first are named `<base>-part-<index>`. */
  partNameInfix: "-part-",
  /** Longest ManifestWork name (a DNS subdomain). */
  maxNameLength: 253,
  /** Hex characters of the template hash kept in its label. */
  templateHashLength: 20,
} as const;

// bosun's own names for a ManifestWorkReplicaSet bundle: manifests too many for one object,
// kept in ConfigMaps beside the replica set (its "content objects") and named by it.

export const BosunBundleLabels = {
  /** On a content object: the name of the ManifestWorkReplicaSet it belongs to (same namespace). */
  bundle: "work.bosun.dev/bundle",
  /** On a content object: the hash of the whole bundle it is part of. */
  contentHash: "work.bosun.dev/bundle-hash",
  /** On a content object: its 0-based position in the bundle. */
  contentIndex: "work.bosun.dev/bundle-index",
} as const;

export const BosunBundleAnnotations = {
  /** On a ManifestWorkReplicaSet: `<hash>/<count>`, the bundle whose manifests follow the template's own. */
  content: "work.bosun.dev/bundle-content",
} as const;

export const BosunBundle = {
  /** The binaryData key of a content object: a gzip-compressed JSON array of manifests. */
  dataKey: "manifests.json.gz",
  /** The most compressed bytes one content object holds (a ConfigMap holds at most 1 MiB). */
  maxContentBytes: 900 * 1024,
  /** The most bytes one content object may inflate to; more is refused as broken. */
  maxInflatedBytes: 64 * 1024 * 1024,
  /** Hex characters of the bundle hash. */
  hashLength: 32,
  /** The field manager of `bosun apply`. */
  fieldManager: "bosun",
} as const;

// ---------------------------------------------------------------------------------------------
// Policy framework

export const PolicyTemplates = {
  hubDelimiterStart: "{{hub",
  hubDelimiterEnd: "hub}}",
  encryptedPrefix: "$ocm_encrypted:",
  /** Replicated Policy names join the root's namespace and name with this. */
  replicatedNameSeparator: ".",
  maxHistory: 10,
} as const;

/** `<rootNamespace>.<rootName>`: the replicated Policy's name and root-policy label value. */
export function replicatedPolicyName(rootNamespace: string, rootName: string): string {
  return `${rootNamespace}${PolicyTemplates.replicatedNameSeparator}${rootName}`;
}

/**
 * The `<namespace>/<name>` key of a `<namespace>.<name>` value (a replicated Policy's name, the
 * root-policy and manifestworkreplicaset labels); undefined when it is not of that form. A
 * namespace is a DNS label, so the first dot ends it; the name may hold dots.
 */
export function keyOfDottedName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const dot = value.indexOf(PolicyTemplates.replicatedNameSeparator);
  if (dot <= 0 || dot === value.length - 1) return undefined;
  return `${value.slice(0, dot)}/${value.slice(dot + 1)}`;
}

/**
 * What OCM's template sync reports about a policy template it does not deliver; a template
 * error reads `NonCompliant; template-error; <reason>` (ConfigurationPolicyMessages.templateErrorPrefix).
 */
export const PolicyTemplateSyncMessages = {
  /** The kind is not served on the managed cluster; the error follows. */
  mappingNotFound: "Mapping not found, check if you have the CRD deployed: ",
  /** The same for a ConstraintTemplate (Gatekeeper itself is missing) and for a constraint. */
  gatekeeperMappingNotFound: "Mapping not found, check if Gatekeeper is installed: ",
  constraintMappingNotFound:
    "Mapping not found, check if the required ConstraintTemplate has been deployed: ",
  dependenciesNotSatisfied: "Dependencies were not satisfied: ",
  /** Appended to the pending message of a template with ignorePending, reported Compliant. */
  ignorePendingSuffix: " but ignorePending is true",
} as const;

/**
 * `Dependencies were not satisfied: 1 is still pending (<Kind> <name>)`, or
 * `N are still pending (<Kind> <name>, …)` with the `<Kind> <name>` entries sorted.
 */
export function dependenciesPendingMessage(pending: readonly string[]): string {
  const names = [...pending].sort().join(", ");
  const verb = pending.length === 1 ? "is" : "are";
  return `${PolicyTemplateSyncMessages.dependenciesNotSatisfied}${pending.length} ${verb} still pending (${names})`;
}

/** Two dependencies of one template require different compliance of the same object. */
export function conflictingDependencyMessage(name: string): string {
  return `dependency on ${name} has conflicting compliance states`;
}

// bosun's own names for the ManifestWorks that carry a replicated Policy's templates to its
// cluster (OCM syncs the replicated Policy itself and creates the templates on the cluster).

export const BosunPolicyWork = {
  /** The work of replica `<rootNs>.<rootName>` is `policy.<rootNs>.<rootName>`; split parts add `-part-<i>`. */
  namePrefix: "policy.",
  /** Status feedback read from every delivered policy template. */
  feedback: {
    compliant: { name: "compliant", path: ".status.compliant" },
    message: { name: "message", path: ".status.history[0].message" },
    lastTimestamp: { name: "lastTimestamp", path: ".status.history[0].lastTimestamp" },
  },
} as const;

/**
 * Status feedback read from a Gatekeeper constraint delivered as a policy template, from which
 * the hub words its compliance as OCM's gatekeeper sync does. Gatekeeper's audit lists at most
 * 20 violations by default (--constraint-violations-limit); that many are read, one String path
 * per field, so that no raw-JSON feedback is needed (OCM's agents have it off by default).
 */
export const BosunGatekeeperFeedback = {
  totalViolations: { name: "totalViolations", path: ".status.totalViolations" },
  violationLimit: 20,
  violationFields: ["enforcementAction", "message", "kind", "namespace", "name"] as const,
  violation: (index: number, field: string) => ({
    name: `violation-${index}-${field}`,
    path: `.status.violations[${index}].${field}`,
  }),
} as const;

/** OCM's compliance messages for a Gatekeeper constraint (framework-addon gatekeeper sync). */
export const GatekeeperMessages = {
  noViolations: "The constraint has no violations",
  /** A ConstraintTemplate once applied (OCM's template sync reports it when it creates one). */
  templateCreated: (name: string) => `ConstraintTemplate ${name} was created successfully`,
  /** One violation: `<enforcementAction> - <message> (on <kind> <namespace/name or name>)`; joined with "; ". */
  violation: (enforcementAction: string, message: string, kind: string, name: string) =>
    `${enforcementAction} - ${message} (on ${kind} ${name})`,
  separator: "; ",
} as const;

export const BosunPolicyWorkLabels = {
  /** On each ManifestWork of a replicated Policy: the replica's name (its namespace is the work's). */
  replica: "policy.bosun.dev/replica",
} as const;

/**
 * How `bosun compliance POLICY --cluster C` reads the related objects of a replica's delivered
 * policy templates: a short-lived ManifestWork in the cluster's namespace whose manifests only
 * name the templates and are only read (updateStrategy ReadOnly: nothing is applied, owned or
 * deleted), with one String feedback path per field of each of the first `limit` related
 * objects, so that neither raw-JSON feedback nor a connection to the cluster is needed.
 */
export const BosunRelatedObjects = {
  namePrefix: "bosun-related-objects-",
  /** On the work: the replica whose templates it reads, so that a stale one can be found. */
  replicaLabel: "policy.bosun.dev/related-objects-of",
  limit: 20,
  /** A work left by a reader that was killed is removed by a later reader after this long. */
  staleAfterSeconds: 600,
  fields: {
    compliant: ".compliant",
    reason: ".reason",
    apiVersion: ".object.apiVersion",
    kind: ".object.kind",
    name: ".object.metadata.name",
    namespace: ".object.metadata.namespace",
    diff: ".properties.diff",
  },
  /** Whether there are more related objects than `limit`. */
  more: { name: "related-more", path: ".status.relatedObjects[20].object.kind" },
} as const;

export type RelatedObjectField = keyof typeof BosunRelatedObjects.fields;

/** The feedback path of one field of the related object at `index`. */
export function bosunRelatedObjectPath(
  index: number,
  field: RelatedObjectField,
): { name: string; path: string } {
  return {
    name: `related-${index}-${field}`,
    path: `.status.relatedObjects[${index}]${BosunRelatedObjects.fields[field]}`,
  };
}

/** The (first) ManifestWork of a replicated Policy. */
export function bosunPolicyWorkName(replicaName: string): string {
  return `${BosunPolicyWork.namePrefix}${replicaName}`;
}

/** A policy template lacks a field the hub needs to deliver it: `<path>: Required value`. */
export function bosunTemplateFieldRequired(index: number, field: string): string {
  return `spec.policy-templates[${index}].objectDefinition${field ? `.${field}` : ""}: Required value`;
}

// ---------------------------------------------------------------------------------------------
// Metrics

export const Metrics = {
  // hub
  policyGovernanceInfo: "policy_governance_info",
  policyPropagationFailureTotal: "policy_propagation_failure_total",
  hubTemplatesActiveWatches: "hub_templates_active_watches",
  /** OCM's histogram name, which ends in `_bucket` itself. */
  handleRootPolicyDurationSeconds: "ocm_handle_root_policy_duration_seconds_bucket",
  // managed cluster
  clusterPolicyGovernanceInfo: "cluster_policy_governance_info",
  configPolicyEvaluationTotal: "config_policy_evaluation_total",
  configPolicyEvaluationSecondsTotal: "config_policy_evaluation_seconds_total",
  compareObjectsEvaluationTotal: "compare_objects_evaluation_total",
  compareObjectsSecondsTotal: "compare_objects_seconds_total",
  policyUserErrorsTotal: "policy_user_errors_total",
  policySystemErrorsTotal: "policy_system_errors_total",
} as const;

/** How bosun's governance controllers name themselves. */
export const BosunGovernance = {
  /** The reporting component of the hub's policy Events. */
  propagatorComponent: "bosun-policy-propagator",
} as const;

/**
 * bosun's progressive rollout of a root Policy, one decision group of its placement at a time,
 * opted into by annotation on the root; its state is kept in an annotation on the root too (the
 * Policy CRD prunes unknown status fields).
 */
export const BosunPolicyRollout = {
  /** `progressive` rolls the policy out by decision group; absent, it goes everywhere at once. */
  annotation: "policy.bosun.dev/rollout",
  progressive: "progressive",
  /** A Go duration: how long a released group has to succeed before the rollout halts. */
  deadlineAnnotation: "policy.bosun.dev/rollout-deadline",
  defaultDeadline: "10m",
  /** The rollout state as JSON, written by the hub; remove it to restart a halted rollout. */
  statusAnnotation: "policy.bosun.dev/rollout-status",
  /** On a replica and on each of its templates: the content revision it carries. */
  revisionAnnotation: "policy.bosun.dev/rollout-revision",
  phases: { progressing: "Progressing", halted: "Halted", succeeded: "Succeeded" },
  haltReasons: { deadlineExceeded: "DeadlineExceeded", invalidAnnotation: "InvalidAnnotation" },
  events: {
    halted: "PolicyRolloutHalted",
    groupReleased: "PolicyRolloutGroupReleased",
    succeeded: "PolicyRolloutSucceeded",
  },
  /**
   * Extra status feedback of a template that carries a revision: the revision and generation of
   * the object the agent read, and the generation its compliance was evaluated for.
   */
  feedback: {
    revision: {
      name: "rolloutRevision",
      path: ".metadata.annotations.policy\\.bosun\\.dev/rollout-revision",
    },
    generation: { name: "generation", path: ".metadata.generation" },
    lastEvaluatedGeneration: { name: "lastEvaluatedGeneration", path: ".status.lastEvaluatedGeneration" },
  },
} as const;

/** The messages of a policy rollout's state and events. */
export const BosunPolicyRolloutMessages = {
  invalidMode: (value: string) =>
    `${BosunPolicyRollout.annotation}: "${value}" is not a rollout mode; use "${BosunPolicyRollout.progressive}" or remove the annotation`,
  invalidDeadline: (value: string, reason: string) =>
    `${BosunPolicyRollout.deadlineAnnotation}: "${value}" is not a valid deadline: ${reason}`,
  nonPositiveDeadline: "the deadline must be longer than 0",
  noClusters: "no cluster is selected yet",
  waiting: (group: string, released: number, total: number) =>
    `released ${group} (${released} of ${total} groups); waiting for the clusters of the released groups to succeed`,
  released: (group: string, clusters: string) => `Released ${group} to clusters ${clusters}`,
  succeeded: (total: number) => `every decision group (${total}) was released and succeeded`,
  halted: (group: string, deadline: string, failures: string) =>
    `rollout halted: ${group} did not succeed within ${deadline} of its release: ${failures}`,
  noReplica: "no replica yet",
  replicaNotCurrent: "its replica does not carry the current content yet",
  notDelivered: (template: string) => `template ${template} is not delivered to the cluster`,
  notApplied: (template: string) => `template ${template} is not applied yet`,
  applyFailed: (template: string, message: string) => `template ${template} could not be applied: ${message}`,
  notReported: (template: string) => `template ${template} has not reported on the current content`,
  notEvaluated: (template: string) => `template ${template} is not evaluated yet`,
  notCompliant: (template: string, compliant: string) => `template ${template} is ${compliant}`,
} as const;

/** bosun's own governance metrics: OCM has no count of compliance changes. */
export const BosunGovernanceMetrics = {
  /** Every compliance message a cluster reported, by policy, cluster and state. */
  complianceChangesTotal: "bosun_policy_compliance_changes_total",
  compliantLabel: "compliant",
} as const;

export const MetricLabels = {
  type: "type",
  policy: "policy",
  policyNamespace: "policy_namespace",
  clusterNamespace: "cluster_namespace",
  kind: "kind",
  severity: "severity",
  name: "name",
  namespace: "namespace",
  template: "template",
  configPolicyName: "config_policy_name",
  object: "object",
} as const;

export const MetricValues = {
  typeRoot: "root",
  typePropagated: "propagated",
  /** cluster_namespace of a root policy's series. */
  nullClusterNamespace: "<null>",
  compliant: 0,
  nonCompliant: 1,
  pendingOrUnknown: -1,
} as const;

export const PolicyErrorTypes = {
  invalidTemplate: "invalid-template",
  noObjectCrd: "no-object-CRD",
  formatError: "format-error",
  crdError: "crd-error",
  dependencyError: "dependency-error",
  createError: "create-error",
  patchError: "patch-error",
  statusUpdateFailed: "status-update-failed",
  clientError: "client-error",
  getError: "get-error",
  deleteError: "delete-error",
  unmarshalError: "unmarshal-error",
} as const;
