// The functions OCM's managed-cluster templates offer: go-template-utils' cluster lookups
// and conversions, the Sprig functions, and text/template's builtins. Cluster reads go
// through the ClusterReader; `env` and `expandenv` are refused as OCM refuses them.
import { createHash } from "node:crypto";
import { type ClusterObject, type ClusterReader, labelsOf, ReadPending } from "./cluster.ts";
import { goFloat, isObject, type Json } from "./gofmt.ts";
import { toYamlV3 } from "./goyaml.ts";
import {
  type FunctionMap,
  NO_VALUE,
  printValue,
  StructValue,
  type TemplateFunction,
  truth,
  type Value,
  valueTypeName,
} from "./gotemplate-exec.ts";
import { parseLabelSelector, SelectorError } from "./labels.ts";
import { parseYamlV3 } from "./yaml.ts";

export interface TemplateEnvironment {
  reader: ClusterReader;
  /** Called when a template reads a Secret (its diff is then redacted). */
  onSensitiveData: () => void;
  /** Limits lookups as OCM's hub does for a policy without a hub-template service account. */
  lookupRestriction?: LookupRestriction;
  /**
   * Encryption mode: `protect` is enabled and `fromSecret` / `copySecretData` return their
   * values passed through it (`$ocm_encrypted:<base64>`).
   */
  protect?: (plaintext: string) => string;
  /** Spaces added to every `indent N` (OCM's hub adds 8, the depth of an object template). */
  additionalIndentation?: number;
}

/** A cluster-scoped object a restricted lookup may still read; "*" matches anything. */
export interface ClusterScopedObject {
  group: string;
  kind: string;
  name: string;
}

export interface LookupRestriction {
  /** Namespaced lookups must name this namespace; naming none means this one. */
  namespace: string;
  /** The only cluster-scoped objects that can be read. */
  clusterScopedAllowList: ClusterScopedObject[];
}

function onAllowList(list: readonly ClusterScopedObject[], object: ClusterScopedObject): boolean {
  return list.some(
    (item) =>
      (item.group === "*" || item.group === object.group) &&
      (item.kind === "*" || item.kind === object.kind) &&
      (item.name === "*" || item.name === object.name),
  );
}

function clusterScopedRestricted(kind: string, name: string): Error {
  return new Error(`lookup of cluster-scoped resource '${kind}/${name}' is not allowed`);
}

const denylisted = ["env", "expandenv"];

// Marks a map that is a Go map[string]string (labels in a Go-built context): `index` of a
// missing key gives "" there, where a decoded-JSON map gives nil.
const stringMapMark: unique symbol = Symbol("map[string]string");

/** The same entries, marked as a Go map[string]string. */
export function goStringMap(entries: Record<string, string>): Record<string, Value> {
  const map: Record<string, Value> = { ...entries };
  Object.defineProperty(map, stringMapMark, { value: true, enumerable: false });
  return map;
}

function isStringMap(object: object): boolean {
  return Object.hasOwn(object, stringMapMark);
}

function fn(
  params: TemplateFunction["params"],
  call: TemplateFunction["call"],
  variadic?: TemplateFunction["variadic"],
): TemplateFunction {
  return { params, call, variadic };
}

function str(value: Value): string {
  if (value === null || value === NO_VALUE) return "";
  if (typeof value === "string") return value;
  return printValue(value);
}

