// Label and claim selectors for the scheduler, compiled as Kubernetes' LabelSelectorAsSelector
// compiles them. Errors name the field they come from.
import {
  compileLabelSelector as compile,
  labelKeyErrors,
  valuesRules,
  type LabelSelectorError,
  type Selector,
} from "../../../api/selectors.ts";
import type { LabelSelector, LabelSelectorRequirement } from "../../../api/types/meta.ts";

export { mapLookup, matches, recordLookup, type Lookup, type Selector } from "../../../api/selectors.ts";

export type SelectorResult = { ok: true; selector: Selector } | { ok: false; message: string };

/** Why `key` is not a valid label key (qualified name), or undefined. */
export function labelKeyError(key: string): string | undefined {
  const errors = labelKeyErrors(key);
  return errors.length > 0 ? errors.join("; ") : undefined;
}

/** The first problem, as a field error under `field`. */
function fieldMessage(error: LabelSelectorError, field: string): string {
  const at = error.path === "" ? field : `${field}.${error.path}`;
  if (error.operator !== undefined) {
    return `${at}.operator: Unsupported value: ${JSON.stringify(error.operator)}: ${error.message}`;
  }
  const problem = error.problems[0];
  switch (problem?.kind) {
    case undefined:
      return `${at}: ${error.message}`;
    case "key":
      return `${at}.key: Invalid value: ${JSON.stringify(problem.key)}: ${problem.details.join("; ")}`;
    case "value":
      return `${at}.values[${problem.index}]: Invalid value: ${JSON.stringify(problem.value)}: ${problem.details.join("; ")}`;
    case "values": {
      const rule = valuesRules[problem.rule];
      if (problem.rule === "required") return `${at}.values: Required value: ${rule}`;
      if (problem.rule === "forbidden") return `${at}.values: Forbidden: ${rule}`;
      return `${at}.values: Invalid value: ${JSON.stringify(problem.values)}: ${rule}`;
    }
  }
}

/** Compiles a label selector; absent means empty, which matches everything. */
export function compileLabelSelector(selector: LabelSelector | undefined, field: string): SelectorResult {
  const result = compile(selector ?? {});
  return result.ok ? result : { ok: false, message: fieldMessage(result.error, field) };
}

/** Compiles a claim selector (matchExpressions only). */
export function compileClaimSelector(
  selector: { matchExpressions?: LabelSelectorRequirement[] } | undefined,
  field: string,
): SelectorResult {
  return compileLabelSelector({ matchExpressions: selector?.matchExpressions ?? [] }, field);
}

export function isEmpty(selector: Selector): boolean {
  return selector.requirements.length === 0;
}
