// `bosun compliance`: the fleet's compliance as the hub sees it. Root Policies become rows,
// the clusters they are placed on become columns; `POLICY --cluster C` explains one cell from
// the replicated Policy in that cluster's namespace and the related objects (with their diffs)
// that the cluster's agent reports through a short-lived read-only ManifestWork.
import type { Command } from "commander";
import type { Logger } from "pino";
import { stringify } from "yaml";
import { BosunRelatedObjects, ComplianceStates, PolicyLabels, Resources } from "../../api/constants.ts";
import type { ComplianceHistory, ComplianceState, Policy } from "../../api/types/policy.ts";
import type {
  RelatedObjectView,
  TemplateRelatedObjects,
} from "../../controllers/propagation/related-objects.ts";
import { Informer } from "../../runtime/informer.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { createLogger } from "../../runtime/logger.ts";
import { addKubeFlags, withKubeClient, type KubeFlags } from "../kube.ts";
import { outputFormatProblem, outputOption } from "../output.ts";
import { formatTable } from "./get-tables.ts";
import { readRelatedObjects, RelatedObjectsFollower, type RelatedObjectsReading } from "./related-objects.ts";

export const outputFormats = ["table", "wide", "json", "yaml"] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** Above this many clusters the policies × clusters matrix gives way to one row per cell. */
export const maxMatrixClusters = 12;

/** The namespace listed when neither -n nor -A is given, as kubectl does. */
export const defaultNamespace = "default";

export interface ClusterCompliance {
  cluster: string;
  /** Absent while the cluster is placed but has reported nothing yet. */
  compliant?: ComplianceState;
  /** The newest history message of each template of the replica (only when replicas were read). */
  message?: string;
}

export interface PolicyReport {
  namespace: string;
  name: string;
  /** The root's aggregate; absent when unknown (no clusters, some unreported, or disabled). */
  compliant?: ComplianceState;
  remediationAction?: string;
  disabled: boolean;
  clusters: ClusterCompliance[];
}

export interface ComplianceReport {
  policies: PolicyReport[];
}

export interface TemplateExplanation {
  name: string;
  compliant?: ComplianceState;
  /** Newest first. */
  history: { lastTimestamp?: string; message?: string }[];
  /** As the cluster reported them, when they were read. */
  relatedObjects?: TemplateRelatedObjects;
}

/** What the hub knows about one policy on one cluster. */
export interface CellExplanation {
  policy: { namespace: string; name: string };
  cluster: string;
  /** False when the cluster has no replica of the policy. */
  placed: boolean;
  /** The clusters the root's status lists, sorted. */
  placedOn: string[];
  compliant?: ComplianceState;
  templates: TemplateExplanation[];
  /** Why the related objects were not (all) read; absent when they were or were not asked for. */
  relatedObjectsNotRead?: string;
}

/** The named root Policy does not exist on the hub. */
export class PolicyNotFoundError extends Error {
  override name = "PolicyNotFoundError";
}

export function isReplica(policy: Policy): boolean {
  return policy.metadata.labels?.[PolicyLabels.rootPolicy] !== undefined;
}

