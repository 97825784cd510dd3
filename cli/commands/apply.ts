// `bosun apply -f FILE|DIR --placement NAME`: delivers the manifests of YAML and JSON files to
// the clusters a Placement selects, as one ManifestWorkReplicaSet. Up to 1 MiB of manifests the
// replica set carries them itself, as OCM would. A bigger bundle goes into content objects
// (ConfigMaps of at most 900 KiB of gzip-compressed JSON, see controllers/replicasets/bundle.ts)
// that the replica set names in an annotation, so no object comes near etcd's limit whatever the
// size. An update writes the new content objects first, then points the replica set at them,
// then removes the old ones: the hub sees the old bundle or the new one, never a mix.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import {
  BosunBundle,
  BosunBundleAnnotations,
  BosunBundleLabels,
  ConditionStatus,
  Labels,
  ManifestWorkConditions,
  ManifestWorkReplicaSetConditions,
  Resources,
} from "../../api/constants.ts";
import type {
  Manifest,
  ManifestWork,
  ManifestWorkReplicaSet,
  RolloutStrategy,
} from "../../api/types/work.ts";
import {
  bundleNameError,
  contentObjects,
  formatBundleRef,
  packBundle,
  withBundle,
  type ContentChunk,
  type ContentObject,
  type PackOptions,
} from "../../controllers/replicasets/bundle.ts";
import { replicaSetKey, worksMatchTemplate } from "../../controllers/replicasets/status.ts";
import { describeManifest, manifestIdentity, totalManifestSize } from "../../controllers/work/manifest.ts";
import { templateHash } from "../../controllers/work/split.ts";
import { parseKubeYaml, YamlError } from "../../policies/yaml.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { forEachLimited } from "../../runtime/concurrency.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { refOf, type KubeApi } from "../../runtime/kube/client.ts";
import { addKubeFlags, clientFromFlags, type KubeFlags } from "../kube.ts";
import { outputOption } from "../output.ts";

/** Up to this many manifest bytes (as OCM counts them) the replica set carries them itself. */
export const inlineLimitBytes = 1024 * 1024;

/** Content objects written at once. */
const writeConcurrency = 4;

export const outputFormats = ["table", "yaml", "json"] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** Input that cannot be applied; the message names the file (and document) at fault. */
export class ApplyInputError extends Error {
  override name = "ApplyInputError";
}

// ---------------------------------------------------------------------------------------------
// Reading the files

/** A manifest and where it was read: `<file>: document <n>` (and `, item <i>` in a List). */
export interface SourcedManifest {
  manifest: Manifest;
  source: string;
}

const manifestExtensions = new Set([".yaml", ".yml", ".json"]);

/**
 * The files to read: a file as given, whatever its name; a directory's *.yaml, *.yml and
 * *.json files, recursively, in sorted path order.
 */
export async function manifestFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new ApplyInputError(`${path}: cannot be read`, { cause: error });
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    const found = entries
      .filter((entry) => entry.isFile() && manifestExtensions.has(extname(entry.name).toLowerCase()))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    if (found.length === 0) throw new ApplyInputError(`${path}: no *.yaml, *.yml or *.json files in it`);
    files.push(...found);
  }
  return files;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Why an object cannot be a manifest; undefined when it can. */
function objectError(value: unknown): string | undefined {
  if (!isRecord(value)) return "not an object";
  const missing = (field: string) => `the object has no ${field}`;
  if (typeof value.apiVersion !== "string" || value.apiVersion === "") return missing("apiVersion");
  if (typeof value.kind !== "string" || value.kind === "") return missing("kind");
  const metadata = value.metadata;
  if (!isRecord(metadata) || typeof metadata.name !== "string" || metadata.name === "") {
    if (isRecord(metadata) && metadata.generateName !== undefined) {
      return "metadata.generateName is not supported: every manifest needs a metadata.name";
    }
    return missing("metadata.name");
  }
  return undefined;
}

/**
 * The manifests of one file's text: every YAML document (a JSON file is one document), a
 * `List`'s items in its place. Throws ApplyInputError naming the file and document.
 */
