import { Resources } from "../../constants.ts";
import { kindCrd } from "../common.ts";
import { ageColumn, array, column, enumOf, object, required, rootSchema, string } from "../dsl.ts";

const r = Resources.PolicySet;

const nonEmpty = (description: string) => string({ description, minLength: 1 });

export const policySets = kindCrd(r, {
  statusSubresource: true,
  printerColumns: [column("Compliance state", "string", ".status.compliant"), ageColumn],
  schema: rootSchema(
    {
      spec: required(
        object(
          {
            description: string({ description: "What the set is for." }),
            policies: required(
              array(nonEmpty("A Policy's name."), {
                description: "Names of the Policies in the set, in its namespace.",
              }),
            ),
            exclusions: array(
              object({
                policyName: required(nonEmpty("The excluded Policy, one of spec.policies.")),
                reason: string({ description: "Why the clusters are excluded." }),
                clusterNames: required(
                  array(nonEmpty("A cluster's name."), {
                    description: "The excluded clusters.",
                    minItems: 1,
                  }),
                ),
              }),
              { description: "Clusters on which a member Policy is not placed through this set." },
            ),
          },
          { description: "The member Policies." },
        ),
      ),
      status: object(
        {
          placement: array(
            object({
              placementBinding: string({ description: "The PlacementBinding's name." }),
              placement: string({ description: "The Placement's name." }),
              placementRule: string({ description: "The PlacementRule's name." }),
            }),
            { description: "The bindings that place the set." },
          ),
          compliant: enumOf(["Compliant", "Pending", "NonCompliant"], {
            description: "The compliance over all member Policies.",
          }),
          statusMessage: string({ description: "Why the compliance is what it is." }),
          exclusions: array(
            object({
              policyName: required(nonEmpty("The Policy's name.")),
              clusters: required(
                array(nonEmpty("A cluster's name."), { description: "The clusters.", minItems: 1 }),
              ),
            }),
            { description: "Exclusions in effect." },
          ),
        },
        { description: "The observed compliance of the set." },
      ),
    },
    { description: "A group of Policies placed and reported together." },
  ),
});
