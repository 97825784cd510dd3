// The layers of the code base, enforced: api → runtime → controllers | klusterlet | policies →
// cli. A layer imports only from itself and the layers below it; the hub's controllers and the
// agent never import each other (they meet only through the API); shipped code never imports
// test support. Tests and benchmarks may import anything.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, it } from "node:test";

const root = resolve(import.meta.dirname, "..", "..");

/** What each top-level folder of shipped code may import, besides itself. */
const allowed: Record<string, readonly string[]> = {
  api: [],
  runtime: ["api"],
  policies: ["api", "runtime"],
  controllers: ["api", "runtime", "policies"],
  klusterlet: ["api", "runtime", "policies"],
  local: ["api", "runtime"],
  cli: ["api", "runtime", "policies", "controllers", "klusterlet", "local"],
};

async function sourceFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, folder), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
    const path = join(entry.parentPath, entry.name);
    if (path.includes(`${sep}node_modules${sep}`)) continue;
    files.push(path);
  }
  return files;
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g;

/** The top-level folders a file's relative imports reach. */
export function importedLayers(file: string, text: string): { specifier: string; layer: string }[] {
  const found: { specifier: string; layer: string }[] = [];
  for (const match of text.matchAll(importPattern)) {
    const specifier = match[1] ?? match[2]!;
    const target = relative(root, resolve(dirname(file), specifier));
    found.push({ specifier, layer: target.split(sep)[0]! });
  }
  return found;
}

describe("layering", () => {
  it("reads relative imports, static and dynamic", () => {
    const file = join(root, "controllers", "hub.ts");
    const text = [
      'import { a } from "../runtime/a.ts";',
      'import type { B } from "../api/b.ts";',
      'export { c } from "./placement/c.ts";',
      'const d = await import("../klusterlet/d.ts");',
      'import { e } from "node:fs";',
    ].join("\n");
    assert.deepEqual(
      importedLayers(file, text).map((i) => i.layer),
      ["runtime", "api", "controllers", "klusterlet"],
    );
  });

  for (const [layer, below] of Object.entries(allowed)) {
    it(`${layer}/ imports only from ${[layer, ...below].join(", ")}`, async () => {
      const violations: string[] = [];
      for (const file of await sourceFiles(layer)) {
        const text = await readFile(file, "utf8");
        for (const { specifier, layer: target } of importedLayers(file, text)) {
          if (target !== layer && !below.includes(target))
            violations.push(`${relative(root, file)} imports ${specifier}`);
        }
      }
      assert.deepEqual(violations, []);
    });
  }
});
