// Per-manifest status of a ManifestWork (`status.resourceStatus.manifests[]`): the resourceMeta
// that identifies each manifest, its Applied and Available conditions, and the status pass that
// refreshes Available, status feedback and condition-rule conditions from the live object.
import {
  ConditionStatus,
  ManifestWorkConditions,
  ManifestWorkMessages,
  ManifestWorkReasons,
} from "../../api/constants.ts";
import type { ManifestCondition, ManifestConfigOption, ManifestResourceMeta } from "../../api/types/work.ts";
import {
  removeCondition,
  setCondition,
  type Condition,
  type ConditionUpdate,
} from "../../runtime/conditions.ts";
import { evaluateConditionRules, pruneRuleConditions, type ConditionRuleCache } from "./condition-rules.ts";
import {
  groupVersionKindOf,
  statusFeedback,
  type FeedbackOptions,
  type GroupVersionKind,
} from "./feedback.ts";
import { sameJson } from "./status-diff.ts";

/** Maps a kind to its resource (plural), as the agent's REST mapper does; undefined if unknown. */
export type ResourceMapper = (gvk: GroupVersionKind) => string | undefined;

export interface ResourceMetaResult {
  resourceMeta: ManifestResourceMeta;
  /** Set when the manifest cannot be identified; the manifest then fails to apply with it. */
  error?: string;
}

/**
 * The resourceMeta of the manifest at `ordinal`: group, version and kind from its apiVersion and
 * kind, name and namespace from its metadata, and the resource from `mapResource`. Every field is
 * present, empty when unknown, as OCM writes them.
 */
export function buildResourceMeta(
  ordinal: number,
  manifest: unknown,
  mapResource: ResourceMapper,
): ResourceMetaResult {
  const resourceMeta: ManifestResourceMeta = {
    ordinal,
    group: "",
    version: "",
    kind: "",
    resource: "",
    name: "",
    namespace: "",
  };
  if (manifest === null || manifest === undefined) return { resourceMeta };
  const gvk = groupVersionKindOf(manifest);
  if (typeof manifest !== "object" || Array.isArray(manifest) || gvk.kind === "") {
    return { resourceMeta, error: `Object 'Kind' is missing in '${JSON.stringify(manifest)}'` };
  }
  resourceMeta.group = gvk.group;
  resourceMeta.version = gvk.version;
  resourceMeta.kind = gvk.kind;
  const metadata = (manifest as { metadata?: unknown }).metadata;
  if (typeof metadata === "object" && metadata !== null) {
    const { name, namespace } = metadata as { name?: unknown; namespace?: unknown };
    if (typeof name === "string") resourceMeta.name = name;
    if (typeof namespace === "string") resourceMeta.namespace = namespace;
  }
  const resource = mapResource(gvk);
  if (resource === undefined) {
    return { resourceMeta, error: `the server doesn't have a resource type "${gvk.kind}"` };
  }
  resourceMeta.resource = resource;
  return { resourceMeta };
}

/** Whether the meta names a readable object: resource, version and name are all set. */
export function resourceMetaComplete(meta: ManifestResourceMeta): boolean {
  return Boolean(meta.resource && meta.version && meta.name);
}

/** How applying one manifest ended. */
export type ApplyOutcome =
  | { ok: true }
  | {
      ok: false;
      error: string;
      /** The failure came from processing server-side-apply ignoreFields. */
      ignoreFields?: boolean;
    };

/** The manifest's Applied condition for an apply outcome, stamped with the work's generation. */
export function appliedCondition(outcome: ApplyOutcome, generation: number): ConditionUpdate {
  const type = ManifestWorkConditions.applied;
  if (outcome.ok) {
    return {
      type,
      status: ConditionStatus.True,
      reason: ManifestWorkReasons.appliedManifestComplete,
      message: ManifestWorkMessages.appliedManifestComplete,
      observedGeneration: generation,
    };
  }
  return {
    type,
    status: ConditionStatus.False,
    reason: outcome.ignoreFields
      ? ManifestWorkReasons.appliedManifestSSAIgnoreFieldError
      : ManifestWorkReasons.appliedManifestFailed,
    message:
      (outcome.ignoreFields
        ? ManifestWorkMessages.ignoreFieldsFailed
        : ManifestWorkMessages.appliedManifestFailed) + outcome.error,
    observedGeneration: generation,
  };
}

/** How reading one manifest's live object ended. */
export type FetchOutcome = { found: true; object: unknown } | { found: false } | { error: string };

/**
 * The manifest's Available condition: Unknown IncompleteResourceMeta when the meta cannot name
 * an object, True when the object exists, False when it does not, Unknown when reading failed.
 */
export function availableCondition(meta: ManifestResourceMeta, fetch: FetchOutcome): ConditionUpdate {
  const type = ManifestWorkConditions.available;
  if (!resourceMetaComplete(meta)) {
    return {
      type,
      status: ConditionStatus.Unknown,
      reason: ManifestWorkReasons.incompleteResourceMeta,
      message: ManifestWorkMessages.incompleteResourceMeta,
    };
  }
  if ("error" in fetch) {
    return {
      type,
      status: ConditionStatus.Unknown,
      reason: ManifestWorkReasons.fetchingResourceFailed,
      message: ManifestWorkMessages.fetchingResourceFailed + fetch.error,
    };
  }
  if (!fetch.found) {
    return {
      type,
      status: ConditionStatus.False,
      reason: ManifestWorkReasons.resourceNotAvailable,
      message: ManifestWorkMessages.resourceNotAvailable,
    };
  }
  return {
    type,
    status: ConditionStatus.True,
    reason: ManifestWorkReasons.resourceAvailable,
    message: ManifestWorkMessages.resourceAvailable,
  };
}

