// The ManifestWork(s) that carry a replicated Policy's templates to its cluster. Each template
// the hub may deliver becomes one manifest, prepared as OCM's template sync prepares it on the
// managed cluster (namespace, labels, remediationAction override), with status feedback rules
// that bring its compliance back; templates that cannot or may not be delivered are reported
// as problems instead, with OCM's messages. The manifests are split into parts when they
// exceed the size limit.
import {
  BosunGatekeeperFeedback,
  BosunPolicyRollout,
  BosunPolicyWork,
  BosunPolicyWorkLabels,
  ComplianceStates,
  ConfigurationPolicyMessages,
  ConfigurationPolicyReasons,
  ForeignKinds,
  Groups,
  PolicyAnnotations,
  PolicyLabels,
  PolicyMessages,
  RemediationActions,
  Resources,
  Work,
  bosunPolicyWorkName,
  bosunTemplateFieldRequired,
} from "../../api/constants.ts";
import type { ComplianceState, Policy } from "../../api/types/policy.ts";
import type { Manifest, ManifestConfigOption, ManifestWork, ManifestWorkSpec } from "../../api/types/work.ts";
import { effectiveRemediationAction } from "../../policies/policy.ts";
import { sortParts } from "../replicasets/status.ts";
import { splitWorkSpec, type WorkPart } from "../work/split.ts";
import { isPolicyKind, type Gate } from "./dependencies.ts";

export interface TemplateProblem {
  /** Position in spec.policy-templates. */
  index: number;
  /** The template's name, or `template-<index>` when it has none (as OCM names it then). */
  name: string;
  compliant: ComplianceState;
  /** Without the compliance prefix, e.g. `template-error; …` or `Dependencies were not satisfied: …`. */
  message: string;
}

export type PolicyWorks =
  | {
      ok: true;
      /** Final names and labels; empty when no template can be delivered. */
      works: WorkPart[];
      problems: TemplateProblem[];
    }
  | { ok: false; error: string };

