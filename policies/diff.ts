// The diff OCM records in relatedObjects[].properties.diff: a unified diff (5 lines of
// context, difflib's matching) of the existing and the merged object as YAML, truncated to
// 50 lines, or a fixed note when the object may hold sensitive data.
import type { JsonObject } from "./gofmt.ts";
import { toYamlV2 } from "./goyaml.ts";

export const redactedDiffNote =
  "# The difference is redacted because it contains sensitive data. To override, the " +
  'spec["object-templates"][].recordDiff field must be set to "InStatus" for the difference to be recorded ' +
  "in the policy status. Consider existing access to the ConfigurationPolicy objects and the etcd " +
  "encryption configuration before you proceed with an override.";

export const maxDiffLines = 50;

type Opcode = [
  tag: "equal" | "replace" | "delete" | "insert",
  i1: number,
  i2: number,
  j1: number,
  j2: number,
];

/** difflib.SequenceMatcher's matching blocks (with autojunk, as go-difflib does). */
function matchingBlocks(a: string[], b: string[]): [number, number, number][] {
  const b2j = new Map<string, number[]>();
  b.forEach((line, j) => {
    const indices = b2j.get(line);
    if (indices) indices.push(j);
    else b2j.set(line, [j]);
  });
  if (b.length >= 200) {
    const popular = Math.floor(b.length / 100) + 1;
    for (const [line, indices] of b2j) if (indices.length > popular) b2j.delete(line);
  }
  const findLongest = (alo: number, ahi: number, blo: number, bhi: number): [number, number, number] => {
    let besti = alo;
    let bestj = blo;
    let bestsize = 0;
    let j2len = new Map<number, number>();
    for (let i = alo; i < ahi; i++) {
      const next = new Map<number, number>();
      for (const j of b2j.get(a[i]!) ?? []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        next.set(j, k);
        if (k > bestsize) {
          besti = i - k + 1;
          bestj = j - k + 1;
          bestsize = k;
        }
      }
      j2len = next;
    }
    while (besti > alo && bestj > blo && !b2j.has(b[bestj - 1]!) && a[besti - 1] === b[bestj - 1]) {
      besti--;
      bestj--;
      bestsize++;
    }
    while (
      besti + bestsize < ahi &&
      bestj + bestsize < bhi &&
      !b2j.has(b[bestj + bestsize]!) &&
      a[besti + bestsize] === b[bestj + bestsize]
    ) {
      bestsize++;
    }
    while (besti > alo && bestj > blo && b2j.has(b[bestj - 1]!) && a[besti - 1] === b[bestj - 1]) {
      besti--;
      bestj--;
      bestsize++;
    }
    while (
      besti + bestsize < ahi &&
      bestj + bestsize < bhi &&
      b2j.has(b[bestj + bestsize]!) &&
      a[besti + bestsize] === b[bestj + bestsize]
    ) {
      bestsize++;
    }
    return [besti, bestj, bestsize];
  };
  const queue: [number, number, number, number][] = [[0, a.length, 0, b.length]];
  const blocks: [number, number, number][] = [];
  while (queue.length > 0) {
    const [alo, ahi, blo, bhi] = queue.pop()!;
    const [i, j, k] = findLongest(alo, ahi, blo, bhi);
    if (k > 0) {
      blocks.push([i, j, k]);
      if (alo < i && blo < j) queue.push([alo, i, blo, j]);
      if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
    }
  }
  blocks.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const merged: [number, number, number][] = [];
  for (const block of blocks) {
    const last = merged[merged.length - 1];
    if (last && last[0] + last[2] === block[0] && last[1] + last[2] === block[1]) last[2] += block[2];
    else merged.push([...block]);
  }
  merged.push([a.length, b.length, 0]);
  return merged;
}

