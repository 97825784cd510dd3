// Where a root Policy goes and what its replicas look like, as OCM's propagator decides it:
// the PlacementBindings that name the policy (directly or through a PolicySet) select clusters;
// `subFilter: restricted` bindings only refine clusters others selected; PolicySet exclusions
// take a cluster off that set's path; `bindingOverrides` may enforce a cluster's replica. Each
// replica is the root's metadata and spec with the replica labels and canonical dependencies.
import {
  AnnotationValues,
  Annotations,
  BosunBindingMessages,
  BosunPolicyRollout,
  Groups,
  PolicyAnnotations,
  PolicyLabels,
  Resources,
  replicatedPolicyName,
} from "../../api/constants.ts";
import { copyPolicyMetadata } from "../../api/defaults.ts";
import type {
  PlacementBinding,
  Policy,
  PolicyDependency,
  PolicyPlacementStatus,
  PolicySet,
  PolicySpec,
} from "../../api/types/policy.ts";
import { rootKeyOf } from "./keys.ts";

export interface BindingInput {
  binding: PlacementBinding;
  /**
   * Clusters the binding's Placement decides (from its PlacementDecisions), any order; undefined
   * when the placement does not exist or the ref is not a Placement.
   */
  clusters: readonly string[] | undefined;
}

export interface PropagationInput {
  /** The root. */
  policy: Policy;
  /**
   * Every PlacementBinding in the policy's namespace; those whose subjects name this policy,
   * directly or through a PolicySet that lists it, are used.
   */
  bindings: readonly BindingInput[];
  /**
   * Every PolicySet in the policy's namespace (and in any other namespace a PolicySet
   * dependency names).
   */
  policySets: readonly PolicySet[];
}

export interface DesiredReplica {
  cluster: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The root's spec with the remediationAction override and canonical dependencies. */
  spec: PolicySpec;
}

export interface ClusterPlacement {
  cluster: string;
  /** Set when a PolicySet path excludes the cluster but these bindings still place it. */
  remainingBindings?: string[];
}

export interface PropagationPlan {
  /** Sorted by cluster; empty when the policy is disabled. */
  replicas: DesiredReplica[];
  /** The root's status.placement. */
  placement: PolicyPlacementStatus[];
  /** Every cluster the policy goes to, sorted; empty when the policy is disabled. */
  clusters: ClusterPlacement[];
}

/** One way a binding reaches the policy: as a direct subject, or through a PolicySet. */
interface BindingPath {
  policySet?: string;
  /** Clusters the PolicySet excludes the policy from. */
  excluded: ReadonlySet<string>;
}

/** A binding that names the policy, with what it decides for it. */
interface ResolvedBinding {
  name: string;
  restricted: boolean;
  enforce: string | undefined;
  /** Name of the Placement, when the binding's ref resolves to one. */
  placement: string | undefined;
  paths: BindingPath[];
  /** Clusters the Placement decides (none when the policy is disabled), sorted. */
  decided: string[];
  /** Of those, the clusters at least one path does not exclude. */
  selected: ReadonlySet<string>;
}

const placementGroup = Resources.Placement.group;
const placementKind = Resources.Placement.kind;
const policyKind = Resources.Policy.kind;
const policySetKind = Resources.PolicySet.kind;

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function namespaceOf(object: { metadata: { namespace?: string } }): string {
  return object.metadata.namespace ?? "";
}

function hasValidPlacementRef(binding: PlacementBinding): boolean {
  const ref = binding.placementRef;
  if (ref?.kind === placementKind) return ref.apiGroup === placementGroup;
  // The deprecated PlacementRule is a valid reference that bosun never resolves.
  if (ref?.kind === "PlacementRule") return ref.apiGroup === Groups.apps;
  return false;
}

function policySetNamed(sets: readonly PolicySet[], namespace: string, name: string): PolicySet | undefined {
  return sets.find((set) => set.metadata.name === name && namespaceOf(set) === namespace);
}

function listsPolicy(set: PolicySet, policyName: string): boolean {
  return Array.isArray(set.spec?.policies) && set.spec.policies.includes(policyName);
}

function excludedClusters(set: PolicySet, policyName: string): Set<string> {
  const excluded = new Set<string>();
  for (const exclusion of set.spec?.exclusions ?? []) {
    if (exclusion?.policyName !== policyName) continue;
    for (const cluster of exclusion.clusterNames ?? []) excluded.add(cluster);
  }
  return excluded;
}

