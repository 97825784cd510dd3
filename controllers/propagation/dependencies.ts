// Dependency gating of policy templates, decided on the hub. OCM's template sync checks a
// template's dependencies on the managed cluster before creating it; bosun knows the same facts
// on the hub (every replicated Policy of a cluster namespace and the compliance its templates
// reported), so a template whose dependencies are unmet is left out of the ManifestWork and
// reported Pending, with OCM's messages.
import {
  ComplianceStates,
  ConfigurationPolicyMessages,
  ForeignKinds,
  Groups,
  PolicyTemplateSyncMessages,
  Resources,
  conflictingDependencyMessage,
  dependenciesPendingMessage,
} from "../../api/constants.ts";
import type { ComplianceState, Policy, PolicyDependency } from "../../api/types/policy.ts";

export interface ClusterCompliance {
  /** status.compliant of every replicated Policy in this cluster namespace, by name. */
  policies: ReadonlyMap<string, ComplianceState | undefined>;
  /**
   * Last known compliance of every policy template delivered to this cluster, by
   * `<Kind>/<name>` (e.g. ConfigurationPolicy/cm-check).
   */
  templates: ReadonlyMap<string, ComplianceState | undefined>;
}

export type Gate =
  | { open: true }
  | { open: false; compliant: "Pending" | "Compliant"; message: string }
  | {
      open: false;
      compliant: "NonCompliant";
      /** A template error, e.g. conflicting compliance: `template-error; …`. */
      message: string;
    };

/** `<Kind>/<name>`: how a delivered template is known in ClusterCompliance.templates. */
export function templateKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** A kind of the policy group named `…Policy`: OCM looks it up in the cluster namespace. */
export function isPolicyKind(group: string, kind: string): boolean {
  return group === Groups.policy && kind.endsWith("Policy");
}

interface Dependency {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  compliance: ComplianceState;
}

function identity(dependency: Dependency): string {
  const { group, version, kind, namespace, name } = dependency;
  return JSON.stringify([group, version, kind, namespace, name]);
}

function normalise(dependency: PolicyDependency, clusterNamespace: string): Dependency {
  const { group, version } = splitApiVersion(dependency.apiVersion ?? "");
  const kind = dependency.kind ?? "";
  let namespace = dependency.namespace ?? "";
  if (namespace === "" && isPolicyKind(group, kind)) namespace = clusterNamespace;
  return { group, version, kind, namespace, name: dependency.name ?? "", compliance: dependency.compliance };
}

export type EffectiveDependencies =
  { ok: true; dependencies: Dependency[] } | { ok: false; conflict: string };

/**
 * spec.dependencies and the template's extraDependencies, one per object (group, version,
 * kind, namespace, name); the first dependency that asks for a different compliance of an
 * object already listed is a conflict.
 */
export function effectiveDependencies(replica: Policy, templateIndex: number): EffectiveDependencies {
  const template = replica.spec["policy-templates"][templateIndex];
  if (!template)
    throw new RangeError(`policy ${replica.metadata.name ?? ""} has no template ${templateIndex}`);
  const clusterNamespace = replica.metadata.namespace ?? "";
  const byIdentity = new Map<string, Dependency>();
  for (const raw of [...(replica.spec.dependencies ?? []), ...(template.extraDependencies ?? [])]) {
    const dependency = normalise(raw, clusterNamespace);
    const key = identity(dependency);
    const existing = byIdentity.get(key);
    if (existing && existing.compliance !== dependency.compliance) {
      return { ok: false, conflict: dependency.name };
    }
    if (!existing) byIdentity.set(key, dependency);
  }
  return { ok: true, dependencies: [...byIdentity.values()] };
}

