// An indexed, read-only view of the hub objects the scheduler reads. Built once per batch of
// changes and shared by every placement scheduled against it.
import { ClusterSetSelectorTypes, Labels } from "../../../api/constants.ts";
import type {
  AddOnPlacementScore,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
} from "../../../api/types/cluster.ts";
import type { ResourceList } from "../../../api/types/meta.ts";
import type { PlacementDecision } from "../../../api/types/placement.ts";
import { formatQuantity, tryParseQuantity } from "../../../api/quantity.ts";
import { compileLabelSelector, matches, recordLookup } from "./selectors.ts";

export interface FleetObjects {
  clusters: readonly ManagedCluster[];
  clusterSets: readonly ManagedClusterSet[];
  /** Bindings of every namespace; the scheduler picks the placement's. */
  bindings: readonly ManagedClusterSetBinding[];
  scores: readonly AddOnPlacementScore[];
  /** PlacementDecisions of every placement in every namespace. */
  decisions: readonly PlacementDecision[];
}

export type SetMembers = { ok: true; clusters: readonly ManagedCluster[] } | { ok: false; message: string };

function placementKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class FleetIndex {
  readonly clusters: readonly ManagedCluster[];
  private readonly setsByName = new Map<string, ManagedClusterSet>();
  private readonly bindingsByNamespace = new Map<string, ManagedClusterSetBinding[]>();
  private readonly scoresByKey = new Map<string, AddOnPlacementScore>();
  private readonly clustersBySetLabel = new Map<string, ManagedCluster[]>();
  private readonly members = new Map<string, SetMembers>();
  private readonly claimMaps = new WeakMap<ManagedCluster, ReadonlyMap<string, string>>();
  private readonly celViews = new WeakMap<ManagedCluster, ManagedCluster>();
  /** Decision entries per cluster over every PlacementDecision. */
  readonly decisionCounts = new Map<string, number>();
  /** Per placement (namespace/name, from the placement label): decision entries per cluster. */
  private readonly decisionsByPlacement = new Map<string, Map<string, number>>();
  private readonly placementDecisions = new Map<string, PlacementDecision[]>();
  private readonly candidateLists = new Map<string, { clusters: ManagedCluster[]; error?: string }>();

  constructor(objects: FleetObjects) {
    this.clusters = objects.clusters;
    for (const set of objects.clusterSets) if (set.metadata.name) this.setsByName.set(set.metadata.name, set);
    for (const binding of objects.bindings) {
      const ns = binding.metadata.namespace ?? "";
      let list = this.bindingsByNamespace.get(ns);
      if (!list) this.bindingsByNamespace.set(ns, (list = []));
      list.push(binding);
    }
    for (const score of objects.scores) {
      this.scoresByKey.set(`${score.metadata.namespace ?? ""}/${score.metadata.name ?? ""}`, score);
    }
    for (const cluster of objects.clusters) {
      const set = cluster.metadata.labels?.[Labels.clusterSet];
      if (set === undefined) continue;
      let list = this.clustersBySetLabel.get(set);
      if (!list) this.clustersBySetLabel.set(set, (list = []));
      list.push(cluster);
    }
    for (const pd of objects.decisions) {
      const placement = pd.metadata.labels?.[Labels.placement];
      const key = placement === undefined ? undefined : placementKey(pd.metadata.namespace ?? "", placement);
      let own: Map<string, number> | undefined;
      if (key !== undefined) {
        own = this.decisionsByPlacement.get(key);
        if (!own) this.decisionsByPlacement.set(key, (own = new Map<string, number>()));
        let pds = this.placementDecisions.get(key);
        if (!pds) this.placementDecisions.set(key, (pds = []));
        pds.push(pd);
      }
      for (const decision of pd.status?.decisions ?? []) {
        const name = decision.clusterName;
        this.decisionCounts.set(name, (this.decisionCounts.get(name) ?? 0) + 1);
        if (own) own.set(name, (own.get(name) ?? 0) + 1);
      }
    }
  }

  clusterSet(name: string): ManagedClusterSet | undefined {
    return this.setsByName.get(name);
  }

  bindings(namespace: string): readonly ManagedClusterSetBinding[] {
    return this.bindingsByNamespace.get(namespace) ?? [];
  }

  /** The AddOnPlacementScore `name` in the namespace of `cluster`. */
  score(cluster: string, name: string): AddOnPlacementScore | undefined {
    return this.scoresByKey.get(`${cluster}/${name}`);
  }

  /** The members of a set, as OCM's GetClustersFromClusterSet selects them. */
  setMembers(set: ManagedClusterSet): SetMembers {
    const name = set.metadata.name ?? "";
    const cached = this.members.get(name);
    if (cached) return cached;
    let result: SetMembers;
    const selector = set.spec?.clusterSelector;
    const type = selector?.selectorType ?? ClusterSetSelectorTypes.exclusiveClusterSetLabel;
    if (type === ClusterSetSelectorTypes.exclusiveClusterSetLabel) {
      result = { ok: true, clusters: this.clustersBySetLabel.get(name) ?? [] };
    } else if (type === ClusterSetSelectorTypes.labelSelector) {
      if (!selector?.labelSelector) {
        // A nil selector selects nothing; an empty one selects everything.
        result = { ok: true, clusters: [] };
      } else {
        const compiled = compileLabelSelector(selector.labelSelector, "spec.clusterSelector.labelSelector");
        result = compiled.ok
          ? {
              ok: true,
              clusters: this.clusters.filter((c) =>
                matches(compiled.selector, recordLookup(c.metadata.labels)),
              ),
            }
          : { ok: false, message: `failed to get clusterset: ${name}, clusters, Error: ${compiled.message}` };
      }
    } else {
      result = {
        ok: false,
        message: `failed to get clusterset: ${name}, clusters, Error: selectorType is not right: ${String(type)}`,
      };
    }
    this.members.set(name, result);
    return result;
  }

  /**
   * The clusters of the given sets that are not being deleted, in name order, and the errors of
   * sets whose members cannot be listed. Memoized per list of sets.
   */
  candidates(setNames: readonly string[]): { clusters: ManagedCluster[]; error?: string } {
    const key = JSON.stringify(setNames);
    const cached = this.candidateLists.get(key);
    if (cached) return cached;
    const byName = new Map<string, ManagedCluster>();
    const errors: string[] = [];
    for (const setName of setNames) {
      const set = this.setsByName.get(setName);
      if (!set) continue;
      const members = this.setMembers(set);
      if (!members.ok) {
        errors.push(members.message);
        continue;
      }
      for (const cluster of members.clusters) {
        if (!cluster.metadata.deletionTimestamp) byName.set(cluster.metadata.name ?? "", cluster);
      }
    }
    const clusters = [...byName.values()].sort((a, b) => {
      const x = a.metadata.name ?? "";
      const y = b.metadata.name ?? "";
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const result = errors.length > 0 ? { clusters, error: errors.join("; ") } : { clusters };
    this.candidateLists.set(key, result);
    return result;
  }

  /** The cluster's claims, name to value. */
  claims(cluster: ManagedCluster): ReadonlyMap<string, string> {
    let claims = this.claimMaps.get(cluster);
    if (!claims) {
      const map = new Map<string, string>();
      for (const claim of cluster.status?.clusterClaims ?? []) {
        if (claim.name !== undefined) map.set(claim.name, claim.value ?? "");
      }
      this.claimMaps.set(cluster, (claims = map));
    }
    return claims;
  }

  /**
   * The cluster as CEL expressions see it. OCM evaluates them on its typed ManagedCluster, whose
   * capacity and allocatable are quantities, so they read in canonical form ("1e1" is "10",
   * "16384Mi" is "16Gi") whatever the text stored. A cluster whose quantities are canonical
   * already (as agents report them) is its own view, so compiled CEL inputs stay cached.
   */
  celView(cluster: ManagedCluster): ManagedCluster {
    let view = this.celViews.get(cluster);
    if (view) return view;
    view = cluster;
    const status = cluster.status;
    const capacity = canonicalQuantities(status?.capacity);
    const allocatable = canonicalQuantities(status?.allocatable);
    if (capacity || allocatable) {
      view = {
        ...cluster,
        status: { ...status, ...(capacity ? { capacity } : {}), ...(allocatable ? { allocatable } : {}) },
      };
    }
    this.celViews.set(cluster, view);
    return view;
  }

  /** Decision entries per cluster in the PlacementDecisions labelled with this placement. */
  ownDecisionCounts(namespace: string, placement: string): ReadonlyMap<string, number> {
    return this.decisionsByPlacement.get(placementKey(namespace, placement)) ?? new Map();
  }

  /** The existing PlacementDecisions labelled with this placement. */
  existingDecisions(namespace: string, placement: string): readonly PlacementDecision[] {
    return this.placementDecisions.get(placementKey(namespace, placement)) ?? [];
  }
}

/** The list with every quantity in canonical form, or undefined when it is so already. */
function canonicalQuantities(list: ResourceList | undefined): ResourceList | undefined {
  if (!list) return undefined;
  let changed = false;
  const canonical: ResourceList = {};
  for (const [name, value] of Object.entries(list)) {
    const quantity = tryParseQuantity(String(value));
    const text = quantity ? formatQuantity(quantity) : value;
    if (text !== value) changed = true;
    canonical[name] = text;
  }
  return changed ? canonical : undefined;
}
