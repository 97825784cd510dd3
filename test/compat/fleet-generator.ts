// Seeded random fleets and Placements for the placement differential against OCM's own
// controller. Pure: the same seed and `now` give the same round, byte for byte.
//
// A round is what one comparison pass writes to the hub: ManagedClusters (labels, claims,
// taints, allocatable/capacity, versions; a few being deleted, which the harness does by
// deleting them while a finalizer holds them), ManagedClusterSets (exclusive label and label
// selector), bindings in two namespaces, AddOnPlacementScores, PlacementDecisions of
// placements that do not exist (they give Balance something to count), and Placements that use
// only what OCM v1.0.0 implements. Each Placement is marked for how it can be compared:
//   - "batch": Balance does not apply (weight 0), so its decisions do not depend on what the
//     other placements decided, and all batch placements can be scheduled at once;
//   - "sequential": Balance applies, so it is scheduled alone, after the ones before it.
// Some placements have decisions before they are first scheduled, and some batch placements get
// a follow-up spec (act 2), scheduled once their first decisions exist, against a fleet changed
// by `act2`: both exercise Steady and NoSelectIfNew.
// Follow-ups never use Balance, and no placement gives Steady a negative weight (which would make
// OCM flip its decisions on every pass).
import { Labels } from "../../api/constants.ts";
import type {
  AddOnPlacementScore,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
  Taint,
} from "../../api/types/cluster.ts";
import type { LabelSelector, LabelSelectorRequirement } from "../../api/types/meta.ts";
import type {
  ClusterPredicate,
  DecisionGroup,
  Placement,
  PlacementDecision,
  PlacementSpec,
  PrioritizerConfig,
  Toleration,
} from "../../api/types/placement.ts";

