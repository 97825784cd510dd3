// work.open-cluster-management.io kinds: ManifestWork and AppliedManifestWork (v1),
// ManifestWorkReplicaSet (v1alpha1).
import type { Condition, IntOrString, KubeObject, ObjectMeta, Time } from "./meta.ts";

/** A complete Kubernetes object carried by a ManifestWork, kept exactly as written. */
export type Manifest = KubeObject & Record<string, unknown>;

export interface ManifestsTemplate {
  manifests?: Manifest[];
}

export type DeletePropagationPolicyType = "Foreground" | "Orphan" | "SelectivelyOrphan";

export interface OrphaningRule {
  group?: string;
  resource: string;
  namespace?: string;
  name: string;
}

export interface SelectivelyOrphan {
  orphaningRules?: OrphaningRule[];
}

export interface DeleteOption {
  /** Defaults to Foreground. */
  propagationPolicy?: DeletePropagationPolicyType;
  /** Note the plural JSON key. */
  selectivelyOrphans?: SelectivelyOrphan;
  ttlSecondsAfterFinished?: number;
}

export interface ResourceIdentifier {
  group?: string;
  resource: string;
  /** May contain `*` wildcards. */
  name: string;
  /** May contain `*` wildcards. */
  namespace?: string;
}

export type FeedbackType = "WellKnownStatus" | "JSONPaths";

export interface JsonPath {
  name: string;
  version?: string;
  path: string;
}

export interface FeedbackRule {
  type: FeedbackType;
  jsonPaths?: JsonPath[];
}

export type UpdateStrategyType = "Update" | "CreateOnly" | "ServerSideApply" | "ReadOnly";
export type IgnoreFieldsCondition = "OnSpokePresent" | "OnSpokeChange";

export interface IgnoreField {
  /** Defaults to OnSpokePresent. */
  condition: IgnoreFieldsCondition;
  jsonPaths?: string[];
  jsonPointers?: string[];
  jqPathExpressions?: string[];
}

export interface ServerSideApplyConfig {
  force?: boolean;
  /** Defaults to work-agent; must start with work-agent. */
  fieldManager?: string;
  ignoreFields?: IgnoreField[];
}

export interface UpdateStrategy {
  /** Defaults to Update. */
  type: UpdateStrategyType;
  serverSideApply?: ServerSideApplyConfig;
}

export type ConditionRuleType = "WellKnownConditions" | "CEL";

export interface ConditionRule {
  condition: string;
  type: ConditionRuleType;
  celExpressions?: string[];
  message?: string;
  messageExpression?: string;
}

export type FeedbackScrapeType = "Poll" | "Watch";

export interface ManifestConfigOption {
  resourceIdentifier: ResourceIdentifier;
  feedbackRules?: FeedbackRule[];
  updateStrategy?: UpdateStrategy;
  conditionRules?: ConditionRule[];
  /** Defaults to Poll. */
  feedbackScrapeType?: FeedbackScrapeType;
}

export interface ManifestWorkSubjectServiceAccount {
  namespace: string;
  name: string;
}

export interface ManifestWorkExecutorSubject {
  type: "ServiceAccount";
  serviceAccount?: ManifestWorkSubjectServiceAccount;
}

export interface ManifestWorkExecutor {
  subject?: ManifestWorkExecutorSubject;
}

export interface ManifestWorkSpec {
  workload?: ManifestsTemplate;
  deleteOption?: DeleteOption;
  manifestConfigs?: ManifestConfigOption[];
  executor?: ManifestWorkExecutor;
}

export interface ManifestResourceMeta {
  ordinal: number;
  group?: string;
  version?: string;
  kind?: string;
  resource?: string;
  name?: string;
  namespace?: string;
}

export type ValueType = "Integer" | "String" | "Boolean" | "JsonRaw";

export interface FieldValue {
  type: ValueType;
  integer?: number;
  string?: string;
  boolean?: boolean;
  /** At most 1024 characters. */
  jsonRaw?: string;
}

