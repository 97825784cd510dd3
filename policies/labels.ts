// Label selectors as the policy engine uses them: compiled to matchers, with Kubernetes' errors
// thrown as SelectorError.
import type { LabelSelector } from "../api/types/meta.ts";
import {
  compileLabelSelector as compile,
  matchesLabels,
  parseSelector,
  type Selector,
} from "../api/selectors.ts";

export { labelSelectorString } from "../api/selectors.ts";

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

export class SelectorError extends Error {
  override name = "SelectorError";
}

const matcherOf =
  (selector: Selector): LabelMatcher =>
  (labels) =>
    matchesLabels(selector, labels);

/**
 * LabelSelectorAsSelector: undefined selects nothing, an empty selector everything. Throws
 * SelectorError with Kubernetes' message when the selector is invalid.
 */
export function compileLabelSelector(selector: LabelSelector | undefined | null): LabelMatcher {
  if (selector === undefined || selector === null) return () => false;
  const result = compile(selector);
  if (!result.ok) throw new SelectorError(result.error.message);
  return matcherOf(result.selector);
}

/** labels.Parse: the string selector syntax, e.g. `a=b,c in (d,e),!f`. */
export function parseLabelSelector(text: string): LabelMatcher {
  const result = parseSelector(text);
  if (!result.ok) throw new SelectorError(result.message);
  return matcherOf(result.selector);
}
