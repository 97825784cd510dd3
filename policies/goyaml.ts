// YAML in the shapes Go's YAML libraries write it. OCM's templates run on the YAML text that
// gopkg.in/yaml.v3 makes of an object definition (2-space indent, sorted keys, indented
// sequences), and its diffs are of sigs.k8s.io/yaml output (sequences not indented). Template
// positions, `autoindent` and the quote removal for `toInt` depend on that exact text.
import { goFloat, isObject, type Json } from "./gofmt.ts";

export interface EmitOptions {
  /** yaml.v3 indents sequences under their key; sigs.k8s.io/yaml (yaml.v2) does not. */
  indentSequences: boolean;
  /** Resolve plain scalars as YAML 1.1 (yaml.v2) rather than YAML 1.2 (yaml.v3). */
  yaml11?: boolean;
}

const v3: EmitOptions = { indentSequences: true };
const v2: EmitOptions = { indentSequences: false, yaml11: true };

/** gopkg.in/yaml.v3 with SetIndent(2), as go-template-utils writes templates. */
export function toYamlV3(value: Json): string {
  return emit(value, v3);
}

/** sigs.k8s.io/yaml.Marshal, as OCM writes objects for diffs. */
export function toYamlV2(value: Json): string {
  return emit(value, v2);
}

function emit(value: Json, options: EmitOptions): string {
  const lines: string[] = [];
  if (isObject(value) && Object.keys(value).length > 0) writeMap(value, 0, lines, options);
  else if (Array.isArray(value) && value.length > 0) writeSeq(value, 0, lines, options);
  else lines.push(inline(value, options, false));
  return lines.join("\n") + "\n";
}

export function isCollection(value: Json): value is Json[] | Record<string, Json> {
  return (isObject(value) && Object.keys(value).length > 0) || (Array.isArray(value) && value.length > 0);
}

function writeMap(
  map: Record<string, Json>,
  indent: number,
  lines: string[],
  options: EmitOptions,
  first?: string,
) {
  const pad = " ".repeat(indent);
  let prefix = first;
  for (const key of Object.keys(map).sort()) {
    const value = map[key]!;
    const head = `${prefix ?? pad}${scalar(key, options, true)}:`;
    prefix = undefined;
    writeValue(head, value, indent, lines, options);
  }
}

function writeValue(head: string, value: Json, indent: number, lines: string[], options: EmitOptions) {
  if (isObject(value) && Object.keys(value).length > 0) {
    lines.push(head);
    writeMap(value, indent + 2, lines, options);
  } else if (Array.isArray(value) && value.length > 0) {
    lines.push(head);
    writeSeq(value, options.indentSequences ? indent + 2 : indent, lines, options);
  } else if (typeof value === "string" && value.includes("\n") && blockAllowed(value)) {
    writeLiteral(head, value, indent + 2, lines);
  } else {
    lines.push(`${head} ${inline(value, options, false)}`);
  }
}

function writeSeq(seq: Json[], indent: number, lines: string[], options: EmitOptions) {
  const pad = " ".repeat(indent);
  for (const item of seq) {
    if (isObject(item) && Object.keys(item).length > 0) {
      writeMap(item, indent + 2, lines, options, `${pad}- `);
    } else if (Array.isArray(item) && item.length > 0) {
      // A nested sequence starts on the dash's line.
      const nested: string[] = [];
      writeSeq(item, indent + 2, nested, options);
      nested[0] = `${pad}- ${nested[0]!.trimStart()}`;
      lines.push(...nested);
    } else if (typeof item === "string" && item.includes("\n") && blockAllowed(item)) {
      writeLiteral(`${pad}-`, item, indent + 2, lines);
    } else {
      lines.push(`${pad}- ${inline(item, options, false)}`);
    }
  }
}

function writeLiteral(head: string, text: string, indent: number, lines: string[]) {
  let chomp = "";
  if (!text.endsWith("\n")) chomp = "-";
  else if (text === "\n" || text.endsWith("\n\n")) chomp = "+";
  const indicator = text.startsWith(" ") || text.startsWith("\n") ? "2" : "";
  lines.push(`${head} |${indicator}${chomp}`);
  const body = chomp === "-" ? text : text.slice(0, -1);
  const pad = " ".repeat(indent);
  for (const line of body.split("\n")) lines.push(line === "" ? "" : pad + line);
}

