// Label selectors with Kubernetes' semantics and error texts: metav1.LabelSelector
// (matchLabels + matchExpressions, as LabelSelectorAsSelector validates them) and the
// string form used by `lookup` (labels.Parse).
import type { LabelSelector } from "../api/types/meta.ts";
import { isObject } from "./gofmt.ts";

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

type Operator = "in" | "notin" | "exists" | "!" | "=" | "==" | "!=" | "gt" | "lt";

interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export class SelectorError extends Error {
  override name = "SelectorError";
}

const qualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const qualifiedNameRegexp = new RegExp(`^${qualifiedNameFmt}$`);
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const dns1123SubdomainFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const dns1123SubdomainRegexp = new RegExp(`^${dns1123SubdomainFmt}$`);
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueRegexp = new RegExp(`^${labelValueFmt}$`);
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

function regexError(message: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${format}')`;
  let text = `${message} (e.g. `;
  examples.forEach((example, i) => {
    if (i > 0) text += " or ";
    text += `'${example}', `;
  });
  return `${text}regex used for validation is '${format}')`;
}

function qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errors.push("prefix part must be non-empty");
    else {
      if (prefix.length > 253) errors.push("prefix part must be no more than 253 bytes");
      if (!dns1123SubdomainRegexp.test(prefix)) {
        errors.push(`prefix part ${regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, "example.com")}`);
      }
    }
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errors.push("name part must be non-empty");
  else if (name.length > 63) errors.push("name part must be no more than 63 bytes");
  if (!qualifiedNameRegexp.test(name)) {
    errors.push(
      `name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")}`,
    );
  }
  return errors;
}

function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push("must be no more than 63 bytes");
  if (!labelValueRegexp.test(value)) {
    errors.push(regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"));
  }
  return errors;
}

/** Go's %#v of a []string, as field errors print bad values. */
function goStringSlice(values: string[] | undefined): string {
  if (!values || values.length === 0) return "[]string(nil)";
  return `[]string{${values.map((value) => JSON.stringify(value)).join(", ")}}`;
}

