// Kubernetes JSONPath templates (k8s.io/client-go/util/jsonpath) over JSON data, as the work
// agent evaluates status feedback paths: `{.status.conditions[?(@.type=="Ready")].status}`.
//
// Supported: text outside `{}`, fields (`.a`, with `\` escaping terminators), `..` recursive
// descent, `*` and `[*]`, indexes and slices (`[0]`, `[-1]`, `[1:3]`, `[::2]`), unions
// (`[0,2]`, `['a','b']`), dictionary keys (`['a']`), filters (`[?(@.x == "y")]`, `[?(@.x)]`
// with == != < > <= >=), and number, bool and double-quoted string literals. Not supported:
// `range` / `end` blocks, which fail with "range and end are not supported".
//
// Values keep Go's kinds where they show in results or messages: whole JSON numbers are
// int64 and other numbers float64 (as an unstructured object decodes them), while numbers
// written in the template are Go int or float64 (GoNumber).

/** A number that is not a JSON int64: a template literal (int, float64) or a string byte (uint8). */
export class GoNumber {
  readonly kind: "int" | "float64" | "uint8";
  readonly value: number;

  constructor(kind: "int" | "float64" | "uint8", value: number) {
    this.kind = kind;
    this.value = value;
  }
}

export interface ArrayParam {
  known: boolean;
  value: number;
  /** The end of a single index `[n]`, set to n+1 by the parser. */
  derived: boolean;
}

export type PathNode =
  | { kind: "field"; name: string }
  | { kind: "wildcard" }
  | { kind: "recursive" }
  | { kind: "array"; params: readonly [ArrayParam, ArrayParam, ArrayParam] }
  | { kind: "union"; lists: readonly PathNode[][] }
  | { kind: "filter"; left: readonly PathNode[]; right: readonly PathNode[]; operator: string }
  | { kind: "text"; text: string }
  | { kind: "number"; value: GoNumber }
  | { kind: "bool"; value: boolean }
  | { kind: "identifier"; name: string };

/** A parsed template: literal text and `{...}` actions, in order. */
export type TemplateNode = { kind: "text"; text: string } | { kind: "list"; nodes: PathNode[] };

export type ParseResult = { ok: true; template: TemplateNode[] } | { ok: false; error: string };

export type FindResult = { ok: true; results: unknown[][] } | { ok: false; error: string };

class PathError extends Error {}

const terminators = new Set([" ", "\t", "\r", "\n", ".", ",", "[", "]", "$", "@", "{", "}"]);

function isTerminator(char: string | undefined): boolean {
  return char === undefined || terminators.has(char);
}

function isAlphaNumeric(char: string | undefined): boolean {
  return char !== undefined && /^[\p{L}\p{Nd}_]$/u.test(char);
}

/** Go's %#U: `U+0023 '#'`. */
function goRune(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")} '${char}'`;
}

const simpleEscapes: Record<string, string> = {
  a: "\u0007",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
};

/** Go's strconv.Unquote of a double-quoted literal, or undefined when it is invalid. */
function unquote(quoted: string): string | undefined {
  const body = quoted.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char === "\n" || char === '"') return undefined;
    if (char !== "\\") {
      out += char;
      continue;
    }
    const escape = body[++i];
    if (escape === undefined) return undefined;
    const simple = simpleEscapes[escape];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const hexLength = escape === "x" ? 2 : escape === "u" ? 4 : escape === "U" ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(i + 1, i + 1 + hexLength);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) return undefined;
      const code = parseInt(hex, 16);
      if (code > 0x10ffff || (escape !== "x" && code >= 0xd800 && code < 0xe000)) return undefined;
      out += String.fromCodePoint(code);
      i += hexLength;
      continue;
    }
    if (/^[0-7]$/.test(escape)) {
      const octal = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(octal) || parseInt(octal, 8) > 255) return undefined;
      out += String.fromCodePoint(parseInt(octal, 8));
      i += 2;
      continue;
    }
    return undefined;
  }
  return out;
}

class Parser {
  private readonly input: string;
  private pos = 0;
  private start = 0;
  readonly root: TemplateNode[] = [];

  constructor(input: string) {
    this.input = input;
  }

  private rest(): string {
    return this.input.slice(this.pos);
  }

  private next(): string | undefined {
    if (this.pos >= this.input.length) return undefined;
    const char = String.fromCodePoint(this.input.codePointAt(this.pos)!);
    this.pos += char.length;
    return char;
  }

  private peek(): string | undefined {
    if (this.pos >= this.input.length) return undefined;
    return String.fromCodePoint(this.input.codePointAt(this.pos)!);
  }

  private backup(char: string | undefined): void {
    if (char !== undefined) this.pos -= char.length;
  }

