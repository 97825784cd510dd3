// The comparison at the heart of ConfigurationPolicy: the desired value of each top-level key
// is merged into the existing one (musthave keeps what the cluster has, mustonlyhave replaces
// it), and the merge is compared with the existing value. Lists match order-insensitively,
// template items describe existing items partially, and items with the same `name` merge.
import { clone, goSprint, goTypeName, isObject, type Json, type JsonObject } from "./gofmt.ts";
import { quantitiesEqual, tryParseQuantity } from "../api/quantity.ts";

export type ComplianceKind = "musthave" | "mustonlyhave" | "mustnothave";

/** The compliance type in any of the spellings OCM accepts (case-insensitive). */
export function complianceKind(value: unknown): ComplianceKind | undefined {
  if (typeof value !== "string") return undefined;
  const lower = value.toLowerCase();
  return lower === "musthave" || lower === "mustonlyhave" || lower === "mustnothave" ? lower : undefined;
}

export interface Equivalence {
  equal: boolean;
  /** Some field was only equal because an absent value counts as its zero value. */
  missing: boolean;
}

const EQUAL: Equivalence = { equal: true, missing: false };
const EQUAL_MISSING: Equivalence = { equal: true, missing: true };
const DIFFERENT: Equivalence = { equal: false, missing: false };

function zeroText(value: Json): string {
  if (typeof value === "string") return "";
  if (typeof value === "number") return "0";
  if (typeof value === "boolean") return "false";
  return "<nil>";
}

/** Whether two values are equivalent; merged is the template merged into existing. */
export function deeplyEquivalent(
  merged: Json | undefined,
  existing: Json | undefined,
  zeroValueEqualsNil: boolean,
): Equivalence {
  if (isObject(merged)) {
    if (isObject(existing)) return fieldsEquivalent(merged, existing, zeroValueEqualsNil);
    if ((existing === undefined || existing === null) && Object.keys(merged).length === 0)
      return EQUAL_MISSING;
    return DIFFERENT;
  }
  if (Array.isArray(merged)) {
    if (merged.length === 0 && (existing === undefined || existing === null)) return EQUAL_MISSING;
    if (Array.isArray(existing)) return listsEquivalent(merged, existing, zeroValueEqualsNil);
    return DIFFERENT;
  }
  const mergedAbsent = merged === undefined || merged === null;
  const existingAbsent = existing === undefined || existing === null;
  if (existingAbsent && !mergedAbsent) {
    return goSprint(merged) === zeroText(merged) ? EQUAL_MISSING : DIFFERENT;
  }
  if (mergedAbsent && !existingAbsent) {
    return goSprint(existing) === zeroText(existing) ? EQUAL : DIFFERENT;
  }
  return goSprint(merged) === goSprint(existing) ? EQUAL : DIFFERENT;
}

function fieldsEquivalent(
  merged: JsonObject,
  existing: JsonObject,
  zeroValueEqualsNil: boolean,
): Equivalence {
  const mergedKeys = Object.keys(merged);
  if (mergedKeys.length < Object.keys(existing).length) return DIFFERENT;
  let missing = false;
  for (const key of mergedKeys) {
    const mergedValue = merged[key]!;
    const present = Object.hasOwn(existing, key);
    const existingValue = existing[key];
    if (isObject(mergedValue)) {
      if (!isObject(existingValue)) {
        if (Object.keys(mergedValue).length === 0) {
          missing = true;
          continue;
        }
        return DIFFERENT;
      }
      const nested = fieldsEquivalent(mergedValue, existingValue, zeroValueEqualsNil);
      if (!nested.equal) return DIFFERENT;
      missing ||= nested.missing;
    } else if (Array.isArray(mergedValue)) {
      if (!Array.isArray(existingValue)) {
        if (mergedValue.length === 0) {
          missing = true;
          continue;
        }
        return DIFFERENT;
      }
      const nested = listsEquivalent(mergedValue, existingValue, zeroValueEqualsNil);
      if (!nested.equal) return DIFFERENT;
      missing ||= nested.missing;
    } else if (typeof mergedValue === "string") {
      const quantity = tryParseQuantity(mergedValue);
      if (!quantity) {
        if (!present) {
          if (zeroValueEqualsNil && mergedValue === "") {
            missing = true;
            continue;
          }
          return DIFFERENT;
        }
        if (goSprint(existingValue) !== mergedValue) return DIFFERENT;
      } else {
        if (typeof existingValue !== "string") return DIFFERENT;
        const existingQuantity = tryParseQuantity(existingValue);
        if (!existingQuantity || !quantitiesEqual(existingQuantity, quantity)) return DIFFERENT;
      }
    } else if (existingValue === undefined || existingValue === null) {
      if (mergedValue !== null) {
        if (goSprint(mergedValue) !== zeroText(mergedValue)) return DIFFERENT;
        missing = true;
      } else if (present && existingValue !== null) {
        return DIFFERENT;
      }
    } else if (goSprint(existingValue) !== goSprint(mergedValue)) {
      return DIFFERENT;
    }
  }
  return missing ? EQUAL_MISSING : EQUAL;
}