export interface FeedbackValue {
  name: string;
  fieldValue: FieldValue;
}

export interface StatusFeedbackResult {
  values?: FeedbackValue[];
}

export interface ManifestCondition {
  resourceMeta: ManifestResourceMeta;
  statusFeedback?: StatusFeedbackResult;
  conditions: Condition[];
}

export interface ManifestResourceStatus {
  manifests?: ManifestCondition[];
}

export interface ManifestWorkStatus {
  conditions?: Condition[];
  resourceStatus?: ManifestResourceStatus;
}

export interface ManifestWork {
  apiVersion: "work.open-cluster-management.io/v1";
  kind: "ManifestWork";
  metadata: ObjectMeta;
  spec?: ManifestWorkSpec;
  status?: ManifestWorkStatus;
}

export interface AppliedManifestWorkSpec {
  hubHash: string;
  agentID?: string;
  manifestWorkName: string;
}

export interface AppliedManifestResourceMeta {
  group?: string;
  version: string;
  resource: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export interface AppliedManifestWorkStatus {
  appliedResources?: AppliedManifestResourceMeta[];
  evictionStartTime?: Time;
}

/** The managed-cluster record of what one ManifestWork applied; named `<hubHash>-<workName>`. */
export interface AppliedManifestWork {
  apiVersion: "work.open-cluster-management.io/v1";
  kind: "AppliedManifestWork";
  metadata: ObjectMeta;
  spec?: AppliedManifestWorkSpec;
  status?: AppliedManifestWorkStatus;
}

export type RolloutType = "All" | "Progressive" | "ProgressivePerGroup";

export interface MandatoryDecisionGroup {
  groupName?: string;
  groupIndex?: number;
}

export interface RolloutConfig {
  /** Defaults to "0". */
  minSuccessTime?: string;
  /** A duration such as "10m" or "None" (the default). */
  progressDeadline?: string;
  /** A count or percentage; defaults to 0. */
  maxFailures?: IntOrString;
}

export type RolloutAll = RolloutConfig;

export interface RolloutProgressivePerGroup extends RolloutConfig {
  mandatoryDecisionGroups?: MandatoryDecisionGroup[];
}

export interface RolloutProgressive extends RolloutProgressivePerGroup {
  maxConcurrency?: IntOrString;
}

export interface RolloutStrategy {
  /** Defaults to All. */
  type?: RolloutType;
  all?: RolloutAll;
  progressive?: RolloutProgressive;
  progressivePerGroup?: RolloutProgressivePerGroup;
}

export interface LocalPlacementReference {
  name: string;
  /** Defaults to {type: All, all: {progressDeadline: None}}. */
  rolloutStrategy?: RolloutStrategy;
}

export type CascadeDeletionPolicy = "Background" | "Foreground";

export interface ManifestWorkReplicaSetSpec {
  manifestWorkTemplate?: ManifestWorkSpec;
  placementRefs: LocalPlacementReference[];
  /** Defaults to Background. */
  cascadeDeletionPolicy: CascadeDeletionPolicy;
}

export interface ManifestWorkReplicaSetSummary {
  total?: number;
  progressing?: number;
  available?: number;
  degraded?: number;
  applied?: number;
  desiredTotal?: number;
  updated?: number;
}

export interface PlacementSummary {
  name?: string;
  availableDecisionGroups?: string;
  summary?: ManifestWorkReplicaSetSummary;
}

export interface ManifestWorkReplicaSetStatus {
  conditions?: Condition[];
  summary?: ManifestWorkReplicaSetSummary;
  placementSummary?: PlacementSummary[];
}

export interface ManifestWorkReplicaSet {
  apiVersion: "work.open-cluster-management.io/v1alpha1";
  kind: "ManifestWorkReplicaSet";
  metadata: ObjectMeta;
  spec?: ManifestWorkReplicaSetSpec;
  status?: ManifestWorkReplicaSetStatus;
}