function inline(value: Json, options: EmitOptions, isKey: boolean): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    const text = goFloat(value);
    return text === "+Inf" ? ".inf" : text === "-Inf" ? "-.inf" : text === "NaN" ? ".nan" : text;
  }
  if (typeof value === "string") return scalar(value, options, isKey);
  if (Array.isArray(value)) return "[]";
  return "{}";
}

const printable = /^[\n\x20-\x7e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

function analyze(text: string) {
  let blockIndicators = false;
  let leadingSpace = false;
  let trailingSpace = false;
  let breakSpace = false;
  let spaceBreak = false;
  if (text.startsWith("---") || text.startsWith("...")) blockIndicators = true;
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    const next = chars[i + 1];
    const followedByWhitespace = next === undefined || next === " " || next === "\n";
    const precededByWhitespace = i === 0 || chars[i - 1] === " " || chars[i - 1] === "\n";
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(char)) blockIndicators = true;
      if ((char === "?" || char === ":") && followedByWhitespace) blockIndicators = true;
      if (char === "-" && followedByWhitespace) blockIndicators = true;
    } else {
      if (char === ":" && followedByWhitespace) blockIndicators = true;
      if (char === "#" && precededByWhitespace) blockIndicators = true;
    }
    if (char === " ") {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (i > 0 && chars[i - 1] === "\n") breakSpace = true;
    } else if (char === "\n") {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (i > 0 && chars[i - 1] === " ") spaceBreak = true;
    }
  }
  const special = !printable.test(text);
  return { blockIndicators, leadingSpace, trailingSpace, breakSpace, spaceBreak, special };
}

function blockAllowed(text: string): boolean {
  const a = analyze(text);
  return !a.special && !a.spaceBreak && !(a.trailingSpace && !text.endsWith("\n"));
}

const yaml12Special =
  /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~|\.nan|\.NaN|\.NAN|[-+]?\.(?:inf|Inf|INF))$/;
const yaml11Bool = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const goInt = /^[-+]?(?:0[bB][01_]+|0[oO]?[0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$/;
const goFloatText = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const base60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const timestamp =
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/;

/** Whether a plain scalar would read back as something other than this string. */
function resolvesToNonString(text: string, options: EmitOptions): boolean {
  if (text === "" || yaml12Special.test(text) || goInt.test(text) || goFloatText.test(text)) return true;
  if (yaml11Bool.test(text) || base60.test(text)) return true;
  if (options.yaml11 && timestamp.test(text)) return true;
  return false;
}

function scalar(text: string, options: EmitOptions, isKey: boolean): string {
  const a = analyze(text);
  const multiline = text.includes("\n");
  let style: "plain" | "single" | "double" = "plain";
  if (resolvesToNonString(text, options)) style = "double";
  if (style === "plain") {
    if (a.leadingSpace || a.trailingSpace || a.breakSpace || multiline || a.blockIndicators) style = "single";
    if (text === "" && isKey) style = "single";
  }
  if (style === "single" && (a.breakSpace || a.spaceBreak || a.special || multiline)) style = "double";
  if (a.special || a.spaceBreak) style = "double";
  switch (style) {
    case "plain":
      return text;
    case "single":
      return `'${text.replaceAll("'", "''")}'`;
    case "double":
      return doubleQuoted(text);
  }
}

function doubleQuoted(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    switch (char) {
      case "\\":
        out += "\\\\";
        continue;
      case '"':
        out += '\\"';
        continue;
      case "\0":
        out += "\\0";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\v":
        out += "\\v";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\x1b":
        out += "\\e";
        continue;
      case "\u0085":
        out += "\\N";
        continue;
      case "\u00a0":
        out += "\\_";
        continue;
      case "\u2028":
        out += "\\L";
        continue;
      case "\u2029":
        out += "\\P";
        continue;
      default:
        break;
    }
    if (printable.test(char) && char !== "\n") out += char;
    else if (code <= 0xff) out += `\\x${code.toString(16).toUpperCase().padStart(2, "0")}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += `\\U${code.toString(16).toUpperCase().padStart(8, "0")}`;
  }
  return `${out}"`;
}
