// policy.open-cluster-management.io kinds: Policy, PlacementBinding and ConfigurationPolicy
// (v1), PolicySet (v1beta1).
import type { LabelSelector, LabelSelectorRequirement, ObjectMeta, Time } from "./meta.ts";

export type ComplianceState = "Compliant" | "Pending" | "NonCompliant";
export type RemediationAction = "Inform" | "inform" | "Enforce" | "enforce";

export interface PolicyDependency {
  apiVersion: string;
  kind: string;
  name: string;
  /** Must be empty for CertificatePolicy and ConfigurationPolicy. */
  namespace?: string;
  compliance: ComplianceState;
}

/** An object the Policy creates on the managed cluster, usually a ConfigurationPolicy. */
export type PolicyTemplateObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
};

export interface PolicyTemplate {
  objectDefinition: PolicyTemplateObject;
  extraDependencies?: PolicyDependency[];
  ignorePending?: boolean;
}

export interface HubTemplateOptions {
  serviceAccountName?: string;
}

export interface PolicySpec {
  disabled: boolean;
  remediationAction?: RemediationAction;
  "policy-templates": PolicyTemplate[];
  dependencies?: PolicyDependency[];
  /** Absent behaves as true. */
  copyPolicyMetadata?: boolean;
  hubTemplateOptions?: HubTemplateOptions;
}

export interface PlacementDecisionRef {
  clusterName?: string;
  clusterNamespace?: string;
}

export interface PolicyExclusion {
  clusterName?: string;
}

export interface PolicyPlacementStatus {
  placementBinding?: string;
  placement?: string;
  placementRule?: string;
  policySet?: string;
  decisions?: PlacementDecisionRef[];
  exclusions?: PolicyExclusion[];
}

export interface RemainingBinding {
  placementBinding?: string;
}

export interface CompliancePerClusterStatus {
  compliant?: ComplianceState;
  clustername?: string;
  clusternamespace?: string;
  remainingBindings?: RemainingBinding[];
}

export interface ComplianceHistory {
  lastTimestamp?: Time;
  message?: string;
  eventName?: string;
}

export interface DetailsPerTemplate {
  templateMeta?: ObjectMeta;
  compliant?: ComplianceState;
  history?: ComplianceHistory[];
}

export interface PolicyStatus {
  /** Root only. */
  placement?: PolicyPlacementStatus[];
  /** Root only: one entry per decided cluster, sorted by cluster name. */
  status?: CompliancePerClusterStatus[];
  compliant?: ComplianceState;
  /** Replicated only: one entry per template. */
  details?: DetailsPerTemplate[];
}

export interface Policy {
  apiVersion: "policy.open-cluster-management.io/v1";
  kind: "Policy";
  metadata: ObjectMeta;
  spec: PolicySpec;
  status?: PolicyStatus;
}

export interface PlacementSubject {
  apiGroup: "cluster.open-cluster-management.io" | "apps.open-cluster-management.io";
  kind: "Placement" | "PlacementRule";
  name: string;
}

export interface BindingSubject {
  apiGroup: "policy.open-cluster-management.io";
  kind: "Policy" | "PolicySet";
  name: string;
}

export interface BindingOverrides {
  remediationAction?: "Enforce" | "enforce";
}

/** Binds a Placement to Policies and PolicySets; its fields sit at the top level, not under spec. */
export interface PlacementBinding {
  apiVersion: "policy.open-cluster-management.io/v1";
  kind: "PlacementBinding";
  metadata: ObjectMeta;
  placementRef: PlacementSubject;
  subjects: BindingSubject[];
  bindingOverrides?: BindingOverrides;
  subFilter?: "restricted";
  status?: Record<string, never>;
}

export interface PolicySetExclusion {
  policyName: string;
  reason?: string;
  clusterNames: string[];
}

export interface PolicySetSpec {
  description?: string;
  policies: string[];
  exclusions?: PolicySetExclusion[];
}

export interface PolicySetStatusPlacement {
  placementBinding?: string;
  placement?: string;
  placementRule?: string;
}

export interface PolicySetStatusExclusion {
  policyName: string;
  clusters: string[];
}

export interface PolicySetStatus {
  placement?: PolicySetStatusPlacement[];
  compliant?: ComplianceState;
  statusMessage?: string;
  exclusions?: PolicySetStatusExclusion[];
}

