// Whether a newly computed ManifestWork status differs from the one on the hub, so that the
// agent writes status only when something changed.
//
// Compared: the work's conditions (as a set keyed by type) and, manifest by manifest in order,
// resourceMeta, status feedback values and conditions. A condition is its type, status, reason,
// message and observedGeneration; lastTransitionTime is ignored, since it only moves together
// with the status (or is re-stamped for a condition that did not change). Absent and empty
// values are equal: a missing string and "", a missing observedGeneration and 0, a missing list
// and [], as Go's omitempty serialises them.
import type { Condition } from "../../api/types/meta.ts";
import type {
  FeedbackValue,
  ManifestCondition,
  ManifestResourceMeta,
  ManifestWorkStatus,
} from "../../api/types/work.ts";

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) out[key] = canonical(record[key]);
    }
    return out;
  }
  return value;
}

/** Deep equality of JSON-like values, ignoring key order and undefined properties. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

interface ComparableCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
}

function comparableConditions(conditions: readonly Condition[] | undefined): ComparableCondition[] {
  return (conditions ?? [])
    .map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason ?? "",
      message: c.message ?? "",
      observedGeneration: c.observedGeneration ?? 0,
    }))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

function comparableMeta(meta: ManifestResourceMeta | undefined): Required<ManifestResourceMeta> {
  return {
    ordinal: meta?.ordinal ?? 0,
    group: meta?.group ?? "",
    version: meta?.version ?? "",
    kind: meta?.kind ?? "",
    resource: meta?.resource ?? "",
    name: meta?.name ?? "",
    namespace: meta?.namespace ?? "",
  };
}

function comparableValues(values: readonly FeedbackValue[] | undefined): unknown[] {
  return (values ?? []).map((v) => ({
    name: v.name,
    type: v.fieldValue.type,
    integer: v.fieldValue.integer,
    string: v.fieldValue.string,
    boolean: v.fieldValue.boolean,
    jsonRaw: v.fieldValue.jsonRaw,
  }));
}

function comparableManifest(manifest: ManifestCondition): unknown {
  return {
    resourceMeta: comparableMeta(manifest.resourceMeta),
    values: comparableValues(manifest.statusFeedback?.values),
    conditions: comparableConditions(manifest.conditions),
  };
}

/**
 * What differs between two statuses: "conditions", "manifests" (a different number of entries)
 * or "manifests[i]" for each differing entry. Empty when nothing needs writing.
 */
export function statusChanges(previous: ManifestWorkStatus | undefined, next: ManifestWorkStatus): string[] {
  const changes: string[] = [];
  if (!sameJson(comparableConditions(previous?.conditions), comparableConditions(next.conditions))) {
    changes.push("conditions");
  }
  const before = previous?.resourceStatus?.manifests ?? [];
  const after = next.resourceStatus?.manifests ?? [];
  if (before.length !== after.length) {
    changes.push("manifests");
    return changes;
  }
  for (let i = 0; i < after.length; i++) {
    if (!sameJson(comparableManifest(before[i]!), comparableManifest(after[i]!)))
      changes.push(`manifests[${i}]`);
  }
  return changes;
}

/** Whether `next` must be written over `previous`. */
export function statusNeedsWrite(
  previous: ManifestWorkStatus | undefined,
  next: ManifestWorkStatus,
): boolean {
  return statusChanges(previous, next).length > 0;
}
