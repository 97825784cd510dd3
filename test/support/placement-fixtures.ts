// Builders of hub objects for the scheduler's tests and benchmarks.
import { Labels } from "../../api/constants.ts";
import type {
  AddOnPlacementScore,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  Taint,
} from "../../api/types/cluster.ts";
import type { Placement, PlacementDecision, PlacementSpec } from "../../api/types/placement.ts";
import { FleetIndex, type FleetObjects } from "../../controllers/placement/scheduler/fleet.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";

export interface ClusterOptions {
  set?: string;
  labels?: Record<string, string>;
  claims?: Record<string, string>;
  taints?: Taint[];
  allocatable?: Record<string, string>;
  capacity?: Record<string, string>;
  version?: string;
  deleting?: boolean;
}

export function cluster(name: string, o: ClusterOptions = {}): ManagedCluster {
  const c: ManagedCluster = {
    apiVersion: "cluster.open-cluster-management.io/v1",
    kind: "ManagedCluster",
    metadata: { name, labels: { [Labels.clusterSet]: o.set ?? "default", ...o.labels } },
    spec: { hubAcceptsClient: true, ...(o.taints ? { taints: o.taints } : {}) },
    status: {},
  };
  if (o.deleting) c.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
  if (o.claims) c.status!.clusterClaims = Object.entries(o.claims).map(([n, value]) => ({ name: n, value }));
  if (o.allocatable) c.status!.allocatable = o.allocatable;
  if (o.capacity ?? o.allocatable) c.status!.capacity = o.capacity ?? o.allocatable!;
  if (o.version) c.status!.version = { kubernetes: o.version };
  return c;
}

export function clusterSet(name: string, spec?: ManagedClusterSet["spec"]): ManagedClusterSet {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1beta2",
    kind: "ManagedClusterSet",
    metadata: { name },
    ...(spec ? { spec } : {}),
  };
}

export function binding(set: string, namespace = "default"): ManagedClusterSetBinding {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1beta2",
    kind: "ManagedClusterSetBinding",
    metadata: { name: set, namespace },
    spec: { clusterSet: set },
  };
}

/** Creates an ExclusiveClusterSetLabel set and binds it to `namespace`, on a real hub. */
export async function createBoundClusterSet(
  client: KubeApi,
  name: string,
  namespace = "default",
): Promise<void> {
  await client.create(clusterSet(name, { clusterSelector: { selectorType: "ExclusiveClusterSetLabel" } }));
  await client.create(binding(name, namespace));
}

export function placement(spec: PlacementSpec = {}, name = "p1", namespace = "default"): Placement {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1beta1",
    kind: "Placement",
    metadata: { name, namespace, uid: "uid-1" },
    spec,
  };
}

export function decision(
  placementName: string,
  clusters: string[],
  namespace = "default",
  pdName = `${placementName}-decision-1`,
): PlacementDecision {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1beta1",
    kind: "PlacementDecision",
    metadata: { name: pdName, namespace, labels: { [Labels.placement]: placementName } },
    status: { decisions: clusters.map((clusterName) => ({ clusterName, reason: "" })) },
  };
}

export function addOnScore(
  clusterName: string,
  name: string,
  scores: Record<string, number>,
  validUntil?: string,
): AddOnPlacementScore {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1alpha1",
    kind: "AddOnPlacementScore",
    metadata: { name, namespace: clusterName },
    status: {
      scores: Object.entries(scores).map(([n, value]) => ({ name: n, value })),
      ...(validUntil ? { validUntil } : {}),
    },
  };
}

/** A fleet with the `default` set bound to the `default` namespace unless told otherwise. */
export function fleet(objects: Partial<FleetObjects>): FleetIndex {
  return new FleetIndex({
    clusters: objects.clusters ?? [],
    clusterSets: objects.clusterSets ?? [clusterSet("default")],
    bindings: objects.bindings ?? [binding("default")],
    scores: objects.scores ?? [],
    decisions: objects.decisions ?? [],
  });
}

export const now = Date.parse("2026-06-01T12:00:00Z");