/** A small, fast 32-bit PRNG (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random choices over one PRNG. */
export class Random {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  /** A float in [0, 1). */
  float(): number {
    return this.#next();
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.#next() * items.length)]!;
  }
  /** A random subset (order kept) of `count` items, or of a random size when omitted. */
  subset<T>(items: readonly T[], count = this.int(0, items.length)): T[] {
    const indexes = items.map((_, i) => i);
    for (let i = indexes.length - 1; i > 0; i--) {
      const j = Math.floor(this.#next() * (i + 1));
      [indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!];
    }
    return indexes
      .slice(0, Math.min(count, items.length))
      .sort((a, b) => a - b)
      .map((i) => items[i]!);
  }
}

export type PlacementKind = "batch" | "sequential";

export interface GeneratedPlacement {
  placement: Placement;
  kind: PlacementKind;
  /** The spec of act 2 (batch placements only). */
  followUp?: PlacementSpec;
}

export interface FleetState {
  clusters: ManagedCluster[];
  scores: AddOnPlacementScore[];
}

export interface GeneratedRound {
  seed: number;
  /** The instant (ms) the round's times are relative to. */
  now: number;
  /** Namespaces of the placements and bindings. */
  namespaces: string[];
  /** The namespace of the decisions of placements that do not exist. */
  ghostNamespace: string;
  clusterSets: ManagedClusterSet[];
  bindings: ManagedClusterSetBinding[];
  /** Act 1's fleet. */
  fleet: FleetState;
  ghostDecisions: PlacementDecision[];
  placements: GeneratedPlacement[];
  /** The fleet of act 2: the same clusters, some taints, labels, resources and scores changed. */
  act2: FleetState;
}

export interface GeneratorOptions {
  /** How many clusters, inclusive range. */
  clusters?: [number, number];
  placements?: number;
  /** How often a batch placement gets a follow-up spec: twice that where there is a choice, half elsewhere. */
  followUps?: number;
  /** Fraction of placements with a deliberate misconfiguration. */
  misconfigured?: number;
}

export const placementNamespaces = ["compat-a", "compat-b"];
export const ghostNamespace = "compat-ghosts";

const clusterApi = "cluster.open-cluster-management.io";
const claimRegion = "region.open-cluster-management.io";
const claimPlatform = "platform.open-cluster-management.io";
const claimZone = "zone.example.com";
const claimConfig = "config.json";
const taintUnreachable = "cluster.open-cluster-management.io/unreachable";
const exclusiveSets = ["set-a", "set-b"];
const selectorSets = ["prod-set", "tier-set", "everything", "no-selector"];
const scoreResources = ["resource-usage", "gpu-score"];
/**
 * The only AddOnPlacementScore that is ever expired. An AddOn prioritizer that meets an expired
 * score makes OCM retry the placement with backoff, and a placement that uses Balance would then
 * be scheduled again against what later placements decided: so Balance placements never read it.
 */
const expiringScore = "gpu-score";
const scoreNames = ["cpu", "memory", "gpu"];
const namePrefixes = ["east", "west", "edge", "core", "a", "b", "lab", "z"];

const cpuValues = ["2", "4", "8", "16", "500m", "1500m", "3500m", "1.5", "32", "1e1"];
const memoryValues = ["4Gi", "8Gi", "16Gi", "16384Mi", "32Gi", "1Ti", "6G", "3000M", "12Gi"];
const versions = ["v1.29.3", "v1.30.2", "1.31.0", "v1.31.0+k3s1", "1.28.15"];

/** CEL expressions OCM v1.0.0's environment compiles (and one that it does not). */
export const celTemplates = [
  'managedCluster.metadata.labels["env"] == "prod"',
  '"gpu" in managedCluster.metadata.labels',
  'managedCluster.metadata.name.startsWith("e")',
  `managedCluster.status.clusterClaims.exists(c, c.name == "${claimPlatform}" && c.value == "AWS")`,
  'managedCluster.scores("resource-usage").exists(s, s.name == "cpu" && s.value > 20)',
  'managedCluster.scores("gpu-score").all(s, s.value >= 0)',
  'isSemver(managedCluster.status.version.kubernetes) && semver(managedCluster.status.version.kubernetes).isLessThan(semver("1.30.0"))',
  'quantity(managedCluster.status.allocatable.cpu).isGreaterThan(quantity("3"))',
  'quantity(managedCluster.status.allocatable.memory).compareTo(quantity("16Gi")) >= 0',
  'int(managedCluster.metadata.labels["tier"]) <= 2',
  'managedCluster.metadata.labels["region"] in ["eu", "us"]',
  'managedCluster.status.version.kubernetes.matches("^v1\\\\.3[0-9]")',
  `managedCluster.status.clusterClaims.exists(c, c.name == "${claimConfig}" && c.value.parseJSON().gpu == true)`,
  "managedCluster.metadata.name",
  'managedCluster.metadata.labels.exists(k, k.startsWith("ti"))',
  "managedCluster.status.clusterClaims.size() >= 3",
  // Quantities as strings: OCM reads the cluster through its Go types, which print them canonically.
  'managedCluster.status.allocatable.cpu == "10"',
  'managedCluster.status.allocatable.memory.endsWith("Gi")',
  "managedCluster.spec.hubAcceptsClient && managedCluster.metadata.name.size() < 5",
];
const celInvalid = 'managedCluster.metadata.labels["env"] ==';

function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function clusterNames(random: Random, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) {
    const prefix = random.pick(namePrefixes);
    names.add(random.chance(0.2) ? `${prefix}${random.int(0, 9)}` : `${prefix}-${random.int(0, 40)}`);
  }
  return [...names];
}

function taintsFor(random: Random, now: number): Taint[] {
  const taints: Taint[] = [];
  const added = () => {
    const r = random.float();
    // Far from any toleration boundary: 10 minutes ago, or never recorded.
    return r < 0.7 ? formatTime(now - 10 * 60_000) : r < 0.85 ? null : undefined;
  };
  const pool: (() => Taint)[] = [
    () => ({ key: taintUnreachable, effect: "NoSelect" }),
    () => ({ key: "maintenance", value: random.pick(["true", "planned"]), effect: "NoSelectIfNew" }),
    () => ({ key: "gpu", value: "none", effect: "PreferNoSelect" }),
    () => ({ key: "dedicated", value: random.pick(["team-a", "team-b"]), effect: "NoSelect" }),
  ];
  for (const make of random.subset(pool, random.pick([0, 0, 0, 1, 1, 2]))) {
    const taint = make();
    const time = added();
    if (time !== undefined) taint.timeAdded = time;
    taints.push(taint);
  }
  return taints;
}

