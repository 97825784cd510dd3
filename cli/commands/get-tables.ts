// The tables of `bosun get`, as pure functions of the objects: kubectl-style columns (-o wide
// adds some), the namespace column when several namespaces are listed, kubectl's ages.
import { stringify } from "yaml";
import {
  BosunPolicyRollout,
  BosunWorkLabels,
  ClusterSetSelectorTypes,
  Labels,
  ManagedClusterConditions,
  ManagedClusterSetConditions,
  ManifestWorkConditions,
  ManifestWorkReplicaSetConditions,
  PlacementConditions,
  Resources,
} from "../../api/constants.ts";
import { labelSelectorString } from "../../api/selectors.ts";
import type { ManagedCluster, ManagedClusterSet, ManagedClusterSetBinding } from "../../api/types/cluster.ts";
import type { KubeObject } from "../../api/types/meta.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { parseRolloutState } from "../../controllers/propagation/policy-rollout.ts";
import { clusterSetMembers } from "../../controllers/registration/clustersets.ts";
import { findCondition } from "../../runtime/conditions.ts";

// Columns --------------------------------------------------------------------------------------

/** What cells may read besides their object. */
export interface RowContext {
  nowMs: number;
  /** For cluster sets: every ManagedCluster. */
  clusters: readonly ManagedCluster[];
  /** For cluster sets: every ManagedClusterSetBinding. */
  bindings: readonly ManagedClusterSetBinding[];
}

export function rowContext(nowMs: number, related: Partial<RowContext> = {}): RowContext {
  return { nowMs, clusters: [], bindings: [], ...related };
}

export interface Column<T> {
  header: string;
  /** Shown with -o wide only. */
  wide?: boolean;
  /** Changes with the clock alone (AGE): a watch does not report it as a change. */
  clock?: boolean;
  cell(object: T, context: RowContext): string;
}

export interface TableSpec<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
  /** The `bosun get` subcommand that lists them. */
  command: string;
  /** How the objects are called in messages: "ManifestWorks". */
  plural: string;
  /** The namespace column's header when several namespaces are listed. */
  namespaceHeader: string;
  /** List every namespace unless -n is given (works: every cluster's). */
  allNamespacesByDefault?: boolean;
  /** What to suggest when -n names a namespace the hub does not have. */
  missingNamespaceHint: string;
  /** The related objects the cells read. */
  related?: readonly ("clusters" | "bindings")[];
  columns: readonly Column<T>[];
}

export interface TableOptions {
  wide?: boolean;
  /** Add the namespace column (when several namespaces are listed). */
  withNamespace?: boolean;
}

function visibleColumns<T extends KubeObject>(spec: TableSpec<T>, options: TableOptions): Column<T>[] {
  return spec.columns.filter((column) => options.wide || !column.wide);
}

export function headersOf<T extends KubeObject>(spec: TableSpec<T>, options: TableOptions): string[] {
  const headers = visibleColumns(spec, options).map((column) => column.header);
  return spec.namespaced && options.withNamespace ? [spec.namespaceHeader, ...headers] : headers;
}

export function rowOf<T extends KubeObject>(
  spec: TableSpec<T>,
  object: T,
  context: RowContext,
  options: TableOptions,
): string[] {
  const cells = visibleColumns(spec, options).map((column) => column.cell(object, context));
  return spec.namespaced && options.withNamespace ? [object.metadata.namespace ?? "", ...cells] : cells;
}

/** Per cell of a row: whether it changes with the clock alone. */
export function clockCells<T extends KubeObject>(spec: TableSpec<T>, options: TableOptions): boolean[] {
  const flags = visibleColumns(spec, options).map((column) => column.clock === true);
  return spec.namespaced && options.withNamespace ? [false, ...flags] : flags;
}

export function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  return (
    (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
    (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")
  );
}

/** The widths formatTable pads each column to. */
export function columnWidths(headers: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
}

/** One line of a table: every cell but the last padded to its column's width (or its own) and three spaces. */
export function formatRow(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, column) =>
      column === cells.length - 1 ? cell : cell.padEnd(Math.max(widths[column] ?? 0, cell.length) + 3),
    )
    .join("")
    .trimEnd();
}

