// The ManifestWorkReplicaSet controller: watches replica sets, their Placements and
// PlacementDecisions, and the ManifestWorks it wrote for them (labelled with the replica set),
// and for each placement reference writes the template to the clusters its rollout strategy
// releases now, removes the works of clusters that left the decisions, and reports the
// summary and conditions. What to write and what to report come from the pure rollout,
// desired-works and status functions; this class reads the caches and makes the calls.
//
// A replica set may name a bundle (bundle.ts): manifests kept in ConfigMaps beside it, read from
// a cache of those ConfigMaps only and appended to the template's own. Until every content
// object of the named bundle is there and valid, the replica set says so and its works are left
// as they are, so a cluster never gets half a bundle.
import { isDeepStrictEqual } from "node:util";
import { generate } from "json-merge-patch";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import {
  BosunBundleAnnotations,
  BosunBundleLabels,
  BosunReplicaSetReasons,
  BosunWorkAnnotations,
  ConditionStatus,
  Finalizers,
  keyOfDottedName,
  Labels,
  ManifestWorkReplicaSetConditions,
  Resources,
  Work,
} from "../../api/constants.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import type {
  ManifestWork,
  ManifestWorkReplicaSet,
  ManifestWorkReplicaSetStatus,
  ManifestWorkSpec,
} from "../../api/types/work.ts";
import type { Clock } from "../../runtime/clock.ts";
import { setCondition, type ConditionUpdate } from "../../runtime/conditions.ts";
import { Controller, type ReconcileContext } from "../../runtime/controller.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import { refOf, type KubeApi } from "../../runtime/kube/client.ts";
import { objectKey, type KubeObject } from "../../runtime/kube/types.ts";
import { writeOwnedFields } from "../../runtime/owned-write.ts";
import { OwnWrites } from "../../runtime/own-writes.ts";
import { patchStatus } from "../../runtime/status.ts";
import { HubInformers } from "../informers.ts";
import { splitManifests, templateHash } from "../work/split.ts";
import { validateManifestWorkReplicaSet } from "../work/validate.ts";
import {
  clustersFromDecisions,
  computeRollout,
  type ClusterRolloutStatus,
  type RolloutOutcome,
} from "./rollout.ts";
import { bundleRefOf, readBundle, withBundle, type ContentObject } from "./bundle.ts";
import {
  clusterRolloutStatus,
  desiredWorks,
  replicaSetKey,
  replicaSetStatus,
  workLabels,
  worksCarryLabels,
  worksMatchTemplate,
  type PlacementState,
} from "./status.ts";
import { forEachLimited } from "../../runtime/concurrency.ts";

export const replicaSetFieldManager = "bosun-replicaset";

/** The index of replica sets by the placements they reference: `<namespace>/<placement>`. */
const byPlacementIndex = "placement";

/** The index of bundle content objects by their replica set and bundle hash. */
const byBundleIndex = "bundle";

const bundleIndexKey = (replicaSetKey: string, hash: string) => `${replicaSetKey}\u0000${hash}`;

/** Extra delay after a soak time or progress deadline ends, so the recheck sees it ended. */
const recheckMarginMs = 100;

/** Work writes one reconcile keeps in flight. */
const writeConcurrency = 16;

/** How long a work this controller created counts as existing while the cache has not shown it. */
const createdGraceMs = 60_000;

export interface ReplicaSetControllerOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  workers?: number;
  /** The process's shared informers; without it the controller makes (and starts and stops) its own. */
  informers?: InformerFactory;
  /** How long start() waits for the caches before failing with the resources it still misses. */
  cacheSyncTimeoutMs?: number;
  /**
   * The most manifest bytes (as OCM's webhook counts them) one ManifestWork may carry; bigger
   * templates are split into parts under it. OCM's default 512000.
   */
  manifestLimitBytes?: number;
}

