// Spreading one ManifestWork template over several ManifestWorks ("parts") when its manifests
// exceed the size limit. OCM refuses such a work; bosun splits it, and OCM's webhook accepts
// every part, because each part's summed manifest size is within the limit.
//
// Order. Manifests are sorted by split tier (see kind-rank.ts), then apply rank, then a key
// that does not depend on content: group, kind, namespace, name (then version). Every part is
// a contiguous run of that order, so everything in part i sorts before everything in part i+1:
// CRDs and Namespaces come first, webhooks and APIServices last. The agent applies part i only
// once the parts before it are Applied, so dependencies reach a cluster first.
//
// Stability. An object that changes part is removed from one ManifestWork and added to
// another, which can make the agent delete and recreate it, so a re-split keeps every object
// where it was as far as the limit allows:
//   - With no previous parts, the sorted manifests are packed greedily, leaving `headroom` of
//     each part's budget free, so later growth and additions fit where they land.
//   - With previous parts (the manifests of the existing ManifestWorks, in part order), their
//     boundaries are kept: the first key of each previous part starts that part again, even if
//     that object has since been removed. Every manifest goes to the part whose key range holds
//     it, so an unchanged object stays in its part whatever is added, removed or changed around
//     it. Two repairs follow, each moving as little as possible:
//       * a part left empty takes the first object of the next non-empty part (one object
//         moves, instead of every later part shifting down an index and being renamed);
//       * a part over the budget hands its last objects to the start of the next part, and so
//         on (only objects at a boundary move, one part to the right).
//     Parts are never merged while the template is still too big for one, however empty they
//     become.
//   - A template that fits in one work is one work (no part labels), exactly as OCM would
//     carry it. Once split, it goes back to one work only when it fits within the budget less
//     the headroom, so a template hovering at the limit does not flip between one and two works.
import { createHash } from "node:crypto";
import { BosunWork, BosunWorkAnnotations, BosunWorkLabels, Work } from "../../api/constants.ts";
import type { Manifest, ManifestWorkSpec } from "../../api/types/work.ts";
import { applyRank, splitTier } from "../../api/kind-rank.ts";
import { describeManifest, manifestIdentity, manifestSize } from "./manifest.ts";

export interface SplitOptions {
  /** Bytes of each part's limit kept for the rest of the ManifestWork object. Default 0. */
  marginBytes?: number;
  /** Fraction of each part's budget left free when parts are first packed. Default 0.1. */
  headroom?: number;
  /** The manifests of the existing parts, in part order; makes the split stable. */
  previous?: readonly (readonly unknown[])[];
}

export interface SplitPart {
  index: number;
  /** In template order. */
  manifests: Manifest[];
  /** Summed manifest size, as OCM's webhook counts it. */
  size: number;
}

export type SplitResult =
  | { ok: true; parts: SplitPart[]; budget: number }
  | { ok: false; error: string; manifest: Manifest; size: number; budget: number };

/** Where a manifest sorts. */
type SortKey = readonly [
  tier: number,
  rank: number,
  group: string,
  kind: string,
  namespace: string,
  name: string,
  version: string,
];

function sortKey(manifest: unknown): SortKey {
  const id = manifestIdentity(manifest);
  return [splitTier(manifest), applyRank(manifest), id.group, id.kind, id.namespace, id.name, id.version];
}

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

interface Item {
  manifest: Manifest;
  /** Position in the template. */
  position: number;
  size: number;
  key: SortKey;
}

function compareItems(a: Item, b: Item): number {
  return compareKeys(a.key, b.key) || a.position - b.position;
}

const sum = (items: readonly Item[]): number => items.reduce((total, item) => total + item.size, 0);

function toParts(groups: readonly Item[][]): SplitPart[] {
  return groups.map((items, index) => {
    const inTemplateOrder = [...items].sort((a, b) => a.position - b.position);
    return { index, manifests: inTemplateOrder.map((item) => item.manifest), size: sum(items) };
  });
}

