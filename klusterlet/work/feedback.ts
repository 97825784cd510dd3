// Status feedback: the values a ManifestWork's feedbackRules read from a manifest's live object,
// and the manifest's StatusFeedbackSynced condition, as OCM's work agent computes them.
//
// Each JSONPath is wrapped in braces and evaluated with missing keys allowed, so a path that
// finds nothing (or only null) yields no value and no error. One match of an int, string or bool
// becomes an Integer, String or Boolean value; anything else (an object, a list, a float, or
// several matches) becomes a JsonRaw value when raw JSON is enabled (OCM's RawFeedbackJsonString
// gate, off by default) and at most maxJsonRawLength bytes long, and an error otherwise.
// Errors never drop the other values: they make StatusFeedbackSynced False.
import {
  ConditionStatus,
  ManifestWorkConditions,
  ManifestWorkMessages,
  ManifestWorkReasons,
  Work,
} from "../../api/constants.ts";
import type { FeedbackRule, FeedbackValue, JsonPath } from "../../api/types/work.ts";
import type { ConditionUpdate } from "../../runtime/conditions.ts";
import { findResults, GoNumber, goTypeName, isInt64, parseTemplate } from "./jsonpath.ts";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The GVK of an unstructured object; an unparseable apiVersion gives the empty GVK. */
export function groupVersionKindOf(object: unknown): GroupVersionKind {
  const record = typeof object === "object" && object !== null ? (object as Record<string, unknown>) : {};
  const apiVersion = typeof record.apiVersion === "string" ? record.apiVersion : "";
  const kind = typeof record.kind === "string" ? record.kind : "";
  const parts = apiVersion === "" ? [] : apiVersion.split("/");
  if (parts.length > 2) return { group: "", version: "", kind: "" };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]!, kind };
  return { group: "", version: parts[0] ?? "", kind };
}