function resources(random: Random): Pick<NonNullable<ManagedCluster["status"]>, "allocatable" | "capacity"> {
  const out: Pick<NonNullable<ManagedCluster["status"]>, "allocatable" | "capacity"> = {};
  if (random.chance(0.1)) return out;
  const allocatable: Record<string, string> = {};
  const capacity: Record<string, string> = {};
  for (const [name, values] of [
    ["cpu", cpuValues],
    ["memory", memoryValues],
  ] as const) {
    const r = random.float();
    const value = random.pick(values);
    // Mostly both; sometimes only one of allocatable and capacity, which scores nothing.
    if (r < 0.85) {
      allocatable[name] = value;
      capacity[name] = value;
    } else if (r < 0.92) allocatable[name] = value;
    else capacity[name] = value;
  }
  if (Object.keys(allocatable).length > 0) out.allocatable = allocatable;
  if (Object.keys(capacity).length > 0) out.capacity = capacity;
  return out;
}

function generateCluster(random: Random, name: string, now: number): ManagedCluster {
  const labels: Record<string, string> = {};
  // Mostly an exclusive set; sometimes a set that selects by labels, or none that exists, where
  // the label means nothing.
  if (random.chance(0.8))
    labels[Labels.clusterSet] = random.chance(0.9)
      ? random.pick(exclusiveSets)
      : random.pick(["everything", "gone"]);
  if (random.chance(0.85)) labels.env = random.pick(["prod", "staging", "dev"]);
  if (random.chance(0.7)) labels.tier = random.pick(["1", "2", "3"]);
  if (random.chance(0.6)) labels.region = random.pick(["eu", "us", "ap"]);
  if (random.chance(0.2)) labels.gpu = "true";
  if (random.chance(0.2)) labels.canary = "true";
  const claims: { name: string; value: string }[] = [];
  if (random.chance(0.8)) claims.push({ name: "id.k8s.io", value: name });
  if (random.chance(0.7)) claims.push({ name: claimPlatform, value: random.pick(["AWS", "GCP", "Other"]) });
  if (random.chance(0.7))
    claims.push({ name: claimRegion, value: random.pick(["eu-west", "eu-central", "us-east"]) });
  if (random.chance(0.5)) claims.push({ name: claimZone, value: random.pick(["a", "b", "c"]) });
  if (random.chance(0.3))
    claims.push({ name: claimConfig, value: JSON.stringify({ gpu: random.chance(0.5) }) });
  const taints = taintsFor(random, now);
  const cluster: ManagedCluster = {
    apiVersion: `${clusterApi}/v1`,
    kind: "ManagedCluster",
    metadata: { name, labels, ...(random.chance(0.05) ? { deletionTimestamp: formatTime(now) } : {}) },
    spec: { hubAcceptsClient: true, ...(taints.length > 0 ? { taints } : {}) },
    status: { ...resources(random) },
  };
  if (claims.length > 0) cluster.status!.clusterClaims = claims;
  if (random.chance(0.8)) cluster.status!.version = { kubernetes: random.pick(versions) };
  return cluster;
}

function generateScores(random: Random, clusters: readonly ManagedCluster[], now: number) {
  const scores: AddOnPlacementScore[] = [];
  for (const cluster of clusters) {
    for (const resource of scoreResources) {
      if (!random.chance(0.6)) continue;
      const items = random.subset(scoreNames).map((name) => ({ name, value: random.int(-100, 100) }));
      const r = random.float();
      // Only one score resource ever expires (see expiringScore).
      const expired = resource === expiringScore && r >= 0.92;
      const validUntil =
        r < 0.75 ? undefined : expired ? formatTime(now - 3_600_000) : formatTime(now + 86_400_000);
      scores.push({
        apiVersion: `${clusterApi}/v1alpha1`,
        kind: "AddOnPlacementScore",
        metadata: { name: resource, namespace: cluster.metadata.name! },
        status: { scores: items, ...(validUntil ? { validUntil } : {}) },
      });
    }
  }
  return scores;
}

function clusterSetsFor(random: Random): ManagedClusterSet[] {
  const set = (name: string, spec: ManagedClusterSet["spec"]): ManagedClusterSet => ({
    apiVersion: `${clusterApi}/v1beta2`,
    kind: "ManagedClusterSet",
    metadata: { name },
    spec,
  });
  const sets = exclusiveSets.map((name) =>
    set(name, { clusterSelector: { selectorType: "ExclusiveClusterSetLabel" } }),
  );
  const selectors: Record<string, LabelSelector | undefined> = {
    "prod-set": { matchLabels: { env: "prod" } },
    "tier-set": { matchExpressions: [{ key: "tier", operator: "In", values: ["1", "2"] }] },
    everything: {},
    "no-selector": undefined,
  };
  // "everything" (like OCM's global set) is always there; the others come and go.
  for (const name of selectorSets.filter((n) => n === "everything" || random.chance(0.5))) {
    const labelSelector = selectors[name];
    sets.push(
      set(name, {
        clusterSelector: { selectorType: "LabelSelector", ...(labelSelector ? { labelSelector } : {}) },
      }),
    );
  }
  return sets;
}

