import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { outputFormatProblem, outputOption, parseOutputFormat } from "./output.ts";

const allowed = ["table", "wide", "yaml", "json"] as const;

describe("parseOutputFormat", () => {
  const cases: { value: string; ok: boolean }[] = [
    { value: "table", ok: true },
    { value: "wide", ok: true },
    { value: "json", ok: true },
    { value: "text", ok: false },
    { value: "JSON", ok: false },
    { value: "", ok: false },
  ];
  for (const { value, ok } of cases) {
    it(`${JSON.stringify(value)} is ${ok ? "accepted" : "refused"}`, () => {
      if (ok) assert.equal(parseOutputFormat(value, allowed), value);
      else
        assert.throws(
          () => parseOutputFormat(value, allowed),
          (error: unknown) =>
            error instanceof InvalidArgumentError &&
            error.message === "Allowed formats: table, wide, yaml, json.",
        );
    });
  }

  it("states the problem as one sentence outside commander", () => {
    assert.equal(outputFormatProblem("yaml", allowed), undefined);
    assert.equal(
      outputFormatProblem("xml", ["text", "json"]),
      '-o/--output must be one of text, json, not "xml"',
    );
  });
});

describe("outputOption", () => {
  function parse(args: string[]): { output?: string; error?: string; exitCode?: number } {
    let written = "";
    const program = new Command("bosun")
      .exitOverride()
      .configureOutput({ writeErr: (text) => (written += text), writeOut: () => {} });
    let output: string | undefined;
    program
      .command("show")
      .addOption(outputOption(["table", "json"], "table"))
      .action((flags: { output: string }) => {
        output = flags.output;
      });
    try {
      program.parse(["node", "bosun", "show", ...args]);
      return { output };
    } catch (error) {
      assert.ok(error instanceof CommanderError);
      return { error: written, exitCode: error.exitCode };
    }
  }

  it("defaults and accepts the allowed formats", () => {
    assert.equal(parse([]).output, "table");
    assert.equal(parse(["-o", "json"]).output, "json");
    assert.equal(parse(["--output=json"]).output, "json");
  });

  it("refuses another format, naming the flag, the value and the allowed formats", () => {
    const { error, exitCode } = parse(["-o", "yaml"]);
    assert.equal(exitCode, 1);
    assert.equal(
      error,
      "error: option '-o, --output <format>' argument 'yaml' is invalid. Allowed formats: table, json.\n",
    );
  });

  it("lists the formats in the help", () => {
    const help = new Command("x")
      .configureHelp({ helpWidth: 120 })
      .addOption(outputOption(["table", "json"], "table"))
      .helpInformation();
    assert.match(
      help,
      /-o, --output <format>\s+output format \(choices: "table", "json", default: "table"\)/,
    );
  });
});