/** A kubectl-style table: upper-case headers, columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = columnWidths(headers, rows);
  return [headers, ...rows].map((cells) => formatRow(cells, widths)).join("\n");
}

export function renderTable<T extends KubeObject>(
  spec: TableSpec<T>,
  objects: readonly T[],
  context: RowContext,
  options: TableOptions,
): string {
  const rows = [...objects].sort(byNamespaceAndName).map((object) => rowOf(spec, object, context, options));
  return formatTable(headersOf(spec, options), rows);
}

/** An age as kubectl prints it: "45s", "3m20s", "5h", "2d3h", "400d", "3y20d". */
export function humanAge(createdMs: number, nowMs: number): string {
  const seconds = Math.floor((nowMs - createdMs) / 1000);
  if (Number.isNaN(seconds)) return "<unknown>";
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const withRest = (whole: number, unit: string, rest: number, restUnit: string) =>
    rest === 0 ? `${whole}${unit}` : `${whole}${unit}${rest}${restUnit}`;
  if (minutes < 10) return withRest(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, "y", days % 365, "d");
  return `${years}y`;
}

const name: Column<KubeObject> = { header: "NAME", cell: (object) => object.metadata.name ?? "" };
const age: Column<KubeObject> = {
  header: "AGE",
  clock: true,
  cell: (object, context) =>
    object.metadata.creationTimestamp
      ? humanAge(Date.parse(object.metadata.creationTimestamp), context.nowMs)
      : "<unknown>",
};
const conditionStatus = (conditions: Parameters<typeof findCondition>[0], type: string) =>
  findCondition(conditions, type)?.status ?? "";

/** A decision group as tables show it: its name, or `#<index>` when it has none. */
export function decisionGroupLabel(
  groupName: string | undefined,
  index: number | string | undefined,
): string {
  if (groupName) return groupName;
  return index === undefined || index === "" ? "" : `#${index}`;
}

export interface ClusterRow {
  name: string;
  accepted: string;
  joined: string;
  available: string;
  clusterSet: string;
  kubeVersion: string;
  cpu: string;
  memory: string;
  claims: string;
}

export function clusterRow(cluster: ManagedCluster): ClusterRow {
  const condition = (type: string) => conditionStatus(cluster.status?.conditions, type);
  const claims = (cluster.status?.clusterClaims ?? []).map((claim) => `${claim.name}=${claim.value}`);
  return {
    name: cluster.metadata.name ?? "",
    accepted: String(cluster.spec?.hubAcceptsClient ?? false),
    joined: condition(ManagedClusterConditions.joined),
    available: condition(ManagedClusterConditions.available),
    clusterSet: cluster.metadata.labels?.[Labels.clusterSet] ?? "",
    kubeVersion: cluster.status?.version?.kubernetes ?? "",
    cpu: String(cluster.status?.capacity?.cpu ?? ""),
    memory: String(cluster.status?.capacity?.memory ?? ""),
    claims: claims.join(","),
  };
}

const clusterColumn = (header: string, field: keyof ClusterRow): Column<ManagedCluster> => ({
  header,
  cell: (cluster) => clusterRow(cluster)[field],
});

export const clusterTable: TableSpec<ManagedCluster> = {
  ...Resources.ManagedCluster,
  command: "clusters",
  namespaced: false,
  plural: "managed clusters",
  namespaceHeader: "",
  missingNamespaceHint: "",
  columns: [
    name,
    clusterColumn("ACCEPTED", "accepted"),
    clusterColumn("JOINED", "joined"),
    clusterColumn("AVAILABLE", "available"),
    clusterColumn("CLUSTERSET", "clusterSet"),
    clusterColumn("KUBERNETES", "kubeVersion"),
    clusterColumn("CPU", "cpu"),
    clusterColumn("MEMORY", "memory"),
    clusterColumn("CLAIMS", "claims"),
    age,
    {
      header: "URL",
      wide: true,
      cell: (cluster) =>
        (cluster.spec?.managedClusterClientConfigs ?? []).map((config) => config.url).join(","),
    },
    {
      header: "TAINTS",
      wide: true,
      cell: (cluster) =>
        (cluster.spec?.taints ?? [])
          .map((taint) => `${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`)
          .join(","),
    },
  ],
};