/** The replica set key `<namespace>/<name>` of a work's `manifestworkreplicaset` label. */
export function replicaSetKeyOfWork(work: KubeObject): string | undefined {
  return keyOfDottedName(work.metadata.labels?.[Labels.manifestWorkReplicaSet]);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The replica set key `<namespace>/<name>` of a bundle content object. */
function replicaSetKeyOfContent(object: ContentObject): string | undefined {
  const bundle = object.metadata.labels?.[BosunBundleLabels.bundle];
  return bundle ? `${object.metadata.namespace ?? ""}/${bundle}` : undefined;
}

/**
 * The template a replica set delivers (its own manifests and its bundle's), its hash, and why it
 * cannot be delivered, if it cannot; kept while the replica set's generation, bundle annotation
 * and content objects stay the same, as reading and checking a big bundle is not cheap.
 */
type ResolvedTemplate = { fingerprint: string } & (
  { ok: true; template: ManifestWorkSpec; hash: string } | { ok: false; reason: string; message: string }
);

export class ReplicaSetController {
  readonly #client: KubeApi;
  readonly #clock: Clock;
  readonly #cache: ControllerCache;
  readonly #limitBytes: number;
  readonly replicaSets: Informer<ManifestWorkReplicaSet>;
  readonly placements: Informer<Placement>;
  readonly decisions: Informer<PlacementDecision>;
  readonly works: Informer<ManifestWork>;
  readonly contents: Informer<ContentObject>;
  readonly #controller: Controller;
  readonly #resolved = new Map<string, ResolvedTemplate>();
  /**
   * Works created here that the cache has not shown yet (a split template's parts are many and
   * big, and the watch lags behind their creation): a reconcile in between counts them as
   * existing instead of creating them again.
   */
  readonly #created = new Map<string, { work: ManifestWork; atMs: number }>();
  /** Works this controller rewrote, while the cache still shows the version before the write. */
  readonly #rewritten = new OwnWrites<ManifestWork>();

  constructor(options: ReplicaSetControllerOptions) {
    const logger = options.logger.child({ component: "replicaset" });
    this.#client = options.client;
    this.#clock = options.clock;
    this.#limitBytes = options.manifestLimitBytes ?? Work.manifestSizeLimit;
    if (!Number.isInteger(this.#limitBytes) || this.#limitBytes <= 0) {
      throw new RangeError(`the manifest limit must be a positive number of bytes, got ${this.#limitBytes}`);
    }
    this.#cache = new ControllerCache({ ...options, logger });
    const informers = this.#cache.informers;
    this.replicaSets = informers.informer(Resources.ManifestWorkReplicaSet);
    this.placements = informers.informer(Resources.Placement);
    this.decisions = informers.informer(
      HubInformers.placementDecisions.resource,
      HubInformers.placementDecisions.scope,
    );
    this.works = informers.informer(HubInformers.manifestWorks.resource, HubInformers.manifestWorks.scope);
    this.contents = informers.informer(
      HubInformers.bundleContents.resource,
      HubInformers.bundleContents.scope,
    );
    this.contents.addIndex(byBundleIndex, (object) => {
      const key = replicaSetKeyOfContent(object);
      const hash = object.metadata.labels?.[BosunBundleLabels.contentHash];
      return key === undefined || hash === undefined ? [] : [bundleIndexKey(key, hash)];
    });
    this.replicaSets.addIndex(byPlacementIndex, (replicaSet) =>
      (replicaSet.spec?.placementRefs ?? []).map(
        (ref) => `${replicaSet.metadata.namespace ?? ""}/${ref.name}`,
      ),
    );
    this.#controller = new Controller({
      name: "replicaset",
      reconcile: (key, _signal, context) => this.reconcile(key, context),
      registry: options.registry,
      logger: options.logger,
      clock: options.clock,
      workers: options.workers ?? 2,
    });

    const enqueue = (key: string) => this.#controller.enqueue(key);
    this.replicaSets.addHandlers({
      onAdd: (replicaSet) => enqueue(objectKey(replicaSet)),
      onUpdate: (previous, current) => {
        // Our own status writes come back as updates: only what the reconcile reads matters.
        const { metadata: a } = previous;
        const { metadata: b } = current;
        if (
          a.generation !== b.generation ||
          a.deletionTimestamp !== b.deletionTimestamp ||
          !isDeepStrictEqual(a.labels, b.labels) ||
          !isDeepStrictEqual(a.finalizers, b.finalizers) ||
          a.annotations?.[BosunBundleAnnotations.content] !==
            b.annotations?.[BosunBundleAnnotations.content] ||
          !isDeepStrictEqual(previous.spec, current.spec)
        ) {
          enqueue(objectKey(current));
        }
      },
    });
    const forPlacement = (namespace: string, placement: string) => {
      for (const replicaSet of this.replicaSets.byIndex(byPlacementIndex, `${namespace}/${placement}`))
        enqueue(objectKey(replicaSet));
    };
    const placementChanged = (placement: Placement) =>
      forPlacement(placement.metadata.namespace ?? "", placement.metadata.name ?? "");
    this.placements.addHandlers({
      onAdd: placementChanged,
      onUpdate: (previous, current) => {
        if (
          !isDeepStrictEqual(previous.status, current.status) ||
          !isDeepStrictEqual(previous.spec, current.spec)
        )
          placementChanged(current);
      },
      onDelete: placementChanged,
    });
    const decisionChanged = (decision: PlacementDecision) => {
      const placement = decision.metadata.labels?.[Labels.placement];
      if (placement !== undefined) forPlacement(decision.metadata.namespace ?? "", placement);
    };
    this.decisions.addHandlers({
      onAdd: decisionChanged,
      onUpdate: (previous, current) => {
        decisionChanged(current);
        if (previous.metadata.labels?.[Labels.placement] !== current.metadata.labels?.[Labels.placement])
          decisionChanged(previous);
      },
      onDelete: decisionChanged,
    });
    const workChanged = (work: ManifestWork) => {
      this.#created.delete(objectKey(work));
      this.#rewritten.observe(objectKey(work), this.works.get(objectKey(work)));
      const key = replicaSetKeyOfWork(work);
      if (key !== undefined) enqueue(key);
    };
    this.works.addHandlers({
      onAdd: workChanged,
      onUpdate: (previous, current) => {
        workChanged(current);
        if (replicaSetKeyOfWork(previous) !== replicaSetKeyOfWork(current)) workChanged(previous);
      },
      onDelete: workChanged,
    });
    const contentChanged = (object: ContentObject) => {
      const key = replicaSetKeyOfContent(object);
      if (key !== undefined) enqueue(key);
    };
    this.contents.addHandlers({
      onAdd: contentChanged,
      onUpdate: (previous, current) => {
        contentChanged(current);
        if (replicaSetKeyOfContent(previous) !== replicaSetKeyOfContent(current)) contentChanged(previous);
      },
      onDelete: contentChanged,
    });
  }

  get informers(): Informer<KubeObject>[] {
    return [
      this.replicaSets,
      this.placements,
      this.decisions,
      this.works,
      this.contents,
    ] as Informer<KubeObject>[];
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#cache.sync(signal);
    this.#controller.start();
    for (const key of this.replicaSets.keys()) this.#controller.enqueue(key);
  }

  async stop(): Promise<void> {
    await this.#controller.stop();
    await this.#cache.release();
  }

  whenIdle(): Promise<void> {
    return this.#controller.whenIdle();
  }

  /** Keys whose last reconcile failed (a conflict with a newer write, say) and wait for a retry. */
  get retrying(): number {
    return this.#controller.retrying;
  }

  /** How many times each replica set was reconciled; for tests and benchmarks. */
  reconcilesOf(key: string): number {
    return this.#controller.reconcilesOf(key);
  }

  // Reconcile -----------------------------------------------------------------------------------

  async reconcile(key: string, context?: ReconcileContext): Promise<{ requeueAfterMs?: number } | void> {
    let replicaSet = this.replicaSets.get(key);
    if (!replicaSet) {
      this.#resolved.delete(key);
      return;
    }
    const finalizer = Finalizers.manifestWorkReplicaSetCleanup;
    const finalizers = replicaSet.metadata.finalizers ?? [];
    if (replicaSet.metadata.deletionTimestamp) {
      this.#resolved.delete(key);
      if (finalizers.includes(finalizer)) await this.#finalize(replicaSet);
      return;
    }
    if (!finalizers.includes(finalizer)) {
      replicaSet = await this.#client.patch<ManifestWorkReplicaSet>(
        refOf(replicaSet),
        "merge",
        {
          metadata: {
            resourceVersion: replicaSet.metadata.resourceVersion,
            finalizers: [...finalizers, finalizer],
          },
        },
        { fieldManager: replicaSetFieldManager },
      );
    }

    const resolved = this.#resolve(replicaSet);
    if (!resolved.ok) {
      const { reason, message } = resolved;
      // Content still being written is expected while `bosun apply` runs: not worth a warning.
      const level = reason === BosunReplicaSetReasons.bundleContentMissing ? "info" : "warn";
      context?.logger[level](
        { reason, message },
        "the replica set's template cannot be delivered; its works are left as they are",
      );
      await this.#writeStatus(replicaSet, {
        conditions: [
          {
            type: ManifestWorkReplicaSetConditions.manifestworkApplied,
            status: ConditionStatus.False,
            reason,
            message,
          },
        ],
      });
      return;
    }
    return this.#deploy(replicaSet, resolved.template, resolved.hash);
  }

  /**
   * The template to deliver: the replica set's own, followed by its bundle's manifests when it
   * names a bundle. Recomputed only when the generation, the bundle annotation or the content
   * objects of the replica set changed.
   */
  #resolve(replicaSet: ManifestWorkReplicaSet): ResolvedTemplate {
    const key = objectKey(replicaSet);
    const annotation = replicaSet.metadata.annotations?.[BosunBundleAnnotations.content];
    // Only the named bundle's objects: content of the next bundle, still being written, or of
    // the last one, not deleted yet, changes nothing here.
    const ref = bundleRefOf(replicaSet);
    const contents = ref?.ok ? this.contents.byIndex(byBundleIndex, bundleIndexKey(key, ref.value.hash)) : [];
    const fingerprint = [
      replicaSet.metadata.uid ?? "",
      replicaSet.metadata.generation ?? 0,
      annotation ?? "",
      ...contents
        .map((object) => `${object.metadata.uid ?? ""}@${object.metadata.resourceVersion ?? ""}`)
        .sort(),
    ].join("|");
    const cached = this.#resolved.get(key);
    if (cached?.fingerprint === fingerprint) return cached;
    const resolved = this.#resolveNow(replicaSet, contents, fingerprint);
    this.#resolved.set(key, resolved);
    return resolved;
  }

  #resolveNow(
    replicaSet: ManifestWorkReplicaSet,
    contents: readonly ContentObject[],
    fingerprint: string,
  ): ResolvedTemplate {
    let template = replicaSet.spec?.manifestWorkTemplate ?? {};
    const ref = bundleRefOf(replicaSet);
    if (ref && !ref.ok) {
      return {
        fingerprint,
        ok: false,
        reason: BosunReplicaSetReasons.bundleContentInvalid,
        message: ref.error,
      };
    }
    if (ref) {
      const read = readBundle(ref.value, contents, {
        bundle: replicaSet.metadata.name ?? "",
        namespace: replicaSet.metadata.namespace ?? "",
      });
      if (!read.ok) {
        const reason =
          read.problem === "missing"
            ? BosunReplicaSetReasons.bundleContentMissing
            : BosunReplicaSetReasons.bundleContentInvalid;
        return { fingerprint, ok: false, reason, message: read.message };
      }
      template = withBundle(template, read.manifests);
    }
    const invalid = this.#templateError({
      ...replicaSet,
      spec: { ...replicaSet.spec!, manifestWorkTemplate: template },
    });
    if (invalid !== undefined) {
      return { fingerprint, ok: false, reason: BosunReplicaSetReasons.templateInvalid, message: invalid };
    }
    return { fingerprint, ok: true, template, hash: templateHash(template) };
  }

  /** Why the template cannot be delivered, naming the field; undefined when it can. */
  #templateError(replicaSet: ManifestWorkReplicaSet): string | undefined {
    // The summed size is not a limit here: a template too big for one work is split.
    const errors = validateManifestWorkReplicaSet(replicaSet, { limitBytes: Number.POSITIVE_INFINITY });
    if (errors.length > 0) {
      return errors.map((error) => `${error.field}: ${error.message}`).join("; ");
    }
    const manifests = replicaSet.spec?.manifestWorkTemplate?.workload?.manifests ?? [];
    const split = splitManifests(manifests, this.#limitBytes);
    if (!split.ok) {
      return `spec.manifestWorkTemplate.workload.manifests[${manifests.indexOf(split.manifest)}]: ${split.error}`;
    }
    return undefined;
  }

  /**
   * Writes `template` (the replica set's, with its bundle) to the clusters the rollout releases
   * and reports on them; `hash` is the template's hash, computed once.
   */
  async #deploy(
    stored: ManifestWorkReplicaSet,
    template: ManifestWorkSpec,
    hash: string,
  ): Promise<{ requeueAfterMs?: number } | void> {
    // The pure functions read the template from the replica set: give them the whole of it.
    const replicaSet: ManifestWorkReplicaSet = {
      ...stored,
      spec: { ...stored.spec!, manifestWorkTemplate: template },
    };
    const namespace = replicaSet.metadata.namespace ?? "";
    const refs = replicaSet.spec?.placementRefs ?? [];
    const nowMs = this.#clock.now();
    /** Every work of this replica set, as this reconcile leaves it. */
    const works = new Map<string, ManifestWork>();
    for (const work of this.#worksOf(replicaSet)) works.set(objectKey(work), work);
    const failures: string[] = [];
    const states: PlacementState[] = refs.map((ref) => {
      const placement = this.placements.get(`${namespace}/${ref.name}`);
      return placement ? { name: ref.name, placement } : { name: ref.name };
    });

    let recheckAfterMs: number | undefined;
    if (states.every((state) => state.placement)) {
      for (const [index, ref] of refs.entries()) {
        const state = states[index]!;
        const ofPlacement = [...works.values()].filter(
          (work) => work.metadata.labels?.[Labels.manifestWorkPlacementName] === ref.name,
        );
        const byCluster = groupByCluster(ofPlacement);
        const decisions = this.decisions
          .byLabel(Labels.placement, ref.name)
          .filter((decision) => decision.metadata.namespace === namespace);
        const decided = clustersFromDecisions(decisions);
        if (!decided.ok) {
          state.rollout = { ok: false, error: decided.error };
          continue;
        }
        const statuses: ClusterRolloutStatus[] = [];
        for (const [cluster, clusterWorks] of byCluster) {
          if (worksMatchTemplate(clusterWorks, template, hash))
            statuses.push(clusterRolloutStatus(cluster, clusterWorks));
        }
        const rollout: RolloutOutcome = computeRollout({
          strategy: ref.rolloutStrategy,
          clusters: decided.value,
          statuses,
          nowMs,
        });
        state.rollout = rollout;
        if (!rollout.ok) continue;
        if (rollout.recheckAfterMs !== undefined)
          recheckAfterMs = Math.min(recheckAfterMs ?? Infinity, rollout.recheckAfterMs + recheckMarginMs);

        const applied: string[] = [];
        // One cluster's parts in order; clusters side by side, a bounded number at a time.
        const wantedLabels = workLabels(replicaSet, ref.name);
        await forEachLimited(rollout.toApply, writeConcurrency, async (cluster) => {
          const existing = byCluster.get(cluster) ?? [];
          // Works that carry the template already (waiting for the agent) need no new split.
          if (worksMatchTemplate(existing, template, hash) && worksCarryLabels(existing, wantedLabels)) {
            applied.push(cluster);
            return;
          }
          const desired = desiredWorks(replicaSet, cluster, ref.name, existing, {
            limitBytes: this.#limitBytes,
          });
          if (!desired.ok) {
            failures.push(`cluster ${cluster}: ${desired.error}`);
            return;
          }
          let written = true;
          for (const work of desired.works) {
            try {
              const result = await this.#writeWork(work, works.get(objectKey(work)));
              works.set(objectKey(result), result);
            } catch (error) {
              written = false;
              failures.push(`ManifestWork ${objectKey(work)}: ${describeError(error)}`);
            }
          }
          for (const name of desired.obsolete) {
            const obsolete = works.get(`${cluster}/${name}`);
            if (obsolete && (await this.#deleteWork(obsolete, failures))) works.delete(objectKey(obsolete));
          }
          if (written) applied.push(cluster);
        });
        state.applied = applied;

        const wanted = new Set(decided.value.map((cluster) => cluster.clusterName));
        for (const [cluster, clusterWorks] of byCluster) {
          if (wanted.has(cluster)) continue;
          for (const work of clusterWorks) {
            if (await this.#deleteWork(work, failures)) works.delete(objectKey(work));
          }
        }
      }
      // Works of a placement no longer referenced go with it.
      const referenced = new Set(refs.map((ref) => ref.name));
      for (const work of [...works.values()]) {
        if (referenced.has(work.metadata.labels?.[Labels.manifestWorkPlacementName] ?? "")) continue;
        if (await this.#deleteWork(work, failures)) works.delete(objectKey(work));
      }
    }

    const status = replicaSetStatus({
      replicaSet,
      placements: states,
      works: [...works.values()],
      templateHash: hash,
    });
    const conditions = status.conditions.map((condition): ConditionUpdate => {
      if (condition.type === ManifestWorkReplicaSetConditions.placementRolledOut) {
        const stopped = states
          .map((state) =>
            state.rollout?.ok && state.rollout.message
              ? `placement ${state.name}: ${state.rollout.message}`
              : "",
          )
          .filter(Boolean);
        if (stopped.length > 0) return { ...condition, message: stopped.join("; ") };
      }
      if (condition.type === ManifestWorkReplicaSetConditions.manifestworkApplied && failures.length > 0) {
        return { ...condition, message: `some works could not be written: ${failures.join("; ")}` };
      }
      return condition;
    });
    await this.#writeStatus(stored, {
      conditions,
      ...(status.summary ? { summary: status.summary } : {}),
      ...(status.placementSummary ? { placementSummary: status.placementSummary } : {}),
    });
    if (failures.length > 0) throw new Error(`replica set ${objectKey(replicaSet)}: ${failures.join("; ")}`);
    return recheckAfterMs === undefined ? undefined : { requeueAfterMs: recheckAfterMs };
  }

  /**
   * Creates the work, or patches what differs from the cached one (labels, the part-of
   * annotation, the spec); an unchanged work is not written. Returns the work as it now is.
   */
  async #writeWork(desired: ManifestWork, existing: ManifestWork | undefined): Promise<ManifestWork> {
    if (!existing || existing.metadata.deletionTimestamp) {
      const created = await this.#client.create<ManifestWork>(desired, {
        fieldManager: replicaSetFieldManager,
      });
      this.#created.set(objectKey(created), { work: created, atMs: this.#clock.now() });
      return created;
    }
    const partOf = BosunWorkAnnotations.partOf;
    const labels = generate(existing.metadata.labels ?? {}, desired.metadata.labels ?? {});
    const wantedPartOf = desired.metadata.annotations?.[partOf];
    const annotations =
      existing.metadata.annotations?.[partOf] === wantedPartOf
        ? undefined
        : { [partOf]: wantedPartOf ?? null };
    const spec = generate(existing.spec ?? {}, desired.spec ?? {});
    if (labels === undefined && annotations === undefined && spec === undefined) return existing;
    // The agent writes the work's status all the time: a conflict falls back to a merge patch
    // of only what this controller owns, without a precondition. A cache behind the server at
    // worst leaves a difference that the watch event bringing the newer work makes the next
    // reconcile correct.
    const written = await writeOwnedFields<ManifestWork>(
      this.#client,
      existing,
      {
        metadata: {
          ...(labels !== undefined ? { labels } : {}),
          ...(annotations !== undefined ? { annotations } : {}),
        },
        ...(spec !== undefined ? { spec } : {}),
      },
      { fieldManager: replicaSetFieldManager },
    );
    this.#rewritten.remember(objectKey(existing), existing, written);
    return written;
  }

  /** The replica set's works: those cached, and those created here that the cache has not shown yet. */
  #worksOf(replicaSet: ManifestWorkReplicaSet): ManifestWork[] {
    const label = replicaSetKey(replicaSet);
    const works = this.works
      .byLabel(Labels.manifestWorkReplicaSet, label)
      .map((work) => this.#rewritten.latest(objectKey(work), work)!);
    const nowMs = this.#clock.now();
    for (const [key, { work, atMs }] of this.#created) {
      if (nowMs - atMs > createdGraceMs) this.#created.delete(key);
      else if (work.metadata.labels?.[Labels.manifestWorkReplicaSet] === label && !this.works.get(key))
        works.push(work);
    }
    return works;
  }

  /** Deletes a work (once: one being deleted is left to finish); false when the call failed. */
  async #deleteWork(work: ManifestWork, failures: string[]): Promise<boolean> {
    if (work.metadata.deletionTimestamp) return true;
    try {
      await this.#client.delete(refOf(work), { uid: work.metadata.uid });
    } catch (error) {
      if (error instanceof KubeApiError && (error.notFound || error.conflict)) return true;
      failures.push(`deleting ManifestWork ${objectKey(work)}: ${describeError(error)}`);
      return false;
    }
    return true;
  }

  /**
   * Deletes every work of the replica set, then removes the finalizer: at once with the
   * Background policy, once the works are gone with Foreground.
   */
  async #finalize(replicaSet: ManifestWorkReplicaSet): Promise<void> {
    const works = this.#worksOf(replicaSet);
    const failures: string[] = [];
    for (const work of works) await this.#deleteWork(work, failures);
    if (failures.length > 0) throw new Error(`replica set ${objectKey(replicaSet)}: ${failures.join("; ")}`);
    // Their deletion events bring the replica set back here.
    if (replicaSet.spec?.cascadeDeletionPolicy === "Foreground" && works.length > 0) return;
    const remaining = (replicaSet.metadata.finalizers ?? []).filter(
      (name) => name !== Finalizers.manifestWorkReplicaSetCleanup,
    );
    try {
      await this.#client.patch(
        refOf(replicaSet),
        "merge",
        {
          metadata: {
            resourceVersion: replicaSet.metadata.resourceVersion,
            finalizers: remaining.length > 0 ? remaining : null,
          },
        },
        { fieldManager: replicaSetFieldManager },
      );
    } catch (error) {
      if (!(error instanceof KubeApiError && error.notFound)) throw error;
    }
  }

  /** Sets the conditions and fields given on the status, writing only when something changed. */
  async #writeStatus(
    replicaSet: ManifestWorkReplicaSet,
    update: { conditions: ConditionUpdate[] } & Omit<ManifestWorkReplicaSetStatus, "conditions">,
  ): Promise<void> {
    const nowMs = this.#clock.now();
    let conditions = replicaSet.status?.conditions ?? [];
    for (const condition of update.conditions) conditions = setCondition(conditions, condition, nowMs);
    const { conditions: _conditions, ...fields } = update;
    const desired: ManifestWorkReplicaSetStatus = { ...replicaSet.status, ...fields, conditions };
    await patchStatus(this.#client, replicaSet, desired, { fieldManager: replicaSetFieldManager });
  }
}

function groupByCluster(works: readonly ManifestWork[]): Map<string, ManifestWork[]> {
  const byCluster = new Map<string, ManifestWork[]>();
  for (const work of works) {
    const cluster = work.metadata.namespace ?? "";
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), work]);
  }
  return byCluster;
}
