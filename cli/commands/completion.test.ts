import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { Command, Option } from "commander";
import { buildProgram } from "../bosun.ts";
import { outputOption } from "../output.ts";
import {
  allCommands,
  bashCompletion,
  commandTree,
  completionScript,
  fishCompletion,
  zshCompletion,
} from "./completion.ts";

/** A small program with every shape the generator handles. */
function sample(): Command {
  const program = new Command("tool");
  program.version("1", "--version");
  const get = program.command("get").description("show objects");
  get
    .command("things")
    .alias("thing")
    .description("list things; it's quick")
    .option("-n, --namespace <namespace>", "one namespace")
    .addOption(outputOption(["table", "json"], "table"))
    .option("--kubeconfig <file>", "a kubeconfig")
    .option("-w, --watch", "keep watching");
  program
    .command("local")
    .command("up")
    .option("--dir <dir>", "where")
    .addOption(new Option("--secret <s>").hideHelp());
  return program;
}

const bashAvailable = spawnSync("bash", ["--version"]).status === 0;

/** What bash's completion function proposes for the words typed so far (the last being the one completed). */
function complete(script: string, words: string[]): string[] {
  const program = [
    script,
    `COMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    "_tool",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  return execFileSync("bash", ["-c", program], { encoding: "utf8" }).split("\n").filter(Boolean);
}

describe("commandTree", () => {
  it("has every command with its aliases, flags, choices and path arguments", () => {
    const tree = commandTree(sample());
    assert.deepEqual(
      allCommands(tree).map((node) => node.path),
      ["tool", "tool get", "tool get things", "tool local", "tool local up"],
    );
    const things = allCommands(tree).find((node) => node.path === "tool get things")!;
    assert.deepEqual(things.aliases, ["thing"]);
    assert.deepEqual(
      things.options.map((option) => [
        option.names.join(","),
        option.takesValue,
        option.choices,
        option.path,
      ]),
      [
        ["-n,--namespace", true, undefined, undefined],
        ["-o,--output", true, ["table", "json"], undefined],
        ["--kubeconfig", true, undefined, "file"],
        ["-w,--watch", false, undefined, undefined],
        ["-h,--help", false, undefined, undefined],
      ],
    );
    const up = allCommands(tree).find((node) => node.path === "tool local up")!;
    assert.deepEqual(
      up.options.map((option) => option.names.join(",")),
      ["--dir", "-h,--help"],
      "hidden options are left out",
    );
    assert.deepEqual(tree.options[0]!.names, ["--version"]);
  });
});

describe("bash completion", { skip: !bashAvailable && "bash is not installed" }, () => {
  const script = bashCompletion(commandTree(sample()));
  const cases: { words: string[]; expected: string[] }[] = [
    { words: ["tool", ""], expected: ["get", "local"] },
    { words: ["tool", "g"], expected: ["get"] },
    { words: ["tool", "get", ""], expected: ["things"] },
    {
      words: ["tool", "get", "thing", "-"],
      expected: ["-n", "--namespace", "-o", "--output", "--kubeconfig", "-w", "--watch", "-h", "--help"],
    },
    { words: ["tool", "get", "things", "-o", ""], expected: ["table", "json"] },
    { words: ["tool", "get", "things", "--output", "j"], expected: ["json"] },
    // The value of -n is not taken for a command, and proposes nothing of its own.
    { words: ["tool", "get", "things", "-n", ""], expected: [] },
    { words: ["tool", "get", "things", "-n", "get", "--w"], expected: ["--watch"] },
    { words: ["tool", "get", "things", "--output=json", "-w", "--n"], expected: ["--namespace"] },
    { words: ["tool", "--v"], expected: ["--version"] },
  ];
  for (const { words, expected } of cases)
    it(`${words.join(" ")}| proposes ${expected.join(" ") || "nothing"}`, () =>
      assert.deepEqual(complete(script, words), expected));

  it("completes file names for file flags", () => {
    const proposed = complete(script, ["tool", "get", "things", "--kubeconfig", "/etc/host"]);
    assert.ok(proposed.includes("/etc/hosts"), proposed.join(" "));
  });

  it("for bosun: parses, defines the function, names every command and -o's values", () => {
    const bosun = completionScript(buildProgram(), "bash");
    execFileSync("bash", ["-n"], { input: bosun });
    assert.match(bosun, /^_bosun\(\) \{$/m);
    assert.match(bosun, /^complete -F _bosun bosun$/m);
    for (const node of allCommands(commandTree(buildProgram())))
      assert.ok(bosun.includes(`"${node.path}")`), `${node.path} is missing`);
    assert.match(
      bosun,
      /"bosun get placements\/-o"\|"bosun get placements\/--output"\) COMPREPLY=\(\$\(compgen -W "table wide yaml json"/,
    );
  });
});

describe("zsh and fish completion", () => {
  const tree = commandTree(sample());

  it("zsh: a compdef function describing commands and flags, with -o's values", () => {
    const script = zshCompletion(tree);
    assert.match(script, /^#compdef tool\n/);
    assert.match(script, /^_tool\(\) \{$/m);
    assert.match(script, /"tool get"\) subcommands=\('things:list things; it'\\''s quick'\)/);
    assert.match(
      script,
      /"tool get things\/-o"\|"tool get things\/--output"\) compadd -- 'table' 'json'; return ;;/,
    );
    assert.match(script, /"tool get things\/--kubeconfig"\) _files; return ;;/);
    assert.match(script, /"tool local up\/--dir"\) _files -\/; return ;;/);
    assert.match(script, /^ {2}compdef _tool tool$/m);
    // zsh's $path is the PATH array: the walk must not use it.
    assert.doesNotMatch(script, /local path\b/);
  });

  it("fish: one complete line per command and flag, conditioned on the command path", () => {
    const script = fishCompletion(tree);
    assert.match(script, /^function __tool_path$/m);
    assert.match(
      script,
      /^complete -c tool -n 'test \(__tool_path\) = "tool"' -f -a 'get' -d 'show objects'$/m,
    );
    assert.match(
      script,
      /^complete -c tool -n 'test \(__tool_path\) = "tool get"' -f -a 'things' -d 'list things; it\\'s quick'$/m,
    );
    assert.match(
      script,
      /^complete -c tool -n 'test \(__tool_path\) = "tool get things"' -s o -l output -x -a 'table json' -d 'output format'$/m,
    );
    assert.match(script, /-l kubeconfig -r -F -d 'a kubeconfig'$/m);
    assert.match(script, /case "tool get\/things" "tool get\/thing"\n\s+set cmdpath "tool get things"/);
    assert.match(
      script,
      /case "tool get things"\n\s+contains -- \$word -n --namespace -o --output --kubeconfig; and set skip 1/,
    );
  });

  it("every shell's script for bosun names every command", () => {
    for (const shell of ["zsh", "fish"] as const) {
      const script = completionScript(buildProgram(), shell);
      for (const node of allCommands(commandTree(buildProgram())).slice(1))
        assert.ok(script.includes(`"${node.path}"`), `${shell}: ${node.path} is missing`);
    }
  });
});
