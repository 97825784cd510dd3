// Which namespaces a ConfigurationPolicy's namespaceSelector selects, with OCM's rules: an
// empty selector selects nothing; a label selector (even `{}`) starts from the namespaces it
// matches; include and exclude globs (Go's filepath.Match) narrow that down.
import type { NamespaceInfo } from "./cluster.ts";
import { isObject } from "./gofmt.ts";
import { BadPatternError, compileGlob } from "./glob.ts";
import { compileLabelSelector, SelectorError } from "./labels.ts";

/** A namespaceSelector that cannot be evaluated; message is OCM's. */
export class NamespaceSelectionError extends Error {
  override name = "NamespaceSelectionError";
}

function patterns(value: unknown): string[] {
  return Array.isArray(value) ? value.map((item) => String(item)) : [];
}

type Matchers = Map<string, (name: string) => boolean>;

/** Whether name matches one of the patterns, compiled once per selection. */
function matchesAny(kind: "include" | "exclude", list: string[], name: string, matchers: Matchers): boolean {
  for (const pattern of list) {
    let matcher = matchers.get(pattern);
    if (!matcher) {
      try {
        matcher = compileGlob(pattern);
      } catch (error) {
        if (!(error instanceof BadPatternError)) throw error;
        throw new NamespaceSelectionError(
          `error parsing '${kind}' pattern '${pattern}': syntax error in pattern`,
          {
            cause: error,
          },
        );
      }
      matchers.set(pattern, matcher);
    }
    if (matcher(name)) return true;
  }
  return false;
}

/** A label selector is present when either field is set, even to `{}` or `[]` (but not null). */
function hasLabelSelector(selector: Record<string, unknown>): boolean {
  return (
    (selector.matchLabels !== undefined && selector.matchLabels !== null) ||
    (selector.matchExpressions !== undefined && selector.matchExpressions !== null)
  );
}

/** Whether the selector selects anything at all (has include or a label selector). */
export function namespaceSelectorIsEmpty(selector: unknown): boolean {
  if (!isObject(selector)) return true;
  const hasLabels = hasLabelSelector(selector);
  return !hasLabels && patterns(selector.include).length === 0;
}

/** The selected namespace names, sorted; throws NamespaceSelectionError. */
export function selectNamespaces(selector: unknown, namespaces: NamespaceInfo[]): string[] {
  if (!isObject(selector) || namespaceSelectorIsEmpty(selector)) return [];
  const include = patterns(selector.include);
  const exclude = patterns(selector.exclude);
  let candidates = namespaces;
  if (hasLabelSelector(selector)) {
    let matcher;
    try {
      matcher = compileLabelSelector({
        matchLabels: (selector.matchLabels ?? undefined) as Record<string, string> | undefined,
        matchExpressions: (selector.matchExpressions ?? undefined) as never,
      });
    } catch (error) {
      if (error instanceof SelectorError) {
        throw new NamespaceSelectionError(`error parsing namespace LabelSelector: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
    candidates = candidates.filter((namespace) => matcher(namespace.labels));
  }
  const skipTerminating = selector.terminatingInclusion === "Never";
  const matchers: Matchers = new Map();
  const selected: string[] = [];
  for (const namespace of candidates) {
    if (skipTerminating && namespace.terminating) continue;
    if (include.length > 0 && !matchesAny("include", include, namespace.name, matchers)) continue;
    if (matchesAny("exclude", exclude, namespace.name, matchers)) continue;
    selected.push(namespace.name);
  }
  return selected.sort();
}
