// spreadPolicy and the Spread prioritizer, which OCM's API documents but its scheduler does not
// implement. bosun selects clusters one at a time, in the order of the other prioritizers:
//   - a DoNotSchedule constraint is hard: a cluster whose selection would make
//     (selected in its domain + 1) - (fewest selected in any domain of that key) exceed maxSkew
//     is skipped, and a cluster without the topology key is never selected;
//   - the Spread score (weighted like any prioritizer) favours the domains with the fewest
//     selected clusters, earlier constraints first: per constraint a domain scores 63 when it
//     has the fewest selections and 0 when it has the most, the per-constraint scores are
//     combined with earlier constraints dominating, and the result is scaled to [-100, 100]
//     over the clusters still in the running. ScheduleAnyway constraints act only through it.
// Domains are the values of the topology key (label or claim) among the feasible clusters.
import { spreadConstraintDefaults } from "../../../api/defaults.ts";
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type { Placement, SpreadConstraint } from "../../../api/types/placement.ts";
import type { FleetIndex } from "./fleet.ts";
import { labelKeyError } from "./selectors.ts";
import type { Misconfiguration, Rejection } from "./types.ts";

const plugin = "Spread";

export interface Candidate {
  cluster: ManagedCluster;
  name: string;
  /** Index among the feasible clusters. */
  index: number;
  /** The weighted sum of every prioritizer but Spread. */
  total: number;
  /** Untolerated PreferNoSelect taints. */
  penalty: number;
}

