// The owner reference an AppliedManifestWork puts on the resources it applied, and the way the
// agent merges it into a resource's existing owner references. A reference matches an existing
// one when name, kind and API group are equal (the version and uid may differ); a matching
// reference is replaced, a missing one appended, and when the resource must not be owned the
// matching reference is removed instead.
import { Resources } from "../../api/constants.ts";
import type { KubeObject, OwnerReference } from "../../api/types/meta.ts";

/** The AppliedManifestWork that owns what a work applied. */
export interface AppliedManifestWorkOwner {
  name: string;
  uid: string;
}

/**
 * A JSON merge patch that sets a resource's owner references. Its uid and resourceVersion
 * make the API server refuse the patch when the object changed or was recreated meanwhile.
 */
export interface OwnerReferencePatch {
  metadata: { uid?: string; resourceVersion?: string; ownerReferences: OwnerReference[] };
}

/** `{apiVersion: work.open-cluster-management.io/v1, kind: AppliedManifestWork, name, uid}`: not a controller reference. */
export function appliedManifestWorkOwnerReference(owner: AppliedManifestWorkOwner): OwnerReference {
  return {
    apiVersion: Resources.AppliedManifestWork.apiVersion,
    kind: Resources.AppliedManifestWork.kind,
    name: owner.name,
    uid: owner.uid,
  };
}

/** True when one of the references carries the owner's uid. */
export function isOwnedBy(uid: string, references: readonly OwnerReference[] | undefined): boolean {
  return (references ?? []).some((reference) => reference.uid === uid);
}

/** The API group of an apiVersion ("" for core "v1"); undefined when it is malformed. */
function groupOf(apiVersion: string): string | undefined {
  const parts = apiVersion.split("/");
  if (parts.length === 1) return "";
  if (parts.length === 2) return parts[0];
  return undefined;
}

function sameOwner(a: OwnerReference, b: OwnerReference): boolean {
  if (a.name !== b.name || a.kind !== b.kind) return false;
  const groupA = groupOf(a.apiVersion);
  const groupB = groupOf(b.apiVersion);
  return groupA !== undefined && groupB !== undefined && groupA === groupB;
}

function equalReferences(a: OwnerReference, b: OwnerReference): boolean {
  return (
    a.apiVersion === b.apiVersion &&
    a.kind === b.kind &&
    a.name === b.name &&
    a.uid === b.uid &&
    a.controller === b.controller &&
    a.blockOwnerDeletion === b.blockOwnerDeletion
  );
}

/**
 * Merges `reference` into `existing`: with `keep`, a matching reference (same name, kind and
 * group) is replaced when it differs and a missing one appended; without it, the first matching
 * reference is dropped. Returns the new list and whether it differs from `existing`.
 */
export function mergeOwnerReference(
  existing: readonly OwnerReference[] | undefined,
  reference: OwnerReference,
  keep: boolean,
): { ownerReferences: OwnerReference[]; modified: boolean } {
  const ownerReferences = [...(existing ?? [])];
  const index = ownerReferences.findIndex((candidate) => sameOwner(reference, candidate));
  if (index < 0) {
    if (!keep) return { ownerReferences, modified: false };
    ownerReferences.push({ ...reference });
    return { ownerReferences, modified: true };
  }
  if (!keep) {
    ownerReferences.splice(index, 1);
    return { ownerReferences, modified: true };
  }
  const current = ownerReferences[index];
  if (current && equalReferences(current, reference)) return { ownerReferences, modified: false };
  ownerReferences[index] = { ...reference };
  return { ownerReferences, modified: true };
}

/**
 * The merge patch that adds the AppliedManifestWork's reference to `live` (when `owned`) or
 * removes it (when not); undefined when the references are already right.
 */
export function ownerReferencePatch(
  live: Pick<KubeObject, "metadata">,
  owner: AppliedManifestWorkOwner,
  owned: boolean,
): OwnerReferencePatch | undefined {
  const { ownerReferences, modified } = mergeOwnerReference(
    live.metadata.ownerReferences,
    appliedManifestWorkOwnerReference(owner),
    owned,
  );
  if (!modified) return undefined;
  return patchOf(live, ownerReferences);
}

/** A merge patch setting `ownerReferences` on `live`, guarded by its uid and resourceVersion. */
export function patchOf(
  live: Pick<KubeObject, "metadata">,
  ownerReferences: OwnerReference[],
): OwnerReferencePatch {
  const metadata: OwnerReferencePatch["metadata"] = { ownerReferences };
  if (live.metadata.uid) metadata.uid = live.metadata.uid;
  if (live.metadata.resourceVersion) metadata.resourceVersion = live.metadata.resourceVersion;
  return { metadata };
}
