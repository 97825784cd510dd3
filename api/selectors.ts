// Label selectors with Kubernetes' semantics and error texts: requirements validated as
// labels.NewRequirement validates them, metav1.LabelSelector compiled as LabelSelectorAsSelector
// compiles it, the string form read as labels.Parse reads it and written as Selector.String()
// writes it, and matching against a label map or any lookup (claims, for instance).
import type { LabelSelector } from "./types/meta.ts";

export type Operator = "in" | "notin" | "exists" | "!" | "=" | "==" | "!=" | "gt" | "lt";

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

/** Requirements that must all hold; none selects everything. */
export interface Selector {
  readonly requirements: readonly Requirement[];
}

/** What a requirement's values break, with Kubernetes' words for it. */
export const valuesRules = {
  required: "for 'in', 'notin' operators, values set can't be empty",
  forbidden: "values set must be empty for exists and does not exist",
  single: "exact-match compatibility requires one single value",
  integer: "for 'Gt', 'Lt' operators, exactly one value is required",
} as const;

/** Why one value of a Gt or Lt requirement is refused. */
export const integerValueRule = "for 'Gt', 'Lt' operators, the value must be an integer";

export type ValuesRule = keyof typeof valuesRules;

/** One thing wrong with a requirement, in the order Kubernetes finds them. */
export type RequirementProblem =
  | { kind: "key"; key: string; details: string[] }
  | { kind: "values"; rule: ValuesRule; values: readonly string[] }
  | { kind: "value"; index: number; value: string; details: string[] };

// Label keys (qualified names) and values ---------------------------------------------------------

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

/** Why `key` is not a valid label key (a qualified name); empty when it is one. */
export function labelKeyErrors(key: string): string[] {
  const errors: string[] = [];
  const parts = key.split("/");
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

/** Why `value` is not a valid label value; empty when it is one. */
export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push("must be no more than 63 bytes");
  if (!labelValueRegexp.test(value)) {
    errors.push(regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"));
  }
  return errors;
}

// Requirements ----------------------------------------------------------------------------------

const integerPattern = /^[+-]?\d+$/;

/** Go's strconv.ParseInt(value, 10, 64) succeeds. */
function isInt64(value: string): boolean {
  if (!integerPattern.test(value)) return false;
  const parsed = BigInt(value);
  return parsed >= -(2n ** 63n) && parsed < 2n ** 63n;
}

/** labels.NewRequirement's checks; empty when the requirement is valid. */
export function requirementProblems(requirement: Requirement): RequirementProblem[] {
  const problems: RequirementProblem[] = [];
  const { key, values } = requirement;
  const keyErrors = labelKeyErrors(key);
  if (keyErrors.length > 0) problems.push({ kind: "key", key, details: keyErrors });
  let rule: ValuesRule | undefined;
  switch (requirement.operator) {
    case "in":
    case "notin":
      if (values.length === 0) rule = "required";
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) rule = "single";
      break;
    case "exists":
    case "!":
      if (values.length !== 0) rule = "forbidden";
      break;
    case "gt":
    case "lt":
      if (values.length !== 1) rule = "integer";
      break;
  }
  if (rule) problems.push({ kind: "values", rule, values });
  if (requirement.operator === "gt" || requirement.operator === "lt") {
    values.forEach((value, index) => {
      if (!isInt64(value)) problems.push({ kind: "value", index, value, details: [integerValueRule] });
    });
  }
  values.forEach((value, index) => {
    const details = labelValueErrors(value);
    if (details.length > 0) problems.push({ kind: "value", index, value, details });
  });
  return problems;
}

/**
 * A []string bad value as field errors print it: Go's json.Marshal, so the empty (nil) list
 * LabelSelectorAsSelector passes is `null`, and <, > and & are escaped.
 */