/** Go's strconv.Quote. */
export function goQuote(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\t") out += "\\t";
    else if (char === "\r") out += "\\r";
    else if (char === "\x07") out += "\\a";
    else if (char === "\b") out += "\\b";
    else if (char === "\f") out += "\\f";
    else if (char === "\v") out += "\\v";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

function isEmpty(value: Value): boolean {
  if (value === null || value === NO_VALUE) return true;
  if (value instanceof StructValue) return false;
  if (typeof value === "string") return value === "";
  if (typeof value === "number") return value === 0;
  if (typeof value === "boolean") return !value;
  if (Array.isArray(value)) return value.length === 0;
  return Object.keys(value).length === 0;
}

/** The kind-level comparison of text/template's eq/lt/...: ints, floats, strings, bools. */
function basicKind(value: Value): "bool" | "int" | "float" | "string" | "invalid" | "other" {
  if (value === NO_VALUE || value === null) return "invalid";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "string";
  return "other";
}

function eq(first: Value, ...others: Value[]): boolean {
  if (others.length === 0) throw new Error("missing argument for comparison");
  const k1 = basicKind(first);
  for (const other of others) {
    const k2 = basicKind(other);
    if (k1 !== k2) {
      if ((k1 === "int" && k2 === "float") || (k1 === "float" && k2 === "int")) {
        throw new Error("incompatible types for comparison");
      }
      if (k1 !== "invalid" && k2 !== "invalid") throw new Error("incompatible types for comparison");
      continue;
    }
    if (k1 === "other") {
      throw new Error(
        `non-comparable types ${printValue(first)}: ${valueTypeName(first)}, ${valueTypeName(other)}: ${printValue(other)}`,
      );
    }
    if (k1 === "invalid" || first === other) return true;
  }
  return false;
}

function compare(name: string, a: Value, b: Value): number {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (
    k1 === "invalid" ||
    k1 === "other" ||
    k1 === "bool" ||
    k2 === "invalid" ||
    k2 === "other" ||
    k2 === "bool"
  ) {
    if (k1 === "bool" || k2 === "bool") throw new Error("invalid type for comparison");
    throw new Error("invalid type for comparison");
  }
  if (k1 !== k2) throw new Error("incompatible types for comparison");
  void name;
  const [x, y] = [a as number | string, b as number | string];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Go fmt's Sprintf for the verbs templates use. */
export function goSprintf(format: string, args: Value[]): string {
  let out = "";
  let argIndex = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== "%") {
      out += c;
      continue;
    }
    const match = /^([+\-# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/.exec(format.slice(i + 1));
    if (!match) {
      out += "%!(NOVERB)";
      continue;
    }
    i += match[0].length;
    const [, flags = "", widthText, precisionText, verb = "v"] = match;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argIndex++]!;
    let text: string;
    const precision = precisionText === undefined ? undefined : Number(precisionText);
    const bad = () => `%!${verb}(${valueTypeName(arg)}=${printValue(arg)})`;
    switch (verb) {
      case "v":
        text = printValue(arg);
        break;
      case "s":
        text =
          typeof arg === "string" ? arg : typeof arg === "object" && arg !== null ? printValue(arg) : bad();
        if (precision !== undefined && typeof arg === "string") text = [...text].slice(0, precision).join("");
        break;
      case "q":
        text = typeof arg === "string" ? goQuote(arg) : bad();
        break;
      case "d":
        text = typeof arg === "number" && Number.isInteger(arg) ? String(arg) : bad();
        if (flags.includes("+") && typeof arg === "number" && arg >= 0) text = `+${text}`;
        break;
      case "t":
        text = typeof arg === "boolean" ? String(arg) : bad();
        break;
      case "f":
      case "F":
        text = typeof arg === "number" ? arg.toFixed(precision ?? 6) : bad();
        break;
      case "e":
      case "E": {
        if (typeof arg !== "number") {
          text = bad();
          break;
        }
        const [mantissa = "", exponent = "0"] = arg.toExponential(precision ?? 6).split("e");
        const sign = exponent.startsWith("-") ? "-" : "+";
        text = `${mantissa}e${sign}${exponent.replace(/^[+-]/, "").padStart(2, "0")}`;
        if (verb === "E") text = text.toUpperCase();
        break;
      }
      case "g":
        text = typeof arg === "number" ? goFloat(arg) : bad();
        break;
      case "x":
      case "X":
        if (typeof arg === "number" && Number.isInteger(arg)) text = arg.toString(16);
        else if (typeof arg === "string") text = Buffer.from(arg, "utf8").toString("hex");
        else text = bad();
        if (verb === "X") text = text.toUpperCase();
        break;
      case "o":
        text = typeof arg === "number" && Number.isInteger(arg) ? arg.toString(8) : bad();
        break;
      case "b":
        text = typeof arg === "number" && Number.isInteger(arg) ? arg.toString(2) : bad();
        break;
      case "c":
        text = typeof arg === "number" ? String.fromCodePoint(arg) : bad();
        break;
      case "T":
        text = valueTypeName(arg);
        break;
      default:
        text = bad();
    }
    if (widthText !== undefined) {
      const width = Number(widthText);
      if (flags.includes("-")) text = text.padEnd(width);
      else if (flags.includes("0") && /[dfeEgxXob]/.test(verb)) text = text.padStart(width, "0");
      else text = text.padStart(width);
    }
    out += text;
  }
  if (argIndex < args.length) {
    out += `%!(EXTRA ${args
      .slice(argIndex)
      .map((arg) => `${valueTypeName(arg)}=${printValue(arg)}`)
      .join(", ")})`;
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
function goPrint(args: Value[]): string {
  let out = "";
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += printValue(arg);
  });
  return out;
}

function toInt(value: Value): number {
  if (typeof value === "number") return Math.trunc(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") {
    let text = value.trim();
    if (/\.0*$/.test(text) && /^[+-]?\d+\.0*$/.test(text)) text = text.replace(/\.0*$/, "");
    const parsed = parseGoInt(text);
    return parsed ?? 0;
  }
  return 0;
}

function parseGoInt(text: string): number | undefined {
  const clean = text.replaceAll("_", "");
  let match: RegExpExecArray | null;
  if ((match = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(clean)))
    return Number.parseInt(match[2]!, 16) * (match[1] === "-" ? -1 : 1);
  if ((match = /^([+-]?)0[bB]([01]+)$/.exec(clean)))
    return Number.parseInt(match[2]!, 2) * (match[1] === "-" ? -1 : 1);
  if ((match = /^([+-]?)0[oO]?([0-7]+)$/.exec(clean)))
    return Number.parseInt(match[2]!, 8) * (match[1] === "-" ? -1 : 1);
  if (/^[+-]?\d+$/.test(clean)) return Number(clean);
  return undefined;
}

function parseBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

function base64decode(text: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    const bad = [...text].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
    return `illegal base64 data at input byte ${bad >= 0 ? bad : Math.floor(text.length / 4) * 4}`;
  }
  return Buffer.from(text, "base64").toString("utf8");
}

