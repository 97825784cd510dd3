import { Resources } from "../../constants.ts";
import { kindCrd } from "../common.ts";
import { array, int64, object, required, rootSchema, string } from "../dsl.ts";

const r = Resources.PlacementDecision;

export const placementDecisions = kindCrd(r, {
  statusSubresource: true,
  schema: rootSchema(
    {
      status: object(
        {
          decisions: required(
            array(
              object({
                clusterName: required(string({ description: "The chosen ManagedCluster." })),
                reason: required(string({ description: "Why the cluster was chosen; may be empty." })),
                score: int64({ description: "The cluster's total score." }),
              }),
              { description: "The chosen clusters, at most 100 per PlacementDecision." },
            ),
          ),
        },
        { description: "The decisions." },
      ),
    },
    {
      description:
        "One slice of a Placement's decisions, labelled cluster.open-cluster-management.io/placement with " +
        "the Placement's name.",
    },
  ),
});