export function replicaName(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

function byNamespaceAndName(a: Policy, b: Policy): number {
  return (
    (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
    (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function newestFirst(history: ComplianceHistory[] | undefined): ComplianceHistory[] {
  const time = (entry: ComplianceHistory) => Date.parse(entry.lastTimestamp ?? "") || 0;
  // Stable: entries with equal or missing timestamps keep the order OCM stored (newest first).
  return [...(history ?? [])].sort((a, b) => time(b) - time(a));
}

/** The newest message of each template of a replica, one line. */
export function messageSummary(replica: Policy): string {
  const details = replica.status?.details ?? [];
  const messages = details.map((detail) => ({
    template: detail.templateMeta?.name ?? "",
    message: oneLine(newestFirst(detail.history)[0]?.message ?? ""),
  }));
  const reported = messages.filter((entry) => entry.message !== "");
  if (reported.length === 0) return "";
  if (messages.length === 1) return reported[0]!.message;
  return reported.map((entry) => `${entry.template}: ${entry.message}`).join(" | ");
}

/**
 * The report of the root Policies among `policies`, sorted by namespace and name, each with
 * the clusters its status lists, sorted. Replicated Policies among `policies` supply the
 * per-cluster message summary.
 */
export function reportOf(policies: Policy[]): ComplianceReport {
  const replicas = new Map<string, Policy>();
  for (const policy of policies) {
    if (isReplica(policy)) replicas.set(`${policy.metadata.namespace}/${policy.metadata.name}`, policy);
  }
  const roots = policies.filter((policy) => !isReplica(policy)).sort(byNamespaceAndName);
  return {
    policies: roots.map((root) => {
      const namespace = root.metadata.namespace ?? "";
      const name = root.metadata.name ?? "";
      const clusters = (root.status?.status ?? [])
        .filter((entry) => entry.clustername)
        .map((entry): ClusterCompliance => {
          const replica = replicas.get(
            `${entry.clusternamespace || entry.clustername}/${replicaName(namespace, name)}`,
          );
          const message = replica ? messageSummary(replica) : "";
          return {
            cluster: entry.clustername!,
            ...(entry.compliant ? { compliant: entry.compliant } : {}),
            ...(message ? { message } : {}),
          };
        })
        .sort((a, b) => a.cluster.localeCompare(b.cluster));
      return {
        namespace,
        name,
        ...(root.status?.compliant ? { compliant: root.status.compliant } : {}),
        ...(root.spec?.remediationAction ? { remediationAction: root.spec.remediationAction } : {}),
        disabled: root.spec?.disabled === true,
        clusters,
      };
    }),
  };
}

/** 3 when any listed policy is NonCompliant, else 0 (as `bosun policy evaluate`). */
export function exitCodeOf(report: ComplianceReport): number {
  return report.policies.some((policy) => policy.compliant === ComplianceStates.nonCompliant) ? 3 : 0;
}

// Colours -------------------------------------------------------------------------------------

const colours: Record<string, string> = {
  [ComplianceStates.compliant]: "\x1b[32m",
  [ComplianceStates.nonCompliant]: "\x1b[31m",
  [ComplianceStates.pending]: "\x1b[33m",
};
const reset = "\x1b[0m";

function paint(text: string, color: boolean): string {
  const code = color ? colours[text] : undefined;
  return code ? `${code}${text}${reset}` : text;
}

/** Colours on a terminal, unless NO_COLOR (https://no-color.org) is set to anything. */
export function useColor(isTTY: boolean | undefined, noColor: string | undefined): boolean {
  return isTTY === true && (noColor === undefined || noColor === "");
}

/**
 * formatTable's layout with the compliance states of `stateColumns` coloured: widths are
 * measured on the plain text, so the escape codes do not disturb the alignment.
 */
export function colouredTable(
  headers: string[],
  rows: string[][],
  color: boolean,
  stateColumns: readonly number[],
): string {
  if (!color) return formatTable(headers, rows);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[], colourCells: boolean) =>
    cells
      .map((cell, column) => {
        const painted = colourCells && stateColumns.includes(column) ? paint(cell, true) : cell;
        return column === cells.length - 1
          ? painted
          : painted + " ".repeat(widths[column]! + 3 - cell.length);
      })
      .join("")
      .trimEnd();
  return [line(headers, false), ...rows.map((row) => line(row, true))].join("\n");
}

// Tables --------------------------------------------------------------------------------------

export interface TableOptions {
  color: boolean;
  /** Long form with a MESSAGE column. */
  wide?: boolean;
}

/** The sorted names of every cluster any listed policy is placed on. */
export function clustersOf(report: ComplianceReport): string[] {
  const names = new Set(report.policies.flatMap((policy) => policy.clusters.map((entry) => entry.cluster)));
  return [...names].sort((a, b) => a.localeCompare(b));
}

function matrixTable(report: ComplianceReport, clusters: string[], color: boolean): string {
  const showDisabled = report.policies.some((policy) => policy.disabled);
  const headers = [
    "NAMESPACE",
    "POLICY",
    "REMEDIATION",
    "COMPLIANCE",
    ...(showDisabled ? ["DISABLED"] : []),
    ...clusters,
  ];
  const rows = report.policies.map((policy) => {
    const cells = new Map(policy.clusters.map((entry) => [entry.cluster, entry.compliant ?? "-"]));
    return [
      policy.namespace,
      policy.name,
      policy.remediationAction ?? "",
      policy.compliant ?? "-",
      ...(showDisabled ? [String(policy.disabled)] : []),
      ...clusters.map((cluster) => cells.get(cluster) ?? ""),
    ];
  });
  const firstCluster = headers.length - clusters.length;
  const stateColumns = [3, ...clusters.map((_, index) => firstCluster + index)];
  return colouredTable(headers, rows, color, stateColumns);
}

function longTable(report: ComplianceReport, wide: boolean, color: boolean): string {
  const headers = ["NAMESPACE", "POLICY", "CLUSTER", "COMPLIANCE", ...(wide ? ["MESSAGE"] : [])];
  const rows = report.policies.flatMap((policy) => {
    if (policy.clusters.length === 0) {
      const state = policy.disabled ? "Disabled" : "-";
      return [[policy.namespace, policy.name, "<none>", state, ...(wide ? [""] : [])]];
    }
    return policy.clusters.map((entry) => [
      policy.namespace,
      policy.name,
      entry.cluster,
      entry.compliant ?? "-",
      ...(wide ? [entry.message ?? ""] : []),
    ]);
  });
  return colouredTable(headers, rows, color, [3]);
}

/**
 * The fleet table: one row per policy and one column per cluster, or — when wide is asked for
 * or there are more than maxMatrixClusters clusters — one row per policy and cluster.
 */
export function complianceTable(report: ComplianceReport, options: TableOptions): string {
  if (report.policies.length === 0) return "No Policies found.";
  const clusters = clustersOf(report);
  if (options.wide || clusters.length > maxMatrixClusters)
    return longTable(report, options.wide === true, options.color);
  return matrixTable(report, clusters, options.color);
}

// One cell ------------------------------------------------------------------------------------

/** What `root` and its replica on `cluster` (if any) say about that cell. */
export function cellOf(
  root: Policy,
  cluster: string,
  replica: Policy | undefined,
  related?: RelatedObjectsReading,
): CellExplanation {
  const placedOn = (root.status?.status ?? [])
    .map((entry) => entry.clustername ?? "")
    .filter((name) => name !== "")
    .sort((a, b) => a.localeCompare(b));
  return {
    policy: { namespace: root.metadata.namespace ?? "", name: root.metadata.name ?? "" },
    cluster,
    placed: replica !== undefined,
    placedOn,
    ...(replica?.status?.compliant ? { compliant: replica.status.compliant } : {}),
    templates: (replica?.status?.details ?? []).map((detail) => {
      const name = detail.templateMeta?.name ?? "";
      const objects = related?.templates.find((entry) => entry.template === name);
      return {
        name,
        ...(detail.compliant ? { compliant: detail.compliant } : {}),
        history: newestFirst(detail.history).map((entry) => ({
          ...(entry.lastTimestamp !== undefined ? { lastTimestamp: entry.lastTimestamp } : {}),
          ...(entry.message !== undefined ? { message: entry.message } : {}),
        })),
        ...(objects ? { relatedObjects: objects } : {}),
      };
    }),
    ...(related && (related.state === "not-read" || related.leftBehind)
      ? {
          relatedObjectsNotRead: [
            related.state === "not-read" ? related.reason : "",
            related.leftBehind ?? "",
          ]
            .filter((text) => text !== "")
            .join("; "),
        }
      : {}),
  };
}

function objectName(object: RelatedObjectView): string {
  const name = object.namespace ? `${object.namespace}/${object.name ?? ""}` : (object.name ?? "");
  return [object.kind, name].filter((part) => part).join(" ");
}

/** A template's related objects, indented under it: state, object and reason, then the diff. */
function relatedObjectLines(related: TemplateRelatedObjects, color: boolean): string[] {
  switch (related.state) {
    case "missing":
      return ["  related objects: the cluster has no such policy (not delivered yet, or removed)"];
    case "error":
      return [`  related objects: not read: ${oneLine(related.message)}`];
    case "waiting":
      return ["  related objects: the cluster has not answered for this template"];
    case "read":
      break;
  }
  if (related.objects.length === 0) return ["  related objects: none"];
  const rows = related.objects.map((object) => ({
    state: object.compliant ?? "",
    name: objectName(object),
    reason: object.reason ?? "",
    diff: object.diff,
  }));
  const stateWidth = Math.max(...rows.map((row) => row.state.length));
  const nameWidth = Math.max(...rows.map((row) => row.name.length));
  const lines = ["  related objects:"];
  for (const row of rows) {
    // Padded before painting: the colour codes take no room on the terminal.
    const state = paint(row.state, color) + " ".repeat(stateWidth - row.state.length);
    lines.push(`    ${state}  ${row.name.padEnd(nameWidth)}  ${row.reason}`.trimEnd());
    if (row.diff)
      for (const line of row.diff.replace(/\n$/, "").split("\n")) lines.push(`        ${line}`.trimEnd());
  }
  if (related.more) lines.push(`    … and more: only the first ${BosunRelatedObjects.limit} are read`);
  return lines;
}

/** A person's account of one cell: each template's compliance and history, newest first. */
export function explainCell(cell: CellExplanation, options: { color: boolean }): string {
  const policy = `Policy ${cell.policy.namespace}/${cell.policy.name}`;
  if (!cell.placed) {
    const where =
      cell.placedOn.length > 0 ? `it is placed on ${cell.placedOn.join(", ")}` : "it is placed on no cluster";
    return `${policy} is not placed on cluster ${cell.cluster}; ${where}.`;
  }
  const state = (value: ComplianceState | undefined) =>
    value ? paint(value, options.color) : "no status yet";
  const lines = [`${policy} on cluster ${cell.cluster}: ${state(cell.compliant)}`];
  if (cell.templates.length === 0) lines.push("", "No template has reported yet.");
  for (const template of cell.templates) {
    lines.push("", `Template ${template.name}: ${state(template.compliant)}`);
    if (template.history.length === 0) lines.push("  no history yet");
    const width = Math.max(0, ...template.history.map((entry) => (entry.lastTimestamp ?? "").length));
    for (const entry of template.history) {
      lines.push(
        `  ${(entry.lastTimestamp ?? "").padEnd(width)}   ${oneLine(entry.message ?? "")}`.trimEnd(),
      );
    }
    if (template.relatedObjects) lines.push(...relatedObjectLines(template.relatedObjects, options.color));
  }
  if (cell.relatedObjectsNotRead) lines.push("", `Related objects not read: ${cell.relatedObjectsNotRead}`);
  return lines.join("\n");
}

// Output validation ---------------------------------------------------------------------------

/** The usage error for an -o value, or undefined when it is one of outputFormats. */
export function outputError(value: string): string | undefined {
  return outputFormatProblem(value, outputFormats);
}

export interface FlagProblemsInput {
  namespace?: string;
  allNamespaces?: boolean;
  policy?: string;
  cluster?: string;
  output: string;
}

/** Usage errors in a combination of arguments and flags, as messages. */
export function usageErrors(input: FlagProblemsInput): string[] {
  const problems: string[] = [];
  const output = outputError(input.output);
  if (output) problems.push(output);
  if (input.allNamespaces && input.namespace !== undefined) problems.push("give -n or -A, not both");
  if (input.allNamespaces && input.policy !== undefined)
    problems.push("a POLICY is named within one namespace: give -n, not -A");
  if (input.cluster !== undefined && input.policy === undefined) problems.push("--cluster needs a POLICY");
  return problems;
}

// Rendering a frame ---------------------------------------------------------------------------

export interface ComplianceOptions {
  /** The root Policies' namespace; defaultNamespace when absent. */
  namespace?: string;
  allNamespaces?: boolean;
  /** Only this root Policy. */
  policy?: string;
  /** Explain POLICY on this cluster. */
  cluster?: string;
  /** With cluster: ask the cluster for the templates' related objects (default true). */
  relatedObjects?: boolean;
  /** How long the cluster has to answer; default defaultRelatedObjectsTimeoutMs. */
  relatedObjectsTimeoutMs?: number;
  output: OutputFormat;
  color: boolean;
  /** Re-print on every change until the signal aborts. */
  watch?: boolean;
  signal?: AbortSignal;
  /** For the watch's informer; silent when absent. */
  logger?: Logger;
}

export interface Frame {
  text: string;
  exitCode: number;
}

function namespaceOf(options: ComplianceOptions): string | undefined {
  return options.allNamespaces ? undefined : (options.namespace ?? defaultNamespace);
}

function structured(value: unknown, output: OutputFormat): string {
  return output === "yaml" ? stringify(value).trimEnd() : JSON.stringify(value, null, 2);
}

/**
 * Renders what `options` ask for from a set of Policies (roots and, when needed, replicas).
 * Throws PolicyNotFoundError when the named root Policy is not among them.
 */
export function renderFrame(
  policies: Policy[],
  options: ComplianceOptions,
  related?: RelatedObjectsReading,
): Frame {
  const namespace = namespaceOf(options);
  const roots = policies.filter(
    (policy) =>
      !isReplica(policy) &&
      (namespace === undefined || policy.metadata.namespace === namespace) &&
      (options.policy === undefined || policy.metadata.name === options.policy),
  );
  if (options.policy !== undefined && roots.length === 0) {
    throw new PolicyNotFoundError(
      `no Policy named ${JSON.stringify(options.policy)} in namespace ${JSON.stringify(namespace ?? defaultNamespace)} on the hub`,
    );
  }
  if (options.cluster !== undefined) {
    const root = roots[0]!;
    const replica = replicaAmong(policies, root, options.cluster);
    const cell = cellOf(root, options.cluster, replica, replica ? related : undefined);
    const text =
      options.output === "json" || options.output === "yaml"
        ? structured(cell, options.output)
        : explainCell(cell, { color: options.color });
    return { text, exitCode: cell.compliant === ComplianceStates.nonCompliant ? 3 : 0 };
  }
  const replicas = options.output === "wide" ? policies.filter(isReplica) : [];
  const report = reportOf([...roots, ...replicas]);
  const text =
    options.output === "json" || options.output === "yaml"
      ? structured(report, options.output)
      : complianceTable(report, { color: options.color, wide: options.output === "wide" });
  return { text, exitCode: exitCodeOf(report) };
}

/** The replica of `root` in `cluster`'s namespace, if `policies` hold it. */
function replicaAmong(policies: readonly Policy[], root: Policy, cluster: string): Policy | undefined {
  const wanted = replicaName(root.metadata.namespace ?? "", root.metadata.name ?? "");
  return policies.find(
    (policy) => isReplica(policy) && policy.metadata.namespace === cluster && policy.metadata.name === wanted,
  );
}

// Reading the hub -----------------------------------------------------------------------------

/** How long `--cluster` waits for the cluster's agent to report the related objects. */
export const defaultRelatedObjectsTimeoutMs = 15_000;

/** The related objects of the explained cell, when asked for and the cluster has a replica. */
async function relatedObjectsFor(
  client: KubeApi,
  policies: readonly Policy[],
  options: ComplianceOptions,
): Promise<RelatedObjectsReading | undefined> {
  const replica = explainedReplica(policies, options);
  if (!replica) return undefined;
  return readRelatedObjects(client, replica, {
    timeoutMs: options.relatedObjectsTimeoutMs ?? defaultRelatedObjectsTimeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** The replica whose related objects are asked for, if any. */
function explainedReplica(policies: readonly Policy[], options: ComplianceOptions): Policy | undefined {
  if (options.cluster === undefined || options.relatedObjects === false) return undefined;
  // Watching, `policies` holds every Policy the informer sees: the named root is one of many.
  const namespace = namespaceOf(options) ?? defaultNamespace;
  const root = policies.find(
    (policy) =>
      !isReplica(policy) &&
      policy.metadata.name === options.policy &&
      policy.metadata.namespace === namespace,
  );
  return root ? replicaAmong(policies, root, options.cluster) : undefined;
}

const notReplica = `!${PolicyLabels.rootPolicy}`;

/** Whether the frame needs replicated Policies as well as roots. */
function needsReplicas(options: ComplianceOptions): boolean {
  return options.cluster !== undefined || options.output === "wide";
}

async function fetchPolicies(client: KubeApi, options: ComplianceOptions): Promise<Policy[]> {
  const { apiVersion, kind } = Resources.Policy;
  const namespace = namespaceOf(options);
  let roots: Policy[];
  if (options.policy !== undefined) {
    const root = await client.getOrUndefined<Policy>({
      apiVersion,
      kind,
      namespace: namespace ?? defaultNamespace,
      name: options.policy,
    });
    roots = root ? [root] : [];
  } else {
    roots = (await client.listAll<Policy>(apiVersion, kind, { namespace, labelSelector: notReplica })).items;
  }
  if (!needsReplicas(options) || roots.length === 0) return roots;
  if (options.cluster !== undefined) {
    const root = roots[0]!;
    const replica = await client.getOrUndefined<Policy>({
      apiVersion,
      kind,
      namespace: options.cluster,
      name: replicaName(root.metadata.namespace ?? "", root.metadata.name ?? ""),
    });
    return replica ? [root, replica] : [root];
  }
  const selector =
    options.policy !== undefined
      ? `${PolicyLabels.rootPolicy}=${replicaName(roots[0]!.metadata.namespace ?? "", options.policy)}`
      : PolicyLabels.rootPolicy;
  const { items } = await client.listAll<Policy>(apiVersion, kind, { labelSelector: selector });
  return [...roots, ...items];
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** Frames of a watch are told apart: a blank line between tables, `---` between YAML documents. */
function separator(output: OutputFormat): string {
  return output === "yaml" ? "---\n" : output === "json" ? "" : "\n";
}

async function watchFrames(
  client: KubeApi,
  options: ComplianceOptions,
  out: { write(text: string): unknown },
  first: Frame,
  followed: RelatedObjectsFollower | RelatedObjectsReading | undefined,
): Promise<number> {
  const signal = options.signal ?? new AbortController().signal;
  const informer = new Informer<Policy>({
    client,
    apiVersion: Resources.Policy.apiVersion,
    kind: Resources.Policy.kind,
    // Roots alone suffice for the table: their status already carries every cluster's state.
    ...(needsReplicas(options) ? {} : { namespace: namespaceOf(options), labelSelector: notReplica }),
    logger: options.logger ?? createLogger({ level: "silent" }),
  });
  const follower = followed instanceof RelatedObjectsFollower ? followed : undefined;
  const notFollowed = followed instanceof RelatedObjectsFollower ? undefined : followed;
  let printed = first.text;
  let exitCode = first.exitCode;
  let pending: NodeJS.Timeout | undefined;
  const render = () => {
    pending = undefined;
    let frame: Frame;
    try {
      const policies = informer.list();
      const replica = follower && explainedReplica(policies, options);
      // A change to the replica's templates changes what the cluster is asked about.
      if (follower && replica) void follower.follow(replica);
      frame = renderFrame(policies, options, follower ? follower.reading() : notFollowed);
    } catch (error) {
      if (!(error instanceof PolicyNotFoundError)) throw error;
      frame = { text: error.message, exitCode: 1 };
    }
    exitCode = frame.exitCode;
    // A change that leaves the output as it was (another policy's replica, a resync) prints nothing.
    if (frame.text === printed) return;
    printed = frame.text;
    out.write(`${separator(options.output)}${frame.text}\n`);
  };
  // Coalesce a burst of changes (a status rollout touches many objects) into one print.
  const schedule = () => {
    if (informer.hasSynced && !signal.aborted) pending ??= setTimeout(render, 100);
  };
  informer.addHandlers({ onAdd: schedule, onUpdate: schedule, onDelete: schedule });
  follower?.onChange(schedule);
  informer.start();
  try {
    await informer.waitForSync(signal);
    // Anything that changed between the first print and the informer's list.
    render();
    await untilAborted(signal);
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    clearTimeout(pending);
    await informer.stop();
  }
  return exitCode;
}

/**
 * Prints the compliance table (or one cell's explanation) to `out` and returns the exit code:
 * 3 when a listed policy (or the explained cell) is NonCompliant, else 0. With watch, prints
 * again on every change until options.signal aborts and returns the last print's code.
 * Throws PolicyNotFoundError when the named root Policy does not exist.
 */
export async function runCompliance(
  client: KubeApi,
  options: ComplianceOptions,
  out: { write(text: string): unknown },
): Promise<number> {
  const policies = await fetchPolicies(client, options);
  if (!options.watch) {
    const first = renderFrame(policies, options, await relatedObjectsFor(client, policies, options));
    out.write(`${first.text}\n`);
    return first.exitCode;
  }
  // One read-only work serves the whole watch.
  const replica = explainedReplica(policies, options);
  const logger = options.logger ?? createLogger({ level: "silent" });
  const followed = replica ? await RelatedObjectsFollower.start(client, replica, logger) : undefined;
  try {
    const related =
      followed instanceof RelatedObjectsFollower
        ? await followed.answered(
            options.relatedObjectsTimeoutMs ?? defaultRelatedObjectsTimeoutMs,
            options.signal,
          )
        : followed;
    const first = renderFrame(policies, options, related);
    out.write(`${first.text}\n`);
    return await watchFrames(client, options, out, first, followed);
  } finally {
    if (followed instanceof RelatedObjectsFollower) {
      const leftBehind = await followed.stop();
      if (leftBehind) logger.warn(leftBehind);
    }
  }
}

// The command ---------------------------------------------------------------------------------

interface ComplianceFlags extends KubeFlags {
  namespace?: string;
  allNamespaces?: boolean;
  cluster?: string;
  relatedObjects: boolean;
  output: string;
  watch?: boolean;
}

export function registerCompliance(program: Command): void {
  addKubeFlags(
    program
      .command("compliance")
      .description("show the fleet's policy compliance, or explain one policy on one cluster")
      .argument("[policy]", "only this root Policy")
      .option("-n, --namespace <namespace>", `the root Policies' namespace (default: ${defaultNamespace})`)
      .option("-A, --all-namespaces", "root Policies of every namespace")
      .option(
        "--cluster <cluster>",
        "explain POLICY on this cluster: each template's compliance, history and related objects",
      )
      .option("--no-related-objects", "with --cluster: do not ask the cluster for the related objects")
      .addOption(outputOption(outputFormats, "table"))
      .option("-w, --watch", "print again whenever a Policy changes, until interrupted")
      .addHelpText(
        "after",
        `
The table has one row per root Policy and one column per cluster it is placed on: a cluster's
cell is its state (Compliant, NonCompliant, Pending), "-" while it has reported nothing, and
blank where the policy is not placed. Beyond ${maxMatrixClusters} clusters, and with -o wide (which adds
each cluster's newest template messages), it lists one row per policy and cluster instead.

With --cluster, the related objects of each template (the objects it checked, whether each is
as the template wants, and the diff when not) come from the cluster itself: a read-only
ManifestWork ${BosunRelatedObjects.namePrefix}<id> in the cluster's namespace asks its agent
for the first ${BosunRelatedObjects.limit} of each. It is deleted once answered (after ${defaultRelatedObjectsTimeoutMs / 1000} s at most), or
with --watch when the watch ends. It applies, owns and deletes nothing on the cluster, but
needs create and delete on ManifestWorks there; --no-related-objects leaves it out.

Exit status: 0 when no listed policy is NonCompliant, 3 when any is (with --cluster: when that
cell is; with --watch: as of the last print), 1 when the named Policy does not exist or the hub
cannot be read, 2 on usage errors.`,
      ),
    "the hub",
  ).action(async function (this: Command, policy: string | undefined, flags: ComplianceFlags) {
    const problems = usageErrors({ ...flags, policy });
    if (problems.length > 0)
      this.error(`error: ${problems.join("; ")}`, { exitCode: 2, code: "bosun.usage" });
    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    process.once("SIGINT", onInterrupt);
    try {
      process.exitCode = await withKubeClient(flags, (client) =>
        runCompliance(
          client,
          {
            namespace: flags.namespace,
            allNamespaces: flags.allNamespaces,
            policy,
            cluster: flags.cluster,
            relatedObjects: flags.relatedObjects,
            output: flags.output as OutputFormat,
            color: useColor(process.stdout.isTTY, process.env.NO_COLOR),
            watch: flags.watch,
            signal: stop.signal,
            logger: createLogger({ name: "bosun-compliance", level: "warn", destination: process.stderr }),
          },
          process.stdout,
        ),
      );
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  });
}
