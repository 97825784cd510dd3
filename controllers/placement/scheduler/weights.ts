// Prioritizer weights. Additive ("" too) starts from Balance and Steady at weight 1 and lets the
// configurations override or add; Exact uses only the configurations. Weight 0 disables a
// prioritizer entirely (no score record).
//
// OCM keys the weights by the whole score coordinate, whose addOn is a pointer: a configuration
// without addOn overrides an earlier one (or a default) of the same type and builtIn, but every
// configuration that carries an addOn is a prioritizer of its own, so two configurations of the
// same AddOn score add their weights up. Spread, which OCM rejects as unknown, is implemented:
// in Additive mode a placement with spreadConstraints also gets Spread at weight 1 unless it
// configures Spread itself (without constraints Spread has nothing to spread over).
import { Placement as PlacementConstants } from "../../../api/constants.ts";
import type { Placement, ScoreCoordinate } from "../../../api/types/placement.ts";
import { addOnPrioritizerName } from "./addon.ts";
import type { Misconfiguration } from "./types.ts";

const { builtInPrioritizers: builtIns, scoreCoordinateTypes, prioritizerModes } = PlacementConstants;
const plugin = "PrioritizerPolicy";

export type PrioritizerKind =
  | { kind: "Balance" }
  | { kind: "Steady" }
  | { kind: "ResourceAllocatableCPU" }
  | { kind: "ResourceAllocatableMemory" }
  | { kind: "Spread" }
  | { kind: "AddOn"; resourceName: string; scoreName: string };

export interface WeightedPrioritizer {
  /** As OCM names it: Balance, Steady, ..., AddOn/<resourceName>/<scoreName>. */
  name: string;
  weight: number;
  prioritizer: PrioritizerKind;
}

export type WeightsResult =
  { ok: true; prioritizers: WeightedPrioritizer[] } | { ok: false; misconfigured: Misconfiguration };

const knownBuiltIns = new Set<string>(Object.values(builtIns));

function resolve(
  coordinate: ScoreCoordinate,
  field: string,
): { name: string; kind: PrioritizerKind } | Misconfiguration {
  const type = (coordinate.type as string | undefined) || scoreCoordinateTypes.builtIn;
  if (type === scoreCoordinateTypes.builtIn) {
    const name = coordinate.builtIn ?? "";
    if (!knownBuiltIns.has(name)) {
      return { plugin, message: `incorrect builtin prioritizer: ${name} (${field}.builtIn)` };
    }
    return { name, kind: { kind: name } as PrioritizerKind };
  }
  if (type === scoreCoordinateTypes.addOn) {
    if (!coordinate.addOn) return { plugin, message: `addOn should not be empty (${field}.addOn)` };
    const { resourceName, scoreName } = coordinate.addOn;
    return { name: addOnPrioritizerName(coordinate.addOn), kind: { kind: "AddOn", resourceName, scoreName } };
  }
  return { plugin, message: `incorrect score coordinate type: ${String(coordinate.type)} (${field}.type)` };
}

export function prioritizerWeights(placement: Placement): WeightsResult {
  const policy = placement.spec.prioritizerPolicy;
  const mode = policy?.mode ?? "";
  if (mode !== "" && mode !== prioritizerModes.additive && mode !== prioritizerModes.exact) {
    return {
      ok: false,
      misconfigured: {
        plugin,
        message: `incorrect prioritizer policy mode: ${String(mode)} (spec.prioritizerPolicy.mode)`,
      },
    };
  }
  const entries = new Map<string, WeightedPrioritizer>();
  const builtInKey = (name: string) => `${scoreCoordinateTypes.builtIn}/${name}`;
  if (mode !== prioritizerModes.exact) {
    entries.set(builtInKey(builtIns.balance), {
      name: builtIns.balance,
      weight: 1,
      prioritizer: { kind: "Balance" },
    });
    entries.set(builtInKey(builtIns.steady), {
      name: builtIns.steady,
      weight: 1,
      prioritizer: { kind: "Steady" },
    });
    if ((placement.spec.spreadPolicy?.spreadConstraints ?? []).length > 0) {
      entries.set(builtInKey(builtIns.spread), {
        name: builtIns.spread,
        weight: 1,
        prioritizer: { kind: "Spread" },
      });
    }
  }
  for (const [i, config] of (policy?.configurations ?? []).entries()) {
    const field = `spec.prioritizerPolicy.configurations[${i}]`;
    if (!config.scoreCoordinate) {
      return {
        ok: false,
        misconfigured: { plugin, message: `scoreCoordinate field is required (${field})` },
      };
    }
    const weight = config.weight ?? 1;
    if (!Number.isInteger(weight) || weight < -10 || weight > 10) {
      return {
        ok: false,
        misconfigured: { plugin, message: `${field}.weight: must be an integer from -10 to 10` },
      };
    }
    const resolved = resolve(config.scoreCoordinate, `${field}.scoreCoordinate`);
    if ("plugin" in resolved) {
      // As in OCM, only enabled prioritizers are checked: an unknown name with weight 0 is ignored.
      if (weight !== 0) return { ok: false, misconfigured: resolved };
      continue;
    }
    const coordinate = config.scoreCoordinate;
    const key = coordinate.addOn
      ? field
      : `${(coordinate.type as string | undefined) || scoreCoordinateTypes.builtIn}/${coordinate.builtIn ?? ""}`;
    entries.delete(key);
    entries.set(key, { name: resolved.name, weight, prioritizer: resolved.kind });
  }
  const prioritizers = [...entries.values()].filter((p) => p.weight !== 0);
  return { ok: true, prioritizers };
}
