// Every CRD bosun installs, and where: the hub or the managed cluster.
import type { CustomResourceDefinition } from "./dsl.ts";
import { addOnPlacementScores } from "./cluster/addonplacementscores.ts";
import { clusterClaims } from "./cluster/clusterclaims.ts";
import { managedClusters } from "./cluster/managedclusters.ts";
import { managedClusterSetBindings } from "./cluster/managedclustersetbindings.ts";
import { managedClusterSets } from "./cluster/managedclustersets.ts";
import { placementDecisions } from "./cluster/placementdecisions.ts";
import { placements } from "./cluster/placements.ts";
import { configurationPolicies } from "./policy/configurationpolicies.ts";
import { placementBindings } from "./policy/placementbindings.ts";
import { policies } from "./policy/policies.ts";
import { policySets } from "./policy/policysets.ts";
import { appliedManifestWorks } from "./work/appliedmanifestworks.ts";
import { manifestWorkReplicaSets } from "./work/manifestworkreplicasets.ts";
import { manifestWorks } from "./work/manifestworks.ts";

export type CrdLocation = "hub" | "managed";

export const hubCrds: readonly CustomResourceDefinition[] = [
  managedClusters,
  managedClusterSets,
  managedClusterSetBindings,
  placements,
  placementDecisions,
  addOnPlacementScores,
  manifestWorks,
  manifestWorkReplicaSets,
  policies,
  placementBindings,
  policySets,
];

/** The managed cluster keeps local copies of its replicated Policies, so it has Policy too. */
export const managedCrds: readonly CustomResourceDefinition[] = [
  clusterClaims,
  appliedManifestWorks,
  configurationPolicies,
  policies,
];

export const crdsByLocation: Readonly<Record<CrdLocation, readonly CustomResourceDefinition[]>> = {
  hub: hubCrds,
  managed: managedCrds,
};

/** Every distinct CRD. */
export const allCrds: readonly CustomResourceDefinition[] = [...new Set([...hubCrds, ...managedCrds])];