function bindingsFor(random: Random, sets: readonly ManagedClusterSet[]): ManagedClusterSetBinding[] {
  const names = [...sets.map((s) => s.metadata.name!), "missing-set"];
  const bindings: ManagedClusterSetBinding[] = [];
  for (const namespace of placementNamespaces) {
    // Nearly always at least one binding; sometimes none, which OCM reports.
    const chosen = random.chance(0.05) ? [] : random.subset(names, random.int(1, names.length));
    for (const name of chosen) {
      bindings.push({
        apiVersion: `${clusterApi}/v1beta2`,
        kind: "ManagedClusterSetBinding",
        metadata: { name, namespace },
        spec: { clusterSet: name },
      });
    }
  }
  return bindings;
}

function ghostDecisionsFor(random: Random, names: readonly string[]): PlacementDecision[] {
  const decisions: PlacementDecision[] = [];
  const count = random.pick([0, 1, 2, 4]);
  for (let i = 0; i < count; i++) {
    const chosen = random.subset([...names, "retired-cluster"], random.int(0, Math.min(names.length, 12)));
    decisions.push({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "PlacementDecision",
      metadata: {
        name: `ghost-${i}-decision-1`,
        namespace: ghostNamespace,
        labels: { [Labels.placement]: `ghost-${i}` },
      },
      status: { decisions: chosen.map((clusterName) => ({ clusterName, reason: "" })) },
    });
  }
  return decisions;
}

/**
 * Decisions some placements have before they are first scheduled (Steady and NoSelectIfNew count
 * them, Balance leaves them out), named so that OCM's controller replaces them with its own; and
 * decisions labelled with a placement's name in the other namespace, which are not its own.
 */
function priorDecisionsFor(
  random: Random,
  placements: readonly GeneratedPlacement[],
  names: readonly string[],
): PlacementDecision[] {
  const decisions: PlacementDecision[] = [];
  const pd = (name: string, namespace: string, placement: string): PlacementDecision => ({
    apiVersion: `${clusterApi}/v1beta1`,
    kind: "PlacementDecision",
    metadata: { name, namespace, labels: { [Labels.placement]: placement } },
    status: {
      decisions: random
        .subset(names, random.int(1, Math.min(6, names.length)))
        .map((clusterName) => ({ clusterName, reason: "" })),
    },
  });
  for (const { placement } of placements) {
    const { name, namespace } = placement.metadata as { name: string; namespace: string };
    if (random.chance(0.15)) decisions.push(pd(`${name}-prior`, namespace, name));
    if (random.chance(0.08)) {
      const elsewhere = placementNamespaces.find((ns) => ns !== namespace)!;
      decisions.push(pd(`${name}-elsewhere`, elsewhere, name));
    }
  }
  return decisions;
}

// Placements -----------------------------------------------------------------------------------

function requirement(random: Random, forClaims: boolean): LabelSelectorRequirement {
  const keys = forClaims
    ? [
        [claimRegion, ["eu-west", "eu-central", "us-east"]],
        [claimPlatform, ["AWS", "GCP", "Other"]],
        [claimZone, ["a", "b", "c"]],
        ["id.k8s.io", []],
      ]
    : [
        ["env", ["prod", "staging", "dev"]],
        ["tier", ["1", "2", "3"]],
        ["region", ["eu", "us", "ap"]],
        ["gpu", ["true"]],
        ["canary", ["true"]],
      ];
  const [key, values] = random.pick(keys as [string, string[]][]);
  const operator = random.pick(["In", "NotIn", "Exists", "DoesNotExist"] as const);
  if (operator === "Exists" || operator === "DoesNotExist" || values.length === 0) {
    return { key, operator: values.length === 0 ? "Exists" : operator };
  }
  return { key, operator, values: random.subset(values, random.int(1, values.length)) };
}

function labelSelector(random: Random): LabelSelector {
  const selector: LabelSelector = {};
  if (random.chance(0.5)) {
    const key = random.pick(["env", "tier", "region"]);
    const value = { env: ["prod", "staging"], tier: ["1", "2"], region: ["eu", "us"] }[key]!;
    selector.matchLabels = { [key]: random.pick(value) };
  }
  if (random.chance(0.6) || !selector.matchLabels) {
    selector.matchExpressions = Array.from({ length: random.int(1, 2) }, () => requirement(random, false));
  }
  return selector;
}

