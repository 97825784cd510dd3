// Resolution of managed-cluster templates in an object definition, as go-template-utils does
// it: the definition is written as YAML (yaml.v3), quotes around values piped to toInt,
// toBool and toLiteral are removed, `autoindent` becomes `indent N`, the text is executed as
// a Go template and read back as YAML. Errors carry OCM's wording.
import { ReadPending } from "./cluster.ts";
import type { Json } from "./gofmt.ts";
import { toYamlV3 } from "./goyaml.ts";
import {
  executeTemplate,
  type FunctionMap,
  StructValue,
  TemplateExecError,
  type Value,
} from "./gotemplate-exec.ts";
import { parseTemplate, TemplateParseError } from "./gotemplate-parse.ts";
import { goJson, templateFunctions, type TemplateEnvironment } from "./template-funcs.ts";
import { parseYamlV3 } from "./yaml.ts";

export const templateStart = "{{";
export const hubTemplateStart = "{{hub";
export const encryptedPrefix = "$ocm_encrypted:";

/** A template that could not be resolved; the message is the one OCM reports. */
export class TemplateResolutionError extends Error {
  override name = "TemplateResolutionError";
}

export function hasTemplate(text: string): boolean {
  return text.includes(templateStart) || text.includes(encryptedPrefix);
}

/** The marks around a template action. */
export interface Delimiters {
  start: string;
  end: string;
}

export const defaultDelimiters: Delimiters = { start: "{{", end: "}}" };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function dataTypePattern({ start, end }: Delimiters): RegExp {
  return new RegExp(
    `:\\s+(?:[|>]-?\\s+)?(?:'?\\s*)(${escapeRegExp(start)}-?(?:.*\\|\\s*(?:toInt|toBool|toLiteral)|(?:.*(?:copyConfigMapData|copySecretData))).*${escapeRegExp(end)})(?:\\s*'?)`,
    "g",
  );
}

function autoindentPattern({ start, end }: Delimiters): RegExp {
  return new RegExp(`( *)(?:'|")?(${escapeRegExp(start)}.*\\| *autoindent *-?${escapeRegExp(end)})`, "g");
}

/** Removes the quotes YAML put around values that must keep their own type. */
export function processForDataTypes(text: string, delimiters: Delimiters = defaultDelimiters): string {
  return text.replace(dataTypePattern(delimiters), ": $1");
}

/**
 * Turns `autoindent` into `indent N`, N being the spaces before the template less the
 * additional indentation `indent` adds back.
 */
export function processForAutoIndent(
  text: string,
  delimiters: Delimiters = defaultDelimiters,
  additionalIndentation = 0,
): string {
  let processed = text;
  for (const match of text.matchAll(autoindentPattern(delimiters))) {
    const spaces = match[1]!.length - additionalIndentation;
    const template = match[2]!;
    processed = processed.replace(template, template.replace("autoindent", `indent ${spaces}`));
  }
  return processed;
}

export interface ResolveInput {
  /** The object definition, or (with yaml) the raw YAML text of object-templates-raw. */
  definition?: Json;
  yaml?: string;
  /** The template's data (`.Object` ...); undefined for none. */
  context?: Value;
  environment: TemplateEnvironment;
  custom?: FunctionMap;
  /** Action delimiters; OCM's hub templates use `{{hub` and `hub}}`. */
  delimiters?: Delimiters;
}

/** Resolves templates and returns the resulting value; throws TemplateResolutionError. */
export function resolveTemplate(input: ResolveInput): Json {
  const raw = input.yaml ?? goJson(input.definition ?? null);
  let text = input.yaml ?? toYamlV3(input.definition ?? null);
  const delimiters = input.delimiters ?? defaultDelimiters;
  text = processForDataTypes(text, delimiters);
  if (text.includes("autoindent"))
    text = processForAutoIndent(text, delimiters, input.environment.additionalIndentation);
  const funcs = templateFunctions(input.environment, input.custom);
  let output: string;
  try {
    const tree = parseTemplate(text, (name) => Object.hasOwn(funcs, name), delimiters.start, delimiters.end);
    output = executeTemplate(tree, funcs, input.context ?? emptyContext);
  } catch (error) {
    if (error instanceof ReadPending) throw error;
    if (error instanceof TemplateParseError) {
      throw new TemplateResolutionError(
        `failed to parse the template JSON string ${raw}: template: tmpl:${error.message}`,
        {
          cause: error,
        },
      );
    }
    if (error instanceof TemplateExecError) {
      throw new TemplateResolutionError(`failed to resolve the template ${raw}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  try {
    return parseYamlV3(output);
  } catch (error) {
    throw new TemplateResolutionError(
      `failed to convert the resolved template to JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

const emptyContext = new StructValue({}, {});