function itemsEquivalent(merged: Json, existing: Json, zeroValueEqualsNil: boolean): Equivalence {
  if (isObject(existing)) {
    return isObject(merged) ? fieldsEquivalent(merged, existing, zeroValueEqualsNil) : DIFFERENT;
  }
  if (Array.isArray(existing)) {
    return Array.isArray(merged) ? listsEquivalent(merged, existing, zeroValueEqualsNil) : DIFFERENT;
  }
  return goSprint(existing) === goSprint(merged) ? EQUAL : DIFFERENT;
}

/** Same length and, order aside, equivalent items. */
function listsEquivalent(merged: Json[], existing: Json[], zeroValueEqualsNil: boolean): Equivalence {
  if (merged.length !== existing.length) return DIFFERENT;
  if (merged.length === 0) return EQUAL;
  const sortKey = (value: Json) => goSprint(value);
  const sortedMerged = merged.map((value) => [sortKey(value), value] as const).sort(byKey);
  const sortedExisting = existing.map((value) => [sortKey(value), value] as const).sort(byKey);
  let missing = false;
  let aligned = true;
  for (let i = 0; i < sortedExisting.length; i++) {
    const result = itemsEquivalent(sortedMerged[i]![1], sortedExisting[i]![1], zeroValueEqualsNil);
    if (!result.equal) {
      aligned = false;
      break;
    }
    missing ||= result.missing;
  }
  if (aligned) return missing ? EQUAL_MISSING : EQUAL;
  // Zero-valued fields only the merge has can sort items differently: match them pairwise.
  const used = new Array<boolean>(merged.length).fill(false);
  missing = false;
  for (const existingItem of existing) {
    let found = false;
    for (let i = 0; i < merged.length; i++) {
      if (used[i]) continue;
      const result = itemsEquivalent(merged[i]!, existingItem, zeroValueEqualsNil);
      if (result.equal) {
        used[i] = true;
        missing ||= result.missing;
        found = true;
        break;
      }
    }
    if (!found) return DIFFERENT;
  }
  return missing ? EQUAL_MISSING : EQUAL;
}