function goJsonStrings(values: readonly string[]): string {
  if (values.length === 0) return "null";
  return JSON.stringify(values).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The problems as Kubernetes reports them: field errors, aggregated. */
export function requirementMessage(problems: readonly RequirementProblem[]): string {
  const errors = problems.map((problem) => {
    switch (problem.kind) {
      case "key":
        return `key: Invalid value: ${JSON.stringify(problem.key)}: ${problem.details.join("; ")}`;
      case "values":
        return `values: Invalid value: ${goJsonStrings(problem.values)}: ${valuesRules[problem.rule]}`;
      case "value":
        return `values[${problem.index}]: Invalid value: ${JSON.stringify(problem.value)}: ${problem.details.join("; ")}`;
    }
  });
  return errors.length === 1 ? errors[0]! : `[${errors.join(", ")}]`;
}

// Matching --------------------------------------------------------------------------------------

/** A label's value, or undefined when the label is absent. */
export type Lookup = (key: string) => string | undefined;

export function recordLookup(record: Readonly<Record<string, string>> | undefined): Lookup {
  return (key) => (record && Object.hasOwn(record, key) ? record[key] : undefined);
}

export function mapLookup(map: ReadonlyMap<string, string>): Lookup {
  return (key) => map.get(key);
}

function holds(requirement: Requirement, lookup: Lookup): boolean {
  const value = lookup(requirement.key);
  switch (requirement.operator) {
    case "in":
    case "=":
    case "==":
      return value !== undefined && requirement.values.includes(value);
    case "notin":
    case "!=":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return value !== undefined;
    case "!":
      return value === undefined;
    case "gt":
    case "lt": {
      if (value === undefined || !integerPattern.test(value)) return false;
      const actual = BigInt(value);
      const bound = BigInt(requirement.values[0]!);
      return requirement.operator === "gt" ? actual > bound : actual < bound;
    }
  }
}

export function matches(selector: Selector, lookup: Lookup): boolean {
  return selector.requirements.every((requirement) => holds(requirement, lookup));
}

export function matchesLabels(
  selector: Selector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return matches(selector, recordLookup(labels));
}

// metav1.LabelSelector --------------------------------------------------------------------------

const selectorOperators: Record<string, Operator> = {
  In: "in",
  NotIn: "notin",
  Exists: "exists",
  DoesNotExist: "!",
};

export interface LabelSelectorError {
  /** Where in the selector: "matchLabels[key]", "matchExpressions[0]", or "" for its shape. */
  readonly path: string;
  /** Kubernetes' message, as LabelSelectorAsSelector returns it. */
  readonly message: string;
  /** The operator, when it is not one of In, NotIn, Exists and DoesNotExist. */
  readonly operator?: string;
  readonly problems: readonly RequirementProblem[];
}

export type LabelSelectorResult = { ok: true; selector: Selector } | { ok: false; error: LabelSelectorError };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * LabelSelectorAsSelector for a selector that is present (an empty one selects everything):
 * matchLabels in key order, then matchExpressions, stopping at the first invalid requirement.
 */
export function compileLabelSelector(selector: unknown): LabelSelectorResult {
  const fail = (path: string, message: string, problems: RequirementProblem[] = [], operator?: string) => ({
    ok: false as const,
    error: { path, message, problems, ...(operator === undefined ? {} : { operator }) },
  });
  if (!isRecord(selector)) return fail("", "the label selector must be an object");
  const matchLabels: unknown = selector.matchLabels ?? {};
  const matchExpressions: unknown = selector.matchExpressions ?? [];
  if (!isRecord(matchLabels)) return fail("matchLabels", "matchLabels must be a map of strings");
  if (!Array.isArray(matchExpressions)) return fail("matchExpressions", "matchExpressions must be a list");
  const requirements: Requirement[] = [];
  for (const key of Object.keys(matchLabels).sort()) {
    const value = matchLabels[key];
    const requirement: Requirement = {
      key,
      operator: "=",
      values: [typeof value === "string" ? value : JSON.stringify(value)],
    };
    const problems = requirementProblems(requirement);
    if (problems.length > 0) return fail(`matchLabels[${key}]`, requirementMessage(problems), problems);
    requirements.push(requirement);
  }
  for (const [index, expression] of (matchExpressions as unknown[]).entries()) {
    const { key, operator, values } = isRecord(expression) ? expression : {};
    const path = `matchExpressions[${index}]`;
    const op = typeof operator === "string" ? selectorOperators[operator] : undefined;
    if (!op) {
      const text = typeof operator === "string" ? operator : "";
      return fail(path, `${JSON.stringify(text)} is not a valid label selector operator`, [], text);
    }
    const requirement: Requirement = {
      key: typeof key === "string" ? key : "",
      operator: op,
      values: Array.isArray(values) ? values.map(String) : [],
    };
    const problems = requirementProblems(requirement);
    if (problems.length > 0) return fail(path, requirementMessage(problems), problems);
    requirements.push(requirement);
  }
  return { ok: true, selector: { requirements } };
}

// The string form -------------------------------------------------------------------------------

function requirementString({ key, operator, values }: Requirement): string {
  switch (operator) {
    case "exists":
      return key;
    case "!":
      return `!${key}`;
    case "in":
    case "notin":
      return `${key} ${operator} (${[...values].sort().join(",")})`;
    case "gt":
      return `${key}>${values[0] ?? ""}`;
    case "lt":
      return `${key}<${values[0] ?? ""}`;
    case "=":
    case "==":
    case "!=":
      return `${key}${operator}${values[0] ?? ""}`;
  }
}

/** Selector.String(): the requirements by key, as a list request sends them. */
export function selectorString(selector: Selector): string {
  return [...selector.requirements]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(requirementString)
    .join(",");
}

/** The string form of a metav1.LabelSelector, as LabelSelectorAsSelector(s).String() writes it. */
export function labelSelectorString(selector: LabelSelector): string {
  const requirements: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: "=",
    values: [value],
  }));
  for (const expression of selector.matchExpressions ?? []) {
    const operator = selectorOperators[expression.operator];
    if (operator) requirements.push({ key: expression.key, operator, values: expression.values ?? [] });
  }
  return selectorString({ requirements });
}

