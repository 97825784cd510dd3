// A ManifestWorkReplicaSet bundle: manifests too many for the replica set itself (one etcd
// object holds about 1.5 MiB) kept in ConfigMaps beside it, its "content objects". The replica
// set names the bundle in an annotation, `<hash>/<count>`; content object i holds the i-th run
// of the bundle's manifests as a gzip-compressed JSON array, and is labelled with the replica
// set's name, the bundle hash and i. The hub appends the bundle's manifests to the template's
// own and delivers the whole as it delivers any template (split into parts by size).
//
// The hash covers the inflated JSON of every content object in index order, so content that
// was changed, mixed with another bundle's or written by someone else is refused as a whole:
// the hub delivers the bundle it was told about, or nothing new.
//
// Nothing here does I/O: packing, naming, and reading back are pure, so they are tested with
// tables.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { BosunBundle, BosunBundleAnnotations, BosunBundleLabels, Resources } from "../../api/constants.ts";
import type { KubeObject, ObjectMeta } from "../../api/types/meta.ts";
import type { Manifest, ManifestWorkReplicaSet, ManifestWorkSpec } from "../../api/types/work.ts";
import { describeManifest } from "../work/manifest.ts";

// ---------------------------------------------------------------------------------------------
// The annotation

/** Which bundle a replica set carries: its hash and how many content objects hold it. */
export interface BundleRef {
  hash: string;
  count: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** The most content objects one bundle may have (about 9 GiB compressed). */
const maxContentObjects = 10_000;

export function formatBundleRef(ref: BundleRef): string {
  return `${ref.hash}/${ref.count}`;
}

/** Reads `<hash>/<count>`: a lower-case hex hash and a count from 1 to 10000. */
export function parseBundleRef(value: string): Parsed<BundleRef> {
  const match = /^([0-9a-f]{8,64})\/([1-9][0-9]{0,4})$/.exec(value);
  const count = match ? Number(match[2]) : 0;
  if (!match || count > maxContentObjects) {
    return {
      ok: false,
      error:
        `annotation ${BosunBundleAnnotations.content} is ${JSON.stringify(value)}: ` +
        `want <hash>/<count>, a lower-case hex hash and 1 to ${maxContentObjects} content objects`,
    };
  }
  return { ok: true, value: { hash: match[1]!, count } };
}

/** The bundle a replica set names; undefined when it carries its manifests inline only. */
export function bundleRefOf(
  replicaSet: Pick<ManifestWorkReplicaSet, "metadata">,
): Parsed<BundleRef> | undefined {
  const value = replicaSet.metadata.annotations?.[BosunBundleAnnotations.content];
  return value === undefined ? undefined : parseBundleRef(value);
}

// ---------------------------------------------------------------------------------------------
// Packing

export interface PackOptions {
  /** The most compressed bytes per content object; default BosunBundle.maxContentBytes. */
  maxContentBytes?: number;
  /** The most bytes a content object may inflate to; default BosunBundle.maxInflatedBytes. */
  maxInflatedBytes?: number;
}

/** One content object's share of the bundle. */
export interface ContentChunk {
  index: number;
  /** The manifests it holds, a contiguous run of the bundle in order. */
  manifests: Manifest[];
  /** Bytes of its JSON array. */
  inflatedBytes: number;
  /** The JSON array, gzip-compressed: what the ConfigMap holds. */
  data: Buffer;
}

export type PackResult =
  | { ok: true; hash: string; chunks: ContentChunk[]; inflatedBytes: number }
  | { ok: false; error: string; index: number };

/** The bundle hash over the inflated texts of its content objects, in index order. */
export function bundleHash(texts: readonly (string | Buffer)[]): string {
  const hash = createHash("sha256");
  for (const text of texts) hash.update(text).update("\n");
  return hash.digest("hex").slice(0, BosunBundle.hashLength);
}

/** Attempts at finding how many manifests fill a content object before halving instead. */
const maxAttempts = 8;
/** A content object this full (of its compressed budget) is full enough. */
const fullEnough = 0.9;
/** Aim this far below the budget, as the compression ratio of the next run is an estimate. */
const aim = 0.97;

/**
 * Packs manifests, in order, into content objects of at most `maxContentBytes` compressed
 * (and `maxInflatedBytes` inflated) bytes, each as full as a few compressions find. The run of
 * manifests per object is guessed from the compression ratio seen so far and corrected by
 * compressing again, so the result depends on the manifests alone. Fails, naming the manifest,
 * when one manifest alone does not fit.
 */
export function packBundle(manifests: readonly Manifest[], options: PackOptions = {}): PackResult {
  const budget = options.maxContentBytes ?? BosunBundle.maxContentBytes;
  const maxInflated = options.maxInflatedBytes ?? BosunBundle.maxInflatedBytes;
  if (!(Number.isInteger(budget) && budget > 0 && Number.isInteger(maxInflated) && maxInflated > 2)) {
    throw new RangeError(`no room for content: ${budget} bytes compressed, ${maxInflated} inflated`);
  }
  const texts = manifests.map((manifest) => JSON.stringify(manifest));
  const sizes = texts.map((text) => Buffer.byteLength(text, "utf8"));
  const tooBig = (index: number, what: string): PackResult => ({
    ok: false,
    index,
    error:
      `manifest ${index} (${describeManifest(manifests[index])}) is ${what}, more than one content ` +
      `object holds (${budget} bytes compressed, ${maxInflated} inflated)`,
  });
  for (const [index, size] of sizes.entries()) {
    // An array of one: its brackets.
    if (size + 2 > maxInflated) return tooBig(index, `${size} bytes of JSON`);
  }
  /** Bytes of the JSON array of manifests [start, end). */
  const arrayBytes = (start: number, end: number) => {
    let bytes = 2 + (end - start - 1);
    for (let i = start; i < end; i++) bytes += sizes[i]!;
    return bytes;
  };
  const compress = (start: number, end: number) => gzipSync(`[${texts.slice(start, end).join(",")}]`);

  const chunks: ContentChunk[] = [];
  const inflatedTexts: string[] = [];
  /** Inflated bytes per compressed byte, as last seen. */
  let ratio = 4;
  let start = 0;
  while (start < manifests.length) {
    let best: { end: number; data: Buffer } | undefined;
    /** The smallest end known not to fit. */
    let tooFar = manifests.length + 1;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const target = Math.min(maxInflated, Math.floor(budget * ratio * aim));
      let end = start + 1;
      let bytes = sizes[start]! + 2;
      while (end < manifests.length && end + 1 < tooFar && bytes + sizes[end]! + 1 <= target) {
        bytes += sizes[end]! + 1;
        end++;
      }
      if (best && end <= best.end) break;
      const data = compress(start, end);
      ratio = bytes / Math.max(1, data.length);
      if (data.length <= budget) {
        best = { end, data };
        const next = end < manifests.length ? sizes[end]! + 1 : 0;
        if (end === manifests.length || bytes + next > maxInflated || data.length >= budget * fullEnough)
          break;
      } else {
        tooFar = end;
        if (end === start + 1) return tooBig(start, `${data.length} bytes compressed`);
      }
    }
    // Still nothing that fits: halve the run until it does.
    while (!best) {
      const end = start + Math.max(1, Math.floor((tooFar - start) / 2));
      const data = compress(start, end);
      if (data.length <= budget) best = { end, data };
      else if (end === start + 1) return tooBig(start, `${data.length} bytes compressed`);
      else tooFar = end;
    }
    const inflatedBytes = arrayBytes(start, best.end);
    chunks.push({
      index: chunks.length,
      manifests: manifests.slice(start, best.end),
      inflatedBytes,
      data: best.data,
    });
    inflatedTexts.push(`[${texts.slice(start, best.end).join(",")}]`);
    start = best.end;
  }
  return {
    ok: true,
    hash: bundleHash(inflatedTexts),
    chunks,
    inflatedBytes: chunks.reduce((total, chunk) => total + chunk.inflatedBytes, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Content objects

/** A ConfigMap as a content object: labels and binaryData. */
export interface ContentObject extends KubeObject {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: ObjectMeta;
  immutable?: boolean;
  data?: Record<string, string>;
  /** Base64, as on the wire. */
  binaryData?: Record<string, string>;
}

/** The replica set a bundle belongs to. */
export interface BundleOwner {
  name: string;
  namespace: string;
  uid: string;
}

/** `<replica set>-<hash>-<index>`: the name of a content object. */
export function contentObjectName(bundle: string, hash: string, index: number): string {
  return `${bundle}-${hash}-${index}`;
}

/** Why a replica set name cannot name a bundle (it is a label value on the content objects). */
export function bundleNameError(name: string): string | undefined {
  if (name.length > 63 || !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(name)) {
    return (
      `a bundled ManifestWorkReplicaSet's name must be a label value of at most 63 characters ` +
      `(lower-case letters, digits, '-' and '.'): ${JSON.stringify(name)}`
    );
  }
  return undefined;
}

/**
 * The ConfigMaps holding a packed bundle: immutable, labelled with the replica set, the hash
 * and their index, and owned by the replica set (not as controller, not blocking its
 * deletion), so the garbage collector removes them with it.
 */
export function contentObjects(
  owner: BundleOwner,
  pack: { hash: string; chunks: readonly ContentChunk[] },
): ContentObject[] {
  return pack.chunks.map((chunk) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: contentObjectName(owner.name, pack.hash, chunk.index),
      namespace: owner.namespace,
      labels: {
        [BosunBundleLabels.bundle]: owner.name,
        [BosunBundleLabels.contentHash]: pack.hash,
        [BosunBundleLabels.contentIndex]: String(chunk.index),
      },
      ownerReferences: [
        {
          apiVersion: Resources.ManifestWorkReplicaSet.apiVersion,
          kind: Resources.ManifestWorkReplicaSet.kind,
          name: owner.name,
          uid: owner.uid,
          controller: false,
          blockOwnerDeletion: false,
        },
      ],
    },
    immutable: true,
    binaryData: { [BosunBundle.dataKey]: chunk.data.toString("base64") },
  }));
}