/** The effective label selector of a cluster set, as a string. */
export function clusterSetSelector(set: ManagedClusterSet): string {
  const selector = set.spec?.clusterSelector;
  if (
    (selector?.selectorType ?? ClusterSetSelectorTypes.exclusiveClusterSetLabel) ===
    ClusterSetSelectorTypes.labelSelector
  )
    return labelSelectorString(selector?.labelSelector ?? {});
  return `${Labels.clusterSet}=${set.metadata.name ?? ""}`;
}

export const clusterSetTable: TableSpec<ManagedClusterSet> = {
  ...Resources.ManagedClusterSet,
  command: "clustersets",
  namespaced: false,
  plural: "ManagedClusterSets",
  namespaceHeader: "",
  missingNamespaceHint: "",
  related: ["clusters", "bindings"],
  columns: [
    name,
    {
      header: "SELECTOR TYPE",
      cell: (set) =>
        set.spec?.clusterSelector?.selectorType ?? ClusterSetSelectorTypes.exclusiveClusterSetLabel,
    },
    {
      header: "CLUSTERS",
      cell: (set, context) => {
        const members = clusterSetMembers(set, context.clusters);
        return members instanceof Error ? "<invalid>" : String(members.length);
      },
    },
    {
      header: "BINDINGS",
      cell: (set, context) =>
        context.bindings
          .filter((binding) => binding.spec?.clusterSet === set.metadata.name)
          .map((binding) => binding.metadata.namespace ?? "")
          .sort()
          .join(","),
    },
    age,
    { header: "SELECTOR", wide: true, cell: clusterSetSelector },
    {
      header: "EMPTY",
      wide: true,
      cell: (set) => conditionStatus(set.status?.conditions, ManagedClusterSetConditions.clusterSetEmpty),
    },
  ],
};

export const placementTable: TableSpec<Placement> = {
  ...Resources.Placement,
  command: "placements",
  namespaced: true,
  plural: "Placements",
  namespaceHeader: "NAMESPACE",
  missingNamespaceHint: "check -n (kubectl get namespaces lists them)",
  columns: [
    name,
    {
      header: "SUCCEEDED",
      cell: (placement) => conditionStatus(placement.status?.conditions, PlacementConditions.satisfied),
    },
    { header: "SELECTED", cell: (placement) => String(placement.status?.numberOfSelectedClusters ?? 0) },
    {
      header: "REASON",
      cell: (placement) =>
        findCondition(placement.status?.conditions, PlacementConditions.satisfied)?.reason ?? "",
    },
    age,
    { header: "CLUSTERSETS", wide: true, cell: (placement) => (placement.spec?.clusterSets ?? []).join(",") },
    {
      header: "DECISION GROUPS",
      wide: true,
      cell: (placement) =>
        (placement.status?.decisionGroups ?? [])
          .map(
            (group) =>
              `${decisionGroupLabel(group.decisionGroupName, group.decisionGroupIndex)}=${group.clusterCount ?? 0}`,
          )
          .join(","),
    },
  ],
};

export const decisionTable: TableSpec<PlacementDecision> = {
  ...Resources.PlacementDecision,
  command: "decisions",
  namespaced: true,
  plural: "PlacementDecisions",
  namespaceHeader: "NAMESPACE",
  missingNamespaceHint: "check -n (kubectl get namespaces lists them)",
  columns: [
    name,
    { header: "PLACEMENT", cell: (decision) => decision.metadata.labels?.[Labels.placement] ?? "" },
    {
      header: "GROUP",
      cell: (decision) =>
        decisionGroupLabel(
          decision.metadata.labels?.[Labels.decisionGroupName],
          decision.metadata.labels?.[Labels.decisionGroupIndex],
        ),
    },
    { header: "CLUSTERS", cell: (decision) => String(decision.status?.decisions?.length ?? 0) },
    age,
    {
      header: "DECISIONS",
      wide: true,
      cell: (decision) => (decision.status?.decisions ?? []).map((entry) => entry.clusterName).join(","),
    },
  ],
};