function byKey(a: readonly [string, Json], b: readonly [string, Json]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

export interface Merge {
  merged: Json;
  missing: boolean;
}

/** Merges the template value into (a copy of) the existing one. */
export function mergeSpecs(
  templateValue: Json,
  existingValue: Json | undefined,
  kind: ComplianceKind,
  zeroValueEqualsNil: boolean,
): Merge {
  return mergeHelper(clone(templateValue), existingValue, kind, zeroValueEqualsNil);
}

function mergeHelper(
  templateValue: Json,
  existingValue: Json | undefined,
  kind: ComplianceKind,
  zeroValueEqualsNil: boolean,
): Merge {
  if (isObject(templateValue)) {
    if (!isObject(existingValue)) return { merged: templateValue, missing: false };
    let missing = false;
    for (const [key, existingItem] of Object.entries(existingValue)) {
      if (Object.hasOwn(templateValue, key)) {
        const nested = mergeHelper(templateValue[key]!, existingItem, kind, zeroValueEqualsNil);
        templateValue[key] = nested.merged;
        missing ||= nested.missing;
      } else {
        templateValue[key] = existingItem;
      }
    }
    if (Object.keys(templateValue).length > Object.keys(existingValue).length) missing = true;
    return { merged: templateValue, missing };
  }
  if (Array.isArray(templateValue)) {
    if (Array.isArray(existingValue) && existingValue.length > 0) {
      return mergeArrays(templateValue, existingValue, kind, zeroValueEqualsNil);
    }
    return { merged: templateValue, missing: false };
  }
  if (templateValue === null && isObject(existingValue)) return { merged: existingValue, missing: false };
  return { merged: templateValue, missing: false };
}

/** mustonlyhave replaces a map; musthave merges it. */
export function mergeMaps(
  templateValue: JsonObject,
  existingValue: JsonObject,
  kind: ComplianceKind,
  zeroValueEqualsNil: boolean,
): Merge {
  if (kind === "mustonlyhave") return { merged: templateValue, missing: false };
  return mergeSpecs(templateValue, existingValue, kind, zeroValueEqualsNil);
}

/**
 * Merges a template list into an existing list. Each distinct existing item (duplicates
 * counted) consumes the unused template items that describe it partially or share its
 * `name`; existing items nobody describes are kept; unmatched template items stay.
 */
export function mergeArrays(
  desired: Json[],
  existing: Json[],
  kind: ComplianceKind,
  zeroValueEqualsNil: boolean,
): Merge {
  if (kind === "mustonlyhave") return { merged: desired, missing: false };
  const result = [...desired];
  const candidates = [...desired];
  const written = new Array<boolean>(candidates.length).fill(false);
  const counts = new Map<string, { value: Json; count: number }>();
  const order: string[] = [];
  for (const item of existing) {
    const key = goSprint(item);
    const entry = counts.get(key);
    if (entry) entry.count++;
    else {
      counts.set(key, { value: item, count: 1 });
      order.push(key);
    }
  }
  let missing = false;
  for (const key of order) {
    const { value: existingItem, count: wanted } = counts.get(key)!;
    let count = 0;
    for (let i = 0; i < candidates.length && count < wanted; i++) {
      if (written[i]) continue;
      const candidate = candidates[i]!;
      let mergedItem: Json = candidate;
      let sameName = false;
      let mergeMissing = false;
      if (isObject(existingItem) && isObject(candidate)) {
        const existingName = existingItem.name;
        sameName = typeof existingName === "string" && existingName !== "" && candidate.name === existingName;
        const merge = mergeMaps(candidate, existingItem, kind, zeroValueEqualsNil);
        mergedItem = merge.merged;
        mergeMissing = merge.missing;
      }
      const equivalence = deeplyEquivalent(mergedItem, existingItem, zeroValueEqualsNil);
      if (sameName || equivalence.equal) {
        count++;
        result[i] = mergedItem;
        written[i] = true;
        missing ||= mergeMissing || equivalence.missing;
      }
    }
    for (let extra = count; extra < wanted; extra++) result.push(existingItem);
  }
  return { merged: result, missing };
}

export interface KeyResult {
  /** A message when the key cannot be compared (type mismatch, bad labels, bad Secret data). */
  error?: string;
  update: boolean;
  merged?: Json;
  skip: boolean;
  missing: boolean;
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";

function withoutLastApplied(value: Json): Json {
  if (!isObject(value) || !Object.hasOwn(value, lastApplied)) return value;
  const copy = { ...value };
  delete copy[lastApplied];
  return copy;
}

/** Only labels and annotations of metadata take part; last-applied-configuration never does. */
export function formatMetadata(metadata: Json | undefined): JsonObject {
  const result: JsonObject = {};
  if (!isObject(metadata)) return result;
  if (Object.hasOwn(metadata, "labels")) result.labels = metadata.labels!;
  if (Object.hasOwn(metadata, "annotations")) result.annotations = withoutLastApplied(metadata.annotations!);
  return result;
}

const sccAnnotationPrefix = "openshift.io/sa.scc.";

function metadataForCompare(
  merged: JsonObject,
  existing: JsonObject,
  isNamespace: boolean,
): [merged: JsonObject, existing: JsonObject] {
  const mergedResult: JsonObject = {};
  const existingResult: JsonObject = {};
  if (Object.hasOwn(merged, "labels")) {
    mergedResult.labels = merged.labels!;
    if (Object.hasOwn(existing, "labels")) existingResult.labels = existing.labels!;
  }
  if (Object.hasOwn(merged, "annotations")) {
    let annotations = withoutLastApplied(merged.annotations!);
    const existingAnnotations = existing.annotations;
    if (isNamespace && isObject(annotations) && isObject(existingAnnotations)) {
      for (const [key, value] of Object.entries(existingAnnotations)) {
        if (key.startsWith(sccAnnotationPrefix) && !Object.hasOwn(annotations, key)) {
          annotations = { ...annotations, [key]: value };
        }
      }
    }
    mergedResult.annotations = annotations;
    if (Object.hasOwn(existing, "annotations")) {
      existingResult.annotations = withoutLastApplied(existing.annotations!);
    }
  }
  return [mergedResult, existingResult];
}

/** The error OCM reports for labels or annotations that are not a map of strings. */
export function stringMapError(what: "label" | "annotation", value: Json | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    return `invalid ${what}, error: ${goSprint(value)} is of the type ${goTypeName(value)}, expected map[string]interface{}`;
  }
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (typeof item !== "string") {
      return `invalid ${what}, error: contains non-string value in the map under key "${key}": ${goSprint(item)} is of the type ${goTypeName(item)}, expected string`;
    }
  }
  return undefined;
}

