// Defaults as the controllers see them. `applyDefaults` fills in what the API server's CRD
// defaulting would (for objects that never went through one, e.g. in-memory stores); the
// helpers below also cover values the API allows but that mean the default ("", 0).
import { Lease, Placement as PlacementConstants, Resources, Work, type BosunKind } from "./constants.ts";
import { allCrds } from "./schemas/index.ts";
import type { Schema } from "./schemas/dsl.ts";
import type { ManagedCluster } from "./types/cluster.ts";
import type {
  PrioritizerConfig,
  PrioritizerMode,
  PlacementSpec,
  SpreadConstraint,
  Toleration,
  TolerationOperator,
} from "./types/placement.ts";
import type {
  DeletePropagationPolicyType,
  LocalPlacementReference,
  ManifestConfigOption,
  RolloutStrategy,
  UpdateStrategyType,
} from "./types/work.ts";
import type { PolicySpec } from "./types/policy.ts";

function schemaOf(kind: BosunKind): Schema {
  const r = Resources[kind];
  const crd = allCrds.find((c) => c.spec.group === r.group && c.spec.names.kind === r.kind);
  const version = crd?.spec.versions.find((v) => v.name === r.version);
  if (!version) throw new Error(`no schema for ${kind}`);
  return version.schema.openAPIV3Schema;
}

function fill(schema: Schema, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) fill(schema.items, item);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const record = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (!(name in record) && child.default !== undefined) record[name] = structuredClone(child.default);
    if (name in record) fill(child, record[name]);
  }
  if (schema.additionalProperties) {
    for (const child of Object.values(record)) fill(schema.additionalProperties, child);
  }
}

/** A copy of `obj` with every absent field that has a CRD default set to it, as the API server does. */
export function applyDefaults<T>(kind: BosunKind, obj: T): T {
  const copy = structuredClone(obj);
  fill(schemaOf(kind), copy);
  return copy;
}

// ManagedCluster ------------------------------------------------------------------------------

/** The lease renewal interval; absent or 0 means 60 s. */
export function leaseDurationSeconds(cluster: Pick<ManagedCluster, "spec">): number {
  const seconds = cluster.spec?.leaseDurationSeconds ?? 0;
  return seconds > 0 ? seconds : Lease.defaultDurationSeconds;
}

/** How long the hub waits for a lease renewal before the cluster's availability becomes Unknown. */
export function leaseGracePeriodSeconds(cluster: Pick<ManagedCluster, "spec">): number {
  return Lease.graceMultiplier * leaseDurationSeconds(cluster);
}

// Placement -----------------------------------------------------------------------------------

/** The prioritizer mode; absent and "" mean Additive. Other values are returned as found. */
export function prioritizerMode(spec: PlacementSpec): Exclude<PrioritizerMode, ""> {
  const mode = spec.prioritizerPolicy?.mode;
  return mode === undefined || mode === "" ? "Additive" : mode;
}

export function prioritizerWeight(config: PrioritizerConfig): number {
  return config.weight ?? 1;
}

export function scoreCoordinateType(config: PrioritizerConfig): "BuiltIn" | "AddOn" {
  return config.scoreCoordinate.type ?? PlacementConstants.scoreCoordinateTypes.builtIn;
}

/** The toleration operator; absent and "" mean Equal. */
export function tolerationOperator(toleration: Toleration): Exclude<TolerationOperator, ""> {
  const operator = toleration.operator;
  return operator === undefined || operator === "" ? "Equal" : operator;
}

export function clustersPerDecisionGroup(spec: PlacementSpec): number | string {
  return (
    spec.decisionStrategy?.groupStrategy?.clustersPerDecisionGroup ??
    PlacementConstants.defaultClustersPerDecisionGroup
  );
}

export function spreadConstraintDefaults(c: SpreadConstraint): Required<SpreadConstraint> {
  return { ...c, maxSkew: c.maxSkew ?? 1, whenUnsatisfiable: c.whenUnsatisfiable ?? "ScheduleAnyway" };
}

// ManifestWork and ManifestWorkReplicaSet -----------------------------------------------------

export function propagationPolicy(spec: {
  deleteOption?: { propagationPolicy?: DeletePropagationPolicyType };
}) {
  return spec.deleteOption?.propagationPolicy ?? "Foreground";
}

export function updateStrategyType(config: ManifestConfigOption | undefined): UpdateStrategyType {
  return config?.updateStrategy?.type ?? "Update";
}

export function fieldManager(config: ManifestConfigOption | undefined): string {
  return config?.updateStrategy?.serverSideApply?.fieldManager ?? Work.defaultFieldManager;
}

/** A placement reference's rollout strategy with OCM's defaults filled in. */
export function rolloutStrategy(ref: LocalPlacementReference): RolloutStrategy {
  const s = ref.rolloutStrategy ?? { type: "All", all: { progressDeadline: "None" } };
  const type = s.type ?? "All";
  const withConfig = <
    C extends { minSuccessTime?: string; progressDeadline?: string; maxFailures?: number | string },
  >(
    c: C | undefined,
  ): C => ({ minSuccessTime: "0", progressDeadline: "None", maxFailures: 0, ...c }) as C;
  switch (type) {
    case "All":
      return { ...s, type, all: withConfig(s.all) };
    case "Progressive":
      return { ...s, type, progressive: withConfig(s.progressive) };
    case "ProgressivePerGroup":
      return { ...s, type, progressivePerGroup: withConfig(s.progressivePerGroup) };
  }
}

// Policy --------------------------------------------------------------------------------------

/** Absent copyPolicyMetadata behaves as true. */
export function copyPolicyMetadata(spec: Pick<PolicySpec, "copyPolicyMetadata">): boolean {
  return spec.copyPolicyMetadata ?? true;
}

/** An empty evaluation interval means watch. */
export function evaluationInterval(value: string | undefined): string {
  return value === undefined || value === "" ? "watch" : value;
}
