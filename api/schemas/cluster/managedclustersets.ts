import { ManagedClusterSetConditions, Resources } from "../../constants.ts";
import { conditions, dns1123LabelPattern, kindCrd, labelSelector } from "../common.ts";
import { ageColumn, array, conditionColumn, enumOf, object, required, rootSchema, string } from "../dsl.ts";

const r = Resources.ManagedClusterSet;

const defaultSelector = { selectorType: "ExclusiveClusterSetLabel" };

const spec = object(
  {
    clusterSelector: object(
      {
        selectorType: required(
          enumOf(["ExclusiveClusterSetLabel", "LabelSelector"], {
            description:
              "ExclusiveClusterSetLabel selects the clusters labelled " +
              "cluster.open-cluster-management.io/clusterset=<set name>; LabelSelector uses labelSelector.",
            default: "ExclusiveClusterSetLabel",
          }),
        ),
        labelSelector: labelSelector({
          description: "Clusters selected by labels when selectorType is LabelSelector; empty selects all.",
          atomicExpressions: true,
        }),
      },
      { description: "How the set chooses its clusters.", default: defaultSelector },
    ),
    managedNamespaces: array(
      object({
        name: required(
          string({ description: "The namespace.", maxLength: 63, pattern: dns1123LabelPattern }),
        ),
      }),
      { description: "Namespaces created on every cluster of the set.", mapKeys: ["name"] },
    ),
  },
  { description: "Which clusters belong to the set.", default: { clusterSelector: defaultSelector } },
);

export const managedClusterSets = kindCrd(r, {
  statusSubresource: true,
  printerColumns: [
    conditionColumn("Empty", ManagedClusterSetConditions.clusterSetEmpty, "status"),
    ageColumn,
  ],
  schema: rootSchema(
    {
      spec,
      status: object(
        { conditions: conditions("Conditions of the set.", false) },
        { description: "The observed state of the set." },
      ),
    },
    { description: "A named group of managed clusters that can be bound to namespaces. Cluster-scoped." },
  ),
});