/** labels.NewRequirement's validation; returns the aggregated error text or undefined. */
function validateRequirement(requirement: Requirement): string | undefined {
  const errors: string[] = [];
  const keyErrors = qualifiedNameErrors(requirement.key);
  if (keyErrors.length > 0) {
    errors.push(`key: Invalid value: ${JSON.stringify(requirement.key)}: ${keyErrors.join("; ")}`);
  }
  const { values } = requirement;
  switch (requirement.operator) {
    case "in":
    case "notin":
      if (values.length === 0) {
        errors.push(
          `values: Invalid value: ${goStringSlice(values)}: for 'in', 'notin' operators, values set can't be empty`,
        );
      }
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) {
        errors.push(
          `values: Invalid value: ${goStringSlice(values)}: exact-match compatibility requires one single value`,
        );
      }
      break;
    case "exists":
    case "!":
      if (values.length !== 0) {
        errors.push(
          `values: Invalid value: ${goStringSlice(values)}: values set must be empty for exists and does not exist`,
        );
      }
      break;
    case "gt":
    case "lt":
      if (values.length !== 1 || !/^-?\d+$/.test(values[0] ?? "")) {
        errors.push(
          `values: Invalid value: ${goStringSlice(values)}: for 'Gt', 'Lt' operators, exactly one value is required`,
        );
      }
      break;
  }
  values.forEach((value, i) => {
    const valueErrors = labelValueErrors(value);
    if (valueErrors.length > 0) {
      errors.push(`values[${i}]: Invalid value: ${JSON.stringify(value)}: ${valueErrors.join("; ")}`);
    }
  });
  if (errors.length === 0) return undefined;
  return errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`;
}

function matchRequirement(requirement: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "in":
    case "=":
    case "==":
      return has && requirement.values.includes(value!);
    case "notin":
    case "!=":
      return !has || !requirement.values.includes(value!);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value!)) return false;
      const actual = BigInt(value!);
      const bound = BigInt(requirement.values[0]!);
      return requirement.operator === "gt" ? actual > bound : actual < bound;
    }
  }
}

function matcherOf(requirements: Requirement[]): LabelMatcher {
  return (labels) => requirements.every((requirement) => matchRequirement(requirement, labels));
}

const selectorOperators: Record<string, Operator> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

/**
 * LabelSelectorAsSelector: undefined selects nothing, an empty selector everything. Throws
 * SelectorError with Kubernetes' message when the selector is invalid.
 */
export function compileLabelSelector(selector: LabelSelector | undefined | null): LabelMatcher {
  if (selector === undefined || selector === null) return () => false;
  if (!isObject(selector)) throw new SelectorError("the label selector must be an object");
  const matchLabels: unknown = selector.matchLabels ?? {};
  const matchExpressions: unknown = selector.matchExpressions ?? [];
  if (!isObject(matchLabels)) throw new SelectorError("matchLabels must be a map of strings");
  if (!Array.isArray(matchExpressions)) throw new SelectorError("matchExpressions must be a list");
  const requirements: Requirement[] = [];
  for (const key of Object.keys(matchLabels).sort()) {
    const value = matchLabels[key];
    const requirement: Requirement = {
      key,
      operator: "=",
      values: [typeof value === "string" ? value : JSON.stringify(value)],
    };
    const error = validateRequirement(requirement);
    if (error) throw new SelectorError(error);
    requirements.push(requirement);
  }
  for (const expression of matchExpressions as unknown[]) {
    const { key, operator, values } = (isObject(expression) ? expression : {}) as {
      key?: unknown;
      operator?: unknown;
      values?: unknown;
    };
    const op = typeof operator === "string" ? selectorOperators[operator] : undefined;
    if (!op) {
      throw new SelectorError(
        `"${typeof operator === "string" ? operator : ""}" is not a valid label selector operator`,
      );
    }
    const requirement: Requirement = {
      key: typeof key === "string" ? key : "",
      operator: op,
      values: Array.isArray(values) ? values.map(String) : [],
    };
    const error = validateRequirement(requirement);
    if (error) throw new SelectorError(error);
    requirements.push(requirement);
  }
  return matcherOf(requirements);
}

/** The selector as the string a list request sends (labels.Selector.String()). */
export function labelSelectorString(selector: LabelSelector): string {
  const parts: string[] = [];
  for (const key of Object.keys(selector.matchLabels ?? {}).sort()) {
    parts.push(`${key}=${selector.matchLabels![key]}`);
  }
  for (const expression of selector.matchExpressions ?? []) {
    const values = [...(expression.values ?? [])].sort().join(",");
    switch (expression.operator) {
      case "In":
        parts.push(`${expression.key} in (${values})`);
        break;
      case "NotIn":
        parts.push(`${expression.key} notin (${values})`);
        break;
      case "Exists":
        parts.push(expression.key);
        break;
      case "DoesNotExist":
        parts.push(`!${expression.key}`);
        break;
    }
  }
  return parts.join(",");
}

/** labels.Parse: the string selector syntax, e.g. `a=b,c in (d,e),!f`. */
export function parseLabelSelector(text: string): LabelMatcher {
  const requirements: Requirement[] = [];
  let rest = text.trim();
  if (rest === "") return () => true;
  while (rest.length > 0) {
    let requirement: Requirement;
    let match: RegExpExecArray | null;
    if ((match = /^!\s*([^\s,!=<>()]+)\s*/.exec(rest))) {
      requirement = { key: match[1]!, operator: "!", values: [] };
    } else if ((match = /^([^\s,!=<>()]+)\s+(in|notin)\s*\(([^)]*)\)\s*/.exec(rest))) {
      const values = match[3]!
        .split(",")
        .map((value) => value.trim())
        .filter((value, i, all) => value !== "" || all.length > 1);
      requirement = { key: match[1]!, operator: match[2] as Operator, values };
    } else if ((match = /^([^\s,!=<>()]+)\s*(==|!=|=|>|<)\s*([^\s,!=<>()]*)\s*/.exec(rest))) {
      const symbol = match[2]!;
      const operator: Operator = symbol === ">" ? "gt" : symbol === "<" ? "lt" : (symbol as Operator);
      requirement = { key: match[1]!, operator, values: [match[3]!] };
    } else if ((match = /^([^\s,!=<>()]+)\s*/.exec(rest))) {
      requirement = { key: match[1]!, operator: "exists", values: [] };
    } else {
      throw new SelectorError(`unable to parse requirement: found '${rest}', expected: identifier`);
    }
    const error = validateRequirement(requirement);
    if (error) throw new SelectorError(`unable to parse requirement: ${error}`);
    requirements.push(requirement);
    rest = rest.slice(match[0].length);
    if (rest.startsWith(",")) {
      rest = rest.slice(1).trimStart();
      if (rest === "") throw new SelectorError("found '', expected: identifier after ','");
    } else if (rest.length > 0) {
      throw new SelectorError(`found '${rest.split(/\s|,/)[0] ?? rest}', expected: ',' or 'end of string'`);
    }
  }
  return matcherOf(requirements);
}
