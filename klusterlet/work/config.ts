// Which manifestConfigs entry applies to a manifest, and whether the work owns the resource
// (and so deletes it with the work) under its deleteOption.
import type {
  DeleteOption,
  ManifestConfigOption,
  ManifestResourceMeta,
  UpdateStrategy,
} from "../../api/types/work.ts";

/** What identifies a manifest's resource: its API group, plural resource, namespace and name. */
export type ResourceKey = Pick<ManifestResourceMeta, "group" | "resource" | "namespace" | "name">;

/**
 * True when `value` matches `pattern`, in which each `*` stands for any run of characters
 * (possibly empty) and every other character for itself.
 */
export function wildcardMatch(value: string, pattern: string): boolean {
  if (value === pattern || pattern === "*") return true;
  const parts = pattern.split("*");
  if (parts.length === 1) return false;
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (!value.startsWith(first) || value.length < first.length + last.length) return false;
  if (!value.endsWith(last)) return false;
  let position = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, position);
    if (found < 0 || found + middle.length > end) return false;
    position = found + middle.length;
  }
  return true;
}

function configMatches(key: ResourceKey, option: ManifestConfigOption): boolean {
  const id = option.resourceIdentifier;
  return (
    (key.group ?? "") === (id.group ?? "") &&
    (key.resource ?? "") === id.resource &&
    wildcardMatch(key.namespace ?? "", id.namespace ?? "") &&
    wildcardMatch(key.name ?? "", id.name)
  );
}

/**
 * The configuration of one manifest, combined from every manifestConfigs entry whose group and
 * resource equal the manifest's and whose namespace and name patterns match it: the first
 * non-empty conditionRules, the first non-empty feedbackRules and the first updateStrategy
 * found, with feedbackScrapeType taken from the last matching entry. The resourceIdentifier is
 * the manifest's own. Undefined when no entry contributes rules or a strategy.
 */
export function findManifestConfiguration(
  key: ResourceKey,
  options: readonly ManifestConfigOption[] | undefined,
): ManifestConfigOption | undefined {
  const result: ManifestConfigOption = {
    resourceIdentifier: {
      group: key.group ?? "",
      resource: key.resource ?? "",
      name: key.name ?? "",
      namespace: key.namespace ?? "",
    },
  };
  let matched = false;
  for (const option of options ?? []) {
    if (!configMatches(key, option)) continue;
    matched = true;
    if (!result.conditionRules?.length && option.conditionRules?.length) {
      result.conditionRules = option.conditionRules;
    }
    if (!result.feedbackRules?.length && option.feedbackRules?.length) {
      result.feedbackRules = option.feedbackRules;
    }
    if (!result.updateStrategy && option.updateStrategy) result.updateStrategy = option.updateStrategy;
    result.feedbackScrapeType = option.feedbackScrapeType;
  }
  if (!matched) return undefined;
  if (result.feedbackScrapeType === undefined) delete result.feedbackScrapeType;
  if (!result.conditionRules?.length && !result.feedbackRules?.length && !result.updateStrategy) {
    return undefined;
  }
  return result;
}

/** The update strategy of a manifest's configuration; `{type: "Update"}` when it has none. */
export function updateStrategyOf(option: ManifestConfigOption | undefined): UpdateStrategy {
  return option?.updateStrategy ?? { type: "Update" };
}

/**
 * Whether the work owns a resource, so that deleting the work (or dropping the manifest)
 * deletes it. No deleteOption and Foreground own everything and Orphan owns nothing. Any other
 * policy (SelectivelyOrphan, or none on a deleteOption that was not defaulted) owns everything
 * when `selectivelyOrphans` is absent, and otherwise owns a resource unless an orphaning rule
 * names exactly its group, resource, namespace and name (no wildcards).
 */
export function ownedByTheWork(deleteOption: DeleteOption | undefined, key: ResourceKey): boolean {
  if (!deleteOption) return true;
  if (deleteOption.propagationPolicy === "Foreground") return true;
  if (deleteOption.propagationPolicy === "Orphan") return false;
  // SelectivelyOrphan, or a deleteOption whose policy was never defaulted.
  if (!deleteOption.selectivelyOrphans) return true;
  return !(deleteOption.selectivelyOrphans.orphaningRules ?? []).some(
    (rule) =>
      (rule.group ?? "") === (key.group ?? "") &&
      rule.resource === (key.resource ?? "") &&
      rule.name === (key.name ?? "") &&
      (rule.namespace ?? "") === (key.namespace ?? ""),
  );
}