function claimSelector(random: Random) {
  return { matchExpressions: Array.from({ length: random.int(1, 2) }, () => requirement(random, true)) };
}

function predicates(random: Random): ClusterPredicate[] {
  const count = random.pick([0, 0, 1, 1, 1, 2]);
  return Array.from({ length: count }, () => {
    const selector: NonNullable<ClusterPredicate["requiredClusterSelector"]> = {};
    if (random.chance(0.6)) selector.labelSelector = labelSelector(random);
    if (random.chance(0.4)) selector.claimSelector = claimSelector(random);
    if (random.chance(0.35))
      selector.celSelector = { celExpressions: random.subset(celTemplates, random.int(1, 2)) };
    return { requiredClusterSelector: selector };
  });
}

function tolerations(random: Random): Toleration[] {
  const pool: (() => Toleration)[] = [
    () => ({ key: taintUnreachable, operator: "Exists" }),
    () => ({ key: "maintenance", operator: "Exists", effect: "NoSelectIfNew" }),
    () => ({ key: "maintenance", operator: "Equal", value: "planned" }),
    () => ({ key: "dedicated", value: random.pick(["team-a", "team-b"]) }),
    () => ({ key: "dedicated", operator: "Exists", effect: "NoSelect" }),
    () => ({ key: "gpu", operator: "Exists", effect: "PreferNoSelect" }),
    () => ({ operator: "Exists", effect: random.pick(["NoSelect", "NoSelectIfNew"] as const) }),
    // An explicit empty operator means Equal.
    () => ({ key: "dedicated", operator: "", value: random.pick(["team-a", "team-b"]) }),
  ];
  return random.subset(pool, random.pick([0, 0, 1, 1, 2, 3])).map((make) => {
    const toleration = make();
    // Either forever, or clearly expired (taints were added 10 minutes ago), or clearly not.
    if (random.chance(0.3)) toleration.tolerationSeconds = random.pick([0, 60, 86_400]);
    return toleration;
  });
}

type Coordinate = PrioritizerConfig["scoreCoordinate"];

function coordinate(random: Random, balance = false): Coordinate {
  const r = random.float();
  if (r < 0.55) {
    return {
      type: "BuiltIn",
      builtIn: random.pick([
        "ResourceAllocatableCPU",
        "ResourceAllocatableMemory",
        "Steady",
        "Balance",
      ] as const),
    };
  }
  const resources = balance ? scoreResources.filter((name) => name !== expiringScore) : scoreResources;
  return {
    type: "AddOn",
    addOn: { resourceName: random.pick(resources), scoreName: random.pick(scoreNames) },
  };
}

function isBalance(c: Coordinate): boolean {
  return (c.type ?? "BuiltIn") === "BuiltIn" && c.builtIn === "Balance";
}

function isSteady(c: Coordinate): boolean {
  return (c.type ?? "BuiltIn") === "BuiltIn" && c.builtIn === "Steady";
}

/** The weight Balance gets: Additive starts at 1, Exact at 0; the last configuration wins. */
export function balanceWeight(spec: PlacementSpec): number {
  const mode = spec.prioritizerPolicy?.mode ?? "Additive";
  let weight = mode === "Exact" ? 0 : 1;
  for (const config of spec.prioritizerPolicy?.configurations ?? []) {
    if (config.scoreCoordinate && isBalance(config.scoreCoordinate)) weight = config.weight ?? 1;
  }
  return weight;
}

/** The weight Steady gets, by the same rules. */
export function steadyWeight(spec: PlacementSpec): number {
  const mode = spec.prioritizerPolicy?.mode ?? "Additive";
  let weight = mode === "Exact" ? 0 : 1;
  for (const config of spec.prioritizerPolicy?.configurations ?? []) {
    if (config.scoreCoordinate && isSteady(config.scoreCoordinate)) weight = config.weight ?? 1;
  }
  return weight;
}

