// Where the OCM corpus (real policies and CRDs, kept outside the repository) is, and what a test
// does without it: CI sets BOSUN_REQUIRE_CORPUS=1 and a missing corpus fails there; a fresh
// clone elsewhere skips the corpus tests and says so loudly.
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

const projectRoot = resolve(import.meta.dirname, "..", "..");

export const corpusRequired = process.env.BOSUN_REQUIRE_CORPUS === "1";

/** The corpus folder ($BOSUN_CORPUS, else ../shared/corpus), or undefined when neither holds it. */
export function findCorpus(): string | undefined {
  const candidates = [process.env.BOSUN_CORPUS, join(projectRoot, "..", "shared", "corpus")];
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, "ocm-crds")));
}

export const corpusMissingMessage =
  "the OCM corpus was not found (set BOSUN_CORPUS or place it at ../shared/corpus)";

/**
 * What a test does when the corpus is missing: throws where it is required (CI), otherwise
 * warns on stderr and returns the reason to skip with.
 */
export function corpusMissing(): string {
  if (corpusRequired) throw new Error(`${corpusMissingMessage}; BOSUN_REQUIRE_CORPUS=1 requires it`);
  console.warn(`WARNING: ${corpusMissingMessage}: corpus tests are skipped`);
  return corpusMissingMessage;
}

/** Every .yaml/.yml file under `dir`, recursively, sorted. */
export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}
