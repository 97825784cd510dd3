// Removing a server-side-apply manifest's ignoreFields before its config-spec-hash is taken.
// Three selector syntaxes are accepted:
// - jsonPaths, Kubernetes JSONPath without braces: `.spec.replicas`,
//   `.spec.template.spec.containers[*].image`, `.spec.containers[?(@.name=="app")].image`,
//   `.metadata.annotations['example.com/key']`. The last step must name a field, which is
//   removed from every object the steps before it select; paths that select nothing are
//   ignored. A path that cannot be parsed is an error.
// - jsonPointers (RFC 6901): `/spec/replicas`, `/spec/containers/0`. A missing target is
//   ignored; a malformed pointer, or an invalid or out-of-range last array index, is an error.
// - jqPathExpressions, limited to plain jq paths: `.spec.replicas`, `.a["b.c"]`, `.items[0]`,
//   `.items[].field`, with `?` to skip type errors. They follow jq's `del(...)`: indexing a
//   value of the wrong type or iterating over null is an error. Any other jq syntax is rejected.
import type { IgnoreField } from "../../api/types/work.ts";

/** A problem with one ignoreFields selector; the agent reports it as AppliedManifestSSAIgnoreFieldError. */
export class IgnoreFieldError extends Error {
  override name = "IgnoreFieldError";
}

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(value: Json): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// JSONPath

type Literal = string | number | boolean;

type PathStep =
  | { type: "field"; name: string }
  | { type: "wildcard" }
  | { type: "index"; index: number }
  | { type: "filter"; fields: string[]; op?: "==" | "!="; value?: Literal };

class Reader {
  readonly text: string;
  position = 0;

  constructor(text: string) {
    this.text = text;
  }

  get done(): boolean {
    return this.position >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text.charAt(this.position + offset);
  }

  take(expected: string): boolean {
    if (!this.text.startsWith(expected, this.position)) return false;
    this.position += expected.length;
    return true;
  }

  skipSpaces(): void {
    while (this.peek() === " ") this.position++;
  }

  /** Reads characters while `accept` holds. */
  readWhile(accept: (char: string) => boolean): string {
    const start = this.position;
    while (!this.done && accept(this.peek())) this.position++;
    return this.text.slice(start, this.position);
  }

  fail(message: string): never {
    throw new IgnoreFieldError(`${message} at position ${this.position}`);
  }

  /** A string in single or double quotes, with backslash escapes. */
  readQuoted(): string {
    const quote = this.peek();
    this.position++;
    let value = "";
    while (!this.done && this.peek() !== quote) {
      if (this.peek() === "\\") this.position++;
      value += this.peek();
      this.position++;
    }
    if (!this.take(quote)) this.fail("unterminated string");
    return value;
  }

  readInteger(): number | undefined {
    const match = /^-?[0-9]+/.exec(this.text.slice(this.position));
    if (!match) return undefined;
    this.position += match[0].length;
    return Number(match[0]);
  }
}

const fieldChar = (char: string) => !".[] ".includes(char);
const filterFieldChar = (char: string) => !".[] =!)".includes(char);

function readLiteral(reader: Reader): Literal {
  const char = reader.peek();
  if (char === "'" || char === '"') return reader.readQuoted();
  const word = reader.readWhile((c) => c !== ")" && c !== " ");
  if (word === "true") return true;
  if (word === "false") return false;
  if (word !== "" && Number.isFinite(Number(word))) return Number(word);
  return reader.fail(`unsupported literal ${JSON.stringify(word)}`);
}

function readFilter(reader: Reader): PathStep {
  reader.skipSpaces();
  if (!reader.take("@")) reader.fail("a filter must start with @");
  const fields: string[] = [];
  while (reader.take(".")) {
    const name = reader.readWhile(filterFieldChar);
    if (!name) reader.fail("empty field name in filter");
    fields.push(name);
  }
  reader.skipSpaces();
  let step: PathStep = { type: "filter", fields };
  for (const op of ["==", "!="] as const) {
    if (reader.take(op)) {
      reader.skipSpaces();
      step = { type: "filter", fields, op, value: readLiteral(reader) };
      reader.skipSpaces();
      break;
    }
  }
  if (!reader.take(")]")) reader.fail("expected )]");
  return step;
}

function readBracket(reader: Reader): PathStep {
  if (reader.take("*]")) return { type: "wildcard" };
  if (reader.take("?(")) return readFilter(reader);
  const char = reader.peek();
  if (char === "'" || char === '"') {
    const name = reader.readQuoted();
    if (!reader.take("]")) reader.fail("expected ]");
    return { type: "field", name };
  }
  const index = reader.readInteger();
  if (index === undefined || !reader.take("]")) reader.fail("unsupported subscript");
  return { type: "index", index };
}

