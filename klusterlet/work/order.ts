// The order in which the work agent applies a ManifestWork's manifests, and the custom
// resources that must wait until the CRD defining them, carried by the same work, is
// Established. Status still reports each manifest by its index in the spec (its ordinal).
import { apiGroup, applyRank, ApplyRank, manifestType } from "../../api/kind-rank.ts";
import type { Condition } from "../../api/types/meta.ts";

/** The rank of a kind missing from the table. */
export const otherKindRank = ApplyRank.other;
/** The rank of a manifest that is not an object with an apiVersion and a kind. */
export const unparseableRank = ApplyRank.unparseable;

export { applyRank };

export interface OrderedManifest<T> {
  /** The manifest's index in `spec.workload.manifests`. */
  ordinal: number;
  rank: number;
  manifest: T;
}

/** The manifests in apply order: by rank, keeping spec order within a rank. */
export function applyOrder<T>(manifests: readonly T[]): OrderedManifest<T>[] {
  return manifests
    .map((manifest, ordinal) => ({ ordinal, rank: applyRank(manifest), manifest }))
    .sort((a, b) => a.rank - b.rank || a.ordinal - b.ordinal);
}

const crdGroup = "apiextensions.k8s.io";
const crdKind = "CustomResourceDefinition";

function groupKindKey(group: string, kind: string): string {
  return `${kind}.${group}`;
}

function stringAt(value: unknown, ...path: string[]): string | undefined {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === "string" && current ? current : undefined;
}

/** True for an apiextensions.k8s.io CustomResourceDefinition manifest. */
export function isCrd(manifest: unknown): boolean {
  const meta = manifestType(manifest);
  return !!meta && meta.kind === crdKind && apiGroup(meta.apiVersion) === crdGroup;
}

/**
 * The kinds the CRD manifests of one work define: `<kind>.<group>` to the CRD's name.
 * CRDs without spec.group or spec.names.kind are left out.
 */
export function crdsInWork(manifests: readonly unknown[]): Map<string, string> {
  const defined = new Map<string, string>();
  for (const manifest of manifests) {
    if (!isCrd(manifest)) continue;
    const group = stringAt(manifest, "spec", "group");
    const kind = stringAt(manifest, "spec", "names", "kind");
    const name = stringAt(manifest, "metadata", "name");
    if (group && kind && name) defined.set(groupKindKey(group, kind), name);
  }
  return defined;
}

/**
 * The name of the CRD, carried by the same work, that defines this manifest's kind; the
 * controller applies the manifest only once that CRD is Established. Undefined for manifests
 * whose kind no CRD of the work defines.
 */
export function awaitedCrd(manifest: unknown, crds: ReadonlyMap<string, string>): string | undefined {
  const meta = manifestType(manifest);
  if (!meta) return undefined;
  return crds.get(groupKindKey(apiGroup(meta.apiVersion), meta.kind));
}

/** True when a live CRD has the condition Established=True. */
export function crdEstablished(crd: { status?: { conditions?: readonly Partial<Condition>[] } }): boolean {
  return (crd.status?.conditions ?? []).some(
    (condition) => condition.type === "Established" && condition.status === "True",
  );
}
