import { Resources } from "../../constants.ts";
import { kindCrd } from "../common.ts";
import { object, rootSchema, string } from "../dsl.ts";

const r = Resources.ClusterClaim;

export const clusterClaims = kindCrd(r, {
  schema: rootSchema(
    {
      spec: object(
        { value: string({ description: "The claimed value.", minLength: 1, maxLength: 1024 }) },
        { description: "The claim's value." },
      ),
    },
    {
      description:
        "A fact about the managed cluster it lives on (cluster-scoped); the name is the claim's key. The " +
        "agent reports claims in its ManagedCluster's status.",
    },
  ),
});
