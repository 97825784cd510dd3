import { Resources } from "../../constants.ts";
import { kindCrd } from "../common.ts";
import { array, enumOf, object, required, rootSchema, rule, string } from "../dsl.ts";

const r = Resources.PlacementBinding;

export const placementBindings = kindCrd(r, {
  statusSubresource: true,
  schema: rootSchema(
    {
      placementRef: required(
        object(
          {
            apiGroup: required(
              enumOf(["apps.open-cluster-management.io", "cluster.open-cluster-management.io"], {
                description: "cluster.open-cluster-management.io for a Placement.",
                minLength: 1,
              }),
            ),
            kind: required(
              enumOf(["PlacementRule", "Placement"], {
                description: "Placement, or the deprecated PlacementRule.",
                minLength: 1,
              }),
            ),
            name: required(string({ description: "The name, in the binding's namespace.", minLength: 1 })),
          },
          {
            description: "The Placement whose decisions the binding uses.",
            validations: [
              rule(
                "(self.apiGroup == 'cluster.open-cluster-management.io' && self.kind == 'Placement') || " +
                  "(self.apiGroup == 'apps.open-cluster-management.io' && self.kind == 'PlacementRule')",
                "apiGroup must be cluster.open-cluster-management.io for kind Placement and " +
                  "apps.open-cluster-management.io for kind PlacementRule",
                { fieldPath: ".apiGroup" },
              ),
            ],
          },
        ),
      ),
      subjects: required(
        array(
          object({
            apiGroup: required(
              enumOf(["policy.open-cluster-management.io"], {
                description: "The subject's API group.",
                minLength: 1,
              }),
            ),
            kind: required(
              enumOf(["Policy", "PolicySet"], { description: "Policy or PolicySet.", minLength: 1 }),
            ),
            name: required(string({ description: "The name, in the binding's namespace.", minLength: 1 })),
          }),
          { description: "The Policies and PolicySets to place.", minItems: 1 },
        ),
      ),
      bindingOverrides: object(
        {
          remediationAction: enumOf(["Enforce", "enforce"], {
            description: "Enforces the bound policies on the clusters this binding chooses.",
          }),
        },
        { description: "Overrides for the clusters this binding chooses." },
      ),
      subFilter: enumOf(["restricted"], {
        description: "restricted: the binding only applies its overrides to clusters other bindings choose.",
      }),
      status: { type: "object", description: "Reserved." },
    },
    { description: "Binds a Placement to Policies and PolicySets in the same namespace." },
  ),
});
