import { ManifestWorkReplicaSetConditions, Resources } from "../../constants.ts";
import { conditions, kindCrd } from "../common.ts";
import {
  array,
  conditionColumn,
  enumOf,
  int32,
  integer,
  intOrString,
  object,
  required,
  rootSchema,
  string,
  type Schema,
} from "../dsl.ts";
import { manifestWorkSpec } from "./manifestworks.ts";

const r = Resources.ManifestWorkReplicaSet;

const countOrPercent = "^((100|[0-9]{1,2})%|[0-9]+)$";

function rolloutConfig(extra: Record<string, Schema>, description: string): Schema {
  return object(
    {
      ...extra,
      minSuccessTime: string({
        description: "How long a cluster must be successful before the rollout moves on.",
        default: "0",
      }),
      progressDeadline: string({
        description: "How long a cluster may take to succeed before it counts as failed, e.g. 10m, or None.",
        default: "None",
        pattern: "^(([0-9])+[h|m|s])|None$",
      }),
      maxFailures: intOrString({
        description: "How many clusters (or what percentage) may fail before the rollout stops.",
        default: 0,
        pattern: countOrPercent,
      }),
    },
    { description },
  );
}

function mandatoryDecisionGroups(): Schema {
  return array(
    object({
      groupName: string({ description: "The decision group's name." }),
      groupIndex: int32({ description: "The decision group's index." }),
    }),
    { description: "Decision groups that must all succeed first." },
  );
}

const rolloutStrategy = object(
  {
    type: enumOf(["All", "Progressive", "ProgressivePerGroup"], {
      description:
        "All rolls out everywhere at once; Progressive by concurrency; ProgressivePerGroup by group.",
      default: "All",
    }),
    all: rolloutConfig({}, "Options of the All rollout."),
    progressive: rolloutConfig(
      {
        mandatoryDecisionGroups: mandatoryDecisionGroups(),
        maxConcurrency: intOrString({
          description: "How many clusters (or what percentage) are updated at once.",
          pattern: countOrPercent,
        }),
      },
      "Options of the Progressive rollout.",
    ),
    progressivePerGroup: rolloutConfig(
      { mandatoryDecisionGroups: mandatoryDecisionGroups() },
      "Options of the ProgressivePerGroup rollout.",
    ),
  },
  {
    description: "How the works roll out over the placement's clusters.",
    default: { type: "All", all: { progressDeadline: "None" } },
  },
);

function summary(description: string): Schema {
  const count = (what: string) => integer({ description: what });
  return object(
    {
      total: count("Works created."),
      progressing: count("Works progressing."),
      available: count("Works available."),
      degraded: count("Works degraded."),
      applied: count("Works applied."),
      desiredTotal: count("Works wanted."),
      updated: count("Works at the current template."),
    },
    { description },
  );
}

export const manifestWorkReplicaSets = kindCrd(r, {
  statusSubresource: true,
  printerColumns: [
    conditionColumn("Placement", ManifestWorkReplicaSetConditions.placementVerified, "reason"),
    conditionColumn("Found", ManifestWorkReplicaSetConditions.placementVerified, "status"),
    conditionColumn("ManifestWorks", ManifestWorkReplicaSetConditions.manifestworkApplied, "reason"),
    conditionColumn("Applied", ManifestWorkReplicaSetConditions.manifestworkApplied, "status"),
  ],
  schema: rootSchema(
    {
      spec: object(
        {
          manifestWorkTemplate: manifestWorkSpec("The ManifestWork spec created for every chosen cluster."),
          placementRefs: required(
            array(
              object({
                name: required(
                  string({ description: "The Placement's name, in this namespace.", minLength: 1 }),
                ),
                rolloutStrategy,
              }),
              { description: "The Placements whose clusters get a ManifestWork.", minItems: 1 },
            ),
          ),
          cascadeDeletionPolicy: required(
            enumOf(["Background", "Foreground"], {
              description:
                "Foreground waits for the created ManifestWorks to be deleted; Background does not.",
              default: "Background",
            }),
          ),
        },
        { description: "What to deploy, and where." },
      ),
      status: object(
        {
          conditions: conditions("Conditions of the replica set."),
          summary: summary("Counts over all the created works."),
          placementSummary: array(
            object({
              name: string({ description: "The Placement's name." }),
              availableDecisionGroups: string({ description: "The decision groups rolled out so far." }),
              summary: summary("Counts over this placement's works."),
            }),
            { description: "Counts per placement." },
          ),
        },
        { description: "The observed state of the replica set." },
      ),
    },
    { description: "Creates a ManifestWork from one template for every cluster its Placements choose." },
  ),
});
