// Shapes shared by the scheduler's plugins.
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type { Placement } from "../../../api/types/placement.ts";
import type { PlacementCel } from "../cel/environment.ts";
import type { FleetIndex } from "./fleet.ts";

/** A configuration problem: the condition message is `<plugin>:<message>`. */
export interface Misconfiguration {
  plugin: string;
  message: string;
}

/** Why a candidate was not feasible. */
export interface Rejection {
  plugin: string;
  reason: string;
}

export interface PluginContext {
  placement: Placement;
  namespace: string;
  name: string;
  fleet: FleetIndex;
  /** Milliseconds since the epoch. */
  now: number;
  cel: PlacementCel;
  /** Build human-readable reasons (explain); off in the controller's hot path. */
  explain: boolean;
  /** Clusters in the PlacementDecisions labelled with this placement. */
  ownDecisions: ReadonlySet<string>;
}

export interface FilterResult {
  passed: ManagedCluster[];
  /** Rejected cluster name → why. */
  rejected: Map<string, Rejection>;
  /** The earliest instant (ms) at which the result may change by the clock alone. */
  requeueAt?: number;
  /** Passed cluster name → why it passed, when there is something to say (decision reasons). */
  notes?: Map<string, string>;
}

export type FilterOutcome =
  { ok: true; result: FilterResult } | { ok: false; misconfigured: Misconfiguration };

export interface PrioritizerResult {
  /** Unweighted scores in [-100, 100], aligned with the feasible clusters. */
  scores: Int32Array;
  /** A Warning status message (the placement is retried but decisions are written). */
  warning?: string;
  requeueAt?: number;
}

export function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