/** Fewer PreferNoSelect taints first, then higher score, then name. */
export function byRank(a: Candidate, b: Candidate): number {
  return a.penalty - b.penalty || b.total - a.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export function spreadConstraints(placement: Placement): Required<SpreadConstraint>[] {
  return (placement.spec.spreadPolicy?.spreadConstraints ?? []).map(spreadConstraintDefaults);
}

export function validateSpread(placement: Placement): Misconfiguration | undefined {
  for (const [i, c] of spreadConstraints(placement).entries()) {
    const field = `spec.spreadPolicy.spreadConstraints[${i}]`;
    const keyError = labelKeyError(c.topologyKey ?? "");
    if (keyError)
      return { plugin, message: `${field}.topologyKey: ${JSON.stringify(c.topologyKey)}: ${keyError}` };
    if (c.topologyKeyType !== "Label" && c.topologyKeyType !== "Claim") {
      return {
        plugin,
        message: `${field}.topologyKeyType: ${JSON.stringify(c.topologyKeyType)} is not Label or Claim`,
      };
    }
    if (!Number.isInteger(c.maxSkew) || c.maxSkew < 1) {
      return { plugin, message: `${field}.maxSkew: must be a whole number of at least 1` };
    }
    if (c.whenUnsatisfiable !== "DoNotSchedule" && c.whenUnsatisfiable !== "ScheduleAnyway") {
      return {
        plugin,
        message: `${field}.whenUnsatisfiable: ${JSON.stringify(c.whenUnsatisfiable)} is not DoNotSchedule or ScheduleAnyway`,
      };
    }
  }
  return undefined;
}

function domainOf(
  cluster: ManagedCluster,
  c: Required<SpreadConstraint>,
  fleet: FleetIndex,
): string | undefined {
  if (c.topologyKeyType === "Label") {
    const labels = cluster.metadata.labels;
    return labels && Object.hasOwn(labels, c.topologyKey) ? labels[c.topologyKey] : undefined;
  }
  return fleet.claims(cluster).get(c.topologyKey);
}

export interface SpreadSelection {
  /** In selection order, with the Spread score each had when it was chosen. */
  selected: { candidate: Candidate; spread: number }[];
  /** Spread scores of the candidates not selected, at the end of selection. */
  unselectedSpread: Map<number, number>;
  /** Candidates a DoNotSchedule constraint kept out. */
  rejected: Map<string, Rejection>;
}

interface Group {
  values: (string | undefined)[];
  members: Candidate[];
  next: number;
}

/**
 * Selects up to `limit` candidates (already sorted by byRank) honouring the constraints.
 * `weight` is the Spread prioritizer's weight (0: constraints only).
 */
export function spreadSelect(
  candidates: readonly Candidate[],
  limit: number,
  constraints: readonly Required<SpreadConstraint>[],
  weight: number,
  fleet: FleetIndex,
  explain: boolean,
): SpreadSelection {
  const rejected = new Map<string, Rejection>();
  const groups = new Map<string, Group>();
  for (const candidate of candidates) {
    const values = constraints.map((c) => domainOf(candidate.cluster, c, fleet));
    const missing = constraints.findIndex(
      (c, i) => c.whenUnsatisfiable === "DoNotSchedule" && values[i] === undefined,
    );
    if (missing >= 0) {
      const c = constraints[missing]!;
      rejected.set(candidate.name, {
        plugin,
        reason: `missing topology key ${c.topologyKey} (${c.topologyKeyType}) required by spreadConstraints[${missing}] (DoNotSchedule)`,
      });
      continue;
    }
    const key = JSON.stringify(values);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { values, members: [], next: 0 }));
    group.members.push(candidate);
  }
  // Selected count per domain, per constraint; every domain of a feasible cluster starts at 0.
  const counts = constraints.map(() => new Map<string, number>());
  for (const group of groups.values()) {
    group.values.forEach((v, i) => {
      if (v !== undefined) counts[i]!.set(v, 0);
    });
  }
  const bounds = (i: number): [number, number] => {
    let min = Infinity;
    let max = -Infinity;
    for (const n of counts[i]!.values()) {
      if (n < min) min = n;
      if (n > max) max = n;
    }
    return [min, max];
  };
  const skewAfter = (group: Group, i: number): number => {
    const v = group.values[i];
    if (v === undefined) return 0;
    return counts[i]!.get(v)! + 1 - bounds(i)[0];
  };
  const violation = (group: Group): number =>
    constraints.findIndex(
      (c, i) => c.whenUnsatisfiable === "DoNotSchedule" && skewAfter(group, i) > c.maxSkew,
    );
  const rawScores = (live: Group[]): Map<Group, number> => {
    const raw = new Map<Group, number>();
    const ranges = constraints.map((_, i) => bounds(i));
    for (const group of live) {
      let combined = 0;
      group.values.forEach((v, i) => {
        const [min, max] = ranges[i]!;
        const n = v === undefined ? undefined : counts[i]!.get(v)!;
        const s = n === undefined ? 0 : max === min ? 63 : Math.round((63 * (max - n)) / (max - min));
        combined = combined * 64 + s;
      });
      raw.set(group, combined);
    }
    return raw;
  };
  const normalized = (raw: Map<Group, number>): Map<Group, number> => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of raw.values()) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const out = new Map<Group, number>();
    for (const [g, v] of raw)
      out.set(g, max === min ? 100 : Math.trunc(((v - min) / (max - min) - 0.5) * 200));
    return out;
  };

  const selected: { candidate: Candidate; spread: number }[] = [];
  const all = [...groups.values()];
  while (selected.length < limit) {
    const live = all.filter((g) => g.next < g.members.length);
    if (live.length === 0) break;
    const feasible = live.filter((g) => violation(g) < 0);
    if (feasible.length === 0) break;
    const spread = normalized(rawScores(live));
    let best: Group | undefined;
    let bestValue = 0;
    for (const g of feasible) {
      const head = g.members[g.next]!;
      const value = head.total + weight * spread.get(g)!;
      if (
        !best ||
        head.penalty < best.members[best.next]!.penalty ||
        (head.penalty === best.members[best.next]!.penalty &&
          (value > bestValue || (value === bestValue && head.name < best.members[best.next]!.name)))
      ) {
        best = g;
        bestValue = value;
      }
    }
    const chosen = best!;
    selected.push({ candidate: chosen.members[chosen.next]!, spread: spread.get(chosen)! });
    chosen.next++;
    chosen.values.forEach((v, i) => {
      if (v !== undefined) counts[i]!.set(v, counts[i]!.get(v)! + 1);
    });
  }

  const unselectedSpread = new Map<number, number>();
  const live = all.filter((g) => g.next < g.members.length);
  const spread = normalized(rawScores(live));
  for (const g of live) {
    const broken = violation(g);
    for (const candidate of g.members.slice(g.next)) {
      unselectedSpread.set(candidate.index, spread.get(g)!);
      if (broken >= 0 && selected.length < limit) {
        const c = constraints[broken]!;
        rejected.set(candidate.name, {
          plugin,
          reason: explain
            ? `selecting it would make the skew of ${c.topologyKey} (${c.topologyKeyType}) ${skewAfter(g, broken)}, above maxSkew ${c.maxSkew}`
            : "maxSkew",
        });
      }
    }
  }
  return { selected, unselectedSpread, rejected };
}
