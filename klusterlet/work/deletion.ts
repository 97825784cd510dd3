// Deleting what a work applied: the resources dropped from a work's manifests, and all of them
// when the work goes away. The controller reads each resource, asks planDeletion what to do,
// and keeps every resource whose step is `pending` (or a successful `delete`) in the
// AppliedManifestWork's status until it is gone, requeueing with backoff meanwhile.
import { Resources, Work } from "../../api/constants.ts";
import type { OwnerReference, Time } from "../../api/types/meta.ts";
import type { AppliedManifestResourceMeta, DeleteOption } from "../../api/types/work.ts";
import { ownedByTheWork } from "./config.ts";
import { isOwnedBy, type OwnerReferencePatch } from "./owner.ts";

/** What the controller read of an applied resource; undefined when it was not found. */
export interface LiveResource {
  uid?: string;
  resourceVersion?: string;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: Time;
}

export type DeletionStep =
  /** Nothing left to track: the resource is gone, or the live one is a different object. */
  | { action: "forget"; reason: "missing" | "recreated" }
  /** Not owned by this AppliedManifestWork (orphaned, read-only or adopted elsewhere): left alone and forgotten. */
  | { action: "skip"; reason: "not-owned" }
  /**
   * Other AppliedManifestWorks own it too: only this one's reference is removed (merge PATCH
   * `patch`), the resource stays and is forgotten.
   */
  | { action: "remove-owner"; ownerReferences: OwnerReference[]; patch: OwnerReferencePatch }
  /** Already being deleted: keep tracking it. */
  | { action: "pending" }
  /**
   * DELETE with these options, then keep tracking it. A 404 or a failed uid precondition
   * (409) means it is already gone: forget it.
   */
  | { action: "delete"; options: { propagationPolicy: "Background"; uid: string } };

function isAppliedManifestWorkReference(reference: OwnerReference): boolean {
  return (
    reference.apiVersion === Resources.AppliedManifestWork.apiVersion &&
    reference.kind === Resources.AppliedManifestWork.kind
  );
}

/**
 * The step for one applied resource of the AppliedManifestWork with uid `appliedUid`, checked
 * in this order: missing, not owned, shared with other AppliedManifestWorks, recreated
 * (the recorded uid differs), terminating, otherwise delete.
 */
export function planDeletion(
  resource: AppliedManifestResourceMeta,
  live: LiveResource | undefined,
  appliedUid: string,
): DeletionStep {
  if (!live) return { action: "forget", reason: "missing" };
  const references = live.ownerReferences ?? [];
  if (!isOwnedBy(appliedUid, references)) return { action: "skip", reason: "not-owned" };
  const others = references.some(
    (reference) => isAppliedManifestWorkReference(reference) && reference.uid !== appliedUid,
  );
  if (others) {
    const ownerReferences = references.filter((reference) => reference.uid !== appliedUid);
    const metadata: OwnerReferencePatch["metadata"] = { ownerReferences };
    if (live.uid) metadata.uid = live.uid;
    if (live.resourceVersion) metadata.resourceVersion = live.resourceVersion;
    return { action: "remove-owner", ownerReferences, patch: { metadata } };
  }
  if ((resource.uid ?? "") !== (live.uid ?? "")) return { action: "forget", reason: "recreated" };
  if (live.deletionTimestamp) return { action: "pending" };
  return {
    action: "delete",
    options: { propagationPolicy: Work.appliedResourceDeletePropagation, uid: resource.uid ?? "" },
  };
}

/**
 * The step for one applied resource when the AppliedManifestWork with uid `appliedUid` lets go of
 * everything it applied (an unjoin that keeps the workloads): whatever it owns loses only that
 * owner reference and stays; nothing is deleted.
 */
export function planOrphaning(live: LiveResource | undefined, appliedUid: string): DeletionStep {
  if (!live) return { action: "forget", reason: "missing" };
  const references = live.ownerReferences ?? [];
  if (!isOwnedBy(appliedUid, references)) return { action: "skip", reason: "not-owned" };
  const ownerReferences = references.filter((reference) => reference.uid !== appliedUid);
  const metadata: OwnerReferencePatch["metadata"] = { ownerReferences };
  if (live.uid) metadata.uid = live.uid;
  if (live.resourceVersion) metadata.resourceVersion = live.resourceVersion;
  return { action: "remove-owner", ownerReferences, patch: { metadata } };
}

/** Group, resource, namespace and name equal; the version and uid are not compared. */
export function sameAppliedResource(
  a: Pick<AppliedManifestResourceMeta, "group" | "resource" | "namespace" | "name">,
  b: Pick<AppliedManifestResourceMeta, "group" | "resource" | "namespace" | "name">,
): boolean {
  return (
    (a.group ?? "") === (b.group ?? "") &&
    a.resource === b.resource &&
    (a.namespace ?? "") === (b.namespace ?? "") &&
    a.name === b.name
  );
}

/** The previously applied resources that the current ones no longer list. */
export function removedResources(
  previous: readonly AppliedManifestResourceMeta[] | undefined,
  current: readonly AppliedManifestResourceMeta[] | undefined,
): AppliedManifestResourceMeta[] {
  const kept = current ?? [];
  return (previous ?? []).filter((resource) => !kept.some((other) => sameAppliedResource(resource, other)));
}

function compareText(a: string | undefined, b: string | undefined): number {
  const x = a ?? "";
  const y = b ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Applied resources in the order the AppliedManifestWork status lists them: group, version, resource, namespace, name. */
export function sortAppliedResources(
  resources: readonly AppliedManifestResourceMeta[],
): AppliedManifestResourceMeta[] {
  return [...resources].sort(
    (a, b) =>
      compareText(a.group, b.group) ||
      compareText(a.version, b.version) ||
      compareText(a.resource, b.resource) ||
      compareText(a.namespace, b.namespace) ||
      compareText(a.name, b.name),
  );
}

/**
 * Splits applied resources into those the work owns under its deleteOption (deleted with it)
 * and those it orphans (Orphan, or SelectivelyOrphan rules naming them).
 */
export function partitionByDeleteOption(
  resources: readonly AppliedManifestResourceMeta[],
  deleteOption: DeleteOption | undefined,
): { owned: AppliedManifestResourceMeta[]; orphaned: AppliedManifestResourceMeta[] } {
  const owned: AppliedManifestResourceMeta[] = [];
  const orphaned: AppliedManifestResourceMeta[] = [];
  for (const resource of resources) {
    (ownedByTheWork(deleteOption, resource) ? owned : orphaned).push(resource);
  }
  return { owned, orphaned };
}