/** Whether what the hub knows of the object satisfies the dependency. */
function satisfied(dependency: Dependency, clusterNamespace: string, cluster: ClusterCompliance): boolean {
  const { group, kind, name, namespace, compliance } = dependency;
  if (group === Groups.policy && kind === Resources.Policy.kind) {
    // Replicated Policies live in the cluster namespace; the hub knows no other.
    if (namespace !== clusterNamespace) return false;
    return cluster.policies.get(name) === compliance;
  }
  if (isPolicyKind(group, kind)) {
    if (namespace !== clusterNamespace) return false;
    return cluster.templates.get(templateKey(kind, name)) === compliance;
  }
  if (group === ForeignKinds.ConstraintTemplate.group && kind === ForeignKinds.ConstraintTemplate.kind) {
    // As OCM: a ConstraintTemplate counts as Compliant when it exists and NonCompliant when it
    // does not. It exists once delivered: known, and neither held back nor failed.
    const key = templateKey(kind, name);
    const state = cluster.templates.get(key);
    const exists =
      cluster.templates.has(key) && (state === undefined || state === ComplianceStates.compliant);
    return exists === (compliance === ComplianceStates.compliant);
  }
  if (group === ForeignKinds.GatekeeperConstraintsGroup) {
    return cluster.templates.get(templateKey(kind, name)) === compliance;
  }
  // Any other object lives only on the managed cluster, out of the hub's sight.
  return false;
}

/**
 * Whether template `templateIndex` of the replica may be delivered: open when every effective
 * dependency is satisfied. Otherwise closed and reported as OCM reports it: Pending with
 * `Dependencies were not satisfied: …` (Compliant with `… but ignorePending is true` when the
 * template sets ignorePending), or NonCompliant with a template error when two dependencies
 * disagree about one object.
 */
export function gateTemplate(replica: Policy, templateIndex: number, cluster: ClusterCompliance): Gate {
  const effective = effectiveDependencies(replica, templateIndex);
  if (!effective.ok) {
    return {
      open: false,
      compliant: ComplianceStates.nonCompliant,
      message:
        ConfigurationPolicyMessages.templateErrorPrefix + conflictingDependencyMessage(effective.conflict),
    };
  }
  const clusterNamespace = replica.metadata.namespace ?? "";
  const pending = effective.dependencies
    .filter((dependency) => !satisfied(dependency, clusterNamespace, cluster))
    .map((dependency) => `${dependency.kind} ${dependency.name}`);
  if (pending.length === 0) return { open: true };
  const message = dependenciesPendingMessage(pending);
  if (replica.spec["policy-templates"][templateIndex]?.ignorePending === true) {
    return {
      open: false,
      compliant: ComplianceStates.compliant,
      message: message + PolicyTemplateSyncMessages.ignorePendingSuffix,
    };
  }
  return { open: false, compliant: ComplianceStates.pending, message };
}

/** The gate of every template of the replica, in template order. */
export function gateTemplates(replica: Policy, cluster: ClusterCompliance): Gate[] {
  return replica.spec["policy-templates"].map((_, index) => gateTemplate(replica, index, cluster));
}

function templateIdentity(definition: unknown): { kind: string; name: string } | undefined {
  if (definition === null || typeof definition !== "object") return undefined;
  const { kind, metadata } = definition as { kind?: unknown; metadata?: unknown };
  const name =
    metadata !== null && typeof metadata === "object" ? (metadata as { name?: unknown }).name : undefined;
  if (typeof kind !== "string" || kind === "" || typeof name !== "string" || name === "") return undefined;
  return { kind, name };
}

/**
 * What the hub knows of one cluster namespace from its replicated Policies: each Policy's
 * status.compliant, and each template's compliance from the Policy's status.details.
 */
export function clusterCompliance(replicas: readonly Policy[]): ClusterCompliance {
  const policies = new Map<string, ComplianceState | undefined>();
  const templates = new Map<string, ComplianceState | undefined>();
  for (const replica of replicas) {
    if (replica.metadata.deletionTimestamp) continue;
    policies.set(replica.metadata.name ?? "", replica.status?.compliant);
    const details = replica.status?.details ?? [];
    for (const template of replica.spec["policy-templates"] ?? []) {
      const id = templateIdentity(template.objectDefinition);
      if (!id) continue;
      const detail = details.find((entry) => entry.templateMeta?.name === id.name);
      templates.set(templateKey(id.kind, id.name), detail?.compliant);
    }
  }
  return { policies, templates };
}
