// The placement differential: OCM's own placement controller and bosun's scheduler on the
// same hub objects. For each generated round it writes the fleet, lets OCM's controller
// schedule the Placements, reads back what OCM wrote, and computes bosun's answer with the pure
// scheduler from the same objects as the API server returns them.
//
// OCM's answers must not depend on the order it happens to schedule placements in, nor on how
// its watches interleave, so the harness controls when OCM runs:
//   - the fleet and the batch placements are written while OCM is stopped; OCM then starts,
//     lists everything (its caches hold the whole round) and schedules them. Batch placements
//     do not use Balance, so they do not depend on each other;
//   - sequential placements (they use Balance) are created one by one, each once the one before
//     has its status, so each sees a settled set of other decisions (they read no score that
//     expires: OCM would retry them, and a retry decides anew against the later decisions);
//   - act 2 stops OCM, changes the fleet and the follow-up specs, clears their status and
//     starts OCM again: each follow-up is scheduled once, against its act 1 decisions.
// A Placement has been scheduled once its status shows up and its PlacementDecisions agree with
// it: OCM writes the decisions first and the status after, and a later pass over the same state
// changes nothing (Steady never has a negative weight here). bosun's scheduler is given the
// decisions that existed just before OCM's first pass over the placement.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Labels, Namespaces } from "../../../api/constants.ts";
import type {
  AddOnPlacementScore,
  ManagedCluster,
  ManagedClusterSet,
  ManagedClusterSetBinding,
} from "../../../api/types/cluster.ts";
import type { Placement, PlacementDecision } from "../../../api/types/placement.ts";
import { PlacementCel } from "../../../controllers/placement/cel/environment.ts";
import { FleetIndex, type FleetObjects } from "../../../controllers/placement/scheduler/fleet.ts";
import { schedule } from "../../../controllers/placement/scheduler/scheduler.ts";
import { freePort } from "../../../local/ports.ts";
import { ManagedProcess, tailOfFile } from "../../../local/process.ts";
import { KubeApiError } from "../../../runtime/errors.ts";
import { refOf, type KubeClient } from "../../../runtime/kube/client.ts";
import type { KubeObject } from "../../../runtime/kube/types.ts";
import type { GeneratedPlacement, GeneratedRound } from "../fleet-generator.ts";
import {
  decisionsOf,
  deliberateDifference,
  outcomeDifferences,
  placementOutcome,
  withoutPreferNoSelect,
  type PlacementOutcome,
} from "./placement-outcome.ts";

const clusterApi = "cluster.open-cluster-management.io";
const v1 = `${clusterApi}/v1`;
const v1beta1 = `${clusterApi}/v1beta1`;
const v1beta2 = `${clusterApi}/v1beta2`;
const v1alpha1 = `${clusterApi}/v1alpha1`;

export interface PairResult {
  seed: number;
  act: 1 | 2;
  /** namespace/name */
  placement: string;
  kind: GeneratedPlacement["kind"];
  /** Empty when the answers agree. */
  differences: string[];
  /** Why the answers differ on purpose, when they do. */
  deliberate?: string;
  ocm: PlacementOutcome;
  bosun: PlacementOutcome;
  /** Everything needed to replay the pair without a hub (printed on a mismatch). */
  replay: ReplayCase;
}

/** One Placement and the hub objects it was scheduled against, as the API server returned them. */
export interface ReplayCase {
  now: number;
  placement: Placement;
  fleet: FleetObjects;
}

export interface DifferentialOptions {
  client: KubeClient;
  kubeconfigPath: string;
  /** OCM's `placement` binary. */
  placementBinary: string;
  logDir: string;
  /** How long one OCM pass may take before the round fails. */
  settleTimeoutMs?: number;
}

/** Holds the clusters a round wants in deletion. */
const holdFinalizer = "compat.bosun.dev/hold";