  private consume(): string {
    const text = this.input.slice(this.start, this.pos);
    this.start = this.pos;
    return text;
  }

  parse(): void {
    for (;;) {
      const brace = this.input.indexOf("{", this.pos);
      if (brace < 0) {
        this.pos = this.input.length;
        if (this.pos > this.start) this.root.push({ kind: "text", text: this.consume() });
        return;
      }
      this.pos = brace;
      if (this.pos > this.start) this.root.push({ kind: "text", text: this.consume() });
      this.pos += 1;
      this.consume();
      const list: PathNode[] = [];
      this.root.push({ kind: "list", nodes: list });
      this.parseInsideAction(list);
    }
  }

  /** Parses up to and including the action's closing brace. */
  private parseInsideAction(list: PathNode[]): void {
    for (;;) {
      const rest = this.rest();
      if (rest.startsWith("}")) {
        this.pos += 1;
        this.consume();
        return;
      }
      if (rest.startsWith("[?(")) {
        this.parseFilter(list);
        continue;
      }
      if (rest.startsWith("..")) {
        this.pos += 2;
        this.consume();
        list.push({ kind: "recursive" });
        if (isAlphaNumeric(this.peek())) this.parseField(list);
        continue;
      }
      const char = this.next();
      if (char === undefined || char === "\r" || char === "\n") throw new PathError("unclosed action");
      if (char === " " || char === "@" || char === "$") {
        this.consume();
      } else if (char === "[") {
        this.parseArray(list);
      } else if (char === '"') {
        this.parseQuote(list);
      } else if (char === ".") {
        this.parseField(list);
      } else if (char === "+" || char === "-" || /^\p{Nd}$/u.test(char)) {
        this.backup(char);
        this.parseNumber(list);
      } else if (isAlphaNumeric(char)) {
        this.backup(char);
        this.parseIdentifier(list);
      } else {
        throw new PathError(`unrecognized character in action: ${goRune(char)}`);
      }
    }
  }

  private parseIdentifier(list: PathNode[]): void {
    for (;;) {
      const char = this.next();
      if (isTerminator(char)) {
        this.backup(char);
        break;
      }
    }
    const name = this.consume();
    if (name === "true" || name === "false") list.push({ kind: "bool", value: name === "true" });
    else list.push({ kind: "identifier", name });
  }

  private parseNumber(list: PathNode[]): void {
    const first = this.peek();
    if (first === "+" || first === "-") this.next();
    for (;;) {
      const char = this.next();
      if (char !== "." && !(char !== undefined && /^[0-9]$/.test(char))) {
        this.backup(char);
        break;
      }
    }
    const text = this.consume();
    if (/^[+-]?[0-9]+$/.test(text)) {
      list.push({ kind: "number", value: new GoNumber("int", Number(text)) });
    } else if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(text)) {
      list.push({ kind: "number", value: new GoNumber("float64", Number(text)) });
    } else {
      throw new PathError(`cannot parse number ${text}`);
    }
  }

  private parseField(list: PathNode[]): void {
    this.consume();
    for (;;) {
      const char = this.next();
      if (char === "\\") {
        this.next();
      } else if (isTerminator(char)) {
        this.backup(char);
        break;
      }
    }
    const name = this.consume();
    if (name === "*") list.push({ kind: "wildcard" });
    else list.push({ kind: "field", name: name.replaceAll("\\", "") });
  }

  private parseQuote(list: PathNode[]): void {
    for (;;) {
      const char = this.next();
      if (char === undefined || char === "\n") throw new PathError("unterminated quoted string");
      if (char === '"') break;
    }
    const quoted = this.consume();
    const text = unquote(quoted);
    if (text === undefined) throw new PathError(`unquote string ${quoted} error invalid syntax`);
    list.push({ kind: "text", text });
  }

  private parseArray(list: PathNode[]): void {
    for (;;) {
      const char = this.next();
      if (char === undefined || char === "\n") throw new PathError("unterminated array");
      if (char === "]") break;
    }
    let text = this.consume().slice(1, -1);
    if (text === "*") text = ":";
    const parts = text.split(",");
    if (parts.length > 1) {
      list.push({ kind: "union", lists: parts.map((part) => parseAction(`[${part.trim()}]`)) });
      return;
    }
    const key = /^'([^']*)'$/.exec(text);
    if (key) {
      list.push(...parseAction(`.${key[1]!}`));
      return;
    }
    const slice = /^(-?[0-9]*)(:-?[0-9]*)?(:[0-9]*)?$/.exec(text);
    if (!slice) throw new PathError(`invalid array index ${text}`);
    const params: ArrayParam[] = [];
    for (let i = 0; i < 3; i++) {
      let group = slice[i + 1] ?? "";
      if (group !== "") {
        if (i > 0) group = group.slice(1);
        if (i > 0 && group === "") {
          params.push({ known: false, value: 0, derived: false });
        } else {
          if (!/^-?[0-9]+$/.test(group)) throw new PathError(`array index ${group} is not a number`);
          params.push({ known: true, value: Number(group), derived: false });
        }
      } else if (i === 1) {
        params.push({ known: true, value: params[0]!.value + 1, derived: true });
      } else {
        params.push({ known: false, value: 0, derived: false });
      }
    }
    list.push({ kind: "array", params: [params[0]!, params[1]!, params[2]!] });
  }

  private parseFilter(list: PathNode[]): void {
    this.pos += 3;
    this.consume();
    for (;;) {
      const char = this.next();
      if (char === undefined || char === "\n") throw new PathError("unterminated filter");
      if (char === ")") break;
    }
    if (this.next() !== "]") throw new PathError("unclosed array expect ]");
    const text = this.consume().slice(0, -2);
    const comparison = /^([^!<>=]+)([!<>=]+)(.+?)$/.exec(text);
    if (!comparison) {
      list.push({ kind: "filter", left: parseAction(text), right: [], operator: "exists" });
    } else {
      list.push({
        kind: "filter",
        left: parseAction(comparison[1]!),
        right: parseAction(comparison[3]!),
        operator: comparison[2]!,
      });
    }
  }
}