/** Greedy packing of sorted items into parts of at most `target` bytes (a bigger item alone). */
function pack(sorted: readonly Item[], target: number): Item[][] {
  const parts: Item[][] = [];
  let current: Item[] = [];
  let size = 0;
  for (const item of sorted) {
    if (current.length > 0 && size + item.size > target) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** Re-split keeping the boundaries of the previous parts, then repair empties and overflows. */
function keepBoundaries(sorted: readonly Item[], previous: readonly (readonly unknown[])[], budget: number) {
  const boundaries: SortKey[] = [];
  for (const part of previous.slice(1)) {
    const keys = part.map(sortKey).sort(compareKeys);
    const first = keys[0];
    if (!first) continue;
    const last = boundaries[boundaries.length - 1];
    boundaries.push(last && compareKeys(first, last) < 0 ? last : first);
  }
  const parts: Item[][] = Array.from({ length: boundaries.length + 1 }, () => []);
  let index = 0;
  for (const item of sorted) {
    while (index < boundaries.length && compareKeys(boundaries[index]!, item.key) <= 0) index++;
    parts[index]!.push(item);
  }

  for (let i = 0; i < parts.length; i++) {
    if (parts[i]!.length > 0) continue;
    const donor = parts.findIndex((part, j) => j > i && part.length > 0);
    if (donor < 0) {
      parts.length = i;
      break;
    }
    parts[i]!.push(parts[donor]!.shift()!);
  }

  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    while (sum(part) > budget) {
      if (i + 1 === parts.length) parts.push([]);
      parts[i + 1]!.unshift(part.pop()!);
    }
  }
  return parts;
}

/**
 * Splits a template's manifests into parts whose summed size (as OCM counts it) is at most
 * `limitBytes - marginBytes`. Fails, naming the manifest, when one manifest alone is bigger.
 */
export function splitManifests(
  manifests: readonly Manifest[],
  limitBytes: number = Work.manifestSizeLimit,
  options: SplitOptions = {},
): SplitResult {
  const margin = options.marginBytes ?? 0;
  const headroom = options.headroom ?? 0.1;
  if (!Number.isFinite(limitBytes) || !Number.isFinite(margin) || margin < 0 || limitBytes - margin <= 0) {
    throw new RangeError(`no room for manifests: limit ${limitBytes} bytes, margin ${margin} bytes`);
  }
  if (!(headroom >= 0 && headroom < 1)) throw new RangeError(`headroom must be in [0, 1): ${headroom}`);
  const budget = limitBytes - margin;
  const target = Math.max(1, Math.floor(budget * (1 - headroom)));

  const items: Item[] = manifests.map((manifest, position) => ({
    manifest,
    position,
    size: manifestSize(manifest),
    key: sortKey(manifest),
  }));
  const tooBig = items.find((item) => item.size > budget);
  if (tooBig) {
    return {
      ok: false,
      error:
        `manifest ${describeManifest(tooBig.manifest)} is ${tooBig.size} bytes, more than the ${budget} bytes ` +
        `one ManifestWork can carry (limit ${limitBytes}, margin ${margin}); it cannot be split further`,
      manifest: tooBig.manifest,
      size: tooBig.size,
      budget,
    };
  }

  const total = sum(items);
  const previous = (options.previous ?? []).filter((part) => part.length > 0);
  const wasSplit = previous.length > 1;
  if (items.length === 0 || total <= (wasSplit ? target : budget)) {
    return { ok: true, parts: toParts([items]), budget };
  }
  const sorted = [...items].sort(compareItems);
  const groups = wasSplit ? keepBoundaries(sorted, previous, budget) : pack(sorted, target);
  return { ok: true, parts: toParts(groups), budget };
}

// ---------------------------------------------------------------------------------------------
// Naming and labelling parts

/**
 * The name of part `index` of `count`: part 0 keeps the base name (so a template that grows
 * past the limit keeps its first work, and one part is simply the work), later parts are
 * `<base>-part-<index>`. The count is not in the name, so adding a part renames nothing. The
 * base is shortened when the name would exceed 253 characters.
 */
export function partName(base: string, index: number, count: number): string {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`no part ${index} of ${count}`);
  }
  if (index === 0) return base;
  const suffix = `${BosunWork.partNameInfix}${index}`;
  const room = BosunWork.maxNameLength - suffix.length;
  const head = base.length > room ? base.slice(0, room).replace(/[-.]+$/, "") : base;
  return `${head}${suffix}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A hash of the whole template (key order does not matter), short enough for a label value. */
export function templateHash(spec: ManifestWorkSpec): string {
  return createHash("sha256")
    .update(canonicalJson(spec))
    .digest("hex")
    .slice(0, BosunWork.templateHashLength);
}

/** The labels a part carries: its index, the part count, and the template hash. */
export function partLabels(index: number, count: number, hash: string): Record<string, string> {
  return {
    [BosunWorkLabels.partIndex]: String(index),
    [BosunWorkLabels.partCount]: String(count),
    [BosunWorkLabels.templateHash]: hash,
  };
}

/** One ManifestWork of a split template. */
export interface WorkPart {
  name: string;
  /** Part labels; empty when the template is not split. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: ManifestWorkSpec;
  size: number;
}

export type SplitWorkResult =
  | { ok: true; parts: WorkPart[] }
  | { ok: false; error: string; manifest: Manifest; size: number; budget: number };

/**
 * The ManifestWorks carrying a template: one work named `base` with the template itself when
 * it fits, otherwise one per part, each with the template's deleteOption, executor and all of
 * its manifestConfigs (configs naming resources a part does not hold are ignored by the agent).
 */
export function splitWorkSpec(
  spec: ManifestWorkSpec,
  base: string,
  limitBytes: number = Work.manifestSizeLimit,
  options: SplitOptions = {},
): SplitWorkResult {
  const split = splitManifests(spec.workload?.manifests ?? [], limitBytes, options);
  if (!split.ok) return split;
  const count = split.parts.length;
  if (count === 1) {
    return {
      ok: true,
      parts: [{ name: base, labels: {}, annotations: {}, spec, size: split.parts[0]!.size }],
    };
  }
  const hash = templateHash(spec);
  return {
    ok: true,
    parts: split.parts.map((part) => ({
      name: partName(base, part.index, count),
      labels: partLabels(part.index, count, hash),
      annotations: { [BosunWorkAnnotations.partOf]: base },
      spec: { ...spec, workload: { ...spec.workload, manifests: part.manifests } },
      size: part.size,
    })),
  };
}