export function parseManifests(text: string, file: string): SourcedManifest[] {
  let documents: { index: number; value: unknown }[];
  if (extname(file).toLowerCase() === ".json") {
    try {
      documents = [{ index: 1, value: JSON.parse(text) as unknown }];
    } catch (error) {
      throw new ApplyInputError(`${file}: not JSON: ${(error as Error).message}`, { cause: error });
    }
  } else {
    try {
      documents = parseKubeYaml(text);
    } catch (error) {
      if (error instanceof YamlError)
        throw new ApplyInputError(`${file}: ${error.message}`, { cause: error });
      throw error;
    }
  }
  const result: SourcedManifest[] = [];
  const take = (value: unknown, source: string) => {
    const error = objectError(value);
    if (error) throw new ApplyInputError(`${source}: ${error}`);
    result.push({ manifest: value as Manifest, source });
  };
  for (const { index, value } of documents) {
    const source = `${file}: document ${index}`;
    if (
      isRecord(value) &&
      typeof value.kind === "string" &&
      value.kind.endsWith("List") &&
      "items" in value
    ) {
      if (!Array.isArray(value.items)) throw new ApplyInputError(`${source}: the List's items is not a list`);
      value.items.forEach((item, position) => take(item, `${source}, item ${position + 1}`));
    } else take(value, source);
  }
  return result;
}

