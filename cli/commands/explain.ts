// `bosun explain placement`: why each candidate cluster was or was not chosen, computed by the
// same scheduler the placement controller runs. Offline on files:
//   bosun explain placement -f PLACEMENT.yaml --fleet FLEET.yaml [--now RFC3339] [-o table|json]
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseAllDocuments } from "yaml";
import { Resources, type BosunKind } from "../../api/constants.ts";
import { applyDefaults } from "../../api/defaults.ts";
import { allCrds } from "../../api/schemas/index.ts";
import { checkValue, type Schema } from "../../api/schemas/dsl.ts";
import type {
  AddOnPlacementScore,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
} from "../../api/types/cluster.ts";
import type { KubeObject } from "../../api/types/meta.ts";
import type { Placement, PlacementDecision, PlacementStatus } from "../../api/types/placement.ts";
import { FleetIndex, type FleetObjects } from "../../controllers/placement/scheduler/fleet.ts";
import { schedule, type ClusterExplanation } from "../../controllers/placement/scheduler/scheduler.ts";
import type { KubeClient } from "../../runtime/kube/client.ts";
import { withKubeClient, type KubeFlags } from "../kube.ts";
import { outputOption } from "../output.ts";

export interface PlacementExplanation {
  placement: { namespace: string; name: string };
  status: PlacementStatus;
  placementDecisions: PlacementDecision[];
  clusters: ClusterExplanation[];
}

/** A document that cannot be used: the message names the file, the document and the field. */
export class DocumentError extends Error {}

const fleetKinds: readonly BosunKind[] = [
  "ManagedCluster",
  "ManagedClusterSet",
  "ManagedClusterSetBinding",
  "AddOnPlacementScore",
  "PlacementDecision",
];

function schemaOf(kind: BosunKind): Schema {
  const r = Resources[kind];
  const crd = allCrds.find((c) => c.spec.group === r.group && c.spec.names.kind === r.kind)!;
  return crd.spec.versions.find((v) => v.name === r.version)!.schema.openAPIV3Schema;
}

function kindOf(doc: Record<string, unknown>): BosunKind | undefined {
  return (Object.keys(Resources) as BosunKind[]).find(
    (k) => Resources[k].kind === doc.kind && Resources[k].apiVersion === doc.apiVersion,
  );
}

function checkMetadata(metadata: unknown, where: string, namespaced: boolean): string[] {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    return [`${where}.metadata: must be an object`];
  }
  const m = metadata as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof m.name !== "string" || m.name === "") problems.push(`${where}.metadata.name: required`);
  if (m.namespace !== undefined && (typeof m.namespace !== "string" || !namespaced)) {
    problems.push(
      `${where}.metadata.namespace: ${namespaced ? "must be a string" : "not allowed on a cluster-scoped kind"}`,
    );
  }
  for (const field of ["labels", "annotations"]) {
    const value = m[field];
    if (value === undefined) continue;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push(`${where}.metadata.${field}: must be a map of strings`);
      continue;
    }
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") problems.push(`${where}.metadata.${field}.${k}: must be a string`);
    }
  }
  return problems;
}