function decodeBase64(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, "base64").toString("utf8");
}

/** Compares and merges one top-level key of the desired object with the existing object. */
export function handleSingleKey(
  key: string,
  desired: JsonObject,
  existing: JsonObject,
  kind: ComplianceKind,
  zeroValueEqualsNil: boolean,
): KeyResult {
  if (key === "apiVersion" || key === "kind") return { update: false, skip: true, missing: false };
  const desiredValue: Json | undefined = key === "metadata" ? formatMetadata(desired.metadata) : desired[key];
  const present = Object.hasOwn(existing, key);
  let existingValue: Json | undefined = existing[key];
  let missing = !present;
  let merged: Json | undefined;
  const typeError = `Error merging changes into key "${key}": object type of template and existing do not match`;
  if (Array.isArray(desiredValue)) {
    if (Array.isArray(existingValue)) {
      const merge = mergeArrays(clone(desiredValue), existingValue, kind, zeroValueEqualsNil);
      merged = merge.merged;
      missing ||= merge.missing;
    } else if (existingValue === undefined || existingValue === null) {
      merged = desiredValue;
    } else {
      return { error: typeError, update: false, skip: false, missing };
    }
  } else if (isObject(desiredValue)) {
    if (isObject(existingValue)) {
      const merge = mergeMaps(clone(desiredValue), existingValue, kind, zeroValueEqualsNil);
      merged = merge.merged;
      missing ||= merge.missing;
    } else if (existingValue === undefined || existingValue === null) {
      merged = desiredValue;
    } else {
      return { error: typeError, update: false, skip: false, missing };
    }
  } else {
    merged = desiredValue;
  }

  if (key === "metadata") {
    const templateMetadata = isObject(desired.metadata) ? desired.metadata : {};
    const labelError =
      stringMapError("label", templateMetadata.labels) ??
      stringMapError("annotation", templateMetadata.annotations);
    if (labelError) return { error: labelError, update: false, skip: false, missing };
    const isNamespace = desired.kind === "Namespace" && desired.apiVersion === "v1";
    [merged, existingValue] = metadataForCompare(
      isObject(merged) ? merged : {},
      isObject(existingValue) ? existingValue : {},
      isNamespace,
    );
  }

  if (key === "stringData" && existing.kind === "Secret") {
    const data = existing.data;
    const decoded: JsonObject = {};
    if (data !== undefined && data !== null) {
      if (!isObject(data) || Object.values(data).some((value) => typeof value !== "string")) {
        return { error: "Error accessing encoded data", update: false, merged, skip: false, missing };
      }
      for (const [dataKey, encoded] of Object.entries(data)) {
        const text = decodeBase64(encoded as string);
        if (text === undefined) {
          const name =
            isObject(existing.metadata) && typeof existing.metadata.name === "string"
              ? existing.metadata.name
              : "";
          return { error: `Error decoding secret: ${name}`, update: false, merged, skip: false, missing };
        }
        decoded[dataKey] = text;
      }
    }
    existingValue = decoded;
  }

  const equivalence = deeplyEquivalent(merged, existingValue, zeroValueEqualsNil);
  return { update: !equivalence.equal, merged, skip: false, missing: missing || equivalence.missing };
}

