// What the work agent must do to bring one manifest onto the managed cluster, given the live
// object and the manifest's update strategy. The controller performs the returned action:
//
//   create       POST `object`
//   update       PUT `object` (it carries the live resourceVersion)
//   apply        server-side apply PATCH of `body` with `fieldManager` and `force`; then
//                ownerReferencePatch(result, owner, owned) and, when defined, a merge PATCH
//   patch-owner  merge PATCH of `patch` (owner references only)
//   none         nothing to write
//   error        no write; the manifest's Applied condition is False with `reason`
import { Annotations, ManifestWorkReasons, Work } from "../../api/constants.ts";
import type { OwnerReference } from "../../api/types/meta.ts";
import type { UpdateStrategy } from "../../api/types/work.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { IgnoreFieldError, removeIgnoredFields } from "./ignore-fields.ts";
import {
  appliedManifestWorkOwnerReference,
  mergeOwnerReference,
  ownerReferencePatch,
  type AppliedManifestWorkOwner,
  type OwnerReferencePatch,
} from "./owner.ts";
import { configSpecHash } from "./spec-hash.ts";

export interface ApplyInput {
  /** The manifest as the work carries it. It is not modified. */
  required: Unstructured;
  /** The object on the managed cluster, or undefined when it does not exist. */
  live: Unstructured | undefined;
  /** The manifest's strategy (see updateStrategyOf); `{type: "Update"}` when unset. */
  strategy?: UpdateStrategy;
  /** Whether the work owns the resource (see ownedByTheWork). */
  owned: boolean;
  owner: AppliedManifestWorkOwner;
}

export type NoneReason = "read-only" | "unchanged" | "spec-hash-unchanged";

export type ApplyPlan =
  | { action: "create"; object: Unstructured }
  | { action: "update"; object: Unstructured }
  | { action: "apply"; body: Unstructured; fieldManager: string; force: boolean }
  | { action: "patch-owner"; patch: OwnerReferencePatch }
  | { action: "none"; reason: NoneReason }
  | {
      action: "error";
      reason: typeof ManifestWorkReasons.appliedManifestSSAIgnoreFieldError;
      message: string;
    };

