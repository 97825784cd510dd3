// The order in which the work agent applies a ManifestWork's manifests, and the custom
// resources that must wait until the CRD defining them, carried by the same work, is
// Established. Status still reports each manifest by its index in the spec (its ordinal).
import type { Condition } from "../../api/types/meta.ts";

/** Kinds by apply rank: lower ranks are applied first. */
const rankedKinds: readonly (readonly string[])[] = [
  [
    "PriorityClass",
    "Namespace",
    "CustomResourceDefinition",
    "StorageClass",
    "PersistentVolume",
    "PodSecurityPolicy",
  ],
  ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
  ["NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget", "ServiceAccount"],
  ["Secret", "ConfigMap", "PersistentVolumeClaim"],
  ["Service"],
  ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "ReplicationController"],
  ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService"],
];

/** The rank of a kind missing from the table. */
export const otherKindRank = 1000;
/** The rank of a manifest that is not an object with an apiVersion and a kind. */
export const unparseableRank = 1001;

const rankOfKind: ReadonlyMap<string, number> = new Map(
  rankedKinds.flatMap((kinds, rank) => kinds.map((kind) => [kind, rank] as const)),
);

interface TypeMeta {
  apiVersion: string;
  kind: string;
}

function typeMetaOf(manifest: unknown): TypeMeta | undefined {
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) return undefined;
  const { apiVersion, kind } = manifest as Record<string, unknown>;
  if (typeof apiVersion !== "string" || !apiVersion || typeof kind !== "string" || !kind) return undefined;
  return { apiVersion, kind };
}

/** The apply rank of a manifest, by its kind alone (the API group is not considered). */
export function applyRank(manifest: unknown): number {
  const meta = typeMetaOf(manifest);
  if (!meta) return unparseableRank;
  return rankOfKind.get(meta.kind) ?? otherKindRank;
}

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

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

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
  const meta = typeMetaOf(manifest);
  return !!meta && meta.kind === crdKind && groupOf(meta.apiVersion) === crdGroup;
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
  const meta = typeMetaOf(manifest);
  if (!meta) return undefined;
  return crds.get(groupKindKey(groupOf(meta.apiVersion), meta.kind));
}

/** True when a live CRD has the condition Established=True. */
export function crdEstablished(crd: { status?: { conditions?: readonly Partial<Condition>[] } }): boolean {
  return (crd.status?.conditions ?? []).some(
    (condition) => condition.type === "Established" && condition.status === "True",
  );
}