/** `apps/v1, Kind=Deployment`, as Go prints a schema.GroupVersionKind. */
export function formatGroupVersionKind(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}, Kind=${gvk.kind}`;
}

export interface WellKnownStatusRule extends GroupVersionKind {
  paths: readonly JsonPath[];
}

const names = Work.wellKnownStatus;

/** The WellKnownStatus feedback of each kind OCM knows, in the order it reports them. */
export const wellKnownStatusRules: readonly WellKnownStatusRule[] = [
  {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    paths: [
      { name: names.readyReplicas, path: ".status.readyReplicas" },
      { name: names.replicas, path: ".status.replicas" },
      { name: names.availableReplicas, path: ".status.availableReplicas" },
    ],
  },
  {
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    paths: [
      { name: names.numberReady, path: ".status.numberReady" },
      { name: names.desiredNumberScheduled, path: ".status.desiredNumberScheduled" },
      { name: names.numberAvailable, path: ".status.numberAvailable" },
    ],
  },
  {
    group: "batch",
    version: "v1",
    kind: "Job",
    paths: [
      { name: names.jobComplete, path: '.status.conditions[?(@.type=="Complete")].status' },
      { name: names.jobSucceeded, path: ".status.succeeded" },
    ],
  },
  {
    group: "",
    version: "v1",
    kind: "Pod",
    paths: [
      { name: names.podReady, path: '.status.conditions[?(@.type=="Ready")].status' },
      { name: names.podPhase, path: ".status.phase" },
    ],
  },
];

/** The WellKnownStatus paths of a GVK (exact group, version and kind), or none. */
export function wellKnownStatusPaths(gvk: GroupVersionKind): readonly JsonPath[] {
  const rule = wellKnownStatusRules.find(
    (r) => r.group === gvk.group && r.version === gvk.version && r.kind === gvk.kind,
  );
  return rule?.paths ?? [];
}

export interface FeedbackOptions {
  /** Report objects, lists, floats and multiple matches as JsonRaw (OCM's RawFeedbackJsonString). */
  rawJson?: boolean;
  /** The longest JsonRaw value in UTF-8 bytes; defaults to 1024 (--max-json-raw-length). */
  maxJsonRawLength?: number;
}

function utf8Compare(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function goJsonString(text: string): string {
  return JSON.stringify(text)
    .replaceAll("<", "\\u003c")
    .replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** JSON as Go's json.Marshal writes it: map keys sorted, <, > and & escaped, no spaces. */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof GoNumber) return JSON.stringify(value.value);
  if (typeof value === "string") return goJsonString(value);
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort(utf8Compare);
  return `{${keys.map((key) => `${goJsonString(key)}:${goJson(object[key])}`).join(",")}}`;
}

export type PathValue = { ok: true; value: FeedbackValue | undefined } | { ok: false; error: string };

/** The feedback value one JSONPath reads from the object; undefined when nothing is found. */
export function valueByJsonPath(
  name: string,
  path: string,
  object: unknown,
  options: FeedbackOptions = {},
): PathValue {
  const parsed = parseTemplate(`{${path}}`);
  if (!parsed.ok) {
    return { ok: false, error: `failed to parse json path ${path} of ${name} with error: ${parsed.error}` };
  }
  const found = findResults(parsed.template, object, { allowMissingKeys: true });
  if (!found.ok) return { ok: false, error: `failed to find value for ${name} with error: ${found.error}` };
  const first = found.results[0];
  if (first === undefined || first.length === 0) return { ok: true, value: undefined };
  const value = found.results.length === 1 && first.length === 1 ? first[0] : first;
  if (value === null || value === undefined) return { ok: true, value: undefined };
  if (typeof value === "number" && isInt64(value)) {
    return { ok: true, value: { name, fieldValue: { type: "Integer", integer: value } } };
  }
  if (typeof value === "string") {
    return { ok: true, value: { name, fieldValue: { type: "String", string: value } } };
  }
  if (typeof value === "boolean") {
    return { ok: true, value: { name, fieldValue: { type: "Boolean", boolean: value } } };
  }
  if (options.rawJson) {
    const jsonRaw = goJson(value);
    const limit = options.maxJsonRawLength ?? Work.maxJsonRawLength;
    if (new TextEncoder().encode(jsonRaw).length > limit) {
      return {
        ok: false,
        error: `the length of returned json raw string for name ${name} is larger than the maximum length ${limit}`,
      };
    }
    return { ok: true, value: { name, fieldValue: { type: "JsonRaw", jsonRaw } } };
  }
  return { ok: false, error: `the type ${goTypeName(value)} of the value for ${name} is not found` };
}

export interface RuleValues {
  values: FeedbackValue[];
  errors: string[];
}

/** The values of one feedback rule; errors are collected path by path. */
export function valuesByRule(object: unknown, rule: FeedbackRule, options: FeedbackOptions = {}): RuleValues {
  const values: FeedbackValue[] = [];
  const errors: string[] = [];
  const gvk = groupVersionKindOf(object);
  let paths: readonly JsonPath[];
  switch (rule.type) {
    case "WellKnownStatus":
      paths = wellKnownStatusPaths(gvk);
      if (paths.length === 0) {
        errors.push(
          `cannot find the wellknown statuses for resource with gvk ${formatGroupVersionKind(gvk)}`,
        );
      }
      break;
    case "JSONPaths":
      paths = rule.jsonPaths ?? [];
      break;
    default:
      paths = [];
  }
  for (const path of paths) {
    if (rule.type === "JSONPaths" && path.version && path.version !== gvk.version) {
      errors.push(`version set in the path ${path.name} is not matched for the related resource`);
      continue;
    }
    const result = valueByJsonPath(path.name, path.path, object, options);
    if (!result.ok) errors.push(result.error);
    else if (result.value) values.push(result.value);
  }
  return { values, errors };
}

/**
 * Go's aggregated error text: one distinct message alone, several as `[a, b]` (duplicates
 * dropped, first occurrence kept).
 */
export function aggregateErrors(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(", ")}]`;
}

export interface StatusFeedback {
  values: FeedbackValue[];
  condition: ConditionUpdate;
}

/**
 * Every rule's values, in rule order, and the StatusFeedbackSynced condition: True
 * NoStatusFeedbackSynced without rules, False StatusFeedbackSyncFailed when any path failed,
 * otherwise True StatusFeedbackSynced.
 */
export function statusFeedback(
  object: unknown,
  rules: readonly FeedbackRule[] | undefined,
  options: FeedbackOptions = {},
): StatusFeedback {
  const type = ManifestWorkConditions.statusFeedbackSynced;
  if (!rules || rules.length === 0) {
    return {
      values: [],
      condition: {
        type,
        status: ConditionStatus.True,
        reason: ManifestWorkReasons.noStatusFeedbackSynced,
        message: "",
      },
    };
  }
  const values: FeedbackValue[] = [];
  const errors: string[] = [];
  for (const rule of rules) {
    const result = valuesByRule(object, rule, options);
    values.push(...result.values);
    errors.push(...result.errors);
  }
  if (errors.length > 0) {
    return {
      values,
      condition: {
        type,
        status: ConditionStatus.False,
        reason: ManifestWorkReasons.statusFeedbackSyncFailed,
        message: ManifestWorkMessages.statusFeedbackSyncFailed + aggregateErrors(errors),
      },
    };
  }
  return {
    values,
    condition: {
      type,
      status: ConditionStatus.True,
      reason: ManifestWorkReasons.statusFeedbackSynced,
      message: "",
    },
  };
}