/** The nodes of `{text}`. */
function parseAction(text: string): PathNode[] {
  const parser = new Parser(`{${text}}`);
  parser.parse();
  const first = parser.root[0];
  return first?.kind === "list" ? first.nodes : [];
}

/** Parses a JSONPath template such as `{.status.replicas}`; errors read as client-go's. */
export function parseTemplate(text: string): ParseResult {
  try {
    const parser = new Parser(text);
    parser.parse();
    return { ok: true, template: parser.root };
  } catch (error) {
    if (error instanceof PathError) return { ok: false, error: error.message };
    throw error;
  }
}

// Evaluation ------------------------------------------------------------------------------------

/** Whether a JSON number decodes to a Go int64 (a whole number in range) rather than a float64. */
export function isInt64(value: number): boolean {
  return Number.isInteger(value) && Math.abs(value) < 2 ** 63;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof GoNumber);
}

/** The Go type an unstructured value has, as reflect.TypeOf prints it. */
export function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (value instanceof GoNumber) return value.kind;
  if (typeof value === "number") return isInt64(value) ? "int64" : "float64";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "[]interface {}";
  return "map[string]interface {}";
}

/** A float64 as Go's %v prints it: shortest digits, exponent form below 1e-4 or from 1e6. */
function goFloat(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
  const [mantissa = "", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    return `${mantissa}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(value);
}

/** A value as Go's %v prints it. */
export function goFormat(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (value instanceof GoNumber) return value.kind === "float64" ? goFloat(value.value) : String(value.value);
  if (typeof value === "number") return isInt64(value) ? BigInt(value).toString() : goFloat(value);
  if (typeof value === "string" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(goFormat).join(" ")}]`;
  const object = value as Record<string, unknown>;
  const entries = Object.keys(object)
    .sort()
    .map((key) => `${key}:${goFormat(object[key])}`);
  return `map[${entries.join(" ")}]`;
}

function childrenOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return keys.map((key) => value[key]);
  }
  if (typeof value === "string") {
    return Array.from(new TextEncoder().encode(value), (byte) => new GoNumber("uint8", byte));
  }
  return [];
}

type Basic =
  | { kind: "bool"; value: boolean }
  | { kind: "int" | "float"; value: number }
  | { kind: "string"; value: string };

function basic(value: unknown): Basic {
  if (typeof value === "boolean") return { kind: "bool", value };
  if (typeof value === "string") return { kind: "string", value };
  if (typeof value === "number") return { kind: isInt64(value) ? "int" : "float", value };
  if (value instanceof GoNumber)
    return { kind: value.kind === "float64" ? "float" : "int", value: value.value };
  throw new PathError("invalid type for comparison");
}

function equal(left: unknown, right: unknown): boolean {
  const a = basic(left);
  const b = basic(right);
  if (a.kind !== b.kind) throw new PathError("incompatible types for comparison");
  return a.value === b.value;
}

function less(left: unknown, right: unknown): boolean {
  const a = basic(left);
  const b = basic(right);
  if (a.kind === "bool" || b.kind === "bool") throw new PathError("invalid type for comparison");
  if (a.kind !== b.kind) throw new PathError("incompatible types for comparison");
  return a.value < b.value;
}

