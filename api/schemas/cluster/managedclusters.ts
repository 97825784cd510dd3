import { ManagedClusterConditions, Resources } from "../../constants.ts";
import { conditions, dns1123LabelPattern, kindCrd, qualifiedNamePattern, resourceList } from "../common.ts";
import {
  ageColumn,
  array,
  boolean,
  bytes,
  column,
  conditionColumn,
  dateTime,
  enumOf,
  int32,
  object,
  required,
  rootSchema,
  string,
} from "../dsl.ts";

const r = Resources.ManagedCluster;

const taint = object(
  {
    key: required(
      string({
        description: "The taint key, e.g. bar or foo.example.com/bar.",
        maxLength: 316,
        pattern: qualifiedNamePattern,
      }),
    ),
    value: string({ description: "The taint value.", maxLength: 1024 }),
    effect: required(
      enumOf(["NoSelect", "PreferNoSelect", "NoSelectIfNew"], {
        description: "What the taint does to placements that do not tolerate it.",
      }),
    ),
    timeAdded: dateTime({ description: "When the taint was added; set by the hub.", nullable: true }),
  },
  { description: "Repels placements that do not tolerate it." },
);

const spec = object(
  {
    managedClusterClientConfigs: array(
      object({
        url: required(string({ description: "The URL of the managed cluster's kube-apiserver." })),
        caBundle: bytes({ description: "CA bundle for that URL; system roots when absent." }),
      }),
      { description: "Addresses at which the hub can reach the managed cluster's kube-apiserver." },
    ),
    hubAcceptsClient: boolean({
      description:
        "Whether the hub accepts the cluster's agent. Setting it to true needs update on the " +
        "managedclusters/accept subresource of register.open-cluster-management.io.",
    }),
    leaseDurationSeconds: int32({
      description: "How often, in seconds, the agent renews its lease; 0 means 60.",
      default: 60,
    }),
    taints: array(taint, { description: "Taints that keep placements away unless tolerated." }),
  },
  { description: "The desired state of the cluster's registration." },
);

const status = object(
  {
    conditions: conditions("Conditions of the managed cluster."),
    capacity: resourceList("Total resources of all nodes."),
    allocatable: resourceList("Allocatable resources of all schedulable nodes."),
    version: object(
      { kubernetes: string({ description: "The Kubernetes version." }) },
      { description: "Versions of the managed cluster." },
    ),
    clusterClaims: array(
      object({
        name: string({ description: "The ClusterClaim's name.", minLength: 1, maxLength: 253 }),
        value: string({ description: "The ClusterClaim's value.", minLength: 1, maxLength: 1024 }),
      }),
      { description: "ClusterClaims reported by the agent." },
    ),
    managedNamespaces: array(
      object({
        name: required(
          string({ description: "The namespace.", maxLength: 63, pattern: dns1123LabelPattern }),
        ),
        clusterSet: required(string({ description: "The cluster set that manages the namespace." })),
        conditions: conditions("Conditions of the managed namespace."),
      }),
      {
        description: "Namespaces managed by the cluster sets this cluster is in.",
        mapKeys: ["clusterSet", "name"],
      },
    ),
  },
  { description: "The observed state of the cluster, reported by its agent and the hub." },
);

export const managedClusters = kindCrd(r, {
  statusSubresource: true,
  printerColumns: [
    column("Hub Accepted", "boolean", ".spec.hubAcceptsClient"),
    column("Managed Cluster URLs", "string", ".spec.managedClusterClientConfigs[*].url"),
    conditionColumn("Joined", ManagedClusterConditions.joined, "status"),
    conditionColumn("Available", ManagedClusterConditions.available, "status"),
    ageColumn,
  ],
  schema: rootSchema(
    {
      // The name becomes the cluster's namespace on the hub, so it must be a DNS-1123 label.
      metadata: object({ name: string({ maxLength: 63, pattern: dns1123LabelPattern }) }),
      spec,
      status,
    },
    {
      description:
        "A Kubernetes cluster registered with the hub. Cluster-scoped; the name is the cluster's name " +
        "and the name of its namespace on the hub.",
    },
  ),
});