export type ParseResult = { ok: true; selector: Selector } | { ok: false; message: string };

const keyToken = "[^\\s,!=<>()]+";
const notPattern = new RegExp(`^!\\s*(${keyToken})\\s*`);
const setPattern = new RegExp(`^(${keyToken})\\s+(in|notin)\\s*\\(([^)]*)\\)\\s*`);
const comparisonPattern = new RegExp(`^(${keyToken})\\s*(==|!=|=|>|<)\\s*([^\\s,!=<>()]*)\\s*`);
const existsPattern = new RegExp(`^(${keyToken})\\s*`);

/** labels.Parse: the string syntax, e.g. `a=b,c in (d,e),!f`; blank selects everything. */
export function parseSelector(text: string): ParseResult {
  const requirements: Requirement[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    let requirement: Requirement;
    let match: RegExpExecArray | null;
    if ((match = notPattern.exec(rest))) {
      requirement = { key: match[1]!, operator: "!", values: [] };
    } else if ((match = setPattern.exec(rest))) {
      const values = match[3]!
        .split(",")
        .map((value) => value.trim())
        .filter((value, i, all) => value !== "" || all.length > 1);
      requirement = { key: match[1]!, operator: match[2] as Operator, values };
    } else if ((match = comparisonPattern.exec(rest))) {
      const symbol = match[2]!;
      const operator: Operator = symbol === ">" ? "gt" : symbol === "<" ? "lt" : (symbol as Operator);
      requirement = { key: match[1]!, operator, values: [match[3]!] };
    } else if ((match = existsPattern.exec(rest))) {
      requirement = { key: match[1]!, operator: "exists", values: [] };
    } else {
      return { ok: false, message: `unable to parse requirement: found '${rest}', expected: identifier` };
    }
    const problems = requirementProblems(requirement);
    if (problems.length > 0) {
      return { ok: false, message: `unable to parse requirement: ${requirementMessage(problems)}` };
    }
    requirements.push(requirement);
    rest = rest.slice(match[0].length);
    if (rest.startsWith(",")) {
      rest = rest.slice(1).trimStart();
      if (rest === "") return { ok: false, message: "found '', expected: identifier after ','" };
    } else if (rest.length > 0) {
      return {
        ok: false,
        message: `found '${rest.split(/\s|,/)[0] ?? rest}', expected: ',' or 'end of string'`,
      };
    }
  }
  return { ok: true, selector: { requirements } };
}
