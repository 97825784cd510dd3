import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Command } from "commander";
import { buildProgram } from "./bosun.ts";
import {
  currentReference,
  readmePath,
  referenceEnd,
  referenceStart,
  renderReference,
  replaceReference,
} from "./reference.ts";

describe("the CLI reference", () => {
  it("in README.md is what the commands' help says (else run `npm run docs:cli`)", () => {
    const readme = readFileSync(readmePath, "utf8");
    const expected = renderReference(buildProgram());
    assert.ok(
      currentReference(readme) === expected,
      "README.md's CLI reference differs from the commands' help: run `npm run docs:cli`",
    );
  });

  it("has a section per command, depth first, with the help of each", () => {
    const program = new Command("tool").description("a tool");
    const get = program.command("get").description("show things");
    get.command("things").option("--dir <dir>", "where", "/home/someone/.tool");
    const reference = renderReference(program, "/home/someone");
    const headings = [...reference.matchAll(/^### `(.+)`$/gm)].map((match) => match[1]);
    assert.deepEqual(headings, ["tool", "tool get", "tool get things"]);
    assert.match(
      reference,
      /```text\nUsage: tool get things \[options\]\n\nOptions:\n {2}--dir <dir>\s+where \(default: "~\/\.tool"\)/,
    );
    assert.doesNotMatch(reference, /\/home\/someone/);
  });

  it("wraps help at a fixed width, whatever the terminal", () => {
    const program = new Command("tool").description("word ".repeat(60).trim());
    const lines = renderReference(program).split("\n");
    assert.ok(
      lines.every((line) => line.length <= 100),
      "a line is longer than 100 characters",
    );
    assert.ok(
      lines.some((line) => line.length > 80),
      "help is wrapped narrower than 100 characters",
    );
  });

  it("replaces only the text between the markers", () => {
    const readme = `# x\n\n${referenceStart}\nold\n${referenceEnd}\n\n## after\n`;
    const updated = replaceReference(readme, "new\n");
    assert.equal(updated, `# x\n\n${referenceStart}\nnew\n${referenceEnd}\n\n## after\n`);
    assert.equal(currentReference(updated), "new\n");
    assert.equal(replaceReference(updated, "new\n"), updated);
  });

  it("needs both markers, in order", () => {
    for (const readme of ["# no markers\n", `${referenceEnd}\n${referenceStart}\n`, `${referenceStart}\n`]) {
      assert.throws(() => replaceReference(readme, "x"), /README\.md needs the markers/);
      assert.equal(currentReference(readme), undefined);
    }
  });
});