export interface PolicyWorksOptions {
  /** The replica's existing works (any order), so that a re-split keeps templates where they are. */
  previous?: readonly ManifestWork[];
  /** Bytes of each work's limit kept for the rest of the ManifestWork object. */
  marginBytes?: number;
  /** Fraction of each part left free when parts are first packed. */
  headroom?: number;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function definedName(definition: unknown): string {
  const metadata = isRecord(definition) ? definition.metadata : undefined;
  const name = isRecord(metadata) ? metadata.name : undefined;
  return typeof name === "string" ? name : "";
}

/** `template-<index>`: the name OCM reports a template by when it has no usable name. */
export function unnamedTemplate(index: number): string {
  return `template-${index}`;
}

/** The resource (plural) of a policy kind: from Resources where bosun serves it, else `…ies`/`…s`. */
export function policyResource(kind: string): string {
  const known = Object.values(Resources).find((r) => r.group === Groups.policy && r.kind === kind);
  if (known) return known.plural;
  const lower = kind.toLowerCase();
  return lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : `${lower}s`;
}

function isConstraintTemplate(group: string, kind: string): boolean {
  return group === ForeignKinds.ConstraintTemplate.group && kind === ForeignKinds.ConstraintTemplate.kind;
}

function isConstraint(group: string): boolean {
  return group === ForeignKinds.GatekeeperConstraintsGroup;
}

/**
 * OCM's remediationAction override (§1.8): a Gatekeeper constraint gets enforcementAction warn
 * or deny from the Policy's inform or enforce; a ConstraintTemplate is left alone; any other
 * template's informOnly becomes inform, else the Policy's remediationAction (when set)
 * replaces the template's.
 */
function overrideRemediationAction(manifest: Json, group: string, kind: string, policyAction: unknown): void {
  const spec = manifest.spec;
  if (!isRecord(spec) || isConstraintTemplate(group, kind)) return;
  if (isConstraint(group)) {
    const action = typeof policyAction === "string" ? policyAction.toLowerCase() : "";
    if (action === RemediationActions.inform) spec.enforcementAction = "warn";
    else if (action === RemediationActions.enforce) spec.enforcementAction = "deny";
    return;
  }
  const action = effectiveRemediationAction(spec.remediationAction, policyAction);
  if (action !== undefined) spec.remediationAction = action;
}

/** The feedback rules and identity the agent reads a delivered policy template's status by. */
export function policyManifestConfig(
  group: string,
  kind: string,
  name: string,
  namespace: string,
  /** A progressive rollout's template: also read what tells its compliance is for its content. */
  rollout = false,
): ManifestConfigOption {
  const { compliant, message, lastTimestamp } = BosunPolicyWork.feedback;
  const { revision, generation, lastEvaluatedGeneration } = BosunPolicyRollout.feedback;
  const rolloutPaths = rollout ? [revision, generation, lastEvaluatedGeneration] : [];
  return {
    resourceIdentifier: { group, resource: policyResource(kind), name, namespace },
    feedbackRules: [
      {
        type: "JSONPaths",
        jsonPaths: [
          { name: compliant.name, path: compliant.path },
          { name: message.name, path: message.path },
          { name: lastTimestamp.name, path: lastTimestamp.path },
          ...rolloutPaths.map((path) => ({ name: path.name, path: path.path })),
        ],
      },
    ],
    // The CRD default, written out so that the stored work equals the desired one.
    feedbackScrapeType: "Poll",
  };
}

/**
 * The feedback rules a delivered Gatekeeper constraint is read by: whether the audit has run
 * (`status.totalViolations` is set) and the fields of each violation it lists. A constraint is
 * cluster-scoped, its resource the lowercased kind (as Gatekeeper names the CRDs it generates).
 */
export function gatekeeperManifestConfig(group: string, kind: string, name: string): ManifestConfigOption {
  const { totalViolations, violationLimit, violationFields, violation } = BosunGatekeeperFeedback;
  const paths: { name: string; path: string }[] = [
    { name: totalViolations.name, path: totalViolations.path },
  ];
  for (let index = 0; index < violationLimit; index++)
    for (const field of violationFields) paths.push(violation(index, field));
  return {
    resourceIdentifier: { group, resource: kind.toLowerCase(), name, namespace: "" },
    feedbackRules: [{ type: "JSONPaths", jsonPaths: paths }],
    feedbackScrapeType: "Poll",
  };
}

type Delivery =
  | { ok: true; name: string; manifest: Manifest; config?: ManifestConfigOption }
  | { ok: false; name: string; message: string };

/** One template as its manifest, or why the hub cannot deliver it. */
function prepareTemplate(replica: Policy, index: number, clusterNamespace: string): Delivery {
  const definition = replica.spec["policy-templates"][index]?.objectDefinition;
  if (!isRecord(definition)) {
    return { ok: false, name: unnamedTemplate(index), message: bosunTemplateFieldRequired(index, "") };
  }
  const metadata = isRecord(definition.metadata) ? definition.metadata : {};
  const name = definedName(definition);
  const missing: string[] = [];
  if (typeof definition.apiVersion !== "string" || definition.apiVersion === "") missing.push("apiVersion");
  if (typeof definition.kind !== "string" || definition.kind === "") missing.push("kind");
  if (name === "") missing.push("metadata.name");
  if (missing.length > 0) {
    return {
      ok: false,
      name: name || unnamedTemplate(index),
      message: missing.map((field) => bosunTemplateFieldRequired(index, field)).join(", "),
    };
  }
  const annotations = isRecord(metadata.annotations) ? metadata.annotations : {};
  const hubError = annotations[PolicyAnnotations.hubTemplatesError];
  if (typeof hubError === "string") {
    return { ok: false, name, message: hubError || ConfigurationPolicyReasons.hubTemplateFailure };
  }

  const kind = definition.kind as string;
  const { group } = splitApiVersion(definition.apiVersion as string);
  const manifest = structuredClone(definition) as Manifest & Json;
  const clusterName = replica.metadata.labels?.[PolicyLabels.clusterName] ?? clusterNamespace;
  const labels = isRecord(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
  const meta: Json = {
    ...(manifest.metadata as Json | undefined),
    labels: {
      ...labels,
      [PolicyLabels.policy]: replica.metadata.name ?? "",
      [PolicyLabels.legacyClusterName]: clusterName,
      [PolicyLabels.clusterName]: clusterName,
      [PolicyLabels.legacyClusterNamespace]: clusterNamespace,
      [PolicyLabels.clusterNamespace]: clusterNamespace,
    },
  };
  const gatekeeper = isConstraintTemplate(group, kind) || isConstraint(group);
  if (isPolicyKind(group, kind)) meta.namespace = clusterNamespace;
  else if (gatekeeper) delete meta.namespace; // cluster-scoped
  manifest.metadata = meta;
  overrideRemediationAction(manifest, group, kind, replica.spec.remediationAction);
  if (isConstraint(group))
    return { ok: true, name, manifest, config: gatekeeperManifestConfig(group, kind, name) };
  if (!isPolicyKind(group, kind)) return { ok: true, name, manifest };
  const rollout = annotations[BosunPolicyRollout.revisionAnnotation] !== undefined;
  return {
    ok: true,
    name,
    manifest,
    config: policyManifestConfig(group, kind, name, clusterNamespace, rollout),
  };
}

function templateError(reason: string): string {
  return ConfigurationPolicyMessages.templateErrorPrefix + reason;
}

/**
 * The ManifestWork(s) for a replicated Policy: every template that is well formed, free of hub
 * template errors and let through by its gate (`gates[i]`, open when absent) becomes a
 * manifest; the works are named `policy.<replica name>` (parts `-part-<i>`), labelled with the
 * replica and split under `limitBytes`. Every other template is a problem: a template error
 * naming the missing field, OCM's unique-names error for every template when two share a name
 * (nothing is delivered then), the hub template error, the gate's state and message, or the
 * size error of a template bigger than any work may carry. Fails only when the replica has no
 * namespace or the limit leaves no room.
 */
export function policyWorks(
  replica: Policy,
  gates: readonly Gate[],
  limitBytes: number = Work.manifestSizeLimit,
  options: PolicyWorksOptions = {},
): PolicyWorks {
  const clusterNamespace = replica.metadata.namespace ?? "";
  const replicaName = replica.metadata.name ?? "";
  if (clusterNamespace === "" || replicaName === "") {
    return { ok: false, error: "the replicated policy has no name or namespace" };
  }
  const templates = replica.spec["policy-templates"] ?? [];
  const problems: TemplateProblem[] = [];
  const problem = (index: number, name: string, compliant: ComplianceState, message: string) =>
    problems.push({ index, name, compliant, message });

  const prepared = templates.map((_, index) => prepareTemplate(replica, index, clusterNamespace));
  const names = templates
    .map((template) => definedName(template.objectDefinition))
    .filter((name) => name !== "");
  if (new Set(names).size !== names.length) {
    prepared.forEach((delivery, index) =>
      problem(
        index,
        delivery.name,
        ComplianceStates.nonCompliant,
        templateError(PolicyMessages.templateNamesUnique),
      ),
    );
    return { ok: true, works: [], problems };
  }

  const delivered: { index: number; name: string; manifest: Manifest; config?: ManifestConfigOption }[] = [];
  prepared.forEach((delivery, index) => {
    if (!delivery.ok) {
      problem(index, delivery.name, ComplianceStates.nonCompliant, templateError(delivery.message));
      return;
    }
    const gate = gates[index];
    if (gate && !gate.open) {
      problem(index, delivery.name, gate.compliant, gate.message);
      return;
    }
    delivered.push({ index, ...delivery });
  });

  const base = bosunPolicyWorkName(replicaName);
  const previous = sortParts((options.previous ?? []).filter((work) => !work.metadata.deletionTimestamp)).map(
    (work) => work.spec?.workload?.manifests ?? [],
  );
  for (;;) {
    if (delivered.length === 0) break;
    const spec: ManifestWorkSpec = {
      workload: { manifests: delivered.map((entry) => entry.manifest) },
      manifestConfigs: delivered.flatMap((entry) => (entry.config ? [entry.config] : [])),
    };
    let split;
    try {
      split = splitWorkSpec(spec, base, limitBytes, {
        previous,
        ...(options.marginBytes !== undefined ? { marginBytes: options.marginBytes } : {}),
        ...(options.headroom !== undefined ? { headroom: options.headroom } : {}),
      });
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    if (split.ok) {
      const works = split.parts.map((part) => ({
        ...part,
        labels: { [BosunPolicyWorkLabels.replica]: replicaName, ...part.labels },
      }));
      problems.sort((a, b) => a.index - b.index);
      return { ok: true, works, problems };
    }
    // One template is bigger than any work may carry: report it and deliver the others.
    const position = delivered.findIndex((entry) => entry.manifest === split.manifest);
    const [tooBig] = delivered.splice(position < 0 ? 0 : position, 1);
    problem(tooBig!.index, tooBig!.name, ComplianceStates.nonCompliant, templateError(split.error));
  }
  problems.sort((a, b) => a.index - b.index);
  return { ok: true, works: [], problems };
}