function compare(operator: string, left: unknown, right: unknown): boolean {
  switch (operator) {
    case "<":
      return less(left, right);
    case ">":
      return !less(left, right) && !equal(left, right);
    case "==":
      return equal(left, right);
    case "!=":
      return !equal(left, right);
    case "<=":
      return less(left, right) || equal(left, right);
    case ">=":
      return !less(left, right);
    default:
      throw new PathError(`unrecognized filter operator ${operator}`);
  }
}

class Evaluator {
  private readonly allowMissingKeys: boolean;

  constructor(allowMissingKeys: boolean) {
    this.allowMissingKeys = allowMissingKeys;
  }

  list(input: unknown[], nodes: readonly PathNode[]): unknown[] {
    let current = input;
    for (const node of nodes) current = this.walk(current, node);
    return current;
  }

  private walk(input: unknown[], node: PathNode): unknown[] {
    switch (node.kind) {
      case "text":
        return [node.text];
      case "number":
      case "bool":
        return input.map(() => node.value);
      case "field":
        return this.field(input, node.name);
      case "wildcard":
        return input.flatMap((value) => (value === null ? [] : childrenOf(value)));
      case "recursive":
        return this.recursive(input);
      case "array":
        return this.array(input, node.params);
      case "union":
        return node.lists.flatMap((list) => this.list(input, list));
      case "filter":
        return this.filter(input, node);
      case "identifier":
        if (node.name === "range" || node.name === "end") {
          throw new PathError("range and end are not supported");
        }
        throw new PathError(`unrecognized identifier ${node.name}`);
    }
  }

  private field(input: unknown[], name: string): unknown[] {
    const results: unknown[] = [];
    if (input.length === 0) return results;
    for (const value of input) {
      if (isObject(value) && Object.hasOwn(value, name)) results.push(value[name]);
    }
    if (results.length === 0 && !this.allowMissingKeys) throw new PathError(`${name} is not found`);
    return results;
  }

  private recursive(input: unknown[]): unknown[] {
    const results: unknown[] = [];
    for (const value of input) {
      if (value === null) continue;
      const children = childrenOf(value);
      if (children.length === 0) continue;
      results.push(value, ...this.recursive(children));
    }
    return results;
  }

  private array(input: unknown[], node: readonly [ArrayParam, ArrayParam, ArrayParam]): unknown[] {
    const results: unknown[] = [];
    for (const value of input) {
      if (value === null) continue;
      if (!Array.isArray(value)) throw new PathError(`${goTypeName(value)} is not array or slice`);
      const length = value.length;
      const [first, second, third] = node;
      let start = first.known ? first.value : 0;
      if (start < 0) start += length;
      let end = second.known ? second.value : length;
      if (end < 0 || (end === 0 && second.derived)) end += length;
      if (end === start) return results;
      if (start >= length || start < 0) {
        throw new PathError(`array index out of bounds: index ${start}, length ${length}`);
      }
      if (end > length || end < 0) {
        throw new PathError(`array index out of bounds: index ${end - 1}, length ${length}`);
      }
      if (start > end) throw new PathError(`starting index ${start} is greater than ending index ${end}`);
      let step = 1;
      if (third.known) {
        if (third.value <= 0) throw new PathError("step must be > 0");
        step = third.value;
      }
      for (let i = start; i < end; i += step) results.push(value[i]);
    }
    return results;
  }

  private filter(input: unknown[], node: Extract<PathNode, { kind: "filter" }>): unknown[] {
    const results: unknown[] = [];
    for (const value of input) {
      if (!Array.isArray(value)) {
        const shown = value === null ? "<invalid reflect.Value>" : goFormat(value);
        throw new PathError(`${shown} is not array or slice and cannot be filtered`);
      }
      for (const element of value) {
        const lefts = this.list([element], node.left);
        if (node.operator === "exists") {
          if (lefts.length > 0) results.push(element);
          continue;
        }
        if (lefts.length === 0) continue;
        if (lefts.length > 1) throw new PathError("can only compare one element at a time");
        const rights = this.list([element], node.right);
        if (rights.length === 0) continue;
        if (rights.length > 1) throw new PathError("can only compare one element at a time");
        if (compare(node.operator, lefts[0], rights[0])) results.push(element);
      }
    }
    return results;
  }
}

/**
 * Evaluates a parsed template against `data`: one result list per template node, as client-go's
 * FindResults. With allowMissingKeys, a missing field yields no value instead of an error.
 */
export function findResults(
  template: readonly TemplateNode[],
  data: unknown,
  options: { allowMissingKeys?: boolean } = {},
): FindResult {
  const evaluator = new Evaluator(options.allowMissingKeys ?? false);
  try {
    const results = template.map((node) =>
      node.kind === "text" ? [node.text] : evaluator.list([data], node.nodes),
    );
    return { ok: true, results };
  } catch (error) {
    if (error instanceof PathError) return { ok: false, error: error.message };
    throw error;
  }
}
