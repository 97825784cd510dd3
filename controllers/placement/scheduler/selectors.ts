// Label selectors (metav1.LabelSelector) and claim selectors, validated and matched as
// Kubernetes' LabelSelectorAsSelector does. Errors name the field they come from.
import type { LabelSelector, LabelSelectorRequirement } from "../../../api/types/meta.ts";

export type Requirement =
  | { key: string; op: "In" | "NotIn"; values: ReadonlySet<string> }
  | { key: string; op: "Exists" | "DoesNotExist" };

/** A compiled selector; an empty one matches everything. */
export interface Selector {
  readonly requirements: readonly Requirement[];
}

export type SelectorResult = { ok: true; selector: Selector } | { ok: false; message: string };

const namePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Why `key` is not a valid label key (qualified name), or undefined. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return "prefix part must be non-empty";
    if (prefix.length > 253 || !dnsSubdomain.test(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain";
    }
  }
  if (name.length === 0) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!namePart.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined. */
export function labelValueError(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  if (!labelValue.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function compileRequirement(r: LabelSelectorRequirement, field: string): Requirement | string {
  const keyError = labelKeyError(r.key ?? "");
  if (keyError) return `${field}.key: Invalid value: ${JSON.stringify(r.key)}: ${keyError}`;
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
    case "NotIn":
      if (values.length === 0)
        return `${field}.values: Required value: for 'in', 'notin' operators, values set can't be empty`;
      for (const [i, v] of values.entries()) {
        const valueError = labelValueError(v);
        if (valueError) return `${field}.values[${i}]: Invalid value: ${JSON.stringify(v)}: ${valueError}`;
      }
      return { key: r.key, op: r.operator, values: new Set(values) };
    case "Exists":
    case "DoesNotExist":
      if (values.length > 0) {
        return `${field}.values: Forbidden: values set must be empty for exists and does not exist`;
      }
      return { key: r.key, op: r.operator };
    default:
      return `${field}.operator: Unsupported value: ${JSON.stringify(r.operator)}: ${JSON.stringify(String(r.operator))} is not a valid label selector operator`;
  }
}

/** Compiles a label selector; absent means empty, which matches everything. */
export function compileLabelSelector(selector: LabelSelector | undefined, field: string): SelectorResult {
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    const r = compileRequirement({ key, operator: "In", values: [value] }, `${field}.matchLabels[${key}]`);
    if (typeof r === "string") return { ok: false, message: r };
    requirements.push(r);
  }
  for (const [i, expression] of (selector?.matchExpressions ?? []).entries()) {
    const r = compileRequirement(expression, `${field}.matchExpressions[${i}]`);
    if (typeof r === "string") return { ok: false, message: r };
    requirements.push(r);
  }
  return { ok: true, selector: { requirements } };
}

/** Compiles a claim selector (matchExpressions only). */
export function compileClaimSelector(
  selector: { matchExpressions?: LabelSelectorRequirement[] } | undefined,
  field: string,
): SelectorResult {
  return compileLabelSelector({ matchExpressions: selector?.matchExpressions ?? [] }, field);
}

export type Lookup = (key: string) => string | undefined;

export function matches(selector: Selector, lookup: Lookup): boolean {
  for (const r of selector.requirements) {
    const value = lookup(r.key);
    switch (r.op) {
      case "In":
        if (value === undefined || !r.values.has(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && r.values.has(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

export function recordLookup(record: Readonly<Record<string, string>> | undefined): Lookup {
  return (key) => (record && Object.hasOwn(record, key) ? record[key] : undefined);
}

export function mapLookup(map: ReadonlyMap<string, string>): Lookup {
  return (key) => map.get(key);
}

export function isEmpty(selector: Selector): boolean {
  return selector.requirements.length === 0;
}