/** Decides how to apply one manifest. */
export function planApply(input: ApplyInput): ApplyPlan {
  const strategy = input.strategy ?? { type: "Update" };
  const required = withoutUid(input.required);
  switch (strategy.type) {
    case "ReadOnly":
      return { action: "none", reason: "read-only" };
    case "CreateOnly":
      if (!input.live) return createPlan(required, input);
      return ownerPlan(input.live, input);
    case "ServerSideApply":
      return serverSideApplyPlan(required, strategy, input);
    case "Update":
      if (!input.live) return createPlan(required, input);
      return updatePlan(required, input.live, input);
  }
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function withoutUid(required: Unstructured): Unstructured {
  const copy = clone(required);
  copy.metadata = { ...(copy.metadata ?? {}) };
  delete copy.metadata.uid;
  return copy;
}

/** Keys ending in "-" ask for a label or annotation to be removed; they are never written. */
function isRemovalKey(key: string): boolean {
  return key.endsWith("-");
}

function withoutRemovalKeys(map: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!map) return undefined;
  const kept = Object.fromEntries(Object.entries(map).filter(([key]) => !isRemovalKey(key)));
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** Sets a metadata map or list, leaving the key out when it would be empty. */
function setOrDelete<K extends "labels" | "annotations" | "ownerReferences" | "finalizers">(
  metadata: Unstructured["metadata"],
  key: K,
  value: Unstructured["metadata"][K] | undefined,
): void {
  if (value === undefined || Object.keys(value).length === 0) delete metadata[key];
  else metadata[key] = value;
}

/**
 * Creating: the object's owner references become just the AppliedManifestWork's (none when
 * not owned), and removal keys are dropped from labels and annotations.
 */
function createPlan(required: Unstructured, input: ApplyInput): ApplyPlan {
  const object = clone(required);
  const ownerReferences: OwnerReference[] = input.owned
    ? [appliedManifestWorkOwnerReference(input.owner)]
    : [];
  setOrDelete(object.metadata, "ownerReferences", ownerReferences);
  setOrDelete(object.metadata, "labels", withoutRemovalKeys(object.metadata.labels));
  setOrDelete(object.metadata, "annotations", withoutRemovalKeys(object.metadata.annotations));
  return { action: "create", object };
}

function ownerPlan(live: Unstructured, input: ApplyInput): ApplyPlan {
  const patch = ownerReferencePatch(live, input.owner, input.owned);
  return patch ? { action: "patch-owner", patch } : { action: "none", reason: "unchanged" };
}

/**
 * Merges `required` into `existing`: each key is set to its required value, and a key ending
 * in "-" removes the key without its trailing dashes.
 */
export function mergeStringMap(
  existing: Readonly<Record<string, string>> | undefined,
  required: Readonly<Record<string, string>> | undefined,
): { merged: Record<string, string>; modified: boolean } {
  const merged: Record<string, string> = { ...(existing ?? {}) };
  let modified = false;
  for (const [key, value] of Object.entries(required ?? {})) {
    if (isRemovalKey(key)) {
      const actual = key.replace(/-+$/, "");
      if (Object.hasOwn(merged, actual)) {
        delete merged[actual];
        modified = true;
      }
    } else if (merged[key] !== value) {
      merged[key] = value;
      modified = true;
    }
  }
  return { merged, modified };
}

/** Deep equality of JSON values; keys holding undefined count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  const entriesA = Object.entries(a).filter(([, v]) => v !== undefined);
  const recordB = b as Record<string, unknown>;
  const keysB = Object.keys(recordB).filter((k) => recordB[k] !== undefined);
  return entriesA.length === keysB.length && entriesA.every(([k, v]) => jsonEqual(v, recordB[k]));
}

/**
 * True when two objects have the same apiVersion, kind, name and namespace and are equal in
 * everything but metadata and status.
 */
export function sameContent(a: Unstructured, b: Unstructured): boolean {
  if (a.apiVersion !== b.apiVersion || a.kind !== b.kind) return false;
  if ((a.metadata?.name ?? "") !== (b.metadata?.name ?? "")) return false;
  if ((a.metadata?.namespace ?? "") !== (b.metadata?.namespace ?? "")) return false;
  const { metadata: _ma, status: _sa, ...restA } = a;
  const { metadata: _mb, status: _sb, ...restB } = b;
  return jsonEqual(restA, restB);
}

/**
 * Update: the required object replaces the live one, keeping the live labels, annotations and
 * owner references merged with the required ones, the live finalizers and the live
 * resourceVersion. Nothing is written when the merge changed no metadata and the objects
 * are equal apart from metadata and status.
 */
function updatePlan(required: Unstructured, live: Unstructured, input: ApplyInput): ApplyPlan {
  const labels = mergeStringMap(live.metadata.labels, required.metadata.labels);
  const annotations = mergeStringMap(live.metadata.annotations, required.metadata.annotations);
  const owners = mergeOwnerReference(
    live.metadata.ownerReferences,
    appliedManifestWorkOwnerReference(input.owner),
    input.owned,
  );
  const object = clone(required);
  setOrDelete(object.metadata, "labels", labels.merged);
  setOrDelete(object.metadata, "annotations", annotations.merged);
  setOrDelete(object.metadata, "ownerReferences", owners.ownerReferences);
  setOrDelete(object.metadata, "finalizers", live.metadata.finalizers && [...live.metadata.finalizers]);
  const modified = labels.modified || annotations.modified || owners.modified;
  if (!modified && sameContent(object, live)) return { action: "none", reason: "unchanged" };
  if (live.metadata.resourceVersion) object.metadata.resourceVersion = live.metadata.resourceVersion;
  else delete object.metadata.resourceVersion;
  return { action: "update", object };
}

/**
 * Removes every `metadata.creationTimestamp: null`, at the top and in embedded objects such
 * as pod templates (in place): a null creation time makes the API server bump generation.
 */
export function removeNullCreationTimestamps(object: Record<string, unknown>): void {
  const metadata = object.metadata;
  if (metadata !== null && typeof metadata === "object" && !Array.isArray(metadata)) {
    const record = metadata as Record<string, unknown>;
    if (Object.hasOwn(record, "creationTimestamp") && record.creationTimestamp === null) {
      delete record.creationTimestamp;
    }
  }
  for (const value of Object.values(object)) {
    const items = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const item of items) {
      if (item !== null && typeof item === "object" && !Array.isArray(item)) {
        removeNullCreationTimestamps(item as Record<string, unknown>);
      }
    }
  }
}

/**
 * ServerSideApply. Without ignoreFields the manifest is applied as is. With them, the
 * OnSpokePresent selectors are removed from a copy whose config-spec-hash is stored in the
 * open-cluster-management.io/config-spec-hash annotation, then:
 * - a missing object is applied in full (ignored fields included), carrying the hash;
 * - an object whose annotation already holds the hash is left alone apart from its owner
 *   references;
 * - any other object gets the copy without the ignored fields.
 */
function serverSideApplyPlan(required: Unstructured, strategy: UpdateStrategy, input: ApplyInput): ApplyPlan {
  const options = strategy.serverSideApply;
  const force = options?.force ?? false;
  const fieldManager = options?.fieldManager || Work.defaultFieldManager;
  const original = clone(required);
  removeNullCreationTimestamps(original);
  const ignoreFields = options?.ignoreFields ?? [];
  if (ignoreFields.length === 0) return { action: "apply", body: original, fieldManager, force };

  const stripped = clone(original);
  try {
    removeIgnoredFields(stripped, ignoreFields);
  } catch (error) {
    if (!(error instanceof IgnoreFieldError)) throw error;
    return {
      action: "error",
      reason: ManifestWorkReasons.appliedManifestSSAIgnoreFieldError,
      message: error.message,
    };
  }
  const hash = configSpecHash(stripped);
  stripped.metadata ??= {};
  const annotations = { ...(stripped.metadata.annotations ?? {}), [Annotations.configSpecHash]: hash };
  stripped.metadata.annotations = annotations;
  original.metadata.annotations = { ...annotations };

  if (!input.live) return { action: "apply", body: original, fieldManager, force };
  if (input.live.metadata.annotations?.[Annotations.configSpecHash] === hash) {
    const patch = ownerReferencePatch(input.live, input.owner, input.owned);
    return patch ? { action: "patch-owner", patch } : { action: "none", reason: "spec-hash-unchanged" };
  }
  return { action: "apply", body: stripped, fieldManager, force };
}