function prioritizerPolicy(random: Random, balance: boolean): PlacementSpec["prioritizerPolicy"] {
  // Half the Balance placements rank by Balance alone (OCM's defaults, or Balance with a weight),
  // so that what the other placements decided is what chooses.
  if (balance && random.chance(0.5)) {
    const r = random.float();
    if (r < 0.4) return undefined;
    if (r < 0.7) return { mode: "Additive" };
    return {
      mode: "Exact",
      configurations: [
        { scoreCoordinate: { type: "BuiltIn", builtIn: "Balance" }, weight: random.int(1, 3) },
      ],
    };
  }
  const mode = random.pick([undefined, "Additive", "Additive", "Exact"] as const);
  const configurations: PrioritizerConfig[] = Array.from({ length: random.pick([0, 1, 1, 2, 3]) }, () => {
    const scoreCoordinate = coordinate(random, balance);
    const config: PrioritizerConfig = { scoreCoordinate };
    if (random.chance(0.8))
      config.weight = isSteady(scoreCoordinate) ? random.int(0, 10) : random.int(-10, 10);
    return config;
  }).filter((c) => balance || !isBalance(c.scoreCoordinate));
  // The same AddOn score twice: OCM runs each configuration as its own prioritizer.
  const addOn = configurations.find((c) => c.scoreCoordinate.type === "AddOn");
  if (addOn && random.chance(0.3)) {
    configurations.push({
      scoreCoordinate: structuredClone(addOn.scoreCoordinate),
      weight: random.int(-10, 10),
    });
  }
  const policy: NonNullable<PlacementSpec["prioritizerPolicy"]> = {};
  if (mode) policy.mode = mode;
  if (configurations.length > 0) policy.configurations = configurations;
  const spec = { prioritizerPolicy: policy };
  if (!balance && balanceWeight(spec) !== 0) {
    (policy.configurations ??= []).push({
      scoreCoordinate: { type: "BuiltIn", builtIn: "Balance" },
      weight: 0,
    });
  }
  if (balance && balanceWeight(spec) === 0) {
    (policy.configurations ??= []).push({
      scoreCoordinate: { type: "BuiltIn", builtIn: "Balance" },
      weight: random.pick([1, 2, -1, 5]),
    });
  }
  return random.chance(0.1) && !balance && Object.keys(policy).length === 0 ? undefined : policy;
}

function decisionStrategy(random: Random): PlacementSpec["decisionStrategy"] {
  if (random.chance(0.55)) return undefined;
  const groupStrategy: NonNullable<NonNullable<PlacementSpec["decisionStrategy"]>["groupStrategy"]> = {};
  const r = random.float();
  if (r < 0.35) groupStrategy.clustersPerDecisionGroup = random.int(1, 6);
  else if (r < 0.7) groupStrategy.clustersPerDecisionGroup = `${random.pick([1, 10, 25, 33, 50, 99, 100])}%`;
  else if (r < 0.74) groupStrategy.clustersPerDecisionGroup = String(random.int(1, 4));
  if (random.chance(0.6)) {
    const groups: DecisionGroup[] = Array.from({ length: random.int(1, 2) }, (_, i) => ({
      groupName: random.pick(["canary", "eu_west.1", `wave-${i}`, "prod"]),
      groupClusterSelector: random.chance(0.6)
        ? { labelSelector: labelSelector(random) }
        : { claimSelector: claimSelector(random) },
    }));
    groupStrategy.decisionGroups = groups;
  }
  return { groupStrategy };
}

/** A deliberate configuration error of a kind the CRD accepts and the scheduler reports. */
function misconfigure(random: Random, spec: PlacementSpec): void {
  switch (random.int(0, 10)) {
    case 0:
      (spec.tolerations ??= []).push({ operator: "Equal", effect: "NoSelect" });
      break;
    case 1:
      (spec.tolerations ??= []).push({ key: "gpu", operator: "Exists", value: "none" });
      break;
    case 2:
      spec.predicates = [
        {
          requiredClusterSelector: { labelSelector: { matchExpressions: [{ key: "env", operator: "In" }] } },
        },
      ];
      break;
    case 3:
      spec.predicates = [{ requiredClusterSelector: { celSelector: { celExpressions: [celInvalid] } } }];
      break;
    case 4:
      spec.prioritizerPolicy = {
        ...spec.prioritizerPolicy,
        configurations: [
          ...(spec.prioritizerPolicy?.configurations ?? []),
          { scoreCoordinate: { type: "BuiltIn", builtIn: "Bogus" as "Balance" }, weight: 1 },
        ],
      };
      break;
    case 5:
      spec.prioritizerPolicy = { ...spec.prioritizerPolicy, mode: "Sum" as "Exact" };
      break;
    case 7:
      (spec.tolerations ??= []).push({ key: "dedicated", operator: "Matches" as "Equal", value: "team-a" });
      break;
    case 8:
      spec.predicates = [
        {
          requiredClusterSelector: {
            labelSelector: random.chance(0.5)
              ? { matchLabels: { env: "not valid!" } }
              : { matchLabels: { "bad key": "x" } },
          },
        },
      ];
      break;
    case 9:
      spec.predicates = [
        {
          requiredClusterSelector: {
            claimSelector: {
              matchExpressions: [{ key: claimRegion, operator: "Near" as "In", values: ["eu-west"] }],
            },
          },
        },
      ];
      break;
    default:
      spec.decisionStrategy = {
        groupStrategy: {
          decisionGroups: [
            {
              groupName: "bad",
              groupClusterSelector: {
                labelSelector: { matchExpressions: [{ key: "tier", operator: "Exists", values: ["1"] }] },
              },
            },
          ],
        },
      };
  }
}