function toList(value: Value, name: string): Value[] {
  if (Array.isArray(value)) return value;
  if (value === null || value === NO_VALUE) return [];
  throw new Error(`Cannot ${name} on type ${valueTypeName(value)}`);
}

function toJsonText(value: Value): string {
  return goJson(value as Json);
}

/** Go's encoding/json (sorted keys, HTML characters escaped). */
export function goJson(value: Json | undefined): string {
  if (value === undefined) return "null";
  if (value === null || typeof value !== "object") {
    if (typeof value === "string") return escapeHtml(JSON.stringify(value));
    if (typeof value === "number")
      return Number.isInteger(value)
        ? String(value)
        : goFloat(value).replace("e+0", "e+").replace("e-0", "e-");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${escapeHtml(JSON.stringify(key))}:${goJson(value[key])}`).join(",")}}`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("<", "\\u003c")
    .replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

function plainJson(value: Value): Json {
  if (value === NO_VALUE) return null;
  if (value instanceof StructValue) {
    const out: Record<string, Json> = {};
    for (const [key, field] of Object.entries(value.fields)) out[key] = plainJson(field);
    return out;
  }
  if (Array.isArray(value)) return value.map(plainJson);
  if (value !== null && typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const [key, field] of Object.entries(value)) out[key] = plainJson(field);
    return out;
  }
  return value;
}

function semverParts(text: string): number[] | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function semverCompare(constraint: string, version: string): boolean {
  const v = semverParts(version);
  if (!v) throw new Error(`Invalid Semantic Version`);
  const cmp = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  return constraint.split("||").some((alternative) =>
    alternative
      .trim()
      .split(/[\s,]+/)
      .filter(Boolean)
      .every((part) => {
        const match = /^(>=|<=|!=|=|>|<|~|\^)?\s*v?([\dxX*.]+)$/.exec(part);
        if (!match) throw new Error(`improper constraint: ${constraint}`);
        const op = match[1] ?? "=";
        const raw = match[2]!.split(".");
        const wildcard = raw.findIndex((p) => /^[xX*]$/.test(p));
        const target = [0, 1, 2].map((i) =>
          raw[i] === undefined || /^[xX*]$/.test(raw[i]) ? 0 : Number(raw[i]),
        );
        const given = raw.length;
        const c = cmp(v, target);
        if (wildcard >= 0 || (op === "=" && given < 3)) {
          const fixed = wildcard >= 0 ? wildcard : given;
          return v.slice(0, fixed).every((p, i) => p === target[i]);
        }
        switch (op) {
          case "=":
            return c === 0;
          case "!=":
            return c !== 0;
          case ">":
            return c > 0;
          case "<":
            return c < 0;
          case ">=":
            return c >= 0;
          case "<=":
            return c <= 0;
          case "~":
            return c >= 0 && v[0] === target[0] && (given < 2 || v[1] === target[1]);
          case "^":
            return c >= 0 && v[0] === target[0];
          default:
            return false;
        }
      }),
  );
}

function splitMap(parts: string[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  parts.forEach((part, i) => (out[`_${i}`] = part));
  return out;
}

function goSplitN(text: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const parts = sep === "" ? [...text] : text.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function trimCutset(text: string, cutset: string, left = true, right = true): string {
  const chars = new Set(cutset);
  let start = 0;
  let end = text.length;
  if (left) while (start < end && chars.has(text[start]!)) start++;
  if (right) while (end > start && chars.has(text[end - 1]!)) end--;
  return text.slice(start, end);
}

function sprigFunctions(): FunctionMap {
  const regexp = (pattern: string) => {
    try {
      return new RegExp(pattern, "u");
    } catch (error) {
      throw new Error(`error parsing regexp: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    cat: fn(
      [],
      (...args) =>
        args
          .filter((arg) => arg !== null && arg !== NO_VALUE)
          .map(printValue)
          .join(" "),
      "any",
    ),
    contains: fn(["string", "string"], (substr, text) => (text as string).includes(substr as string)),
    hasPrefix: fn(["string", "string"], (prefix, text) => (text as string).startsWith(prefix as string)),
    hasSuffix: fn(["string", "string"], (suffix, text) => (text as string).endsWith(suffix as string)),
    lower: fn(["string"], (text) => (text as string).toLowerCase()),
    upper: fn(["string"], (text) => (text as string).toUpperCase()),
    title: fn(["string"], (text) =>
      (text as string).replace(
        /(^|[^\p{L}\p{N}'])(\p{L})/gu,
        (_m, a: string, b: string) => a + b.toUpperCase(),
      ),
    ),
    trim: fn(["string"], (text) => (text as string).trim()),
    trimAll: fn(["string", "string"], (cutset, text) => trimCutset(text as string, cutset as string)),
    trimPrefix: fn(["string", "string"], (prefix, text) =>
      (text as string).startsWith(prefix as string)
        ? (text as string).slice((prefix as string).length)
        : text,
    ),
    trimSuffix: fn(["string", "string"], (suffix, text) =>
      (text as string).endsWith(suffix as string) && suffix !== ""
        ? (text as string).slice(0, -(suffix as string).length)
        : text,
    ),
    trunc: fn(["int", "string"], (count, text) => {
      const c = count as number;
      const s = text as string;
      if (c < 0 && s.length + c > 0) return s.slice(s.length + c);
      if (c >= 0 && s.length > c) return s.slice(0, c);
      return s;
    }),
    repeat: fn(["int", "string"], (count, text) => (text as string).repeat(Math.max(0, count as number))),
    substr: fn(["int", "int", "string"], (start, end, text) => {
      const s = text as string;
      let a = start as number;
      const b = end as number;
      if (a < 0) a = 0;
      if (b < 0 || b > s.length) return s.slice(a);
      return s.slice(a, b);
    }),
    nospace: fn(["string"], (text) => (text as string).replace(/\s+/g, "")),
    replace: fn(["string", "string", "string"], (old, replacement, text) =>
      (text as string).replaceAll(old as string, replacement as string),
    ),
    split: fn(["string", "string"], (sep, text) => splitMap((text as string).split(sep as string))),
    splitn: fn(["string", "int", "string"], (sep, n, text) =>
      splitMap(goSplitN(text as string, sep as string, n as number)),
    ),
    splitList: fn(["string", "string"], (sep, text) => (text as string).split(sep as string)),
    join: fn(["string", "any"], (sep, list) =>
      toList(list, "join")
        .map((item) => str(item))
        .join(sep as string),
    ),
    quote: fn(
      [],
      (...args) =>
        args
          .filter((arg) => arg !== null && arg !== NO_VALUE)
          .map((arg) => goQuote(str(arg)))
          .join(" "),
      "any",
    ),
    squote: fn(
      [],
      (...args) =>
        args
          .filter((arg) => arg !== null && arg !== NO_VALUE)
          .map((arg) => `'${str(arg)}'`)
          .join(" "),
      "any",
    ),
    toString: fn(["any"], (value) => str(value)),
    toStrings: fn(["any"], (list) => toList(list, "toStrings").map((item) => str(item))),
    default: fn(
      ["any"],
      (fallback, ...given) => (given.length === 0 || isEmpty(given[0]!) ? fallback : given[0]!),
      "any",
    ),
    empty: fn(["any"], (value) => isEmpty(value)),
    coalesce: fn([], (...args) => args.find((arg) => !isEmpty(arg)) ?? null, "any"),
    ternary: fn(["any", "any", "bool"], (yes, no, condition) => (condition ? yes : no)),
    list: fn([], (...args) => args, "any"),
    dict: fn(
      [],
      (...args) => {
        const out: Record<string, Value> = {};
        for (let i = 0; i < args.length; i += 2) out[str(args[i]!)] = i + 1 < args.length ? args[i + 1]! : "";
        return out;
      },
      "any",
    ),
    get: fn(["map", "string"], (map, key) =>
      isObject(map) && Object.hasOwn(map, key as string)
        ? (map as Record<string, Value>)[key as string]!
        : "",
    ),
    hasKey: fn(["map", "string"], (map, key) => isObject(map) && Object.hasOwn(map, key as string)),
    keys: fn(
      [],
      (...maps) => maps.flatMap((map) => (isObject(map as Json) ? Object.keys(map as object) : [])).sort(),
      "map",
    ),
    values: fn(["map"], (map) =>
      isObject(map)
        ? Object.keys(map as object)
            .sort()
            .map((key) => (map as Record<string, Value>)[key]!)
        : [],
    ),
    first: fn(["any"], (list) => toList(list, "first")[0] ?? null),
    last: fn(["any"], (list) => toList(list, "last").at(-1) ?? null),
    rest: fn(["any"], (list) => toList(list, "rest").slice(1)),
    initial: fn(["any"], (list) => toList(list, "initial").slice(0, -1)),
    append: fn(["any", "any"], (list, item) => [...toList(list, "append"), item]),
    prepend: fn(["any", "any"], (list, item) => [item, ...toList(list, "prepend")]),
    concat: fn([], (...lists) => lists.flatMap((list) => toList(list, "concat")), "any"),
    reverse: fn(["any"], (list) => [...toList(list, "reverse")].reverse()),
    uniq: fn(["any"], (list) => {
      const seen = new Set<string>();
      return toList(list, "uniq").filter((item) => {
        const key = printValue(item);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }),
    has: fn(["any", "any"], (needle, list) =>
      toList(list, "has").some((item) => printValue(item) === printValue(needle)),
    ),
    without: fn(
      ["any"],
      (list, ...omit) =>
        toList(list, "without").filter((item) => !omit.some((o) => printValue(o) === printValue(item))),
      "any",
    ),
    compact: fn(["any"], (list) => toList(list, "compact").filter((item) => !isEmpty(item))),
    sortAlpha: fn(["any"], (list) =>
      toList(list, "sortAlpha")
        .map((item) => str(item))
        .sort(),
    ),
    until: fn(["int"], (count) => Array.from({ length: Math.max(0, count as number) }, (_, i) => i)),
    untilStep: fn(["int", "int", "int"], (start, stop, step) => {
      const out: number[] = [];
      const s = step as number;
      if (s === 0) return out;
      for (let i = start as number; s > 0 ? i < (stop as number) : i > (stop as number); i += s) out.push(i);
      return out;
    }),
    add: fn([], (...args) => args.reduce<number>((sum, arg) => sum + toInt(arg), 0), "any"),
    add1: fn(["any"], (value) => toInt(value) + 1),
    sub: fn(["any", "any"], (a, b) => toInt(a) - toInt(b)),
    mul: fn(
      ["any"],
      (a, ...rest) => rest.reduce<number>((product, arg) => product * toInt(arg), toInt(a)),
      "any",
    ),
    div: fn(["any", "any"], (a, b) => {
      if (toInt(b) === 0) throw new Error("runtime error: integer divide by zero");
      return Math.trunc(toInt(a) / toInt(b));
    }),
    mod: fn(["any", "any"], (a, b) => {
      if (toInt(b) === 0) throw new Error("runtime error: integer divide by zero");
      return toInt(a) % toInt(b);
    }),
    max: fn(["any"], (a, ...rest) => Math.max(toInt(a), ...rest.map(toInt)), "any"),
    min: fn(["any"], (a, ...rest) => Math.min(toInt(a), ...rest.map(toInt)), "any"),
    int: fn(["any"], (value) => toInt(value)),
    int64: fn(["any"], (value) => toInt(value)),
    float64: fn(["any"], (value) => (typeof value === "number" ? value : Number(str(value)) || 0)),
    regexMatch: fn(["string", "string"], (pattern, text) => regexp(pattern as string).test(text as string)),
    regexFind: fn(
      ["string", "string"],
      (pattern, text) => regexp(pattern as string).exec(text as string)?.[0] ?? "",
    ),
    regexFindAll: fn(["string", "string", "int"], (pattern, text, n) => {
      const all = [...(text as string).matchAll(new RegExp(regexp(pattern as string).source, "gu"))].map(
        (m) => m[0],
      );
      return (n as number) < 0 ? all : all.slice(0, n as number);
    }),
    regexReplaceAll: fn(["string", "string", "string"], (pattern, text, replacement) =>
      (text as string).replace(
        new RegExp(regexp(pattern as string).source, "gu"),
        (replacement as string).replace(/\$\{?(\w+)\}?/g, "$$$1"),
      ),
    ),
    regexReplaceAllLiteral: fn(["string", "string", "string"], (pattern, text, replacement) =>
      (text as string).replace(
        new RegExp(regexp(pattern as string).source, "gu"),
        () => replacement as string,
      ),
    ),
    regexSplit: fn(["string", "string", "int"], (pattern, text, n) => {
      const parts = (text as string).split(regexp(pattern as string));
      return (n as number) < 0 ? parts : parts.slice(0, n as number);
    }),
    semver: fn(["string"], (version) => {
      const parts = semverParts(version as string);
      if (!parts) throw new Error("Invalid Semantic Version");
      return { Major: parts[0]!, Minor: parts[1]!, Patch: parts[2]! };
    }),
    semverCompare: fn(["string", "string"], (constraint, version) =>
      semverCompare(constraint as string, version as string),
    ),
    fail: fn(["string"], (message) => {
      throw new Error(message as string);
    }),
    typeOf: fn(["any"], (value) => valueTypeName(value)),
    kindIs: fn(["string", "any"], (kind, value) => kindOf(value) === kind),
    kindOf: fn(["any"], (value) => kindOf(value)),
    sha256sum: fn(["string"], (text) => sha("sha256", text as string)),
    sha1sum: fn(["string"], (text) => sha("sha1", text as string)),
    fromJson: fn(["string"], (text) => {
      try {
        return JSON.parse(text as string) as Value;
      } catch {
        return {};
      }
    }),
    mustFromJson: fn(["string"], (text) => {
      try {
        return JSON.parse(text as string) as Value;
      } catch (error) {
        throw new Error((error as Error).message, { cause: error });
      }
    }),
    toJson: fn(["any"], (value) => toJsonText(plainJson(value))),
    mustToJson: fn(["any"], (value) => toJsonText(plainJson(value))),
    toRawJson: fn(["any"], (value) =>
      toJsonText(plainJson(value))
        .replaceAll("\\u003c", "<")
        .replaceAll("\\u003e", ">")
        .replaceAll("\\u0026", "&"),
    ),
    mustToRawJson: fn(["any"], (value) =>
      toJsonText(plainJson(value))
        .replaceAll("\\u003c", "<")
        .replaceAll("\\u003e", ">")
        .replaceAll("\\u0026", "&"),
    ),
  };
}

function kindOf(value: Value): string {
  if (value === null || value === NO_VALUE) return "invalid";
  if (value instanceof StructValue) return "struct";
  if (Array.isArray(value)) return "slice";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  return "map";
}

function sha(algorithm: string, text: string): string {
  return createHash(algorithm).update(text).digest("hex");
}

function builtins(): FunctionMap {
  return {
    and: fn(["value"], (...args) => args.at(-1) ?? null, "value"),
    or: fn(["value"], (...args) => args.at(-1) ?? null, "value"),
    not: fn(["value"], (value) => !truth(value)),
    len: fn(["value"], (value) => {
      if (value === NO_VALUE || value === null) throw new Error("len of nil pointer");
      if (typeof value === "string") return Buffer.byteLength(value);
      if (Array.isArray(value)) return value.length;
      if (typeof value === "object" && !(value instanceof StructValue)) return Object.keys(value).length;
      throw new Error(`len of type ${valueTypeName(value)}`);
    }),
    index: fn(
      ["value"],
      (item, ...indexes) => {
        let current: Value = item;
        for (const index of indexes) {
          if (current === NO_VALUE || current === null) throw new Error("index of untyped nil");
          if (Array.isArray(current) || typeof current === "string") {
            if (typeof index !== "number" || !Number.isInteger(index))
              throw new Error(`cannot index slice/array with type ${valueTypeName(index)}`);
            const length = typeof current === "string" ? current.length : current.length;
            if (index < 0 || index >= length) throw new Error(`index out of range: ${index}`);
            current = typeof current === "string" ? current.charCodeAt(index) : current[index]!;
          } else if (typeof current === "object" && !(current instanceof StructValue)) {
            if (typeof index !== "string")
              throw new Error(`value has type ${valueTypeName(index)}; should be string`);
            const object = current as Record<string, Value>;
            if (Object.hasOwn(object, index)) current = object[index]!;
            else current = isStringMap(object) ? "" : null;
          } else {
            throw new Error(`can't index item of type ${valueTypeName(current)}`);
          }
        }
        return current;
      },
      "value",
    ),
    slice: fn(
      ["value"],
      (item, ...indexes) => {
        if (typeof item !== "string" && !Array.isArray(item))
          throw new Error(`can't slice item of type ${valueTypeName(item)}`);
        const bounds = indexes.map((index) => index as number);
        const length = item.length;
        const start = bounds[0] ?? 0;
        const end = bounds[1] ?? length;
        if (start < 0 || end > length || start > end)
          throw new Error(`index out of range: ${end > length ? end : start}`);
        return item.slice(start, end);
      },
      "value",
    ),
    print: fn([], (...args) => goPrint(args), "any"),
    println: fn([], (...args) => `${args.map(printValue).join(" ")}\n`, "any"),
    printf: fn(["string"], (format, ...args) => goSprintf(format as string, args), "any"),
    eq: fn(["value"], (first, ...others) => eq(first, ...others), "value"),
    ne: fn(["value", "value"], (a, b) => !eq(a, b)),
    lt: fn(["value", "value"], (a, b) => compare("lt", a, b) < 0),
    le: fn(["value", "value"], (a, b) => compare("le", a, b) <= 0),
    gt: fn(["value", "value"], (a, b) => compare("gt", a, b) > 0),
    ge: fn(["value", "value"], (a, b) => compare("ge", a, b) >= 0),
    html: fn(
      [],
      (...args) =>
        goPrint(args).replace(
          /[<>&'"\0]/g,
          (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\uFFFD" })[c]!,
        ),
      "any",
    ),
    js: fn(
      [],
      (...args) =>
        goPrint(args).replace(/[\\'"<>&=]/g, (c) => `\\u00${c.charCodeAt(0).toString(16).toUpperCase()}`),
      "any",
    ),
    urlquery: fn([], (...args) => encodeURIComponent(goPrint(args)).replace(/%20/g, "+"), "any"),
  };
}

function notFound(resource: string, group: string, name: string): string {
  return `${group ? `${resource}.${group}` : resource} "${name}" not found`;
}

const missingApiResource = "one or more API resources are not installed on the API server";

function clusterFunctions(env: TemplateEnvironment): FunctionMap {
  const { reader, lookupRestriction: restriction, protect } = env;
  // A restricted lookup without a namespace reads the restriction's namespace.
  const namespaceMissing = (namespace: Value) => namespace === "" && !restriction;
  const getOrList = (
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
    selectors: string[] = [],
  ) => {
    if (!apiVersion || !kind) throw new Error("the apiVersion and kind are required");
    let target = namespace;
    if (restriction) {
      if (target === "") target = restriction.namespace;
      else if (target !== restriction.namespace)
        throw new Error(`the namespace argument is restricted to ${restriction.namespace}`);
    }
    const mapping = reader.resolveKind(apiVersion, kind);
    let matcher = (_labels: Record<string, string>) => true;
    const selectorText = selectors.join(",");
    if (selectors.length > 0 && selectors[0] !== "") {
      try {
        matcher = parseLabelSelector(selectorText);
      } catch (error) {
        if (error instanceof SelectorError) throw new Error(error.message, { cause: error });
        throw error;
      }
    }
    if (!mapping) throw new Error(missingApiResource);
    if (
      restriction &&
      !mapping.namespaced &&
      !onAllowList(restriction.clusterScopedAllowList, { group: mapping.group, kind, name })
    )
      throw clusterScopedRestricted(kind, name);
    const ns = mapping.namespaced ? target : "";
    if (name === "") {
      const items = reader
        .list(mapping, mapping.namespaced && ns !== "" ? ns : undefined, selectorText || undefined)
        .filter((item) => matcher(labelsOf(item)));
      if (kind === "Secret" && items.length > 0) env.onSensitiveData();
      return { found: true as const, value: { items: items as Value[] } as Value, mapping };
    }
    const object = reader.get(mapping, ns, name);
    if (!object)
      return { found: false as const, error: notFound(mapping.resource, mapping.group, name), mapping };
    if (kind === "Secret") env.onSensitiveData();
    return { found: true as const, value: object as Value, mapping };
  };
  const dataOf = (object: Value, key: string): string => {
    if (!isObject(object)) return "";
    const data = object.data;
    if (!isObject(data)) return "";
    const value = data[key];
    return typeof value === "string" ? value : "";
  };
  const lookup = (...args: Value[]): Value => {
    const [apiVersion, kind, namespace, name, ...selectors] = args as string[];
    const result = getOrList(apiVersion ?? "", kind ?? "", namespace ?? "", name ?? "", selectors);
    return result.found ? result.value : {};
  };
  const claim = (name: string) => {
    if (
      restriction &&
      !onAllowList(restriction.clusterScopedAllowList, {
        group: "cluster.open-cluster-management.io",
        kind: "ClusterClaim",
        name,
      })
    )
      throw clusterScopedRestricted("ClusterClaim", name);
    const mapping = reader.resolveKind("cluster.open-cluster-management.io/v1alpha1", "ClusterClaim");
    if (!mapping) return { error: `failed to get the cluster claim ${name}: ${missingApiResource}` };
    const object = reader.get(mapping, "", name);
    if (!object)
      return {
        error: `failed to retrieve the cluster claim ${name}: ${notFound(mapping.resource, mapping.group, name)}`,
      };
    const spec = object.spec;
    if (!isObject(spec)) return { error: `unexpected cluster claim format: ${name}` };
    return { value: typeof spec.value === "string" ? spec.value : "" };
  };
  // A named Secret or ConfigMap; every failure (not found, a refused lookup) is prefixed.
  const getNamed = (kind: "Secret" | "ConfigMap", namespace: string, name: string): Value => {
    const prefix =
      kind === "Secret"
        ? `failed to get the secret ${name} from ${namespace}`
        : `failed getting the ConfigMap ${name} from ${namespace}`;
    let result: ReturnType<typeof getOrList>;
    try {
      result = getOrList("v1", kind, namespace, name);
    } catch (error) {
      if (error instanceof ReadPending || !(error instanceof Error)) throw error;
      throw new Error(`${prefix}: ${error.message}`, { cause: error });
    }
    if (!result.found) throw new Error(`${prefix}: ${result.error}`);
    return result.value;
  };
  const nodesWithRoles = (roles: Value[]): ClusterObject[] => {
    const searchRoles = roles
      .map(str)
      .filter((role) => role.trim() !== "")
      .map((role) => `node-role.kubernetes.io/${role}`);
    if (searchRoles.length === 0)
      throw new Error("the input is invalid: at least one name must be specified");
    const result = getOrList("v1", "Node", "", "", searchRoles);
    const items = (result.found ? (result.value as { items: Value[] }).items : []) as ClusterObject[];
    const allowed = [...searchRoles, "node-role.kubernetes.io/worker"];
    return items.filter((node) =>
      Object.keys(labelsOf(node)).every(
        (key) => !key.startsWith("node-role.kubernetes.io") || allowed.includes(key),
      ),
    );
  };
  return {
    lookup: fn(["string", "string", "string", "string"], lookup, "string"),
    fromSecret: fn(["string", "string", "string"], (namespace, name, key) => {
      if (name === "" || namespaceMissing(namespace) || key === "")
        throw new Error("the input is invalid: namespace, name, and key must be specified");
      const value = dataOf(getNamed("Secret", namespace as string, name as string), key as string);
      return protect ? protect(value) : value;
    }),
    copySecretData: fn(["string", "string"], (namespace, name) => {
      if (name === "" || namespaceMissing(namespace))
        throw new Error("the input is invalid: namespace and name must be specified");
      const data = (getNamed("Secret", namespace as string, name as string) as ClusterObject).data;
      if (!protect || !isObject(data)) return goJson(isObject(data) ? data : null);
      const protectedData: Record<string, Json> = {};
      for (const [key, value] of Object.entries(data)) protectedData[key] = protect(str(value));
      return goJson(protectedData);
    }),
    fromConfigMap: fn(["string", "string", "string"], (namespace, name, key) => {
      if (name === "" || namespaceMissing(namespace) || key === "")
        throw new Error("the input is invalid: namespace, name, and key must be specified");
      return dataOf(getNamed("ConfigMap", namespace as string, name as string), key as string);
    }),
    copyConfigMapData: fn(["string", "string"], (namespace, name) => {
      if (name === "" || namespaceMissing(namespace))
        throw new Error("the input is invalid: namespace and name must be specified");
      const data = (getNamed("ConfigMap", namespace as string, name as string) as ClusterObject).data;
      return goJson(isObject(data) ? data : null);
    }),
    fromClusterClaim: fn(["string"], (name) => {
      const result = claim(name as string);
      if ("error" in result) throw new Error(result.error);
      return result.value;
    }),
    lookupClusterClaim: fn(["string"], (name) => {
      const result = claim(name as string);
      return "error" in result ? "" : result.value;
    }),
    getNodesWithExactRoles: fn([], (...roles) => ({ items: nodesWithRoles(roles) as Value[] }), "string"),
    hasNodesWithExactRoles: fn([], (...roles) => nodesWithRoles(roles).length > 0, "string"),
  };
}

function conversionFunctions(env: TemplateEnvironment): FunctionMap {
  const { protect } = env;
  const additionalIndentation = env.additionalIndentation ?? 0;
  const fromYaml = (text: Value): Value => {
    try {
      return parseYamlV3(text as string);
    } catch (error) {
      throw new Error((error as Error).message, { cause: error });
    }
  };
  const toYaml = (value: Value): string => toYamlV3(plainJson(value)).replace(/\n$/, "");
  return {
    base64enc: fn(["string"], (text) => Buffer.from(text as string, "utf8").toString("base64")),
    base64dec: fn(["string"], (text) => base64decode(text as string)),
    b64enc: fn(["string"], (text) => Buffer.from(text as string, "utf8").toString("base64")),
    b64dec: fn(["string"], (text) => base64decode(text as string)),
    autoindent: fn(["string"], () => {
      throw new Error("an unexpected error occurred where autoindent could not be processed");
    }),
    indent: fn(["int", "string"], (spaces, text) => {
      const pad = " ".repeat(Math.max(0, (spaces as number) + additionalIndentation));
      return `\n${pad}${(text as string).replaceAll("\n", `\n${pad}`)}`.trim();
    }),
    atoi: fn(["string"], (text) => parseGoInt(text as string) ?? 0),
    toInt: fn(["any"], (value) => toInt(value)),
    toBool: fn(["string"], (text) => parseBool(text as string) ?? false),
    toLiteral: fn(["string"], (text) => {
      if ((text as string).includes("\n"))
        throw new Error("new lines are not allowed in the string passed to the toLiteral function");
      return text;
    }),
    fromJSON: fn(["string"], (text) => {
      try {
        return JSON.parse(text as string) as Value;
      } catch {
        return {};
      }
    }),
    mustFromJSON: fn(["string"], (text) => JSON.parse(text as string) as Value),
    toJSON: fn(["any"], (value) => toJsonText(plainJson(value))),
    mustToJSON: fn(["any"], (value) => toJsonText(plainJson(value))),
    toRawJSON: fn(["any"], (value) =>
      toJsonText(plainJson(value))
        .replaceAll("\\u003c", "<")
        .replaceAll("\\u003e", ">")
        .replaceAll("\\u0026", "&"),
    ),
    mustToRawJSON: fn(["any"], (value) =>
      toJsonText(plainJson(value))
        .replaceAll("\\u003c", "<")
        .replaceAll("\\u003e", ">")
        .replaceAll("\\u0026", "&"),
    ),
    fromYAML: fn(["string"], fromYaml),
    fromYaml: fn(["string"], fromYaml),
    toYAML: fn(["any"], toYaml),
    toYaml: fn(["any"], toYaml),
    protect: fn(["string"], (text) => {
      if (!protect) throw new Error("the protect template function is not enabled in this mode");
      return protect(text as string);
    }),
  };
}

/** Every function a managed-cluster template may call, bound to a cluster. */
export function templateFunctions(env: TemplateEnvironment, custom: FunctionMap = {}): FunctionMap {
  const funcs: FunctionMap = {
    ...builtins(),
    ...sprigFunctions(),
    ...conversionFunctions(env),
    ...clusterFunctions(env),
    ...custom,
  };
  for (const name of denylisted) {
    funcs[name] = fn(
      [],
      () => {
        throw new Error(
          `use of denylisted template function: function '${name}' is considered a security risk`,
        );
      },
      "any",
    );
  }
  return funcs;
}