function opcodes(a: string[], b: string[]): Opcode[] {
  let i = 0;
  let j = 0;
  const codes: Opcode[] = [];
  for (const [ai, bj, size] of matchingBlocks(a, b)) {
    const tag = i < ai && j < bj ? "replace" : i < ai ? "delete" : j < bj ? "insert" : undefined;
    if (tag) codes.push([tag, i, ai, j, bj]);
    i = ai + size;
    j = bj + size;
    if (size > 0) codes.push(["equal", ai, i, bj, j]);
  }
  return codes;
}

function groupedOpcodes(codes: Opcode[], context: number): Opcode[][] {
  if (codes.length === 0) codes = [["equal", 0, 1, 0, 1]];
  codes = codes.map((code) => [...code]);
  const first = codes[0]!;
  if (first[0] === "equal") {
    first[1] = Math.max(first[1], first[2] - context);
    first[3] = Math.max(first[3], first[4] - context);
  }
  const last = codes[codes.length - 1]!;
  if (last[0] === "equal") {
    last[2] = Math.min(last[2], last[1] + context);
    last[4] = Math.min(last[4], last[3] + context);
  }
  const groups: Opcode[][] = [];
  let group: Opcode[] = [];
  for (const [tag, i1, i2, j1, j2] of codes) {
    let [ci1, cj1] = [i1, j1];
    if (tag === "equal" && i2 - i1 > context * 2) {
      group.push([tag, i1, Math.min(i2, i1 + context), j1, Math.min(j2, j1 + context)]);
      groups.push(group);
      group = [];
      ci1 = Math.max(i1, i2 - context);
      cj1 = Math.max(j1, j2 - context);
    }
    group.push([tag, ci1, i2, cj1, j2]);
  }
  if (group.length > 0 && !(group.length === 1 && group[0]![0] === "equal")) groups.push(group);
  return groups;
}

function formatRange(start: number, stop: number): string {
  let beginning = start + 1;
  const length = stop - start;
  if (length === 1) return String(beginning);
  if (length === 0) beginning--;
  return `${beginning},${length}`;
}

/** A unified diff of two texts split into lines (each line keeps its newline). */
export function unifiedDiff(a: string[], b: string[], fromFile: string, toFile: string, context = 5): string {
  let out = "";
  let started = false;
  for (const group of groupedOpcodes(opcodes(a, b), context)) {
    if (!started) {
      started = true;
      out += `--- ${fromFile}\n+++ ${toFile}\n`;
    }
    const first = group[0]!;
    const last = group[group.length - 1]!;
    out += `@@ -${formatRange(first[1], last[2])} +${formatRange(first[3], last[4])} @@\n`;
    for (const [tag, i1, i2, j1, j2] of group) {
      if (tag === "equal") {
        for (const line of a.slice(i1, i2)) out += ` ${line}`;
        continue;
      }
      if (tag === "replace" || tag === "delete") for (const line of a.slice(i1, i2)) out += `-${line}`;
      if (tag === "replace" || tag === "insert") for (const line of b.slice(j1, j2)) out += `+${line}`;
    }
  }
  return out;
}

function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.filter((line) => line !== "");
}

/** OCM's diff between the existing and the merged object, truncated unless full is set. */
export function objectDiff(existing: JsonObject, merged: JsonObject, full = false): string {
  const metadata = (existing.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  const objectName = typeof metadata.name === "string" ? metadata.name : "";
  const name =
    typeof metadata.namespace === "string" && metadata.namespace !== ""
      ? `${metadata.namespace}/${objectName}`
      : objectName;
  const diff = unifiedDiff(
    splitLines(toYamlV2(existing)),
    splitLines(toYamlV2(merged)),
    `${name} : existing`,
    `${name} : updated`,
  );
  const lines = diff.split("\n");
  if (!full && lines.length > maxDiffLines + 3) {
    return `# Truncated: showing ${maxDiffLines}/${lines.length} diff lines:\n${lines.slice(0, maxDiffLines + 3).join("\n")}`;
  }
  return diff.replace(/\n$/, "");
}
