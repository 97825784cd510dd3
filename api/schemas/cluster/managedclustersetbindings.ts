import { Resources } from "../../constants.ts";
import { conditions, kindCrd } from "../common.ts";
import { object, required, rootSchema, rule, string } from "../dsl.ts";

const r = Resources.ManagedClusterSetBinding;

export const managedClusterSetBindings = kindCrd(r, {
  statusSubresource: true,
  schema: rootSchema(
    {
      spec: required(
        object(
          {
            clusterSet: required(
              string({
                description: "The ManagedClusterSet bound to this namespace; equal to the binding's name.",
                minLength: 1,
              }),
            ),
          },
          { description: "The bound cluster set." },
        ),
      ),
      status: object(
        { conditions: conditions("Conditions of the binding.", false) },
        { description: "The observed state of the binding." },
      ),
    },
    {
      description:
        "Makes a ManagedClusterSet available to the Placements of one namespace. Its name must equal " +
        "spec.clusterSet.",
      validations: [
        rule(
          "!has(self.spec) || !has(self.spec.clusterSet) || self.metadata.name == self.spec.clusterSet",
          "metadata.name must equal spec.clusterSet",
          {
            fieldPath: ".spec.clusterSet",
          },
        ),
      ],
    },
  ),
});