function placementSpec(
  random: Random,
  clusterCount: number,
  balance: boolean,
  setNames: readonly string[],
): PlacementSpec {
  const spec: PlacementSpec = {};
  if (random.chance(0.1)) {
    // Every cluster of the global set, whatever its taints: large rounds split at 100 decisions.
    spec.clusterSets = ["everything"];
    spec.tolerations = [{ operator: "Exists" }];
    const policy = prioritizerPolicy(random, balance);
    if (policy) spec.prioritizerPolicy = policy;
    const strategy = decisionStrategy(random);
    if (strategy) spec.decisionStrategy = strategy;
    return spec;
  }
  // Ranking only shows when fewer clusters are wanted than pass the filters: mostly a few, and
  // some placements (more of those that use Balance) filter little, so that there is a choice.
  const light = random.chance(balance ? 0.6 : 0.3);
  if (!light && random.chance(0.3))
    spec.clusterSets = random.subset([...setNames, "missing-set"], random.int(1, 3));
  if (random.chance(light ? 0.95 : 0.75)) {
    spec.numberOfClusters = random.chance(0.75)
      ? random.int(1, 4)
      : random.int(0, Math.min(clusterCount + 2, 12));
  }
  const p = light ? [] : predicates(random);
  if (p.length > 0) spec.predicates = p;
  const t = light
    ? [{ key: taintUnreachable, operator: "Exists" as const }, ...tolerations(random)]
    : tolerations(random);
  if (t.length > 0) spec.tolerations = t;
  const policy = prioritizerPolicy(random, balance);
  if (policy) spec.prioritizerPolicy = policy;
  const strategy = decisionStrategy(random);
  if (strategy) spec.decisionStrategy = strategy;
  return spec;
}

/** Act 2's spec: a few changes to act 1's, still without Balance and with Steady ≥ 0. */
function followUpSpec(random: Random, spec: PlacementSpec, clusterCount: number): PlacementSpec {
  const next = structuredClone(spec);
  // A new ranking, mostly by a prioritizer light enough for Steady (100 per decided cluster) to
  // hold the decided clusters against it, then perhaps one more change.
  const policy = (next.prioritizerPolicy ??= {});
  (policy.configurations ??= []).push({
    scoreCoordinate: random.chance(0.5)
      ? {
          type: "BuiltIn",
          builtIn: random.pick(["ResourceAllocatableCPU", "ResourceAllocatableMemory"] as const),
        }
      : coordinate(random),
    weight: random.chance(0.7) ? random.int(-2, 2) : random.int(-10, 10),
  });
  // Often a heavier Steady, so that the decided clusters hold against the new ranking.
  if (random.chance(0.5)) {
    policy.configurations.push({
      scoreCoordinate: { type: "BuiltIn", builtIn: "Steady" },
      weight: random.int(1, 10),
    });
  }
  policy.configurations = policy.configurations.filter((c) => !isBalance(c.scoreCoordinate));
  policy.configurations.push({ scoreCoordinate: { type: "BuiltIn", builtIn: "Balance" }, weight: 0 });
  if (random.chance(0.6)) {
    switch (random.int(0, 3)) {
      case 0:
      case 1:
        next.numberOfClusters = random.chance(0.7)
          ? random.int(1, 4)
          : random.int(1, Math.min(clusterCount + 1, 12));
        break;
      case 2:
        if (next.tolerations?.length) next.tolerations = next.tolerations.slice(1);
        else next.tolerations = tolerations(random);
        if (next.tolerations.length === 0) delete next.tolerations;
        break;
      default:
        next.predicates = predicates(random);
        if (next.predicates.length === 0) delete next.predicates;
    }
  }
  // Steady must not push decided clusters out (a negative weight would flip them on every pass).
  for (const config of next.prioritizerPolicy?.configurations ?? []) {
    if (isSteady(config.scoreCoordinate) && (config.weight ?? 1) < 0) config.weight = -(config.weight ?? 1);
  }
  return next;
}