/** The ways a binding's subjects reach the policy (Policy subject first, sets in order). */
function bindingPaths(
  binding: PlacementBinding,
  policyName: string,
  sets: readonly PolicySet[],
): BindingPath[] {
  const paths: BindingPath[] = [];
  const seenSets = new Set<string>();
  let direct = false;
  for (const subject of Array.isArray(binding.subjects) ? binding.subjects : []) {
    if (subject?.apiGroup !== Groups.policy) continue;
    if (subject.kind === policyKind && subject.name === policyName) direct = true;
    else if (subject.kind === policySetKind && !seenSets.has(subject.name)) {
      seenSets.add(subject.name);
      const set = policySetNamed(sets, namespaceOf(binding), subject.name);
      if (set && listsPolicy(set, policyName))
        paths.push({ policySet: subject.name, excluded: excludedClusters(set, policyName) });
    }
  }
  if (direct) paths.unshift({ excluded: new Set() });
  return paths;
}

function resolveBindings(input: PropagationInput): ResolvedBinding[] {
  const { policy } = input;
  const policyName = policy.metadata.name ?? "";
  const disabled = policy.spec?.disabled === true;
  const resolved: ResolvedBinding[] = [];
  const bindings = input.bindings
    .filter(({ binding }) => namespaceOf(binding) === namespaceOf(policy))
    .sort((a, b) => byString(a.binding.metadata.name ?? "", b.binding.metadata.name ?? ""));
  for (const { binding, clusters } of bindings) {
    const paths = bindingPaths(binding, policyName, input.policySets);
    if (paths.length === 0 || !hasValidPlacementRef(binding)) continue;
    const found = binding.placementRef.kind === placementKind && clusters !== undefined;
    const decided = disabled || !found ? [] : [...new Set(clusters)].sort(byString);
    const selected = new Set(decided.filter((cluster) => paths.some((path) => !path.excluded.has(cluster))));
    const override = binding.bindingOverrides?.remediationAction;
    resolved.push({
      name: binding.metadata.name ?? "",
      restricted: binding.subFilter === "restricted",
      enforce: isEnforce(override) ? override : undefined,
      placement: found ? binding.placementRef.name : undefined,
      paths,
      decided,
      selected,
    });
  }
  return resolved;
}

function placementEntries(binding: ResolvedBinding): PolicyPlacementStatus[] {
  return binding.paths.map((path) => {
    const entry: PolicyPlacementStatus = { placementBinding: binding.name };
    if (binding.placement) entry.placement = binding.placement;
    if (path.policySet !== undefined) {
      entry.policySet = path.policySet;
      const excluded = binding.decided.filter((cluster) => path.excluded.has(cluster));
      if (excluded.length > 0) entry.exclusions = excluded.map((clusterName) => ({ clusterName }));
    }
    return entry;
  });
}

function placementSortKey(entry: PolicyPlacementStatus): string {
  return [entry.placementBinding, entry.placement, entry.placementRule, entry.policySet]
    .map((part) => part ?? "")
    .join(" ");
}

function isEnforce(action: string | undefined): boolean {
  return action?.toLowerCase() === "enforce";
}

/** When a PolicySet path excludes the cluster: the bindings that place it all the same. */
function remainingBindings(bindings: readonly ResolvedBinding[], cluster: string): string[] | undefined {
  const placing = bindings.filter((binding) => !binding.restricted);
  const excludedOnAPath = placing.some(
    (binding) =>
      binding.decided.includes(cluster) &&
      binding.paths.some((path) => path.policySet !== undefined && path.excluded.has(cluster)),
  );
  if (!excludedOnAPath) return undefined;
  const remaining = placing.filter((binding) => binding.selected.has(cluster)).map((binding) => binding.name);
  return remaining.length > 0 ? remaining : undefined;
}

/** Where the root goes, what each replica is, and the root's placement status. */
export function planPropagation(input: PropagationInput): PropagationPlan {
  const bindings = resolveBindings(input);
  const placing = bindings.filter((binding) => !binding.restricted);
  const refining = bindings.filter((binding) => binding.restricted);

  const decided = new Set<string>();
  for (const binding of placing) for (const cluster of binding.selected) decided.add(cluster);

  const placement: PolicyPlacementStatus[] = [];
  for (const binding of placing) placement.push(...placementEntries(binding));
  // A restricted binding shows only when it refines at least one selected cluster.
  for (const binding of refining)
    if ([...binding.selected].some((cluster) => decided.has(cluster)))
      placement.push(...placementEntries(binding));
  placement.sort((a, b) => byString(placementSortKey(a), placementSortKey(b)));

  const clusters = [...decided].sort(byString);
  const replicas = clusters.map((cluster) => {
    // Bindings that select the cluster without a subFilter come first, then restricted ones.
    const override = [...placing, ...refining].find(
      (binding) => binding.enforce !== undefined && binding.selected.has(cluster),
    )?.enforce;
    return desiredReplica(input, cluster, override);
  });

  return {
    replicas,
    placement,
    clusters: clusters.map((cluster) => {
      const remaining = remainingBindings(bindings, cluster);
      return remaining ? { cluster, remainingBindings: remaining } : { cluster };
    }),
  };
}