export const workTable: TableSpec<ManifestWork> = {
  ...Resources.ManifestWork,
  command: "works",
  namespaced: true,
  plural: "ManifestWorks",
  namespaceHeader: "CLUSTER",
  allNamespacesByDefault: true,
  missingNamespaceHint: "is the cluster joined? (bosun get clusters)",
  columns: [
    name,
    { header: "REPLICASET", cell: (work) => work.metadata.labels?.[Labels.manifestWorkReplicaSet] ?? "" },
    {
      header: "PART",
      cell: (work) => {
        const index = work.metadata.labels?.[BosunWorkLabels.partIndex];
        const count = work.metadata.labels?.[BosunWorkLabels.partCount];
        return index !== undefined && count !== undefined ? `${Number(index) + 1}/${count}` : "";
      },
    },
    { header: "MANIFESTS", cell: (work) => String(work.spec?.workload?.manifests?.length ?? 0) },
    {
      header: "APPLIED",
      cell: (work) => conditionStatus(work.status?.conditions, ManifestWorkConditions.applied),
    },
    {
      header: "AVAILABLE",
      cell: (work) => conditionStatus(work.status?.conditions, ManifestWorkConditions.available),
    },
    { header: "STATE", cell: (work) => (work.metadata.deletionTimestamp ? "Deleting" : "") },
    age,
    {
      header: "PLACEMENT",
      wide: true,
      cell: (work) => work.metadata.labels?.[Labels.manifestWorkPlacementName] ?? "",
    },
    { header: "DELETE OPTION", wide: true, cell: (work) => work.spec?.deleteOption?.propagationPolicy ?? "" },
  ],
};

const summaryColumn = (
  header: string,
  field: "total" | "applied" | "available" | "progressing" | "degraded",
): Column<ManifestWorkReplicaSet> => ({ header, cell: (set) => String(set.status?.summary?.[field] ?? 0) });

export const replicaSetTable: TableSpec<ManifestWorkReplicaSet> = {
  ...Resources.ManifestWorkReplicaSet,
  command: "replicasets",
  namespaced: true,
  plural: "ManifestWorkReplicaSets",
  namespaceHeader: "NAMESPACE",
  missingNamespaceHint: "check -n (kubectl get namespaces lists them)",
  columns: [
    name,
    { header: "PLACEMENTS", cell: (set) => (set.spec?.placementRefs ?? []).map((ref) => ref.name).join(",") },
    summaryColumn("TOTAL", "total"),
    summaryColumn("APPLIED", "applied"),
    summaryColumn("AVAILABLE", "available"),
    summaryColumn("PROGRESSING", "progressing"),
    summaryColumn("DEGRADED", "degraded"),
    {
      header: "ROLLOUT",
      cell: (set) =>
        findCondition(set.status?.conditions, ManifestWorkReplicaSetConditions.placementRolledOut)?.reason ??
        "",
    },
    {
      header: "WORKS",
      cell: (set) =>
        findCondition(set.status?.conditions, ManifestWorkReplicaSetConditions.manifestworkApplied)?.reason ??
        "",
    },
    age,
    { header: "CASCADE", wide: true, cell: (set) => set.spec?.cascadeDeletionPolicy ?? "" },
  ],
};

/** Policies with OCM's print columns: remediation action, compliance state and age. */
/** A progressive policy's rollout: its phase and released groups, and why it halted. */
function rolloutCell(policy: Policy): string {
  const annotations = policy.metadata.annotations ?? {};
  if (annotations[BosunPolicyRollout.annotation] === undefined) return "";
  const state = parseRolloutState(annotations[BosunPolicyRollout.statusAnnotation] ?? "");
  if (!state) return "pending";
  const groups = `${state.releasedGroups} groups released`;
  return state.phase === BosunPolicyRollout.phases.halted
    ? `${state.phase} (${groups}): ${state.message}`
    : `${state.phase} (${groups})`;
}