function act2Fleet(random: Random, fleet: FleetState, now: number): FleetState {
  const clusters = fleet.clusters.map((original) => {
    const cluster = structuredClone(original);
    const r = random.float();
    if (r < 0.2) {
      // A maintenance window: decided clusters stay, new ones are not chosen.
      const taints = (cluster.spec!.taints ?? []).filter((t) => t.key !== "maintenance");
      taints.push({
        key: "maintenance",
        value: "true",
        effect: "NoSelectIfNew",
        timeAdded: formatTime(now - 10 * 60_000),
      });
      cluster.spec!.taints = taints;
    } else if (r < 0.3) {
      delete cluster.spec!.taints;
    } else if (r < 0.4) {
      const taints = cluster.spec!.taints ?? [];
      taints.push({
        key: "dedicated",
        value: "team-a",
        effect: "NoSelect",
        timeAdded: formatTime(now - 10 * 60_000),
      });
      cluster.spec!.taints = taints;
    } else if (r < 0.55) {
      const value = random.pick(cpuValues);
      cluster.status = {
        ...cluster.status,
        allocatable: { ...cluster.status?.allocatable, cpu: value },
        capacity: { ...cluster.status?.capacity, cpu: value },
      };
    } else if (r < 0.65) {
      cluster.metadata.labels = { ...cluster.metadata.labels, env: random.pick(["prod", "staging", "dev"]) };
    }
    return cluster;
  });
  const scores = fleet.scores.map((original) => {
    const score = structuredClone(original);
    if (random.chance(0.5)) {
      score.status = {
        ...score.status,
        scores: (score.status?.scores ?? []).map((s) => ({ ...s, value: random.int(-100, 100) })),
      };
    }
    return score;
  });
  return { clusters, scores };
}

export function generateRound(seed: number, now: number, options: GeneratorOptions = {}): GeneratedRound {
  const random = new Random(seed);
  const [minClusters, maxClusters] = options.clusters ?? [6, 30];
  const clusterCount = random.int(minClusters, maxClusters);
  const names = clusterNames(random, clusterCount);
  const clusters = names.map((name) => generateCluster(random, name, now));
  const scores = generateScores(random, clusters, now);
  const clusterSets = clusterSetsFor(random);
  const bindings = bindingsFor(random, clusterSets);
  const ghostDecisions = ghostDecisionsFor(random, names);
  const setNames = clusterSets.map((s) => s.metadata.name!);
  const placements: GeneratedPlacement[] = [];
  const count = options.placements ?? 30;
  for (let i = 0; i < count; i++) {
    const kind: PlacementKind = random.chance(0.4) ? "sequential" : "batch";
    const spec = placementSpec(random, clusterCount, kind === "sequential", setNames);
    if (random.chance(options.misconfigured ?? 0.06)) misconfigure(random, spec);
    // Misconfiguring may have touched the prioritizers: the kind follows the spec.
    const actualKind: PlacementKind = balanceWeight(spec) === 0 ? "batch" : "sequential";
    const generated: GeneratedPlacement = {
      kind: actualKind,
      placement: {
        apiVersion: `${clusterApi}/v1beta1`,
        kind: "Placement",
        metadata: { name: `p-${i}`, namespace: random.pick(placementNamespaces) },
        spec,
      },
    };
    // Follow-ups show Steady best where there is a choice: few clusters wanted, little filtering.
    const choice = spec.numberOfClusters !== undefined && spec.numberOfClusters > 0 && !spec.predicates;
    if (actualKind === "batch" && random.chance((options.followUps ?? 0.3) * (choice ? 2 : 0.5))) {
      generated.followUp = followUpSpec(random, spec, clusterCount);
    }
    placements.push(generated);
  }
  ghostDecisions.push(...priorDecisionsFor(random, placements, names));
  const fleet = { clusters, scores };
  return {
    seed,
    now,
    namespaces: placementNamespaces,
    ghostNamespace,
    clusterSets,
    bindings,
    fleet,
    ghostDecisions,
    placements,
    act2: act2Fleet(random, fleet, now),
  };
}