/**
 * The bindings that place the policy (without `subFilter: restricted`) and resolve to a
 * Placement: the clusters' decision groups come from their decisions. Sorted by name.
 */
export function placingBindings(input: PropagationInput): PlacementBinding[] {
  const placing = new Set(
    resolveBindings(input)
      .filter((binding) => !binding.restricted && binding.placement !== undefined)
      .map((binding) => binding.name),
  );
  return input.bindings
    .map(({ binding }) => binding)
    .filter(
      (binding) =>
        namespaceOf(binding) === namespaceOf(input.policy) && placing.has(binding.metadata.name ?? ""),
    )
    .sort((a, b) => byString(a.metadata.name ?? "", b.metadata.name ?? ""));
}

function copiedMetadata(metadata: Record<string, string> | undefined, copy: boolean): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {}))
    if (copy || key.startsWith(PolicyAnnotations.prefix)) kept[key] = value;
  return kept;
}

const rolloutAnnotations = [
  BosunPolicyRollout.annotation,
  BosunPolicyRollout.deadlineAnnotation,
  BosunPolicyRollout.statusAnnotation,
  BosunPolicyRollout.revisionAnnotation,
];

function desiredReplica(
  input: PropagationInput,
  cluster: string,
  override: string | undefined,
): DesiredReplica {
  const root = input.policy;
  const rootNamespace = namespaceOf(root);
  const name = replicatedPolicyName(rootNamespace, root.metadata.name ?? "");
  const copy = copyPolicyMetadata(root.spec ?? {});

  const labels = copiedMetadata(root.metadata.labels, copy);
  labels[PolicyLabels.clusterName] = cluster;
  labels[PolicyLabels.clusterNamespace] = cluster;
  labels[PolicyLabels.rootPolicy] = name;

  const annotations = copiedMetadata(root.metadata.annotations, copy);
  delete annotations[PolicyAnnotations.triggerUpdate];
  // The root's rollout settings and state concern the hub only.
  for (const key of rolloutAnnotations) delete annotations[key];
  // Argo CD, when it manages the root, then ignores the replicas it did not create.
  annotations[Annotations.argocdCompareOptions] = AnnotationValues.argocdIgnoreExtraneous;

  // A JSON copy (the spec came from the API server as JSON): twice as fast as structuredClone,
  // and every root reconcile copies it once per cluster.
  const spec = JSON.parse(JSON.stringify(root.spec ?? {})) as PolicySpec;
  if (override !== undefined && !isEnforce(spec.remediationAction))
    spec.remediationAction = override as PolicySpec["remediationAction"];
  const dependencies = canonicalDependencies(spec.dependencies, rootNamespace, input.policySets);
  if (dependencies?.length) spec.dependencies = dependencies;
  else delete spec.dependencies;
  for (const template of Array.isArray(spec["policy-templates"]) ? spec["policy-templates"] : []) {
    if (!template || typeof template !== "object") continue;
    const extra = canonicalDependencies(template.extraDependencies, rootNamespace, input.policySets);
    if (extra?.length) template.extraDependencies = extra;
    else delete template.extraDependencies;
  }

  return { cluster, namespace: cluster, name, labels, annotations, spec };
}

const policyApiVersion = Resources.Policy.apiVersion;
const policySetApiVersion = Resources.PolicySet.apiVersion;

/**
 * Dependencies as the managed cluster reads them: a Policy becomes `<ns>.<name>` (a replica's
 * name) without a namespace; a PolicySet becomes one Policy dependency per member; a PolicySet
 * that does not exist is kept, with its namespace filled in.
 */
export function canonicalDependencies(
  dependencies: readonly PolicyDependency[] | undefined,
  rootNamespace: string,
  policySets: readonly PolicySet[],
): PolicyDependency[] | undefined {
  if (dependencies === undefined) return undefined;
  const canonical: PolicyDependency[] = [];
  for (const dependency of dependencies) {
    const namespace = dependency.namespace || rootNamespace;
    if (dependency.kind === policySetKind && dependency.apiVersion === policySetApiVersion) {
      const set = policySetNamed(policySets, namespace, dependency.name);
      if (!set) {
        canonical.push({ ...dependency, namespace });
        continue;
      }
      for (const member of set.spec?.policies ?? [])
        canonical.push({
          apiVersion: policyApiVersion,
          kind: policyKind,
          name: replicatedPolicyName(namespace, member),
          compliance: dependency.compliance,
        });
    } else if (dependency.kind === policyKind && dependency.apiVersion === policyApiVersion) {
      // A name with exactly one dot is taken to be `<ns>.<name>` already, as OCM does.
      if (dependency.name.split(".").length === 2) canonical.push({ ...dependency });
      else {
        const { namespace: _omitted, ...rest } = dependency;
        canonical.push({ ...rest, name: replicatedPolicyName(namespace, dependency.name) });
      }
    } else canonical.push({ ...dependency });
  }
  return canonical;
}

