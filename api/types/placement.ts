// cluster.open-cluster-management.io/v1beta1 Placement and PlacementDecision.
import type {
  ClusterClaimSelector,
  Condition,
  IntOrString,
  LabelSelector,
  ObjectMeta,
  Time,
} from "./meta.ts";
import type { TaintEffect } from "./cluster.ts";

export interface CelSelector {
  celExpressions?: string[];
}

export interface ClusterSelector {
  labelSelector?: LabelSelector;
  claimSelector?: ClusterClaimSelector;
  celSelector?: CelSelector;
}

export interface ClusterPredicate {
  requiredClusterSelector?: ClusterSelector;
}

export type PrioritizerMode = "Additive" | "Exact" | "";
export type ScoreCoordinateType = "BuiltIn" | "AddOn";
export type BuiltInPrioritizer =
  "Balance" | "Steady" | "ResourceAllocatableCPU" | "ResourceAllocatableMemory" | "Spread";

export interface AddOnScore {
  resourceName: string;
  scoreName: string;
}

export interface ScoreCoordinate {
  /** Defaults to BuiltIn. */
  type: ScoreCoordinateType;
  builtIn?: BuiltInPrioritizer;
  addOn?: AddOnScore;
}

export interface PrioritizerConfig {
  scoreCoordinate: ScoreCoordinate;
  /** -10..10; defaults to 1. */
  weight?: number;
}

export interface PrioritizerPolicy {
  /** Defaults to Additive; "" behaves as Additive. */
  mode?: PrioritizerMode;
  configurations?: PrioritizerConfig[];
}

export type TopologyKeyType = "Label" | "Claim";
export type UnsatisfiableSpreadAction = "DoNotSchedule" | "ScheduleAnyway";

export interface SpreadConstraint {
  topologyKey: string;
  topologyKeyType: TopologyKeyType;
  /** Defaults to 1. */
  maxSkew?: number;
  /** Defaults to ScheduleAnyway. */
  whenUnsatisfiable?: UnsatisfiableSpreadAction;
}

export interface SpreadPolicy {
  spreadConstraints?: SpreadConstraint[];
}

export type TolerationOperator = "Equal" | "Exists" | "";

export interface Toleration {
  key?: string;
  /** Defaults to Equal. */
  operator?: TolerationOperator;
  value?: string;
  /** Empty matches every effect. */
  effect?: TaintEffect;
  /** Absent: tolerated forever. */
  tolerationSeconds?: number;
}

export interface GroupClusterSelector {
  labelSelector?: LabelSelector;
  claimSelector?: ClusterClaimSelector;
}

export interface DecisionGroup {
  groupName: string;
  groupClusterSelector: GroupClusterSelector;
}

export interface GroupStrategy {
  decisionGroups?: DecisionGroup[];
  /** A count or a percentage ("25%"); defaults to "100%". */
  clustersPerDecisionGroup?: IntOrString;
}

export interface DecisionStrategy {
  groupStrategy?: GroupStrategy;
}

export type PlacementSortBy = "ClusterName" | "Score";

export interface PlacementSpec {
  clusterSets?: string[];
  /** Absent: every feasible cluster. */
  numberOfClusters?: number;
  predicates?: ClusterPredicate[];
  prioritizerPolicy?: PrioritizerPolicy;
  spreadPolicy?: SpreadPolicy;
  tolerations?: Toleration[];
  decisionStrategy?: DecisionStrategy;
  /** Defaults to ClusterName. */
  sortBy?: PlacementSortBy;
  /** Defaults to "1m". */
  scoreRateLimit?: string;
}

export interface DecisionGroupStatus {
  decisionGroupIndex?: number;
  decisionGroupName?: string;
  /** Names of the PlacementDecisions of this group. */
  decisions?: string[];
  clusterCount?: number;
}

export interface PlacementStatus {
  numberOfSelectedClusters?: number;
  decisionGroups?: DecisionGroupStatus[];
  conditions?: Condition[];
  lastScoreUpdateTime?: Time;
}

export interface Placement {
  apiVersion: "cluster.open-cluster-management.io/v1beta1";
  kind: "Placement";
  metadata: ObjectMeta;
  spec: PlacementSpec;
  status?: PlacementStatus;
}

export interface ClusterDecision {
  clusterName: string;
  reason: string;
  score?: number;
}

export interface PlacementDecisionStatus {
  decisions: ClusterDecision[];
}

export interface PlacementDecision {
  apiVersion: "cluster.open-cluster-management.io/v1beta1";
  kind: "PlacementDecision";
  metadata: ObjectMeta;
  status?: PlacementDecisionStatus;
}