export const policyTable: TableSpec<Policy> = {
  ...Resources.Policy,
  command: "policies",
  namespaced: true,
  plural: "Policies",
  namespaceHeader: "NAMESPACE",
  missingNamespaceHint: "check -n (kubectl get namespaces lists them)",
  columns: [
    name,
    { header: "REMEDIATION ACTION", cell: (policy) => policy.spec?.remediationAction ?? "" },
    { header: "COMPLIANCE STATE", cell: (policy) => policy.status?.compliant ?? "" },
    age,
    { header: "DISABLED", wide: true, cell: (policy) => String(policy.spec?.disabled ?? false) },
    {
      header: "PLACEMENTS",
      wide: true,
      cell: (policy) =>
        (policy.status?.placement ?? [])
          .map((placement) => placement.placement ?? placement.placementRule ?? "")
          .filter(Boolean)
          .join(","),
    },
    { header: "CLUSTERS", wide: true, cell: (policy) => String(policy.status?.status?.length ?? 0) },
    { header: "ROLLOUT", wide: true, cell: (policy) => rolloutCell(policy) },
  ],
};

// The tables as functions, for the demo and the tests.

export function clustersTable(
  clusters: ManagedCluster[],
  options: TableOptions & { nowMs?: number } = {},
): string {
  return renderTable(clusterTable, clusters, rowContext(options.nowMs ?? Date.now()), options);
}

export function worksTable(works: ManifestWork[], options: TableOptions & { nowMs?: number } = {}): string {
  return renderTable(workTable, works, rowContext(options.nowMs ?? Date.now()), {
    withNamespace: true,
    ...options,
  });
}

export function replicaSetsTable(
  replicaSets: ManifestWorkReplicaSet[],
  options: TableOptions & { nowMs?: number } = {},
): string {
  return renderTable(replicaSetTable, replicaSets, rowContext(options.nowMs ?? Date.now()), {
    withNamespace: true,
    ...options,
  });
}

export function policiesTable(policies: Policy[], nowMs: number, options: TableOptions = {}): string {
  return renderTable(policyTable, policies, rowContext(nowMs), { withNamespace: true, ...options });
}

// Printing ------------------------------------------------------------------------------------

export const getFormats = ["table", "wide", "yaml", "json"] as const;
export type GetFormat = (typeof getFormats)[number];

/** The namespace to list, from the flags; undefined lists every namespace. */
export interface Scope {
  namespace: string | undefined;
  /** -n was given: an unknown namespace is an error rather than an empty list. */
  explicit: boolean;
}

export function scopeOf(
  spec: Pick<TableSpec, "namespaced" | "allNamespacesByDefault">,
  flags: { namespace?: string; allNamespaces?: boolean },
  contextNamespace: string | undefined,
): Scope {
  if (!spec.namespaced || flags.allNamespaces) return { namespace: undefined, explicit: false };
  if (flags.namespace !== undefined) return { namespace: flags.namespace, explicit: true };
  if (spec.allNamespacesByDefault) return { namespace: undefined, explicit: false };
  return { namespace: contextNamespace ?? "default", explicit: false };
}

/** As kubectl does, leave out the field-ownership bookkeeping. */
export function withoutManagedFields<T extends KubeObject>(object: T): T {
  if (!object.metadata.managedFields) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

export function structured(value: unknown, output: "yaml" | "json"): string {
  return output === "yaml" ? stringify(value).trimEnd() : JSON.stringify(value, null, 2);
}

/** `No ManifestWorks found in namespace cluster1.`, as kubectl says it. */
export function noneFound(spec: Pick<TableSpec, "plural">, namespace: string | undefined): string {
  return `No ${spec.plural} found${namespace !== undefined ? ` in namespace ${namespace}` : ""}.`;
}

export function missingNamespaceMessage(
  spec: Pick<TableSpec, "missingNamespaceHint">,
  namespace: string,
): string {
  return `namespace ${namespace} not found on the hub: ${spec.missingNamespaceHint}`;
}

export interface GetRequest {
  name?: string;
  scope: Scope;
  labelSelector?: string;
  output: GetFormat;
  watch?: boolean;
  watchEvents?: boolean;
}

export interface Output {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}