// Equality --------------------------------------------------------------------------------------

/** Structural equality of JSON values, where a key holding undefined counts as absent. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
  const left = Object.entries(a).filter(([, value]) => value !== undefined);
  const right = b as Record<string, unknown>;
  const rightCount = Object.values(right).filter((value) => value !== undefined).length;
  return left.length === rightCount && left.every(([key, value]) => sameJson(value, right[key]));
}

function withoutEmpty<T extends object>(object: T, fields: readonly (keyof T)[]): T {
  const copy = { ...object };
  for (const field of fields) {
    const value = copy[field];
    if (value === undefined || value === null || value === "" || value === false) delete copy[field];
    else if (Array.isArray(value) && value.length === 0) delete copy[field];
  }
  return copy;
}

/**
 * A spec as Go sees it after decoding: zero values and empty lists are the same as absent
 * (objectDefinition is compared as is).
 */
function comparableSpec(spec: PolicySpec | undefined): unknown {
  if (!spec || typeof spec !== "object") return spec;
  const normal = withoutEmpty(spec, ["disabled", "remediationAction", "dependencies"]);
  if (Array.isArray(spec["policy-templates"]))
    normal["policy-templates"] = spec["policy-templates"].map((template) =>
      template && typeof template === "object"
        ? withoutEmpty(template, ["extraDependencies", "ignorePending"])
        : template,
    );
  return normal;
}

/** True when the existing replica's labels, annotations or spec differ from the desired ones. */
export function replicaDiffers(existing: Policy, desired: DesiredReplica): boolean {
  return (
    !sameJson(existing.metadata.labels ?? {}, desired.labels) ||
    !sameJson(existing.metadata.annotations ?? {}, desired.annotations) ||
    !sameJson(comparableSpec(existing.spec), comparableSpec(desired.spec))
  );
}

/** The root `ns/name` a replica belongs to, from its root-policy label; undefined for anything else. */
export function rootKeyOfReplica(replica: {
  metadata: { labels?: Record<string, string> };
}): string | undefined {
  return rootKeyOf(replica);
}

// Problems --------------------------------------------------------------------------------------

/** Whether a binding concerns the policy: a subject carries its name, or a set listing it. */
function concernsPolicy(binding: PlacementBinding, policyName: string, sets: readonly PolicySet[]): boolean {
  return (Array.isArray(binding.subjects) ? binding.subjects : []).some((subject) => {
    if (subject?.name === policyName && subject.kind !== policySetKind) return true;
    if (subject?.apiGroup !== Groups.policy || subject.kind !== policySetKind) return false;
    const set = policySetNamed(sets, namespaceOf(binding), subject.name);
    return set !== undefined && listsPolicy(set, policyName);
  });
}

/**
 * Why bindings that name the policy place it nowhere, one sentence each, naming the binding
 * and the field: an unsupported or malformed placementRef, a missing Placement, a subject that
 * names the policy with the wrong apiGroup or kind.
 */
export function bindingProblems(input: PropagationInput): string[] {
  const policyName = input.policy.metadata.name ?? "";
  const problems: string[] = [];
  const bindings = input.bindings
    .filter(({ binding }) => namespaceOf(binding) === namespaceOf(input.policy))
    .sort((a, b) => byString(a.binding.metadata.name ?? "", b.binding.metadata.name ?? ""));
  for (const { binding, clusters } of bindings) {
    if (!concernsPolicy(binding, policyName, input.policySets)) continue;
    const found: string[] = [];
    (Array.isArray(binding.subjects) ? binding.subjects : []).forEach((subject, index) => {
      if (subject?.name !== policyName) return;
      if (subject.apiGroup !== Groups.policy)
        found.push(BosunBindingMessages.subjectApiGroup(index, String(subject.apiGroup)));
      else if (subject.kind !== policyKind && subject.kind !== policySetKind)
        found.push(BosunBindingMessages.subjectKind(index, String(subject.kind)));
    });
    const ref = binding.placementRef;
    if (ref?.kind !== placementKind) found.push(BosunBindingMessages.placementRefKind(String(ref?.kind)));
    else if (ref.apiGroup !== placementGroup)
      found.push(BosunBindingMessages.placementRefApiGroup(String(ref.apiGroup)));
    else if (clusters === undefined)
      found.push(BosunBindingMessages.placementNotFound(ref.name, namespaceOf(binding)));
    for (const problem of found) problems.push(`PlacementBinding ${binding.metadata.name ?? ""}: ${problem}`);
  }
  return problems;
}