// ---------------------------------------------------------------------------------------------
// Reading back

export type ReadResult =
  { ok: true; manifests: Manifest[] } | { ok: false; problem: "missing" | "invalid"; message: string };

export interface ReadOptions {
  /** The replica set's name: content objects are looked for under it. */
  bundle: string;
  namespace: string;
  maxInflatedBytes?: number;
}

function listed(names: readonly string[], most = 5): string {
  const shown = names.slice(0, most).join(", ");
  return names.length > most ? `${shown} and ${names.length - most} more` : shown;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The manifests of bundle `ref`, from the content objects found for it (those labelled with
 * its replica set and hash). Missing objects are reported as missing, naming them; a bad index
 * label, two objects for one index, data that is not gzip, inflates too far, is not a JSON
 * array of objects or does not match the hash as invalid, naming the object.
 */
export function readBundle(
  ref: BundleRef,
  objects: readonly ContentObject[],
  options: ReadOptions,
): ReadResult {
  const maxInflated = options.maxInflatedBytes ?? BosunBundle.maxInflatedBytes;
  const invalid = (message: string): ReadResult => ({
    ok: false,
    problem: "invalid",
    message: `bundle content ${ref.hash}: ${message}`,
  });
  const byIndex = new Map<number, ContentObject>();
  for (const object of objects) {
    const name = object.metadata.name ?? "";
    const labels = object.metadata.labels ?? {};
    if (labels[BosunBundleLabels.contentHash] !== ref.hash) continue;
    const text = labels[BosunBundleLabels.contentIndex] ?? "";
    const index = /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : Number.NaN;
    if (!(index < ref.count)) {
      return invalid(
        `ConfigMap ${name} has ${BosunBundleLabels.contentIndex}=${JSON.stringify(text)}, ` +
          `not an index below ${ref.count}`,
      );
    }
    const other = byIndex.get(index);
    if (other) {
      const names = [other.metadata.name ?? "", name].sort();
      return invalid(`ConfigMaps ${names[0]} and ${names[1]} both hold index ${index}`);
    }
    byIndex.set(index, object);
  }
  const missing: string[] = [];
  for (let index = 0; index < ref.count; index++) {
    if (!byIndex.has(index)) missing.push(contentObjectName(options.bundle, ref.hash, index));
  }
  if (missing.length > 0) {
    return {
      ok: false,
      problem: "missing",
      message:
        `bundle content ${missing.length}/${ref.count} missing: ` +
        `ConfigMap${missing.length > 1 ? "s" : ""} ${listed(missing)} in namespace ${options.namespace} ` +
        `(bundle ${ref.hash})`,
    };
  }

  const texts: Buffer[] = [];
  for (let index = 0; index < ref.count; index++) {
    const object = byIndex.get(index)!;
    const name = object.metadata.name ?? "";
    const encoded = object.binaryData?.[BosunBundle.dataKey];
    if (typeof encoded !== "string") {
      return invalid(`ConfigMap ${name} has no binaryData ${BosunBundle.dataKey}`);
    }
    try {
      texts.push(gunzipSync(Buffer.from(encoded, "base64"), { maxOutputLength: maxInflated }));
    } catch (error) {
      if (error instanceof RangeError) {
        return invalid(`ConfigMap ${name} inflates to more than ${maxInflated} bytes`);
      }
      return invalid(`ConfigMap ${name}: ${BosunBundle.dataKey} is not gzip data: ${errorText(error)}`);
    }
  }
  const actual = bundleHash(texts);
  if (actual !== ref.hash) {
    return invalid(
      `the ${ref.count} content objects hash to ${actual}: they were changed after they were written`,
    );
  }
  const manifests: Manifest[] = [];
  for (const [index, text] of texts.entries()) {
    const name = byIndex.get(index)!.metadata.name ?? "";
    let value: unknown;
    try {
      value = JSON.parse(text.toString("utf8"));
    } catch (error) {
      return invalid(`ConfigMap ${name}: ${BosunBundle.dataKey} is not JSON: ${errorText(error)}`);
    }
    if (!Array.isArray(value))
      return invalid(`ConfigMap ${name}: ${BosunBundle.dataKey} is not a JSON array`);
    for (const [position, manifest] of value.entries()) {
      if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) {
        return invalid(`ConfigMap ${name}: item ${position} of ${BosunBundle.dataKey} is not an object`);
      }
      manifests.push(manifest as Manifest);
    }
  }
  return { ok: true, manifests };
}

/** The template with the bundle's manifests after its own; the rest of it unchanged. */
export function withBundle(template: ManifestWorkSpec, manifests: readonly Manifest[]): ManifestWorkSpec {
  return {
    ...template,
    workload: { ...template.workload, manifests: [...(template.workload?.manifests ?? []), ...manifests] },
  };
}