/** Parses a YAML stream into validated, defaulted objects of the allowed kinds. */
export function readObjects(
  path: string,
  allowed: readonly BosunKind[],
): { kind: BosunKind; object: KubeObject }[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new DocumentError(`${path}: cannot read: ${(error as Error).message}`, { cause: error });
  }
  const out: { kind: BosunKind; object: KubeObject }[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    const where = `${path}: document ${i + 1}`;
    if (doc.errors.length > 0) throw new DocumentError(`${where}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) throw new DocumentError(`${where}: not an object`);
    const record = value as Record<string, unknown>;
    const kind = kindOf(record);
    const name = (record.metadata as { name?: unknown } | undefined)?.name;
    const label = `${where} (${String(record.kind)} ${typeof name === "string" ? name : "?"})`;
    if (!kind || !allowed.includes(kind)) {
      throw new DocumentError(
        `${label}: apiVersion/kind ${String(record.apiVersion)}/${String(record.kind)} is not one of ${allowed
          .map((k) => `${Resources[k].apiVersion}/${k}`)
          .join(", ")}`,
      );
    }
    const schema = schemaOf(kind);
    // The API server defaults before it validates.
    const { metadata, ...rest } = applyDefaults(kind, record);
    const withoutMetadata: Schema = { ...schema, properties: { ...schema.properties } };
    delete withoutMetadata.properties!.metadata;
    const problems = [
      ...checkMetadata(metadata, "", Resources[kind].scope === "Namespaced"),
      ...checkValue(withoutMetadata, rest, ""),
    ];
    if (problems.length > 0) throw new DocumentError(`${label}: ${problems.join("; ")}`);
    const object = { metadata, ...rest } as unknown as KubeObject;
    if (Resources[kind].scope === "Namespaced") object.metadata.namespace ??= "default";
    out.push({ kind, object });
  }
  return out;
}

export function explainFromFiles(
  placementPath: string,
  fleetPath: string,
  now: number,
): PlacementExplanation {
  const placements = readObjects(placementPath, ["Placement"]);
  if (placements.length !== 1) {
    throw new DocumentError(`${placementPath}: expected exactly one Placement, found ${placements.length}`);
  }
  const placement = placements[0]!.object as unknown as Placement;
  const objects: FleetObjects = { clusters: [], clusterSets: [], bindings: [], scores: [], decisions: [] };
  for (const { kind, object } of readObjects(fleetPath, fleetKinds)) {
    if (kind === "ManagedCluster")
      (objects.clusters as ManagedCluster[]).push(object as unknown as ManagedCluster);
    else if (kind === "ManagedClusterSet") {
      (objects.clusterSets as ManagedClusterSet[]).push(object as unknown as ManagedClusterSet);
    } else if (kind === "ManagedClusterSetBinding") {
      (objects.bindings as ManagedClusterSetBinding[]).push(object as unknown as ManagedClusterSetBinding);
    } else if (kind === "AddOnPlacementScore") {
      (objects.scores as AddOnPlacementScore[]).push(object as unknown as AddOnPlacementScore);
    } else (objects.decisions as PlacementDecision[]).push(object as unknown as PlacementDecision);
  }
  return explainWith(placement, objects, now);
}

/** The explanation of `placement` over the hub's objects, as the controller would schedule it. */
export function explainWith(placement: Placement, objects: FleetObjects, now: number): PlacementExplanation {
  const result = schedule(placement, new FleetIndex(objects), { now, explain: true });
  return {
    placement: { namespace: placement.metadata.namespace ?? "default", name: placement.metadata.name ?? "" },
    status: result.status,
    placementDecisions: result.placementDecisions,
    clusters: result.clusters ?? [],
  };
}

/** The live form: reads the Placement and everything the scheduler reads from a hub. */
export async function explainLive(
  client: KubeClient,
  namespace: string,
  name: string,
  now: number,
): Promise<PlacementExplanation> {
  const placement = await client.getOrUndefined<Placement>({
    apiVersion: Resources.Placement.apiVersion,
    kind: "Placement",
    name,
    namespace,
  });
  if (!placement) throw new DocumentError(`no Placement ${namespace}/${name} on the hub`);
  const list = async <T extends KubeObject>(kind: BosunKind, inNamespace?: string) =>
    (await client.listAll<T>(Resources[kind].apiVersion, kind, { namespace: inNamespace })).items;
  const objects: FleetObjects = {
    clusters: await list<ManagedCluster>("ManagedCluster"),
    clusterSets: await list<ManagedClusterSet>("ManagedClusterSet"),
    bindings: await list<ManagedClusterSetBinding>("ManagedClusterSetBinding", namespace),
    scores: await list<AddOnPlacementScore>("AddOnPlacementScore"),
    decisions: await list<PlacementDecision>("PlacementDecision"),
  };
  return explainWith(
    applyDefaults("Placement", placement as unknown as Record<string, unknown>) as unknown as Placement,
    objects,
    now,
  );
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}

export function renderTable(e: PlacementExplanation): string {
  const lines: string[] = [];
  const selected = e.clusters.filter((c) => c.selected);
  lines.push(
    `Placement ${e.placement.namespace}/${e.placement.name}: ${e.status.numberOfSelectedClusters ?? 0} of ${e.clusters.length} candidate clusters selected`,
  );
  for (const c of e.status.conditions ?? [])
    lines.push(`  ${c.type}=${c.status} (${c.reason}): ${c.message}`);
  const decisionOf = new Map<string, string>();
  for (const pd of e.placementDecisions) {
    for (const d of pd.status?.decisions ?? []) decisionOf.set(d.clusterName, pd.metadata.name ?? "");
  }
  const scoreText = (c: ClusterExplanation) =>
    Object.entries(c.scores)
      .map(([name, score]) => `${name}=${score}×${c.weights[name] ?? 0}`)
      .join(" ");
  if (selected.length > 0) {
    lines.push("", "SELECTED");
    const ordered = [...selected].sort((a, b) => b.total - a.total || (a.name < b.name ? -1 : 1));
    lines.push(
      ...table([
        ["CLUSTER", "TOTAL", "DECISION", "SCORES (score×weight)"],
        ...ordered.map((c) => [c.name, String(c.total), decisionOf.get(c.name) ?? "", scoreText(c)]),
      ]),
    );
  }
  const rest = e.clusters.filter((c) => !c.selected);
  if (rest.length > 0) {
    lines.push("", "NOT SELECTED");
    lines.push(
      ...table([
        ["CLUSTER", "FILTER", "REASON"],
        ...rest.map((c) =>
          c.filteredBy
            ? [c.name, c.filteredBy.plugin, c.filteredBy.reason]
            : [c.name, "-", `feasible, not among the top (total ${c.total}: ${scoreText(c)})`],
        ),
      ]),
    );
  }
  return lines.join("\n");
}

function usage(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: 2, code: "bosun.usage" });
}

interface ExplainOptions extends KubeFlags {
  file?: string;
  fleet?: string;
  now?: string;
  output: string;
  namespace?: string;
}

export function registerExplain(program: Command): void {
  const explain = program.command("explain").description("explain bosun's decisions");
  explain
    .command("placement")
    .description("why each candidate cluster was or was not chosen by a Placement")
    .argument("[name]", "the Placement on a hub (live form)")
    .option("-f, --file <file>", "a file holding one Placement")
    .option(
      "--fleet <file>",
      "a multi-document YAML of ManagedClusters, sets, bindings, scores and decisions",
    )
    .option("--now <time>", "the clock for tolerationSeconds and score validUntil (RFC 3339)")
    .addOption(outputOption(["table", "json"], "table"))
    .option("-n, --namespace <namespace>", "the Placement's namespace (live form)")
    .option("--kubeconfig <file>", "the hub's kubeconfig (live form; default $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "the kubeconfig context (live form)")
    .action(async function (this: Command, name: string | undefined, options: ExplainOptions) {
      if (name !== undefined || options.namespace !== undefined || options.kubeconfig !== undefined) {
        if (options.file !== undefined || options.fleet !== undefined) {
          usage(this, "give either NAME (live) or -f/--fleet (offline), not both");
        }
        if (name === undefined) usage(this, "the live form needs the Placement's NAME");
        const explanation = await withKubeClient(options, (client) =>
          explainLive(client, options.namespace ?? "default", name, Date.now()),
        );
        console.log(
          options.output === "json" ? JSON.stringify(explanation, null, 2) : renderTable(explanation),
        );
        return;
      }
      if (options.file === undefined || options.fleet === undefined)
        usage(this, "-f PLACEMENT.yaml and --fleet FLEET.yaml are required");
      let now = Date.now();
      if (options.now !== undefined) {
        now = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(options.now)
          ? Date.parse(options.now)
          : NaN;
        if (Number.isNaN(now))
          usage(this, `--now must be an RFC 3339 time, got ${JSON.stringify(options.now)}`);
      }
      const explanation = explainFromFiles(options.file, options.fleet, now);
      console.log(
        options.output === "json" ? JSON.stringify(explanation, null, 2) : renderTable(explanation),
      );
    });
}