const stripMeta = <T extends KubeObject>(object: T): T => {
  const {
    managedFields: _m,
    resourceVersion: _r,
    generation: _g,
    creationTimestamp: _c,
    ...metadata
  } = object.metadata;
  return { ...object, metadata };
};

async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

/** OCM's placement controller as a child process, started and stopped around each pass. */
class OcmPlacement {
  readonly #options: DifferentialOptions;
  #process: ManagedProcess | undefined;

  constructor(options: DifferentialOptions) {
    this.#options = options;
  }

  get logFile(): string {
    return join(this.#options.logDir, "ocm-placement.log");
  }

  async start(): Promise<void> {
    await this.stop();
    const port = await freePort();
    this.#process = new ManagedProcess({
      name: "ocm-placement",
      command: this.#options.placementBinary,
      args: [
        "controller",
        `--kubeconfig=${this.#options.kubeconfigPath}`,
        `--namespace=${Namespaces.hub}`,
        "--disable-leader-election",
        `--listen=127.0.0.1:${port}`,
      ],
      logFile: this.logFile,
      persistent: false,
    });
    await this.#process.start();
  }

  get exited(): { code: number | null } | undefined {
    return this.#process?.exited;
  }

  async stop(): Promise<void> {
    await this.#process?.stop(10_000);
    this.#process = undefined;
  }
}

export class PlacementDifferential {
  readonly #client: KubeClient;
  readonly #ocm: OcmPlacement;
  readonly #settleTimeoutMs: number;
  readonly #cel = new PlacementCel();
  readonly #namespaces = new Set<string>();
  /** Every namespace a round has put placements, decisions or bindings in. */
  readonly #roundNamespaces = new Set<string>();

  private constructor(options: DifferentialOptions) {
    this.#client = options.client;
    this.#ocm = new OcmPlacement(options);
    this.#settleTimeoutMs = options.settleTimeoutMs ?? 60_000;
  }

  static async create(options: DifferentialOptions): Promise<PlacementDifferential> {
    await mkdir(options.logDir, { recursive: true });
    const differential = new PlacementDifferential(options);
    await differential.#ensureNamespace(Namespaces.hub);
    return differential;
  }

  async stop(): Promise<void> {
    await this.#ocm.stop();
  }

