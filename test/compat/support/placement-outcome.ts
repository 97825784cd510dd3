// What a placement controller writes for one Placement, in a form both OCM's objects (read
// back from the API server) and bosun's scheduler result reduce to, so that the two can be
// compared field by field: the PlacementDecisions (name, placement and decision-group labels,
// owner, the clusters in the order they are listed) and the Placement status (selected count,
// decision groups, conditions without their times).
//
// A decision's `reason` and `score` are left out: OCM leaves them empty and bosun fills them in
// (see the README's compatibility section).
import { Labels } from "../../../api/constants.ts";
import type { Placement, PlacementDecision, PlacementStatus } from "../../../api/types/placement.ts";
import type { FleetObjects } from "../../../controllers/placement/scheduler/fleet.ts";

export interface DecisionOutcome {
  name: string;
  /** The placement label. */
  placement: string;
  groupName: string | undefined;
  groupIndex: string | undefined;
  /** kind/name of the controller owner reference, or undefined. */
  owner: string | undefined;
  clusters: string[];
}

export interface ConditionOutcome {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface PlacementOutcome {
  /** By name. */
  decisions: DecisionOutcome[];
  numberOfSelectedClusters: number;
  decisionGroups: { index: number; name: string; decisions: string[]; clusterCount: number }[];
  /** By type. */
  conditions: ConditionOutcome[];
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The outcome of a placement's status and the PlacementDecisions labelled with it. */
export function placementOutcome(
  status: PlacementStatus | undefined,
  decisions: readonly PlacementDecision[],
): PlacementOutcome {
  return {
    decisions: decisions
      .map((pd) => {
        const owner = pd.metadata.ownerReferences?.find((o) => o.controller);
        return {
          name: pd.metadata.name ?? "",
          placement: pd.metadata.labels?.[Labels.placement] ?? "",
          groupName: pd.metadata.labels?.[Labels.decisionGroupName],
          groupIndex: pd.metadata.labels?.[Labels.decisionGroupIndex],
          owner: owner ? `${owner.kind}/${owner.name}` : undefined,
          clusters: (pd.status?.decisions ?? []).map((d) => d.clusterName),
        };
      })
      .sort(byName),
    numberOfSelectedClusters: status?.numberOfSelectedClusters ?? 0,
    decisionGroups: (status?.decisionGroups ?? []).map((g) => ({
      index: g.decisionGroupIndex ?? 0,
      name: g.decisionGroupName ?? "",
      decisions: g.decisions ?? [],
      clusterCount: g.clusterCount ?? 0,
    })),
    conditions: (status?.conditions ?? [])
      .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }))
      .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)),
  };
}

/** The PlacementDecisions in `decisions` that belong to `placement` (same namespace, its label). */
export function decisionsOf(
  placement: Pick<Placement, "metadata">,
  decisions: readonly PlacementDecision[],
): PlacementDecision[] {
  return decisions.filter(
    (pd) =>
      pd.metadata.namespace === placement.metadata.namespace &&
      pd.metadata.labels?.[Labels.placement] === placement.metadata.name,
  );
}

/** Every difference between two outcomes, as `path: ocm ≠ bosun` lines; empty when equal. */
export function outcomeDifferences(ocm: PlacementOutcome, bosun: PlacementOutcome): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`);
      return;
    }
    if (a && b && typeof a === "object" && typeof b === "object") {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const key of keys) {
        walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      }
      return;
    }
    if (a !== b) out.push(`${path}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
  };
  walk(ocm, bosun, "");
  return out.map((line) => line.replace(/^\./, ""));
}

/** Whether every difference is the message of a PlacementMisconfigured=True condition on both sides. */
function onlyMisconfiguredMessages(ocm: PlacementOutcome, bosun: PlacementOutcome): boolean {
  const differences = outcomeDifferences(ocm, bosun);
  return (
    differences.length > 0 &&
    differences.every((line) => {
      const match = /^conditions\[(\d+)\]\.message: /.exec(line);
      if (!match) return false;
      const index = Number(match[1]);
      const [a, b] = [ocm.conditions[index], bosun.conditions[index]];
      return (
        a?.type === "PlacementMisconfigured" &&
        b?.type === a.type &&
        a.status === "True" &&
        b.status === "True"
      );
    })
  );
}

export const DeliberateDifferences = {
  misconfiguredMessage:
    "PlacementMisconfigured message: bosun names the plugin and the field (OCM: the bare selector or parser error)",
  preferNoSelect:
    "PreferNoSelect: bosun selects clusters with an untolerated PreferNoSelect taint last; OCM ignores the taint",
} as const;

/**
 * Why two differing outcomes differ on purpose, or undefined. `withoutPreferNoSelect` is
 * bosun's outcome on the fleet without PreferNoSelect taints, which OCM ignores and bosun
 * ranks last.
 */
export function deliberateDifference(
  ocm: PlacementOutcome,
  bosun: PlacementOutcome,
  withoutPreferNoSelect: () => PlacementOutcome,
): string | undefined {
  if (outcomeDifferences(ocm, bosun).length === 0) return undefined;
  if (onlyMisconfiguredMessages(ocm, bosun)) return DeliberateDifferences.misconfiguredMessage;
  const stripped = withoutPreferNoSelect();
  if (outcomeDifferences(ocm, stripped).length === 0 || onlyMisconfiguredMessages(ocm, stripped)) {
    return DeliberateDifferences.preferNoSelect;
  }
  return undefined;
}

/** What a set of compared outcomes exercised, counted on OCM's side, so a run cannot pass vacuously. */
export interface OutcomeCoverage {
  pairs: number;
  selecting: number;
  noneSelected: number;
  misconfigured: number;
  unscheduled: number;
  severalGroups: number;
  namedGroups: number;
  /** A group split over more than one PlacementDecision (more than 100 clusters). */
  splitGroups: number;
}

export function outcomeCoverage(outcomes: readonly PlacementOutcome[]): OutcomeCoverage {
  const count = (test: (o: PlacementOutcome) => boolean) => outcomes.filter(test).length;
  const condition = (o: PlacementOutcome, type: string) => o.conditions.find((c) => c.type === type);
  return {
    pairs: outcomes.length,
    selecting: count((o) => o.numberOfSelectedClusters > 0),
    noneSelected: count((o) => o.numberOfSelectedClusters === 0),
    misconfigured: count((o) => condition(o, "PlacementMisconfigured")?.status === "True"),
    unscheduled: count(
      (o) => condition(o, "PlacementSatisfied")?.message.endsWith("cluster decisions unscheduled") ?? false,
    ),
    severalGroups: count((o) => o.decisionGroups.length > 1),
    namedGroups: count((o) => o.decisionGroups.some((g) => g.name !== "")),
    splitGroups: count((o) => o.decisionGroups.some((g) => g.decisions.length > 1)),
  };
}

/** The fleet with every PreferNoSelect taint removed: how OCM, which ignores them, sees it. */
export function withoutPreferNoSelect(fleet: FleetObjects): FleetObjects {
  return {
    ...fleet,
    clusters: fleet.clusters.map((cluster) => {
      const taints = cluster.spec?.taints;
      if (!taints?.some((t) => t.effect === "PreferNoSelect")) return cluster;
      return {
        ...cluster,
        spec: { ...cluster.spec, taints: taints.filter((t) => t.effect !== "PreferNoSelect") },
      };
    }),
  };
}