/** Refuses two manifests for one object (same group, kind, namespace and name), naming both. */
export function checkDuplicates(manifests: readonly SourcedManifest[]): void {
  const seen = new Map<string, string>();
  for (const { manifest, source } of manifests) {
    const id = manifestIdentity(manifest);
    const key = `${id.group}/${id.kind}/${id.namespace}/${id.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ApplyInputError(`${source}: ${describeManifest(manifest)} is already in ${first}`);
    }
    seen.set(key, source);
  }
}

/** Reads and checks the manifests of every file and directory given, in order. */
export async function readManifests(paths: readonly string[]): Promise<SourcedManifest[]> {
  const manifests: SourcedManifest[] = [];
  for (const file of await manifestFiles(paths)) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new ApplyInputError(`${file}: cannot be read`, { cause: error });
    }
    manifests.push(...parseManifests(text, file));
  }
  if (manifests.length === 0) throw new ApplyInputError(`no manifests in ${paths.join(", ")}`);
  checkDuplicates(manifests);
  return manifests;
}

/** The replica set name taken from a path: its base name, without extension, as a DNS label. */
export function nameFromPath(path: string): string {
  const base = basename(path.replace(/[/\\]+$/, ""), extname(path)).toLowerCase();
  return base
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

// ---------------------------------------------------------------------------------------------
// The plan: what to write

export interface PlanOptions {
  name: string;
  namespace: string;
  placement: string;
  rollout?: "All" | "Progressive";
  /** With Progressive: clusters rolled out at once, a count or a percentage ("25%"). */
  maxConcurrency?: string;
  /** Bigger bundles go into content objects; default 1 MiB. */
  inlineLimitBytes?: number;
  pack?: PackOptions;
}

export interface ApplyPlan {
  /** The replica set to apply; with the bundle annotation when the manifests are bundled. */
  replicaSet: ManifestWorkReplicaSet;
  /** The bundle, when the manifests are too many for the replica set. */
  bundle?: { hash: string; chunks: ContentChunk[]; inflatedBytes: number };
  manifests: number;
  /** The manifests' summed size, as OCM counts it. */
  bytes: number;
}

function rolloutStrategy(options: PlanOptions): RolloutStrategy {
  if ((options.rollout ?? "All") === "All") {
    if (options.maxConcurrency !== undefined) {
      throw new ApplyInputError("--max-concurrency needs --rollout Progressive");
    }
    return { type: "All" };
  }
  const value = options.maxConcurrency;
  if (value === undefined) return { type: "Progressive", progressive: {} };
  if (!/^([1-9][0-9]*|([1-9][0-9]?|100)%)$/.test(value)) {
    throw new ApplyInputError(`--max-concurrency must be a count or a percentage (1% to 100%), not ${value}`);
  }
  return {
    type: "Progressive",
    progressive: { maxConcurrency: value.endsWith("%") ? value : Number(value) },
  };
}

/**
 * The replica set (and content objects) carrying `manifests` to the placement's clusters: the
 * manifests inline up to the inline limit, else all of them in a bundle, the template holding
 * none. Throws ApplyInputError when a manifest does not fit a content object.
 */
export function planApply(manifests: readonly Manifest[], options: PlanOptions): ApplyPlan {
  const bytes = totalManifestSize(manifests);
  const replicaSet: ManifestWorkReplicaSet = {
    apiVersion: "work.open-cluster-management.io/v1alpha1",
    kind: "ManifestWorkReplicaSet",
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      placementRefs: [{ name: options.placement, rolloutStrategy: rolloutStrategy(options) }],
      manifestWorkTemplate: { workload: { manifests: [...manifests] } },
      cascadeDeletionPolicy: "Background",
    },
  };
  if (bytes <= (options.inlineLimitBytes ?? inlineLimitBytes)) {
    return { replicaSet, manifests: manifests.length, bytes };
  }
  const nameError = bundleNameError(options.name);
  if (nameError) throw new ApplyInputError(`${nameError}; choose one with --name`);
  const pack = packBundle(manifests, options.pack);
  if (!pack.ok) throw new ApplyInputError(pack.error);
  replicaSet.metadata.annotations = {
    [BosunBundleAnnotations.content]: formatBundleRef({ hash: pack.hash, count: pack.chunks.length }),
  };
  replicaSet.spec!.manifestWorkTemplate = { workload: { manifests: [] } };
  return {
    replicaSet,
    bundle: { hash: pack.hash, chunks: pack.chunks, inflatedBytes: pack.inflatedBytes },
    manifests: manifests.length,
    bytes,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

export type Action = "created" | "updated" | "unchanged" | "deleted" | "dry run";

export interface WrittenObject {
  kind: string;
  name: string;
  action: Action;
  manifests?: number;
  /** Manifest bytes for the replica set; compressed bytes for a content object. */
  bytes?: number;
}

export interface ApplyResult {
  namespace: string;
  name: string;
  manifests: number;
  bytes: number;
  /** The bundle hash, when bundled. */
  bundle?: string;
  objects: WrittenObject[];
  /** What was written (or would be, with dryRun), as the API server returned it. */
  written: (ManifestWorkReplicaSet | ContentObject)[];
}

export interface Output {
  write(text: string): unknown;
}

export interface ApplyRunOptions extends PlanOptions {
  dryRun?: boolean;
  output?: OutputFormat;
  /** Wait until every cluster's works carry the manifests and are Applied. */
  wait?: boolean;
  timeoutMs?: number;
  pollMs?: number;
  now?: () => number;
}

const contentListOptions = (namespace: string, name: string) => ({
  namespace,
  labelSelector: `${BosunBundleLabels.bundle}=${name}`,
});

function sameContent(a: ContentObject, b: ContentObject, uid: string): boolean {
  return (
    a.binaryData?.[BosunBundle.dataKey] === b.binaryData?.[BosunBundle.dataKey] &&
    Object.entries(b.metadata.labels ?? {}).every(([key, value]) => a.metadata.labels?.[key] === value) &&
    (a.metadata.ownerReferences ?? []).some((owner) => owner.uid === uid)
  );
}

/** Deletes the object (this very one, by UID); one already gone is fine. */
async function deleteIfPresent(client: KubeApi, object: ContentObject): Promise<void> {
  try {
    await client.delete(refOf(object), { uid: object.metadata.uid });
  } catch (error) {
    if (!(error instanceof KubeApiError && (error.notFound || error.conflict))) throw error;
  }
}

/** Writes the content objects the hub lacks (or holds otherwise); returns what it did. */
async function writeContent(
  client: KubeApi,
  desired: readonly ContentObject[],
  existing: ReadonlyMap<string, ContentObject>,
  uid: string,
  chunks: readonly ContentChunk[],
): Promise<{ objects: WrittenObject[]; written: ContentObject[] }> {
  const objects: WrittenObject[] = new Array<WrittenObject>(desired.length);
  const written: ContentObject[] = new Array<ContentObject>(desired.length);
  const errors = await forEachLimited(desired, writeConcurrency, async (object, index) => {
    const name = object.metadata.name ?? "";
    const found = existing.get(name);
    const info = {
      kind: "ConfigMap",
      name,
      manifests: chunks[index]!.manifests.length,
      bytes: chunks[index]!.data.length,
    };
    if (found && sameContent(found, object, uid)) {
      objects[index] = { ...info, action: "unchanged" };
      written[index] = found;
      return;
    }
    // Content objects are immutable: one that differs is replaced.
    if (found) await deleteIfPresent(client, found);
    written[index] = await client.create<ContentObject>(object, { fieldManager: BosunBundle.fieldManager });
    objects[index] = { ...info, action: found ? "updated" : "created" };
  });
  const failed = errors.map((error, index) => ({ error, index })).filter(({ error }) => error !== undefined);
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new Error(
      `writing ${failed.length} content object(s) failed, first ${desired[first.index]!.metadata.name}: ${
        first.error instanceof Error ? first.error.message : String(first.error)
      }`,
      { cause: first.error },
    );
  }
  return { objects, written };
}

async function applyReplicaSet(
  client: KubeApi,
  replicaSet: ManifestWorkReplicaSet,
  existing: ManifestWorkReplicaSet | undefined,
): Promise<{ stored: ManifestWorkReplicaSet; action: Action }> {
  const stored = await applyServerSide(client, replicaSet, {
    fieldManager: BosunBundle.fieldManager,
    force: true,
  });
  const action: Action = !existing ? "created" : appliedChange(existing, stored) ? "updated" : "unchanged";
  return { stored, action };
}

/**
 * Whether the apply changed the replica set: its spec (generation), labels or annotations.
 * Not the resourceVersion: the hub's status write between the read and the apply bumps it
 * too, and that is no update of ours.
 */
function appliedChange(existing: ManifestWorkReplicaSet, stored: ManifestWorkReplicaSet): boolean {
  return (
    existing.metadata.generation !== stored.metadata.generation ||
    !isDeepStrictEqual(existing.metadata.labels ?? {}, stored.metadata.labels ?? {}) ||
    !isDeepStrictEqual(existing.metadata.annotations ?? {}, stored.metadata.annotations ?? {})
  );
}

/**
 * Applies the manifests as the plan says: creates or updates (server-side apply, field manager
 * `bosun`) the replica set and its content objects, in an order that never shows the hub a
 * bundle in part, and removes content objects of other bundles. With dryRun, writes nothing
 * and reports the objects it would write.
 */
export async function applyManifests(
  client: KubeApi | undefined,
  manifests: readonly Manifest[],
  options: ApplyRunOptions,
  err: Output = { write: () => undefined },
): Promise<ApplyResult> {
  const plan = planApply(manifests, options);
  const { name, namespace } = options;
  const result: ApplyResult = {
    namespace,
    name,
    manifests: plan.manifests,
    bytes: plan.bytes,
    ...(plan.bundle ? { bundle: plan.bundle.hash } : {}),
    objects: [],
    written: [],
  };
  const mwrsInfo = { kind: "ManifestWorkReplicaSet", name, manifests: plan.manifests, bytes: plan.bytes };
  if (options.dryRun || !client) {
    const contents = plan.bundle ? contentObjects({ name, namespace, uid: "" }, plan.bundle) : [];
    result.objects.push({ ...mwrsInfo, action: "dry run" });
    plan.bundle?.chunks.forEach((chunk, index) =>
      result.objects.push({
        kind: "ConfigMap",
        name: contents[index]!.metadata.name ?? "",
        action: "dry run",
        manifests: chunk.manifests.length,
        bytes: chunk.data.length,
      }),
    );
    result.written.push(plan.replicaSet, ...contents);
    return result;
  }

  const ref = refOf(plan.replicaSet);
  const existing = await client.getOrUndefined<ManifestWorkReplicaSet>(ref);
  if (existing?.metadata.deletionTimestamp) {
    throw new Error(
      `ManifestWorkReplicaSet ${namespace}/${name} is being deleted; apply again once it is gone`,
    );
  }
  const { items: found } = await client.listAll<ContentObject>(
    "v1",
    "ConfigMap",
    contentListOptions(namespace, name),
  );
  const existingContent = new Map(found.map((object) => [object.metadata.name ?? "", object]));

  let stored = existing;
  let action: Action | undefined;
  if (plan.bundle) {
    // A new replica set first (its content needs its UID as owner): the hub reports the content
    // missing until it is written. An existing one is pointed at the new bundle only after it.
    if (!stored) ({ stored, action } = await applyReplicaSet(client, plan.replicaSet, undefined));
    const uid = stored.metadata.uid ?? "";
    err.write(`writing ${plan.bundle.chunks.length} content objects of bundle ${plan.bundle.hash}\n`);
    const desired = contentObjects({ name, namespace, uid }, plan.bundle);
    const content = await writeContent(client, desired, existingContent, uid, plan.bundle.chunks);
    if (!action) ({ stored, action } = await applyReplicaSet(client, plan.replicaSet, existing));
    result.objects.push({ ...mwrsInfo, action }, ...content.objects);
    result.written.push(stored, ...content.written);
  } else {
    ({ stored, action } = await applyReplicaSet(client, plan.replicaSet, existing));
    result.objects.push({ ...mwrsInfo, action });
    result.written.push(stored);
  }
  const keep = new Set(result.written.slice(1).map((object) => object.metadata.name));
  for (const object of found) {
    if (keep.has(object.metadata.name)) continue;
    await deleteIfPresent(client, object);
    result.objects.push({ kind: "ConfigMap", name: object.metadata.name ?? "", action: "deleted" });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Waiting

export interface WaitProgress {
  /** Clusters the placement selected (the replica set's desiredTotal). */
  clusters: number;
  /** Clusters whose works carry the manifests and are all Applied. */
  applied: number;
  works: number;
  /** The replica set's ManifestworkApplied message, when it has one. */
  message: string;
}

function appliedForGeneration(work: ManifestWork): boolean {
  const applied = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
  return (
    applied?.status === ConditionStatus.True &&
    (applied.observedGeneration ?? 0) === (work.metadata.generation ?? 0)
  );
}

/**
 * How far the delivery is: the clusters whose works carry the template (the stored replica
 * set's own manifests and the bundle's) and report Applied for their current generation.
 */
export function deliveryProgress(
  replicaSet: ManifestWorkReplicaSet,
  bundled: readonly Manifest[],
  works: readonly ManifestWork[],
  hash: string,
): WaitProgress {
  const template = withBundle(replicaSet.spec?.manifestWorkTemplate ?? {}, bundled);
  const byCluster = new Map<string, ManifestWork[]>();
  for (const work of works) {
    if (work.metadata.deletionTimestamp) continue;
    const cluster = work.metadata.namespace ?? "";
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), work]);
  }
  let applied = 0;
  for (const clusterWorks of byCluster.values()) {
    if (worksMatchTemplate(clusterWorks, template, hash) && clusterWorks.every(appliedForGeneration))
      applied++;
  }
  const condition = findCondition(
    replicaSet.status?.conditions,
    ManifestWorkReplicaSetConditions.manifestworkApplied,
  );
  return {
    clusters: replicaSet.status?.summary?.desiredTotal ?? 0,
    applied,
    works: works.length,
    message: condition?.message ? `${condition.reason}: ${condition.message}` : "",
  };
}

/**
 * Waits until every cluster the placement selected has works carrying the manifests, all
 * Applied, and the replica set's summary counts them applied; prints progress on `err` when it
 * changes. Throws when the timeout passes first.
 */
export async function waitForDelivery(
  client: KubeApi,
  manifests: readonly Manifest[],
  plan: { bundled: boolean },
  options: Pick<ApplyRunOptions, "name" | "namespace" | "timeoutMs" | "pollMs" | "now">,
  err: Output,
): Promise<WaitProgress> {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 300_000);
  const ref = {
    apiVersion: Resources.ManifestWorkReplicaSet.apiVersion,
    kind: Resources.ManifestWorkReplicaSet.kind,
    namespace: options.namespace,
    name: options.name,
  };
  const bundled = plan.bundled ? manifests : [];
  let hash: string | undefined;
  let hashedFrom: unknown;
  let last = "";
  for (;;) {
    const replicaSet = await client.get<ManifestWorkReplicaSet>(ref);
    const template = replicaSet.spec?.manifestWorkTemplate ?? {};
    // Hashing a big template is not free: once per template the server returns.
    const key = JSON.stringify(template);
    if (hashedFrom !== key) {
      hash = templateHash(withBundle(template, bundled));
      hashedFrom = key;
    }
    const { items: works } = await client.listAll<ManifestWork>(
      Resources.ManifestWork.apiVersion,
      Resources.ManifestWork.kind,
      { labelSelector: `${Labels.manifestWorkReplicaSet}=${replicaSetKey(replicaSet)}` },
    );
    const progress = deliveryProgress(replicaSet, bundled, works, hash!);
    const line = `${progress.applied}/${progress.clusters} clusters applied (${progress.works} works)${
      progress.message ? `; ${progress.message}` : ""
    }`;
    if (line !== last) err.write(`waiting: ${line}\n`);
    last = line;
    const summary = replicaSet.status?.summary;
    if (
      progress.clusters > 0 &&
      progress.applied === progress.clusters &&
      summary?.applied === progress.clusters
    ) {
      return progress;
    }
    if (now() >= deadline) {
      throw new Error(
        `ManifestWorkReplicaSet ${options.namespace}/${options.name} not applied in time: ${line}`,
      );
    }
    await sleep(options.pollMs ?? 2000);
  }
}

// ---------------------------------------------------------------------------------------------
// Printing

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** What was done, as a table, one row per object, after a one-line summary. */
export function resultTable(result: ApplyResult): string {
  const content = result.objects.filter(
    (object) => object.kind === "ConfigMap" && object.action !== "deleted",
  );
  const carried = result.bundle
    ? `bundled in ${content.length} content object${content.length === 1 ? "" : "s"} (bundle ${result.bundle})`
    : "inline";
  const header =
    `ManifestWorkReplicaSet ${result.namespace}/${result.name}: ${result.manifests} manifests, ` +
    `${formatBytes(result.bytes)}, ${carried}`;
  const rows = result.objects.map((object) => [
    `${object.kind === "ConfigMap" ? "configmap" : "manifestworkreplicaset"}/${object.name}`,
    object.action,
    object.manifests === undefined ? "" : String(object.manifests),
    object.bytes === undefined ? "" : String(object.bytes),
  ]);
  const headers = ["OBJECT", "ACTION", "MANIFESTS", "BYTES"];
  const widths = headers.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]! + 3)))
      .join("")
      .trimEnd();
  return [header, line(headers), ...rows.map(line)].join("\n");
}

/** The result in the format asked for: the table, or the objects written as a v1 List. */
export function formatResult(result: ApplyResult, output: OutputFormat): string {
  if (output === "table") return resultTable(result);
  const items = result.written.map((object) => {
    const { managedFields: _managedFields, ...metadata } = object.metadata;
    return { ...object, metadata };
  });
  const list = { apiVersion: "v1", kind: "List", items };
  return output === "json" ? JSON.stringify(list, null, 2) : stringify(list);
}

// ---------------------------------------------------------------------------------------------
// The command

export interface ApplyCommandOptions extends ApplyRunOptions {
  files: readonly string[];
}

/**
 * `bosun apply`: reads the files, applies them (or, with dryRun, only prints what it would
 * write), prints the result on `out`, and with wait waits for the delivery, progress on `err`.
 */
export async function runApply(
  client: KubeApi | undefined,
  options: ApplyCommandOptions,
  out: Output,
  err: Output = { write: () => undefined },
): Promise<ApplyResult> {
  const manifests = (await readManifests(options.files)).map(({ manifest }) => manifest);
  const result = await applyManifests(client, manifests, options, err);
  out.write(`${formatResult(result, options.output ?? "table")}\n`);
  if (options.wait && client && !options.dryRun) {
    await waitForDelivery(client, manifests, { bundled: result.bundle !== undefined }, options, err);
    err.write(`every cluster's works are Applied\n`);
  }
  return result;
}