  /** The tail of OCM's log, for a failure report. */
  logTail(lines = 40): Promise<string> {
    return tailOfFile(this.#ocm.logFile, lines);
  }

  async #ensureNamespace(name: string): Promise<void> {
    if (this.#namespaces.has(name)) return;
    try {
      await this.#client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
    }
    this.#namespaces.add(name);
  }

  // Writing a round -----------------------------------------------------------------------------

  /** Deletes every object of the previous rounds (OCM is stopped) and waits until they are gone. */
  async #clear(): Promise<void> {
    const namespaced: [string, string][] = [
      [v1beta1, "placements"],
      [v1beta1, "placementdecisions"],
      [v1beta2, "managedclustersetbindings"],
    ];
    const namespaces = [...this.#roundNamespaces];
    await Promise.all(
      namespaces.flatMap((ns) =>
        namespaced.map(([apiVersion, plural]) =>
          this.#client.request({ method: "DELETE", path: `/apis/${apiVersion}/namespaces/${ns}/${plural}` }),
        ),
      ),
    );
    const held = await this.#client.listAll<ManagedCluster>(v1, "ManagedCluster");
    await inBatches(
      held.items.filter((c) => c.metadata.finalizers?.includes(holdFinalizer)),
      16,
      (c) =>
        this.#client.patch({ apiVersion: v1, kind: "ManagedCluster", name: c.metadata.name! }, "merge", {
          metadata: { finalizers: null },
        }),
    );
    await Promise.all(
      [
        [v1, "managedclusters"],
        [v1beta2, "managedclustersets"],
      ].map(([apiVersion, plural]) =>
        this.#client.request({ method: "DELETE", path: `/apis/${apiVersion}/${plural}` }),
      ),
    );
    const scores = await this.#client.listAll<AddOnPlacementScore>(v1alpha1, "AddOnPlacementScore");
    await inBatches(scores.items, 16, (s) =>
      this.#client.delete({
        apiVersion: v1alpha1,
        kind: "AddOnPlacementScore",
        name: s.metadata.name!,
        namespace: s.metadata.namespace!,
      }),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const left = await Promise.all([
        this.#client.list(v1beta1, "Placement", { limit: 1 }),
        this.#client.list(v1beta1, "PlacementDecision", { limit: 1 }),
        this.#client.list(v1, "ManagedCluster", { limit: 1 }),
        this.#client.list(v1beta2, "ManagedClusterSet", { limit: 1 }),
        this.#client.list(v1beta2, "ManagedClusterSetBinding", { limit: 1 }),
        this.#client.list(v1alpha1, "AddOnPlacementScore", { limit: 1 }),
      ]);
      if (left.every((l) => l.items.length === 0)) return;
      if (Date.now() > deadline) throw new Error("the previous round's objects are still there after 30s");
      await sleep(100);
    }
  }

  /**
   * Creates an object and writes its status. An object generated with a deletionTimestamp is
   * created with a finalizer that holds it, then deleted.
   */
  async #createWithStatus<T extends KubeObject & { status?: unknown }>(object: T): Promise<void> {
    const { status, ...body } = object;
    const { deletionTimestamp, ...metadata } = body.metadata;
    if (deletionTimestamp) metadata.finalizers = [...(metadata.finalizers ?? []), holdFinalizer];
    const created = await this.#client.create({ ...body, metadata } as T);
    if (status !== undefined) {
      await this.#client.replace({ ...created, status }, { subresource: "status" });
    }
    if (deletionTimestamp) await this.#client.delete(refOf(created));
  }

  async #writeFleet(round: GeneratedRound): Promise<void> {
    for (const ns of [...round.namespaces, round.ghostNamespace]) {
      await this.#ensureNamespace(ns);
      this.#roundNamespaces.add(ns);
    }
    await inBatches(round.fleet.clusters, 16, (c) => this.#ensureNamespace(c.metadata.name!));
    await inBatches(round.clusterSets, 8, (s) => this.#client.create(s));
    await inBatches(round.bindings, 8, (b) => this.#client.create(b));
    await inBatches(round.fleet.clusters, 16, (c) => this.#createWithStatus(c));
    await inBatches(round.fleet.scores, 16, (s) => this.#createWithStatus(s));
    await inBatches(round.ghostDecisions, 8, (d) => this.#createWithStatus(d));
  }

  /** Act 2's fleet: replaces each changed cluster and score (spec, labels and status). */
  async #updateFleet(round: GeneratedRound): Promise<void> {
    const before = new Map(round.fleet.clusters.map((c) => [c.metadata.name!, c]));
    const changed = round.act2.clusters.filter(
      (c) => JSON.stringify(c) !== JSON.stringify(before.get(c.metadata.name!)),
    );
    await inBatches(changed, 16, async (cluster) => {
      const current = await this.#client.get<ManagedCluster>({
        apiVersion: v1,
        kind: "ManagedCluster",
        name: cluster.metadata.name!,
      });
      const updated = await this.#client.replace<ManagedCluster>({
        ...current,
        metadata: { ...current.metadata, labels: cluster.metadata.labels ?? {} },
        spec: cluster.spec ?? {},
      });
      await this.#client.replace({ ...updated, status: cluster.status ?? {} }, { subresource: "status" });
    });
    const scoresBefore = new Map(
      round.fleet.scores.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]),
    );
    const changedScores = round.act2.scores.filter(
      (s) =>
        JSON.stringify(s) !== JSON.stringify(scoresBefore.get(`${s.metadata.namespace}/${s.metadata.name}`)),
    );
    await inBatches(changedScores, 16, async (score) => {
      const current = await this.#client.get<AddOnPlacementScore>({
        apiVersion: v1alpha1,
        kind: "AddOnPlacementScore",
        name: score.metadata.name!,
        namespace: score.metadata.namespace!,
      });
      await this.#client.replace({ ...current, status: score.status ?? {} }, { subresource: "status" });
    });
  }

  /**
   * Gives the decisions written for a placement before it existed (a replayed case's earlier
   * decisions) the owner reference its controller would have set when it created them.
   */
  async #adoptDecisions(placements: ReadonlyMap<string, Placement>): Promise<void> {
    const decisions = await this.#readDecisions();
    await inBatches(decisions, 16, async (pd) => {
      const owner = placements.get(`${pd.metadata.namespace}/${pd.metadata.labels?.[Labels.placement]}`);
      if (!owner || pd.metadata.ownerReferences?.length) return;
      await this.#client.patch(refOf(pd), "merge", {
        metadata: {
          ownerReferences: [
            {
              apiVersion: v1beta1,
              kind: "Placement",
              name: owner.metadata.name,
              uid: owner.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
      });
    });
  }

  // Reading back --------------------------------------------------------------------------------

  async #readFleet(): Promise<Omit<FleetObjects, "decisions">> {
    const [clusters, clusterSets, bindings, scores] = await Promise.all([
      this.#client.listAll<ManagedCluster>(v1, "ManagedCluster"),
      this.#client.listAll<ManagedClusterSet>(v1beta2, "ManagedClusterSet"),
      this.#client.listAll<ManagedClusterSetBinding>(v1beta2, "ManagedClusterSetBinding"),
      this.#client.listAll<AddOnPlacementScore>(v1alpha1, "AddOnPlacementScore"),
    ]);
    return {
      clusters: clusters.items.map(stripMeta),
      clusterSets: clusterSets.items.map(stripMeta),
      bindings: bindings.items.map(stripMeta),
      scores: scores.items.map(stripMeta),
    };
  }

  async #readDecisions(): Promise<PlacementDecision[]> {
    return (await this.#client.listAll<PlacementDecision>(v1beta1, "PlacementDecision")).items.map(stripMeta);
  }

  async #readPlacements(): Promise<Map<string, Placement>> {
    const list = await this.#client.listAll<Placement>(v1beta1, "Placement");
    return new Map(list.items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, stripMeta(p)]));
  }

  /**
   * Waits until OCM has written a status for each of `keys` (namespace/name) and its
   * PlacementDecisions agree with it: OCM writes decisions, then the status, and patches a
   * changed decision's labels one pass later.
   */
  async #waitScheduled(keys: readonly string[]): Promise<Map<string, Placement>> {
    const deadline = Date.now() + this.#settleTimeoutMs;
    for (;;) {
      const [placements, decisions] = await Promise.all([this.#readPlacements(), this.#readDecisions()]);
      const pending = keys.filter((key) => {
        const placement = placements.get(key);
        const types = new Set((placement?.status?.conditions ?? []).map((c) => c.type));
        if (!types.has("PlacementSatisfied") || !types.has("PlacementMisconfigured")) return true;
        return !decisionsAgree(placement!, decisionsOf(placement!, decisions));
      });
      if (pending.length === 0) return placements;
      const exited = this.#ocm.exited;
      if (exited)
        throw new Error(`OCM's placement controller exited (${exited.code}):\n${await this.logTail()}`);
      if (Date.now() > deadline) {
        throw new Error(
          `OCM did not schedule ${pending.slice(0, 5).join(", ")} in time:\n${await this.logTail()}`,
        );
      }
      await sleep(30);
    }
  }

  // Comparing -----------------------------------------------------------------------------------

  #bosunOutcome(placement: Placement, fleet: FleetObjects, now: number): PlacementOutcome {
    const result = schedule(placement, new FleetIndex(fleet), { now, cel: this.#cel });
    return placementOutcome(result.status, result.placementDecisions);
  }

  #compare(
    seed: number,
    act: 1 | 2,
    generated: GeneratedPlacement,
    placement: Placement,
    ocmDecisions: readonly PlacementDecision[],
    fleet: FleetObjects,
  ): PairResult {
    const now = Date.now();
    const ocm = placementOutcome(placement.status, ocmDecisions);
    // What the scheduler sees is the placement's spec, not the status OCM wrote.
    const { status: _status, ...input } = placement;
    const bosun = this.#bosunOutcome(input, fleet, now);
    const differences = outcomeDifferences(ocm, bosun);
    const result: PairResult = {
      seed,
      act,
      placement: `${placement.metadata.namespace}/${placement.metadata.name}`,
      kind: generated.kind,
      differences,
      ocm,
      bosun,
      replay: { now, placement: input, fleet },
    };
    if (differences.length > 0) {
      const deliberate = deliberateDifference(ocm, bosun, () =>
        this.#bosunOutcome(input, withoutPreferNoSelect(fleet), now),
      );
      if (deliberate) result.deliberate = deliberate;
    }
    return result;
  }

  /** Runs one round and returns a result per compared placement (act 1 and act 2). */
  async runRound(round: GeneratedRound): Promise<PairResult[]> {
    const results: PairResult[] = [];
    const keyOf = (g: GeneratedPlacement) => `${g.placement.metadata.namespace}/${g.placement.metadata.name}`;
    await this.#ocm.stop();
    await this.#clear();
    await this.#writeFleet(round);

    // Act 1, batch: written before OCM starts, so its first pass sees the whole round, and the
    // decisions that exist then (of placements that do not exist, or a replayed placement's
    // own earlier ones) are what both schedulers start from.
    const batch = round.placements.filter((p) => p.kind === "batch");
    const created = new Map<string, Placement>();
    await inBatches(batch, 16, async (p) => {
      const placement = await this.#client.create(p.placement);
      created.set(keyOf(p), placement);
    });
    await this.#adoptDecisions(created);
    const initial = await this.#readDecisions();
    await this.#ocm.start();
    let placements = await this.#waitScheduled(batch.map(keyOf));
    const base = await this.#readFleet();
    let decisions = await this.#readDecisions();
    for (const generated of batch) {
      const placement = placements.get(keyOf(generated))!;
      const own = decisionsOf(placement, decisions);
      results.push(this.#compare(round.seed, 1, generated, placement, own, { ...base, decisions: initial }));
    }

    // Act 1, sequential: one at a time, each against the decisions settled before it.
    for (const generated of round.placements.filter((p) => p.kind === "sequential")) {
      const before = await this.#readDecisions();
      await this.#client.create(generated.placement);
      placements = await this.#waitScheduled([keyOf(generated)]);
      decisions = await this.#readDecisions();
      const placement = placements.get(keyOf(generated))!;
      const own = decisionsOf(placement, decisions);
      results.push(this.#compare(round.seed, 1, generated, placement, own, { ...base, decisions: before }));
    }

    // Act 2: OCM stopped while the fleet and the follow-up specs change.
    const followUps = round.placements.filter((p) => p.followUp !== undefined);
    if (followUps.length > 0) {
      await this.#ocm.stop();
      const before = await this.#readDecisions();
      await this.#updateFleet(round);
      await inBatches(followUps, 16, async (generated) => {
        const ref = {
          apiVersion: v1beta1,
          kind: "Placement",
          name: generated.placement.metadata.name!,
          namespace: generated.placement.metadata.namespace!,
        };
        const current = await this.#client.get<Placement>(ref);
        const updated = await this.#client.replace<Placement>({ ...current, spec: generated.followUp! });
        await this.#client.replace({ ...updated, status: {} }, { subresource: "status" });
      });
      await this.#ocm.start();
      placements = await this.#waitScheduled(followUps.map(keyOf));
      const changedBase = await this.#readFleet();
      decisions = await this.#readDecisions();
      for (const generated of followUps) {
        const placement = placements.get(keyOf(generated))!;
        results.push(
          this.#compare(round.seed, 2, generated, placement, decisionsOf(placement, decisions), {
            ...changedBase,
            decisions: before,
          }),
        );
      }
    }
    await this.#ocm.stop();
    return results;
  }
}