export interface KeysResult {
  /** The status differs (never enforceable), or an error stopped the comparison. */
  throwSpecViolation: boolean;
  message: string;
  updateNeeded: boolean;
  statusMismatch: boolean;
  missing: boolean;
}

/**
 * Compares every key of the desired object with `compareWith` and writes the merged values
 * into `updated` (which starts as a copy of the existing object and becomes the object an
 * update would send).
 */
export function handleKeys(
  desired: JsonObject,
  updated: JsonObject,
  compareWith: JsonObject,
  kind: ComplianceKind,
  metadataKind: ComplianceKind | undefined,
): KeysResult {
  const handled = new Set<string>();
  let throwSpecViolation = false;
  let updateNeeded = false;
  let statusMismatch = false;
  let missing = false;
  for (const key of Object.keys(desired)) {
    handled.add(key);
    const keyKind = key === "metadata" && metadataKind ? metadataKind : kind;
    const result = handleSingleKey(key, desired, compareWith, keyKind, false);
    missing ||= result.missing;
    if (result.error !== undefined) {
      return { throwSpecViolation: true, message: result.error, updateNeeded: true, statusMismatch, missing };
    }
    if (result.skip) continue;
    if (key === "metadata") {
      const mergedMetadata = isObject(result.merged) ? result.merged : {};
      const metadata: JsonObject = isObject(updated.metadata) ? { ...updated.metadata } : {};
      for (const field of ["annotations", "labels"] as const) {
        const value = mergedMetadata[field];
        if (isObject(value) && Object.keys(value).length > 0) metadata[field] = value;
        else delete metadata[field];
      }
      updated.metadata = metadata;
    } else if (result.merged !== undefined) {
      updated[key] = result.merged;
    }
    if (result.update) {
      if (key === "status") {
        throwSpecViolation = true;
        statusMismatch = true;
      } else {
        updateNeeded = true;
      }
    }
  }
  if (kind === "mustonlyhave") {
    const isServiceAccount = updated.kind === "ServiceAccount" && updated.apiVersion === "v1";
    for (const key of Object.keys(updated)) {
      if (handled.has(key) || key === "status" || key === "metadata") continue;
      if (isServiceAccount && (key === "secrets" || key === "imagePullSecrets")) continue;
      delete updated[key];
      updateNeeded = true;
    }
  }
  return { throwSpecViolation, message: "", updateNeeded, statusMismatch, missing };
}

/** Whether an existing object matches every field of the template (for unnamed templates). */
export function matchesTemplate(desired: JsonObject, existing: JsonObject, kind: ComplianceKind): boolean {
  for (const key of Object.keys(desired)) {
    const result = handleSingleKey(key, desired, existing, kind, true);
    if (result.skip) continue;
    if (result.error !== undefined || result.update) return false;
  }
  return true;
}

/** Drops what a comparison of whole objects must ignore (managedFields, generation, ...). */
export function removeFieldsForComparison(object: JsonObject): void {
  if (!isObject(object.metadata)) return;
  const metadata = object.metadata;
  delete metadata.managedFields;
  delete metadata.generation;
  if (isObject(metadata.annotations)) {
    delete metadata.annotations[lastApplied];
    if (Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  }
}
