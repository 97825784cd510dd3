import { Resources } from "../../constants.ts";
import { conditions, kindCrd } from "../common.ts";
import { array, dateTime, int32, object, required, rootSchema, string } from "../dsl.ts";

const r = Resources.AddOnPlacementScore;

export const addOnPlacementScores = kindCrd(r, {
  statusSubresource: true,
  schema: rootSchema(
    {
      status: object(
        {
          conditions: conditions("Conditions of the scores."),
          scores: array(
            object({
              name: required(string({ description: "The score's name." })),
              value: required(
                int32({ description: "The score, from -100 to 100.", minimum: -100, maximum: 100 }),
              ),
            }),
            { description: "Named scores of the cluster.", mapKeys: ["name"] },
          ),
          validUntil: dateTime({ description: "After this time the scores count as 0; absent means never." }),
        },
        { description: "The scores." },
      ),
    },
    {
      description:
        "Scores of one managed cluster, written in the cluster's namespace, that Placements can use to " +
        "prioritize clusters.",
    },
  ),
});