/** Whether the PlacementDecisions are exactly those the status lists, labelled with their group. */
function decisionsAgree(placement: Placement, decisions: readonly PlacementDecision[]): boolean {
  const expected = new Map<string, { index: string; name: string }>();
  for (const group of placement.status?.decisionGroups ?? []) {
    for (const name of group.decisions ?? []) {
      expected.set(name, {
        index: String(group.decisionGroupIndex ?? 0),
        name: group.decisionGroupName ?? "",
      });
    }
  }
  return (
    decisions.length === expected.size &&
    decisions.every((pd) => {
      const group = expected.get(pd.metadata.name ?? "");
      return (
        group !== undefined &&
        pd.metadata.labels?.[Labels.decisionGroupIndex] === group.index &&
        pd.metadata.labels?.[Labels.decisionGroupName] === group.name
      );
    })
  );
}

/** A mismatch as a compact, self-contained report: enough to replay it and to record it. */
export function describeMismatch(result: PairResult): string {
  const { placement, fleet } = result.replay;
  const namespace = placement.metadata.namespace;
  const own = decisionsOf(placement, fleet.decisions);
  const counts: Record<string, number> = {};
  for (const pd of fleet.decisions) {
    if (own.includes(pd)) continue;
    for (const d of pd.status?.decisions ?? []) counts[d.clusterName] = (counts[d.clusterName] ?? 0) + 1;
  }
  const compactCluster = (c: ManagedCluster) => ({
    name: c.metadata.name,
    labels: c.metadata.labels,
    ...(c.spec?.taints ? { taints: c.spec.taints } : {}),
    ...(c.status?.clusterClaims
      ? { claims: Object.fromEntries(c.status.clusterClaims.map((x) => [x.name, x.value])) }
      : {}),
    ...(c.status?.allocatable ? { allocatable: c.status.allocatable } : {}),
    ...(c.status?.capacity ? { capacity: c.status.capacity } : {}),
    ...(c.status?.version ? { version: c.status.version.kubernetes } : {}),
  });
  return [
    `seed ${result.seed}, act ${result.act}, ${result.kind} placement ${result.placement}`,
    `differences:\n  ${result.differences.join("\n  ")}`,
    `placement spec: ${JSON.stringify(placement.spec)}`,
    `now: ${new Date(result.replay.now).toISOString()}`,
    `clusters:\n  ${fleet.clusters.map((c) => JSON.stringify(compactCluster(c))).join("\n  ")}`,
    `sets: ${JSON.stringify(fleet.clusterSets.map((s) => ({ name: s.metadata.name, selector: s.spec?.clusterSelector })))}`,
    `bindings in ${namespace}: ${JSON.stringify(fleet.bindings.filter((b) => b.metadata.namespace === namespace).map((b) => b.metadata.name))}`,
    `scores: ${JSON.stringify(fleet.scores.map((s) => ({ at: `${s.metadata.namespace}/${s.metadata.name}`, ...s.status })))}`,
    `own decisions: ${JSON.stringify(own.map((pd) => ({ name: pd.metadata.name, clusters: pd.status?.decisions.map((d) => d.clusterName) })))}`,
    `other decisions per cluster: ${JSON.stringify(counts)}`,
    `ocm:   ${JSON.stringify(result.ocm)}`,
    `bosun: ${JSON.stringify(result.bosun)}`,
  ].join("\n");
}