/** One manifest's freshly computed conditions, before merging into the previous status. */
export interface ManifestConditionUpdate {
  resourceMeta: ManifestResourceMeta;
  conditions: ConditionUpdate[];
}

function metaKey(meta: ManifestResourceMeta, withOrdinal: boolean): string {
  return JSON.stringify([
    withOrdinal ? meta.ordinal : 0,
    meta.group ?? "",
    meta.version ?? "",
    meta.kind ?? "",
    meta.resource ?? "",
    meta.name ?? "",
    meta.namespace ?? "",
  ]);
}

const emptyMetaKey = metaKey({ ordinal: 0 }, false);

/**
 * The manifest list after an apply pass: one entry per `next`, in its order. An entry takes over
 * the previous entry with the same resourceMeta, or else the one that differs only in ordinal
 * (when exactly one does), keeping its status feedback and conditions and setting the new
 * conditions on them (lastTransitionTime moves only on a status change); other entries start
 * fresh at `nowMs`, with empty status feedback. Previous entries without a successor are dropped.
 */
export function mergeManifestConditions(
  previous: readonly ManifestCondition[] | undefined,
  next: readonly ManifestConditionUpdate[],
  nowMs: number,
): ManifestCondition[] {
  const byMeta = new Map<string, ManifestCondition>();
  const byMetaWithoutOrdinal = new Map<string, ManifestCondition>();
  const duplicated = new Set<string>();
  for (const manifest of previous ?? []) {
    byMeta.set(metaKey(manifest.resourceMeta, true), manifest);
    const key = metaKey(manifest.resourceMeta, false);
    if (key === emptyMetaKey) continue;
    if (byMetaWithoutOrdinal.has(key)) duplicated.add(key);
    else byMetaWithoutOrdinal.set(key, manifest);
  }
  for (const key of duplicated) byMetaWithoutOrdinal.delete(key);
  return next.map((update) => {
    const match =
      byMeta.get(metaKey(update.resourceMeta, true)) ??
      byMetaWithoutOrdinal.get(metaKey(update.resourceMeta, false));
    let conditions: Condition[] = match ? [...match.conditions] : [];
    for (const condition of update.conditions) conditions = setCondition(conditions, condition, nowMs);
    // Every entry has statusFeedback, `{}` before any value, as OCM's agent writes it.
    return { resourceMeta: update.resourceMeta, statusFeedback: match?.statusFeedback ?? {}, conditions };
  });
}

/** The previous entry of the manifest `meta` names: same resourceMeta, ordinal included. */
export function findManifestCondition(
  meta: ManifestResourceMeta,
  manifests: readonly ManifestCondition[] | undefined,
): ManifestCondition | undefined {
  const key = metaKey(meta, true);
  return manifests?.find((manifest) => metaKey(manifest.resourceMeta, true) === key);
}

export interface ManifestStatusInput {
  /** The manifest's entry as it stands (after the apply pass). */
  manifest: ManifestCondition;
  /** Reading the live object; ignored (and not needed) when the meta is incomplete. */
  fetch: FetchOutcome;
  /** The manifest's configuration (see config.ts), if any. */
  option?: Pick<ManifestConfigOption, "feedbackRules" | "conditionRules">;
  generation: number;
  nowMs: number;
  cache: ConditionRuleCache;
  feedback?: FeedbackOptions;
}

/**
 * One manifest's status pass. Available always follows the read; status feedback and rule
 * conditions are refreshed only when the object was read, and keep their previous values
 * otherwise. When the feedback values change, StatusFeedbackSynced is written anew, so its
 * lastTransitionTime marks the change. Rule conditions carry the generation, and rule
 * conditions of earlier generations (from deleted rules) are dropped.
 */
export function updateManifestStatus(input: ManifestStatusInput): ManifestCondition {
  const { manifest, generation, nowMs } = input;
  const meta = manifest.resourceMeta;
  let conditions = setCondition(manifest.conditions, availableCondition(meta, input.fetch), nowMs);
  const fetch = input.fetch;
  if (!resourceMetaComplete(meta) || !("found" in fetch) || !fetch.found) {
    return { ...manifest, conditions };
  }
  const feedback = statusFeedback(fetch.object, input.option?.feedbackRules, input.feedback);
  if (!sameJson(manifest.statusFeedback?.values ?? [], feedback.values)) {
    conditions = removeCondition(conditions, feedback.condition.type);
  }
  conditions = setCondition(conditions, feedback.condition, nowMs);
  const ruleConditions = evaluateConditionRules(
    fetch.object,
    input.option?.conditionRules,
    input.cache,
    generation,
  );
  for (const condition of ruleConditions) conditions = setCondition(conditions, condition, nowMs);
  conditions = pruneRuleConditions(conditions, generation);
  return {
    resourceMeta: meta,
    statusFeedback: feedback.values.length > 0 ? { values: feedback.values } : {},
    conditions,
  };
}
