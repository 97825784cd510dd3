// `bosun policy evaluate`: a ConfigurationPolicy (or a Policy holding some) against a cluster
// given as a YAML stream (offline) or reached through a kubeconfig (live, read-only). A dry
// run: nothing is written, so every policy, enforce-mode ones too, is reported against the
// cluster as it is, with the changes enforcement would make listed beside it.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { ComplianceStates, ConfigurationPolicyMessages, Resources } from "../../api/constants.ts";
import type { RelatedObject, TemplateStatus } from "../../api/types/policy.ts";
import { type ClusterReader, MemoryCluster } from "../../policies/cluster.ts";
import { type Change, evaluateConfigurationPolicy } from "../../policies/evaluate.ts";
import { isObject, type JsonObject } from "../../policies/gofmt.ts";
import { configurationPolicyErrors, expandPolicy, policyErrors } from "../../policies/policy.ts";
import { parseKubeYaml, YamlError } from "../../policies/yaml.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { outputOption } from "../output.ts";
import { evaluateLive, KubeClusterReader } from "../../policies/live-reader.ts";

export interface PolicyResult {
  name: string;
  namespace?: string;
  /** The Policy whose policy-templates held this ConfigurationPolicy. */
  policy?: string;
  compliant: string | undefined;
  message: string;
  compliancyDetails: TemplateStatus[];
  relatedObjects: RelatedObject[];
  changes: Change[];
  messages: string[];
}

export interface EvaluationReport {
  results: PolicyResult[];
  /** Policy templates of kinds bosun does not evaluate here. */
  skipped: { policy: string; kind: string; name: string }[];
}

/** A document that is not what it must be; the message names the document and the field. */
export class DocumentError extends Error {
  override name = "DocumentError";
}

interface Work {
  policy?: string;
  name: string;
  configurationPolicy?: JsonObject;
  templateError?: string;
}

/** Hub objects that travel with Policies and play no part on a managed cluster. */
const placementKinds = new Set([
  "Placement",
  "PlacementBinding",
  "PlacementRule",
  "PolicySet",
  "PolicyAutomation",
]);

function label(file: string, index: number): string {
  return `${file}: document ${index}`;
}