/** Parses a JSONPath into steps; throws IgnoreFieldError when it is not supported. */
export function parseJsonPath(path: string): PathStep[] {
  const reader = new Reader(path.trim());
  reader.take("$");
  const steps: PathStep[] = [];
  if (/[A-Za-z_]/.test(reader.peek())) {
    steps.push({ type: "field", name: reader.readWhile(fieldChar) });
  }
  while (!reader.done) {
    if (reader.take("..")) reader.fail("recursive descent is not supported");
    if (reader.take(".")) {
      if (reader.take("*")) {
        steps.push({ type: "wildcard" });
        continue;
      }
      const name = reader.readWhile(fieldChar);
      if (!name) reader.fail("empty field name");
      steps.push({ type: "field", name });
    } else if (reader.take("[")) {
      steps.push(readBracket(reader));
    } else {
      reader.fail(`unexpected ${JSON.stringify(reader.peek())}`);
    }
  }
  const last = steps.at(-1);
  if (!last) throw new IgnoreFieldError("the path is empty");
  if (last.type !== "field") throw new IgnoreFieldError("the path must end with a field name");
  return steps;
}

function filterHolds(step: Extract<PathStep, { type: "filter" }>, element: Json): boolean {
  let value: Json = element;
  for (const field of step.fields) {
    if (!isObject(value)) return false;
    value = value[field];
  }
  if (step.op === undefined) return value !== undefined && value !== null && value !== false;
  const equal = value === step.value;
  return step.op === "==" ? equal : !equal;
}

function selectPath(values: Json[], step: PathStep): Json[] {
  const selected: Json[] = [];
  for (const value of values) {
    switch (step.type) {
      case "field":
        if (isObject(value) && value[step.name] !== undefined) selected.push(value[step.name]);
        break;
      case "wildcard":
        if (Array.isArray(value)) selected.push(...(value as Json[]));
        else if (isObject(value)) selected.push(...Object.values(value));
        break;
      case "index":
        if (Array.isArray(value)) {
          const element = (value as Json[]).at(step.index);
          if (element !== undefined) selected.push(element);
        }
        break;
      case "filter":
        if (Array.isArray(value)) selected.push(...(value as Json[]).filter((e) => filterHolds(step, e)));
        break;
    }
  }
  return selected;
}

/** Removes the field a JSONPath names from `object` (in place). */
export function removeByJsonPath(object: JsonObject, path: string): void {
  const steps = parseJsonPath(path);
  const last = steps.pop() as Extract<PathStep, { type: "field" }>;
  const parents = steps.reduce<Json[]>((values, step) => selectPath(values, step), [object]);
  for (const parent of parents) {
    if (isObject(parent)) delete parent[last.name];
  }
}

// ---------------------------------------------------------------------------------------------
// JSON Pointer

function pointerTokens(pointer: string): string[] {
  if (!pointer.startsWith("/")) throw new IgnoreFieldError("a JSON Pointer must start with /");
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) throw new IgnoreFieldError(`invalid escape in ${JSON.stringify(token)}`);
      return token.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

