// Reading YAML the way `kubectl apply` does (sigs.k8s.io/yaml, YAML 1.1): `yes`/`on` are
// booleans, but timestamps stay strings and `1:30` is not a number.
import { parseAllDocuments, type ScalarTag, type Tags, type YAMLError } from "yaml";
import type { Json } from "./gofmt.ts";

export interface YamlDocument {
  /** 1-based position of the document in the stream. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  value: Json;
}

export class YamlError extends Error {
  override name = "YamlError";
}

const droppedTags = new Set([
  "tag:yaml.org,2002:binary",
  "tag:yaml.org,2002:omap",
  "tag:yaml.org,2002:pairs",
  "tag:yaml.org,2002:set",
  "tag:yaml.org,2002:timestamp",
]);

/** A float as go-yaml v2 reads one: digits are required ("e8" stays a string). */
const goFloatTag: ScalarTag = {
  tag: "tag:yaml.org,2002:float",
  default: true,
  test: /^[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/,
  resolve: (text: string) => Number.parseFloat(text.replaceAll("_", "")),
};

function kubeTags(tags: Tags): Tags {
  const kept = tags.filter((tag) => {
    if (typeof tag === "string" || droppedTags.has(tag.tag)) return typeof tag === "string";
    const test = (tag as { test?: RegExp }).test;
    // Sexagesimal numbers ("1:30") are YAML 1.1 but not what Kubernetes reads; floats are
    // replaced by Go's stricter form.
    if (test && test.source.includes(":[0-5]")) return false;
    return !(tag.tag === "tag:yaml.org,2002:float" && test && !test.source.includes("inf"));
  });
  return [...kept, goFloatTag];
}

/** Parses a multi-document stream; empty documents are skipped. Throws YamlError. */
export function parseKubeYaml(text: string): YamlDocument[] {
  const documents = parseAllDocuments(text, { version: "1.1", customTags: kubeTags, prettyErrors: true });
  const result: YamlDocument[] = [];
  let index = 0;
  for (const document of documents) {
    index++;
    const firstError = document.errors[0];
    if (firstError) throw new YamlError(`document ${index}: ${firstError.message}`);
    let value: Json | undefined;
    try {
      value = document.toJS({ maxAliasCount: 1000 }) as Json | undefined;
    } catch (cause) {
      throw new YamlError(`document ${index}: ${(cause as Error).message}`, { cause });
    }
    if (value === null || value === undefined) continue;
    const offset = document.range[0];
    const line = text.slice(0, offset).split("\n").length;
    result.push({ index, line, value });
  }
  return result;
}

/** The error in go-yaml's words where they are known: `yaml: line 3: ...`. */
export function goYamlMessage(error: YAMLError, text: string): string {
  const line = text.slice(0, error.pos[0]).split("\n").length;
  const anchor = /^Aliased anchor not found: (.*)$/.exec(error.message);
  if (anchor) return `yaml: unknown anchor '${anchor[1]}' referenced`;
  const code = error.code;
  if (code === "DUPLICATE_KEY") return `yaml: line ${line}: mapping key already defined`;
  if (code === "TAB_AS_INDENT") return `yaml: line ${line}: found character that cannot start any token`;
  if (code === "BLOCK_AS_IMPLICIT_KEY" || code === "MULTILINE_IMPLICIT_KEY") {
    return `yaml: line ${line}: could not find expected ':'`;
  }
  if (code === "MISSING_CHAR" && /\]/.test(error.message))
    return `yaml: line ${line}: did not find expected ',' or ']'`;
  if (code === "MISSING_CHAR" && /\}/.test(error.message))
    return `yaml: line ${line}: did not find expected ',' or '}'`;
  if (code === "BAD_INDENT") return `yaml: line ${line}: did not find expected key`;
  if (/Implicit map keys|Nested mappings are not allowed/.test(error.message)) {
    return `yaml: line ${line}: mapping values are not allowed in this context`;
  }
  return `yaml: line ${line}: ${error.message.split("\n")[0]}`;
}

/** YAML 1.2 (gopkg.in/yaml.v3) reading of a template's output. Throws YamlError. */
export function parseYamlV3(text: string): Json {
  const documents = parseAllDocuments(text, { version: "1.2", prettyErrors: false });
  const first = Array.isArray(documents) ? documents[0] : documents;
  if (!first) return null;
  const error = first.errors[0];
  if (error) throw new YamlError(goYamlMessage(error, text));
  try {
    return (first.toJS({ maxAliasCount: 1000 }) as Json | undefined) ?? null;
  } catch (cause) {
    const alias = /Unresolved alias.*: (.*)$/.exec((cause as Error).message);
    if (alias) throw new YamlError(`yaml: unknown anchor '${alias[1]}' referenced`, { cause });
    throw new YamlError(`yaml: ${(cause as Error).message}`, { cause });
  }
}
