// Size and identity of the manifests a ManifestWork carries.
import { apiGroup, apiVersionOnly } from "../../api/kind-rank.ts";

/**
 * Bytes of the JSON Go's encoding/json writes for a value: the UTF-8 length of the compact
 * encoding, where Go also escapes `<`, `>` and `&` (6 bytes each, `\u003c`) and U+2028/U+2029
 * (6 bytes instead of 3). This is what a manifest's raw bytes hold when the API server hands a
 * ManifestWork to OCM's webhook. Key order does not change the length.
 */
export function goJsonLength(value: unknown): number {
  const text = JSON.stringify(value) ?? "null";
  let bytes = Buffer.byteLength(text, "utf8");
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3c || c === 0x3e || c === 0x26) bytes += 5;
    else if (c === 0x2028 || c === 0x2029) bytes += 3;
  }
  return bytes;
}

/** Bytes of an unsigned protobuf varint. */
function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    length++;
  }
  return length;
}

/**
 * The size OCM counts for one manifest: `RawExtension.Size()`, the length of the manifest's
 * protobuf field (1 tag byte, the varint length, then the raw JSON bytes). OCM's webhook sums
 * this over a work's manifests and compares the sum with its limit (default 512000).
 */
export function manifestSize(manifest: unknown): number {
  const raw = goJsonLength(manifest);
  return 1 + varintLength(raw) + raw;
}

/** The summed size of manifests, as OCM's size check computes it. */
export function totalManifestSize(manifests: readonly unknown[]): number {
  let total = 0;
  for (const manifest of manifests) total += manifestSize(manifest);
  return total;
}

/** Who a manifest is, read without assuming it is well formed. */
export interface ManifestIdentity {
  apiVersion: string;
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
}

function stringField(object: unknown, key: string): string {
  if (object === null || typeof object !== "object" || Array.isArray(object)) return "";
  const value = (object as Record<string, unknown>)[key];
  return typeof value === "string" ? value : "";
}

export function manifestIdentity(manifest: unknown): ManifestIdentity {
  const apiVersion = stringField(manifest, "apiVersion");
  const metadata =
    manifest !== null && typeof manifest === "object"
      ? (manifest as { metadata?: unknown }).metadata
      : undefined;
  return {
    apiVersion,
    group: apiGroup(apiVersion),
    version: apiVersionOnly(apiVersion),
    kind: stringField(manifest, "kind"),
    namespace: stringField(metadata, "namespace"),
    name: stringField(metadata, "name"),
  };
}

/**
 * A key naming the object a manifest manages, independent of its content and of its API
 * version (a manifest moving from v1beta1 to v1 is still the same object):
 * `<group>/<kind>/<namespace>/<name>`.
 */
export function objectKey(manifest: unknown): string {
  const id = manifestIdentity(manifest);
  return `${id.group}/${id.kind}/${id.namespace}/${id.name}`;
}

/** `apps/v1 Deployment default/web`, or `v1 Namespace web` for a cluster-scoped object. */
export function describeManifest(manifest: unknown): string {
  const id = manifestIdentity(manifest);
  const where = id.namespace ? `${id.namespace}/${id.name}` : id.name;
  return `${id.apiVersion || "<no apiVersion>"} ${id.kind || "<no kind>"} ${where || "<no name>"}`;
}