/** The YAML documents of a file, read as kubectl reads them; a parse error names the file. */
function parseDocuments(text: string, file: string): ReturnType<typeof parseKubeYaml> {
  try {
    return parseKubeYaml(text);
  } catch (error) {
    if (error instanceof YamlError) throw new DocumentError(`${file}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Reads the policy documents: ConfigurationPolicies and Policies. Throws DocumentError. */
export function readPolicies(
  text: string,
  file: string,
): { work: Work[]; skipped: EvaluationReport["skipped"] } {
  const documents = parseDocuments(text, file);
  const work: Work[] = [];
  const skipped: EvaluationReport["skipped"] = [];
  for (const document of documents) {
    const value = document.value;
    const where = label(file, document.index);
    if (!isObject(value)) throw new DocumentError(`${where}: not an object`);
    const name =
      isObject(value.metadata) && typeof value.metadata.name === "string" ? value.metadata.name : "";
    if (
      value.apiVersion === Resources.ConfigurationPolicy.apiVersion &&
      value.kind === Resources.ConfigurationPolicy.kind
    ) {
      const errors = configurationPolicyErrors(value);
      if (errors.length > 0)
        throw new DocumentError(`${where}: ConfigurationPolicy "${name}" is invalid: ${errors.join("; ")}`);
      work.push({ name, configurationPolicy: value });
    } else if (value.apiVersion === Resources.Policy.apiVersion && value.kind === Resources.Policy.kind) {
      const errors = policyErrors(value);
      if (errors.length > 0)
        throw new DocumentError(`${where}: Policy "${name}" is invalid: ${errors.join("; ")}`);
      if ((value.spec as JsonObject).disabled === true) continue;
      const expanded = expandPolicy(value);
      for (const template of expanded.templates) {
        work.push({
          policy: name,
          name: template.name,
          configurationPolicy: template.policy,
          templateError: template.templateError,
        });
      }
      for (const other of expanded.skipped) skipped.push({ policy: name, ...other });
    } else if (typeof value.kind === "string" && placementKinds.has(value.kind)) {
      // Files in the policy collection often carry the hub's placement objects too.
      skipped.push({ policy: "", kind: value.kind, name });
    } else {
      throw new DocumentError(
        `${where}: expected a ConfigurationPolicy or a Policy (${Resources.Policy.apiVersion}), found ${typeof value.kind === "string" ? value.kind : "no kind"} in ${typeof value.apiVersion === "string" ? value.apiVersion : "no apiVersion"}`,
      );
    }
  }
  const holdsPolicies = documents.some(
    ({ value }) => isObject(value) && (value.kind === "Policy" || value.kind === "ConfigurationPolicy"),
  );
  if (!holdsPolicies) throw new DocumentError(`${file}: no ConfigurationPolicy or Policy found`);
  return { work, skipped };
}

/** Reads the objects of an offline cluster. Throws DocumentError. */
export function readCluster(text: string, file: string): MemoryCluster {
  const documents = parseDocuments(text, file);
  const objects: JsonObject[] = [];
  for (const document of documents) {
    const where = label(file, document.index);
    const value = document.value;
    if (!isObject(value)) throw new DocumentError(`${where}: not an object`);
    if (typeof value.apiVersion !== "string" || value.apiVersion === "")
      throw new DocumentError(`${where}: apiVersion: Required value`);
    if (typeof value.kind !== "string" || value.kind === "")
      throw new DocumentError(`${where}: kind: Required value`);
    if (!isObject(value.metadata) || typeof value.metadata.name !== "string" || value.metadata.name === "") {
      throw new DocumentError(`${where}: ${value.kind} metadata.name: Required value`);
    }
    if (value.kind === "List" && Array.isArray(value.items)) {
      for (const item of value.items) if (isObject(item)) objects.push(item);
      continue;
    }
    if (value.kind === "CustomResourceDefinition") {
      const spec = isObject(value.spec) ? value.spec : {};
      const names = isObject(spec.names) ? spec.names : {};
      for (const field of ["group", "names.kind", "names.plural", "versions"] as const) {
        const present =
          field === "group" ? spec.group : field === "versions" ? spec.versions : names[field.slice(6)];
        if (present === undefined)
          throw new DocumentError(
            `${where}: CustomResourceDefinition ${value.metadata.name}: spec.${field}: Required value`,
          );
      }
    }
    objects.push(value);
  }
  return new MemoryCluster(objects);
}

function run(work: Work, reader: ClusterReader, now: string): PolicyResult {
  if (work.templateError !== undefined || !work.configurationPolicy) {
    const message = `${ComplianceStates.nonCompliant}; ${ConfigurationPolicyMessages.templateErrorPrefix}${work.templateError ?? ""}`;
    return {
      name: work.name,
      ...(work.policy ? { policy: work.policy } : {}),
      compliant: ComplianceStates.nonCompliant,
      message,
      compliancyDetails: [],
      relatedObjects: [],
      changes: [],
      messages: [message],
    };
  }
  const evaluation = evaluateConfigurationPolicy(work.configurationPolicy, reader, { now });
  return { ...(work.policy ? { policy: work.policy } : {}), ...evaluation };
}

/** Evaluates every ConfigurationPolicy against an offline cluster. */
export function evaluateOffline(
  policies: ReturnType<typeof readPolicies>,
  cluster: ClusterReader,
  now: string,
): EvaluationReport {
  return { results: policies.work.map((work) => run(work, cluster, now)), skipped: policies.skipped };
}

/** Evaluates every ConfigurationPolicy against a live cluster, reading only. */
export async function evaluateAgainstServer(
  policies: ReturnType<typeof readPolicies>,
  client: KubeClient,
  now: string,
): Promise<EvaluationReport> {
  const reader = new KubeClusterReader(client);
  const results: PolicyResult[] = [];
  for (const work of policies.work) results.push(await evaluateLive(reader, () => run(work, reader, now)));
  return { results, skipped: policies.skipped };
}

/** 0 when every policy is Compliant, 3 otherwise. */
export function exitCodeOf(report: EvaluationReport): number {
  return report.results.every((result) => result.compliant === ComplianceStates.compliant) ? 0 : 3;
}

export function formatText(report: EvaluationReport): string {
  return report.results.map((result) => `${result.message}\n`).join("");
}

export function formatJson(report: EvaluationReport): string {
  return `${JSON.stringify({ results: report.results, ...(report.skipped.length > 0 ? { skipped: report.skipped } : {}) }, null, 2)}\n`;
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface EvaluateOptions {
  file: string;
  cluster?: string;
  kubeconfig?: string;
  context?: string;
  output: string;
  now?: string;
}

export function registerPolicy(program: Command): void {
  const policy = program.command("policy").description("work with ConfigurationPolicies and Policies");
  policy
    .command("evaluate")
    .description(
      "report the compliance of ConfigurationPolicies against a cluster as it is, and what enforce would change (a dry run)",
    )
    .requiredOption("-f, --file <file>", "ConfigurationPolicy documents, or a Policy holding them")
    .option("--cluster <file>", "the cluster's objects as a multi-document YAML stream (offline)")
    .option("--kubeconfig <file>", "evaluate against a live cluster (read-only)")
    .option("--context <name>", "the kubeconfig context to use")
    .addOption(outputOption(["text", "json"], "text"))
    .option("--now <time>", "the time to put in conditions (RFC 3339)")
    .action(async function (this: Command, options: EvaluateOptions) {
      if ((options.cluster === undefined) === (options.kubeconfig === undefined)) {
        this.error("error: give exactly one of --cluster (offline) and --kubeconfig (live)", {
          exitCode: 2,
          code: "bosun.usage",
        });
      }
      const now = options.now ?? rfc3339(new Date());
      const policies = readPolicies(await readFile(options.file, "utf8"), options.file);
      let report: EvaluationReport;
      if (options.cluster !== undefined) {
        const cluster = readCluster(await readFile(options.cluster, "utf8"), options.cluster);
        for (const warning of cluster.warnings) console.error(`warning: ${options.cluster}: ${warning}`);
        report = evaluateOffline(policies, cluster, now);
      } else {
        const client = await KubeClient.fromFile(options.kubeconfig!, {
          context: options.context,
          userAgent: "bosun-policy-evaluate",
        });
        try {
          report = await evaluateAgainstServer(policies, client, now);
        } finally {
          client.close();
        }
      }
      for (const other of report.skipped) {
        const where = other.policy ? ` in Policy ${other.policy}` : "";
        console.error(
          `note: ${other.kind} ${other.name}${where} is not a ConfigurationPolicy and was not evaluated`,
        );
      }
      process.stdout.write(options.output === "json" ? formatJson(report) : formatText(report));
      process.exitCode = exitCodeOf(report);
    });
}
