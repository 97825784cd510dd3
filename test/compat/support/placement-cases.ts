// The recorded differential cases: small fleets and Placements on which OCM's own controller
// and bosun's scheduler once disagreed, with OCM's answer. They live in
// controllers/placement/scheduler/ocm-differential.json; the scheduler's unit tests check bosun
// against the recorded answer, and the compatibility suite replays each case through OCM's
// controller to check that the recorded answer is still OCM's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ManagedClusterSet } from "../../../api/types/cluster.ts";
import type { Placement, PlacementDecision, PlacementSpec } from "../../../api/types/placement.ts";
import type { FleetObjects } from "../../../controllers/placement/scheduler/fleet.ts";
import {
  addOnScore,
  binding,
  cluster,
  clusterSet,
  decision,
  placement as placementOf,
  type ClusterOptions,
} from "../../support/placement-fixtures.ts";
import type { GeneratedRound } from "../fleet-generator.ts";
import type { PlacementOutcome } from "./placement-outcome.ts";

export const recordedCasesFile = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "controllers",
  "placement",
  "scheduler",
  "ocm-differential.json",
);

/** The namespace of every recorded placement, its bindings and its decisions. */
export const caseNamespace = "default";
export const casePlacementName = "p1";

export interface RecordedCase {
  name: string;
  /** What OCM does, in a sentence. */
  finding: string;
  /** Clusters; `set` defaults to "default" (the exclusive set label). */
  clusters: (ClusterOptions & { name: string })[];
  /** ManagedClusterSets; default: the exclusive set "default". */
  clusterSets?: { name: string; spec?: ManagedClusterSet["spec"] }[];
  /** Sets bound to the namespace; default: ["default"]. */
  bindings?: string[];
  scores?: { cluster: string; name: string; scores: Record<string, number> }[];
  /** PlacementDecisions that exist before scheduling, by the placement label they carry. */
  decisions?: { placement: string; clusters: string[] }[];
  placement: PlacementSpec;
  /**
   * What OCM's controller wrote; null for a new case until `node bench/placement-differential.ts
   * --replay` has printed OCM's answer to record.
   */
  ocm: PlacementOutcome | null;
}

export function loadRecordedCases(): RecordedCase[] {
  return JSON.parse(readFileSync(recordedCasesFile, "utf8")) as RecordedCase[];
}

function setsOf(c: RecordedCase): ManagedClusterSet[] {
  return (c.clusterSets ?? [{ name: "default" }]).map((s) =>
    clusterSet(s.name, s.spec ?? { clusterSelector: { selectorType: "ExclusiveClusterSetLabel" } }),
  );
}

function decisionsOfCase(c: RecordedCase): PlacementDecision[] {
  const seen = new Map<string, number>();
  return (c.decisions ?? []).map((d) => {
    const k = (seen.get(d.placement) ?? 0) + 1;
    seen.set(d.placement, k);
    return decision(d.placement, d.clusters, caseNamespace, `${d.placement}-decision-${k}`);
  });
}

/** The case as the scheduler's inputs. */
export function expandCase(c: RecordedCase): { fleet: FleetObjects; placement: Placement } {
  return {
    fleet: {
      clusters: c.clusters.map(({ name, ...options }) => cluster(name, options)),
      clusterSets: setsOf(c),
      bindings: (c.bindings ?? ["default"]).map((name) => binding(name, caseNamespace)),
      scores: (c.scores ?? []).map((s) => addOnScore(s.cluster, s.name, s.scores)),
      decisions: decisionsOfCase(c),
    },
    placement: placementOf(c.placement, casePlacementName, caseNamespace),
  };
}

/** The case as a round of the differential: one batch placement, its decisions written first. */
export function caseRound(c: RecordedCase, now: number): GeneratedRound {
  const { fleet, placement } = expandCase(c);
  const { uid: _uid, ...metadata } = placement.metadata;
  const clusters = [...fleet.clusters];
  const scores = [...fleet.scores];
  return {
    seed: 0,
    now,
    namespaces: [caseNamespace],
    ghostNamespace: caseNamespace,
    clusterSets: [...fleet.clusterSets],
    bindings: [...fleet.bindings],
    fleet: { clusters, scores },
    ghostDecisions: [...fleet.decisions],
    placements: [{ kind: "batch", placement: { ...placement, metadata } }],
    act2: { clusters, scores },
  };
}
