import { PlacementConditions, Resources } from "../../constants.ts";
import { claimSelector, conditions, kindCrd, labelSelector, qualifiedNamePattern } from "../common.ts";
import {
  array,
  column,
  conditionColumn,
  dateTime,
  enumOf,
  int32,
  int64,
  intOrString,
  object,
  required,
  rootSchema,
  string,
} from "../dsl.ts";

const r = Resources.Placement;

const taintEffects = ["NoSelect", "PreferNoSelect", "NoSelectIfNew"] as const;

const predicate = object({
  requiredClusterSelector: object(
    {
      labelSelector: labelSelector({ description: "Selects clusters by their labels." }),
      claimSelector: claimSelector("Selects clusters by their ClusterClaims."),
      celSelector: object(
        {
          celExpressions: array(string(), {
            description: "CEL expressions over the variable managedCluster; all must be true.",
          }),
        },
        { description: "Selects clusters with CEL expressions." },
      ),
    },
    { description: "Selectors that must all match (AND)." },
  ),
});

// The score coordinate, the prioritizer mode and the tolerations accept what OCM's CRD accepts:
// an unknown mode, operator or built-in prioritizer, or a missing builtIn/addOn, is admitted and
// then reported by the placement controller as a PlacementMisconfigured condition naming the field.
const scoreCoordinate = object(
  {
    type: required(
      enumOf(["BuiltIn", "AddOn"], {
        description: "BuiltIn uses a prioritizer of bosun; AddOn uses an AddOnPlacementScore.",
        default: "BuiltIn",
      }),
    ),
    builtIn: string({
      description:
        "The built-in prioritizer, when type is BuiltIn: Balance, Steady, ResourceAllocatableCPU, " +
        "ResourceAllocatableMemory or Spread.",
    }),
    addOn: object(
      {
        resourceName: required(string({ description: "The AddOnPlacementScore's name." })),
        scoreName: required(string({ description: "The score's name within it." })),
      },
      { description: "The add-on score, when type is AddOn." },
    ),
  },
  { description: "Where the score comes from." },
);

const prioritizerPolicy = object(
  {
    mode: string({
      description:
        "Additive adds the configurations to the default prioritizers (Balance and Steady, weight 1); Exact " +
        "uses only the configurations. Empty behaves as Additive; other values make the placement Misconfigured.",
      default: "Additive",
    }),
    configurations: array(
      object({
        scoreCoordinate: required(scoreCoordinate),
        weight: int32({
          description: "The prioritizer's weight, from -10 to 10; 0 disables it.",
          default: 1,
          minimum: -10,
          maximum: 10,
        }),
      }),
      { description: "Prioritizers and their weights." },
    ),
  },
  { description: "How feasible clusters are scored." },
);

const spreadPolicy = object(
  {
    spreadConstraints: array(
      object({
        topologyKey: required(
          string({
            description: "The label or claim whose values form the topology domains.",
            maxLength: 316,
            pattern:
              "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$",
          }),
        ),
        topologyKeyType: required(
          enumOf(["Label", "Claim"], { description: "Whether topologyKey names a label or a claim." }),
        ),
        maxSkew: int32({
          description: "The largest allowed difference in selected clusters between two domains.",
          default: 1,
          minimum: 1,
        }),
        whenUnsatisfiable: enumOf(["DoNotSchedule", "ScheduleAnyway"], {
          description: "What to do when maxSkew cannot be kept.",
          default: "ScheduleAnyway",
        }),
      }),
      { description: "Constraints on how decisions spread over topology domains.", maxItems: 8 },
    ),
  },
  { description: "How decisions spread over topology domains." },
);

const toleration = object(
  {
    key: string({
      description: "The taint key; absent matches every key, and then operator must be Exists.",
      maxLength: 316,
      pattern: qualifiedNamePattern,
    }),
    operator: string({
      description:
        "Equal matches the value; Exists matches any value. Empty behaves as Equal; other values make the " +
        "placement Misconfigured.",
      default: "Equal",
    }),
    value: string({ description: "The taint value to match; empty with Exists.", maxLength: 1024 }),
    effect: enumOf(taintEffects, { description: "The taint effect to match; empty matches every effect." }),
    tolerationSeconds: int64({
      description: "How long after the taint was added it is tolerated; absent means forever.",
    }),
  },
  { description: "Lets the placement select clusters with matching taints." },
);

const decisionStrategy = object(
  {
    groupStrategy: object(
      {
        decisionGroups: array(
          object({
            groupName: required(
              string({
                description: "The group's name.",
                pattern: "^[a-zA-Z0-9][-A-Za-z0-9_.]{0,61}[a-zA-Z0-9]$",
              }),
            ),
            groupClusterSelector: required(
              object(
                {
                  labelSelector: labelSelector({ description: "Selects the group's clusters by labels." }),
                  claimSelector: claimSelector("Selects the group's clusters by ClusterClaims."),
                },
                { description: "Which of the selected clusters form the group." },
              ),
            ),
          }),
          { description: "Named groups, taken in order, each cut into groups of clustersPerDecisionGroup." },
        ),
        clustersPerDecisionGroup: intOrString({
          description:
            "The most clusters per decision group: a count or a percentage of the selected clusters.",
          default: "100%",
          pattern: "^((100|[1-9][0-9]{0,1})%|[1-9][0-9]*)$",
        }),
      },
      { description: "How decisions are grouped." },
    ),
  },
  { description: "How decisions are divided into groups, for rollouts." },
);

const spec = object(
  {
    clusterSets: array(string(), {
      description: "The ManagedClusterSets to choose from; empty means every set bound to the namespace.",
    }),
    numberOfClusters: int32({
      description: "How many clusters to choose; absent chooses every feasible cluster.",
    }),
    predicates: array(predicate, {
      description: "Cluster selectors; a cluster matching any of them is feasible.",
    }),
    prioritizerPolicy,
    spreadPolicy,
    tolerations: array(toleration, { description: "Taints the placement tolerates." }),
    decisionStrategy,
    sortBy: enumOf(["ClusterName", "Score"], {
      description: "The order of decisions: by cluster name or by score.",
      default: "ClusterName",
    }),
    scoreRateLimit: string({
      description: "The shortest interval between score-driven decision updates, e.g. 1m.",
      default: "1m",
      pattern: "^[0-9]+[hms]$",
    }),
  },
  { description: "Which clusters to choose, and how many." },
);

const status = object(
  {
    numberOfSelectedClusters: int32({ description: "How many clusters were chosen." }),
    decisionGroups: array(
      object({
        decisionGroupIndex: int32({ description: "The group's index, from 0." }),
        decisionGroupName: string({ description: "The group's name; empty for unnamed groups." }),
        decisions: array(string(), { description: "Names of the group's PlacementDecisions." }),
        clusterCount: int32({ description: "How many clusters are in the group.", default: 0 }),
      }),
      { description: "The decision groups." },
    ),
    conditions: conditions("Conditions of the placement."),
    lastScoreUpdateTime: dateTime({ description: "When scores last changed the decisions." }),
  },
  { description: "The observed state of the placement." },
);

export const placements = kindCrd(r, {
  statusSubresource: true,
  printerColumns: [
    conditionColumn("Succeeded", PlacementConditions.satisfied, "status"),
    conditionColumn("Reason", PlacementConditions.satisfied, "reason"),
    column("SelectedClusters", "integer", ".status.numberOfSelectedClusters"),
  ],
  schema: rootSchema(
    { spec: required(spec), status },
    {
      description:
        "Chooses managed clusters from the cluster sets bound to its namespace; the choice is written to " +
        "PlacementDecisions.",
    },
  ),
});