interface ApplyFlags extends KubeFlags {
  filename: string[];
  placement?: string;
  namespace: string;
  name?: string;
  rollout: string;
  maxConcurrency?: string;
  dryRun?: boolean;
  wait?: boolean;
  timeout: string;
  output: string;
}

export function registerApply(program: Command): void {
  addKubeFlags(
    program
      .command("apply")
      .description(
        "deliver the manifests of files to the clusters of a Placement, as a ManifestWorkReplicaSet",
      )
      .option(
        "-f, --filename <path>",
        "a YAML or JSON file, or a directory of them (read recursively); repeatable",
        (value: string, previous: string[]) => [...previous, value],
        [],
      )
      .option("--placement <name>", "the Placement whose clusters get the manifests")
      .option("-n, --namespace <namespace>", "the namespace of the Placement and the replica set", "default")
      .option(
        "--name <name>",
        "the ManifestWorkReplicaSet's name (default: the first file's or directory's name)",
      )
      .option("--rollout <type>", "All or Progressive", "All")
      .option(
        "--max-concurrency <n>",
        "with --rollout Progressive: clusters at once, a count or a percentage",
      )
      .option("--dry-run", "print what would be written, write nothing")
      .option("--wait", "wait until every cluster's works are Applied")
      .option("--timeout <seconds>", "how long --wait waits", "300")
      .addOption(outputOption(outputFormats, "table"))
      .addHelpText(
        "after",
        `
Up to ${inlineLimitBytes / 2 ** 20} MiB of manifests travel in the ManifestWorkReplicaSet itself. A bigger bundle
is written to ConfigMaps of at most ${BosunBundle.maxContentBytes / 1024} KiB of compressed manifests each, labelled
${BosunBundleLabels.bundle}=<name> and owned by the replica set, which names them in its
${BosunBundleAnnotations.content} annotation; the hub delivers them with the replica set's own.`,
      ),
    "the hub",
  ).action(async function (this: Command, flags: ApplyFlags) {
    const usage = (message: string): never =>
      this.error(`error: ${message}`, { exitCode: 2, code: "bosun.usage" });
    if (flags.filename.length === 0) usage("give at least one -f FILE or -f DIR");
    if (!flags.placement) usage("give --placement NAME");
    if (flags.rollout !== "All" && flags.rollout !== "Progressive") {
      usage(`--rollout must be All or Progressive, not "${flags.rollout}"`);
    }
    const timeout = Number(flags.timeout);
    if (!(timeout > 0)) usage(`--timeout must be a positive number of seconds, not "${flags.timeout}"`);
    const name = flags.name ?? nameFromPath(flags.filename[0]!);
    if (!name) usage(`no replica set name can be made from ${flags.filename[0]}: give --name`);
    const client = flags.dryRun ? undefined : await clientFromFlags(flags);
    try {
      await runApply(
        client,
        {
          files: flags.filename,
          name,
          namespace: flags.namespace,
          placement: flags.placement!,
          rollout: flags.rollout as "All" | "Progressive",
          ...(flags.maxConcurrency !== undefined ? { maxConcurrency: flags.maxConcurrency } : {}),
          dryRun: flags.dryRun ?? false,
          output: flags.output as OutputFormat,
          wait: flags.wait ?? false,
          timeoutMs: timeout * 1000,
        },
        process.stdout,
        process.stderr,
      );
    } finally {
      client?.close();
    }
  });
}