/** An array index token (negative counts from the end); undefined when invalid or out of range. */
function arrayIndex(token: string, length: number): number | undefined {
  if (!/^-?(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const index = Number(token);
  const resolved = index < 0 ? length + index : index;
  return resolved >= 0 && resolved < length ? resolved : undefined;
}

/** Removes what an RFC 6901 JSON Pointer points at from `object` (in place). */
export function removeByJsonPointer(object: JsonObject, pointer: string): void {
  const tokens = pointerTokens(pointer);
  const last = tokens.pop() as string;
  let parent: Json = object;
  for (const token of tokens) {
    if (isObject(parent)) parent = parent[token];
    else if (Array.isArray(parent)) {
      const index = arrayIndex(token, parent.length);
      if (index === undefined) return;
      parent = (parent as Json[])[index];
    } else return;
  }
  if (isObject(parent)) delete parent[last];
  else if (Array.isArray(parent)) {
    const index = arrayIndex(last, parent.length);
    if (index === undefined) throw new IgnoreFieldError(`invalid array index ${JSON.stringify(last)}`);
    parent.splice(index, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// jq paths

type JqStep =
  | { type: "field"; name: string; optional: boolean }
  | { type: "index"; index: number; optional: boolean }
  | { type: "iterate"; optional: boolean };

function jqType(value: Json): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? "object" : typeof value;
}

function readJqString(reader: Reader): string {
  const start = reader.position;
  reader.readQuoted();
  try {
    return JSON.parse(reader.text.slice(start, reader.position)) as string;
  } catch {
    return reader.fail("invalid string");
  }
}

/** Parses a plain jq path; throws IgnoreFieldError for anything else. */
export function parseJqPath(expression: string): JqStep[] {
  const reader = new Reader(expression.trim());
  const steps: JqStep[] = [];
  const unsupported: () => never = () =>
    reader.fail('only plain jq paths (.a.b, .a[0], .a[], .["a"]) are supported');
  if (!reader.take(".")) unsupported();
  let afterDot = true;
  while (!reader.done) {
    const char = reader.peek();
    if (char === "[") {
      reader.position++;
      if (reader.take("]")) steps.push({ type: "iterate", optional: false });
      else if (reader.peek() === '"') {
        const name = readJqString(reader);
        if (!reader.take("]")) unsupported();
        steps.push({ type: "field", name, optional: false });
      } else {
        const index = reader.readInteger();
        if (index === undefined || !reader.take("]")) unsupported();
        steps.push({ type: "index", index, optional: false });
      }
    } else if (char === "?" && steps.length > 0) {
      reader.position++;
      const last = steps.at(-1);
      if (last) last.optional = true;
    } else if (afterDot && char === '"') {
      steps.push({ type: "field", name: readJqString(reader), optional: false });
    } else if (afterDot && /[A-Za-z_]/.test(char)) {
      steps.push({ type: "field", name: reader.readWhile((c) => /[A-Za-z0-9_]/.test(c)), optional: false });
    } else if (!afterDot && reader.take(".")) {
      afterDot = true;
      continue;
    } else {
      unsupported();
    }
    afterDot = false;
  }
  if (steps.length === 0) throw new IgnoreFieldError("deleting the whole object is not allowed");
  return steps;
}

function jqSelect(values: Json[], step: JqStep): Json[] {
  const selected: Json[] = [];
  for (const value of values) {
    try {
      switch (step.type) {
        case "field":
          if (value === null || value === undefined) selected.push(null);
          else if (isObject(value)) selected.push(value[step.name] ?? null);
          else throw new IgnoreFieldError(`Cannot index ${jqType(value)} with "${step.name}"`);
          break;
        case "index":
          if (value === null || value === undefined) selected.push(null);
          else if (Array.isArray(value)) selected.push((value as Json[]).at(step.index) ?? null);
          else throw new IgnoreFieldError(`Cannot index ${jqType(value)} with number`);
          break;
        case "iterate":
          if (Array.isArray(value)) selected.push(...(value as Json[]));
          else if (isObject(value)) selected.push(...Object.values(value));
          else throw new IgnoreFieldError(`Cannot iterate over ${jqType(value)}`);
          break;
      }
    } catch (error) {
      if (!step.optional) throw error;
    }
  }
  return selected;
}

function jqDelete(parent: Json, step: JqStep): void {
  try {
    switch (step.type) {
      case "field":
        if (isObject(parent)) delete parent[step.name];
        else if (parent !== null && parent !== undefined) {
          throw new IgnoreFieldError(`Cannot index ${jqType(parent)} with "${step.name}"`);
        }
        return;
      case "index":
        if (Array.isArray(parent)) {
          const index = step.index < 0 ? parent.length + step.index : step.index;
          if (index >= 0 && index < parent.length) parent.splice(index, 1);
        } else if (parent !== null && parent !== undefined) {
          throw new IgnoreFieldError(`Cannot index ${jqType(parent)} with number`);
        }
        return;
      case "iterate":
        if (Array.isArray(parent)) parent.length = 0;
        else if (isObject(parent)) for (const key of Object.keys(parent)) delete parent[key];
        else throw new IgnoreFieldError(`Cannot iterate over ${jqType(parent)}`);
        return;
    }
  } catch (error) {
    if (!step.optional) throw error;
  }
}

/** Applies `del(<expression>)` to `object` (in place) for a plain jq path. */
export function removeByJqPath(object: JsonObject, expression: string): void {
  const steps = parseJqPath(expression);
  const last = steps.pop() as JqStep;
  const parents = steps.reduce<Json[]>((values, step) => jqSelect(values, step), [object]);
  for (const parent of new Set(parents)) jqDelete(parent, last);
}

// ---------------------------------------------------------------------------------------------

/**
 * Removes the selectors of every ignoreFields entry whose condition is OnSpokePresent (the
 * default) from `object`, in place. OnSpokeChange entries stay in the object. Throws
 * IgnoreFieldError with a message naming the selector that failed.
 */
export function removeIgnoredFields(object: JsonObject, ignoreFields: readonly IgnoreField[]): void {
  for (const field of ignoreFields) {
    if (field.condition === "OnSpokeChange") continue;
    for (const path of field.jsonPaths ?? []) {
      wrap("JSON Path", path, () => removeByJsonPath(object, path));
    }
    for (const pointer of field.jsonPointers ?? []) {
      wrap("JSON Pointer", pointer, () => removeByJsonPointer(object, pointer));
    }
    for (const expression of field.jqPathExpressions ?? []) {
      wrap("JQ expression", expression, () => removeByJqPath(object, expression));
    }
  }
}

function wrap(kind: string, selector: string, remove: () => void): void {
  try {
    remove();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new IgnoreFieldError(`${kind} error in '${selector}': ${message}`);
  }
}