export interface PolicySet {
  apiVersion: "policy.open-cluster-management.io/v1beta1";
  kind: "PolicySet";
  metadata: ObjectMeta;
  spec: PolicySetSpec;
  status?: PolicySetStatus;
}

// ConfigurationPolicy ------------------------------------------------------------------------

export type ComplianceType =
  | "MustHave"
  | "Musthave"
  | "musthave"
  | "MustOnlyHave"
  | "Mustonlyhave"
  | "mustonlyhave"
  | "MustNotHave"
  | "Mustnothave"
  | "mustnothave";

export type MetadataComplianceType =
  "MustHave" | "Musthave" | "musthave" | "MustOnlyHave" | "Mustonlyhave" | "mustonlyhave";

export type Severity = "low" | "Low" | "medium" | "Medium" | "high" | "High" | "critical" | "Critical";
export type RecordDiff = "Log" | "InStatus" | "None";
export type RecreateOption = "None" | "IfRequired" | "Always";
export type PruneObjectBehavior = "DeleteAll" | "DeleteIfCreated" | "None";
export type TerminatingInclusion = "IfMatch" | "Never" | "Default";

export interface ConfigurationPolicyNamespaceSelector {
  /** filepath-style globs. */
  include?: string[];
  exclude?: string[];
  matchLabels?: LabelSelector["matchLabels"];
  matchExpressions?: LabelSelectorRequirement[];
  /** Defaults to Default. */
  terminatingInclusion?: TerminatingInclusion;
}

export interface ObjectTemplate {
  complianceType: ComplianceType;
  metadataComplianceType?: MetadataComplianceType;
  objectDefinition: Record<string, unknown>;
  objectSelector?: LabelSelector;
  recordDiff?: RecordDiff;
  /** Defaults to None. */
  recreateOption?: RecreateOption;
}

export interface EvaluationInterval {
  /** A duration ("10s", "2h"), "watch" or "never". */
  compliant?: string;
  noncompliant?: string;
}

export interface CustomMessage {
  compliant?: string;
  noncompliant?: string;
}

export interface ConfigurationPolicySpec {
  /** Defaults to inform. */
  remediationAction: RemediationAction;
  severity?: Severity;
  namespaceSelector?: ConfigurationPolicyNamespaceSelector;
  /** Exactly one of object-templates and object-templates-raw is set. */
  "object-templates"?: ObjectTemplate[];
  "object-templates-raw"?: string;
  /** Defaults to None. */
  pruneObjectBehavior?: PruneObjectBehavior;
  evaluationInterval?: EvaluationInterval;
  customMessage?: CustomMessage;
}

export type ConfigurationPolicyCompliance = ComplianceState | "Terminating";

export interface ConfigurationPolicyCondition {
  type: string;
  status?: string;
  lastTransitionTime?: Time;
  reason?: string;
  message?: string;
}

export interface TemplateStatus {
  /** Note the capital C, as OCM spells it. */
  Compliant?: ConfigurationPolicyCompliance;
  /** Deprecated. */
  Validity?: { valid?: boolean; reason?: string };
  conditions?: ConfigurationPolicyCondition[];
}

export interface ObjectResource {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

export interface ObjectProperties {
  createdByPolicy?: boolean;
  uid?: string;
  diff?: string;
  matchesAfterDryRun?: boolean;
}

export interface RelatedObject {
  object?: ObjectResource;
  compliant?: string;
  reason?: string;
  properties?: ObjectProperties;
}

export interface HistoryEvent {
  lastTimestamp?: Time;
  message?: string;
}

export interface ConfigurationPolicyStatus {
  compliant?: ConfigurationPolicyCompliance;
  compliancyDetails?: TemplateStatus[];
  relatedObjects?: RelatedObject[];
  lastEvaluated?: string;
  lastEvaluatedGeneration?: number;
  history?: HistoryEvent[];
}

export interface ConfigurationPolicy {
  apiVersion: "policy.open-cluster-management.io/v1";
  kind: "ConfigurationPolicy";
  metadata: ObjectMeta;
  spec: ConfigurationPolicySpec;
  status?: ConfigurationPolicyStatus;
}
