// `bosun completion bash|zsh|fish`: a shell completion script generated from the program's
// own command tree (commands, their aliases, flags and, for flags with a fixed set of values
// such as -o, those values), so it cannot fall behind the commands.
import { Argument, type Command, type Option } from "commander";

export interface OptionInfo {
  /** Every spelling: `-o`, `--output`. */
  names: string[];
  description: string;
  takesValue: boolean;
  /** The values a flag allows (commander's choices). */
  choices?: string[];
  /** The value is a file or a directory name. */
  path?: "file" | "directory";
}

export interface CommandNode {
  /** `bosun get clusters`. */
  path: string;
  name: string;
  aliases: string[];
  description: string;
  options: OptionInfo[];
  /** The values its positional arguments allow (`completion <shell>`: bash, zsh, fish). */
  argumentChoices: string[];
  subcommands: CommandNode[];
}

function optionInfo(option: Option): OptionInfo {
  const names = [option.short, option.long].filter((name): name is string => name !== undefined);
  const argument = /<([^>]+)>|\[([^\]]+)\]/.exec(option.flags);
  const argumentName = (argument?.[1] ?? argument?.[2] ?? "").toLowerCase();
  const takesValue = option.required || option.optional;
  const path = /dir/.test(argumentName)
    ? "directory"
    : /file|kubeconfig/.test(argumentName)
      ? "file"
      : undefined;
  return {
    names,
    description: option.description,
    takesValue,
    ...(option.argChoices ? { choices: [...option.argChoices] } : {}),
    ...(takesValue && path ? { path } : {}),
  };
}

const helpOption: OptionInfo = {
  names: ["-h", "--help"],
  description: "display help for command",
  takesValue: false,
};

/** The program as a tree of commands, each with its flags (help included). */
export function commandTree(command: Command, parentPath = ""): CommandNode {
  const path = parentPath ? `${parentPath} ${command.name()}` : command.name();
  return {
    path,
    name: command.name(),
    aliases: command.aliases(),
    description: command.description(),
    options: [...command.options.filter((option) => !option.hidden).map(optionInfo), helpOption],
    argumentChoices: command.registeredArguments.flatMap((argument) => argument.argChoices ?? []),
    subcommands: command.commands.map((child) => commandTree(child, path)),
  };
}

export function allCommands(root: CommandNode): CommandNode[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

/** The root of the program a command belongs to. */
export function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

// Shell quoting.
const single = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const double = (text: string) => `"${text.replace(/["\\$`]/g, "\\$&")}"`;
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
// fish escapes a quote inside single quotes with a backslash, not by closing the string.
const fishSingle = (text: string) => `'${text.replace(/[\\']/g, "\\$&")}'`;

/** `"bosun get/clusters"|"bosun get/cluster") cmdpath="bosun get clusters" ;;` for every step down the tree. */
function descentCases(commands: CommandNode[], indent: string): string[] {
  return commands.flatMap((node) =>
    node.subcommands.map((child) => {
      const patterns = [child.name, ...child.aliases].map((word) => double(`${node.path}/${word}`)).join("|");
      return `${indent}${patterns}) cmdpath=${double(child.path)} ;;`;
    }),
  );
}

function valueOptions(
  commands: CommandNode[],
): { node: CommandNode; option: OptionInfo; patterns: string }[] {
  return commands.flatMap((node) =>
    node.options
      .filter((option) => option.takesValue)
      .map((option) => ({
        node,
        option,
        patterns: option.names.map((name) => double(`${node.path}/${name}`)).join("|"),
      })),
  );
}

/** The flags of a command that take a value (the word after them is not a command). */
function valueFlags(node: CommandNode): string[] {
  return node.options.filter((option) => option.takesValue).flatMap((option) => option.names);
}

/** The words a command completes to: its subcommands and its arguments' allowed values. */
function words(node: CommandNode): string[] {
  return [...node.subcommands.map((child) => child.name), ...node.argumentChoices];
}

/**
 * Both bash and zsh: walk the words before the cursor down the command tree, skipping flags
 * and the values of flags that take one; leaves the command's path in $cmdpath.
 */
function walkLoop(commands: CommandNode[], wordsExpr: string, from: string, to: string): string[] {
  const skips = commands
    .filter((node) => valueFlags(node).length > 0)
    .map(
      (node) =>
        `          ${double(node.path)}) case "$word" in ${valueFlags(node).join("|")}) skip=1 ;; esac ;;`,
    );
  return [
    `  local cmdpath=${double(commands[0]!.path)} word i skip=0`,
    `  for ((i = ${from}; i < ${to}; i++)); do`,
    `    word="${wordsExpr}"`,
    "    if ((skip)); then skip=0; continue; fi",
    '    case "$word" in',
    "      --*=*) continue ;;",
    "      -*)",
    '        case "$cmdpath" in',
    ...skips,
    "        esac",
    "        continue ;;",
    "    esac",
    '    case "$cmdpath/$word" in',
    ...descentCases(commands, "      "),
    "    esac",
    "  done",
  ];
}

export function bashCompletion(root: CommandNode): string {
  const commands = allCommands(root);
  const name = root.name;
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const valueCases = valueOptions(commands).map(({ option, patterns }) => {
    const reply = option.choices
      ? `COMPREPLY=($(compgen -W ${double(option.choices.join(" "))} -- "$cur"))`
      : option.path === "file"
        ? `COMPREPLY=($(compgen -f -- "$cur"))`
        : option.path === "directory"
          ? `COMPREPLY=($(compgen -d -- "$cur"))`
          : "COMPREPLY=()";
    return `    ${patterns}) ${reply}; return ;;`;
  });
  const commandCases = commands.map((node) => {
    const subcommands = words(node).join(" ");
    const flags = node.options.flatMap((option) => option.names).join(" ");
    return `    ${double(node.path)}) subcommands=${double(subcommands)}; flags=${double(flags)} ;;`;
  });
  return [
    `# bash completion for ${name}, generated by \`${name} completion bash\` from its commands.`,
    `# Load it with: source <(${name} completion bash)`,
    `${fn}() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" subcommands="" flags=""',
    "  COMPREPLY=()",
    ...walkLoop(commands, "${COMP_WORDS[i]}", "1", "COMP_CWORD"),
    '  case "$cmdpath/$prev" in',
    ...valueCases,
    "  esac",
    '  case "$cmdpath" in',
    ...commandCases,
    "  esac",
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
    "  else",
    '    COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))',
    "  fi",
    "}",
    `complete -F ${fn} ${name}`,
    "",
  ].join("\n");
}

export function zshCompletion(root: CommandNode): string {
  const commands = allCommands(root);
  const name = root.name;
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  // _describe takes "name:description"; a colon inside a name would need escaping.
  const described = (word: string, description: string) =>
    single(`${word.replace(/:/g, "\\:")}:${oneLine(description)}`);
  const valueCases = valueOptions(commands).map(({ option, patterns }) => {
    const reply = option.choices
      ? `compadd -- ${option.choices.map(single).join(" ")}`
      : option.path === "file"
        ? "_files"
        : option.path === "directory"
          ? "_files -/"
          : ":";
    return `    ${patterns}) ${reply}; return ;;`;
  });
  const commandCases = commands.map((node) => {
    const subcommands = [
      ...node.subcommands.map((child) => described(child.name, child.description)),
      ...node.argumentChoices.map((choice) => described(choice, choice)),
    ].join(" ");
    const flags = node.options
      .flatMap((option) => option.names.map((flag) => described(flag, option.description)))
      .join(" ");
    return `    ${double(node.path)}) subcommands=(${subcommands}); flags=(${flags}) ;;`;
  });
  return [
    `#compdef ${name}`,
    `# zsh completion for ${name}, generated by \`${name} completion zsh\` from its commands.`,
    `# Load it with: source <(${name} completion zsh), or save it as ${fn} in a directory of $fpath.`,
    `${fn}() {`,
    '  local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}"',
    "  local -a subcommands flags",
    // zsh's $words starts at 1 with the command itself.
    ...walkLoop(commands, "${words[i]}", "2", "CURRENT"),
    '  case "$cmdpath/$prev" in',
    ...valueCases,
    "  esac",
    '  case "$cmdpath" in',
    ...commandCases,
    "  esac",
    '  if [[ "$cur" == -* ]]; then',
    "    _describe -t options option flags",
    "  else",
    "    _describe -t commands command subcommands",
    "  fi",
    "}",
    `if [[ "\${funcstack[1]}" == ${double(fn)} ]]; then`,
    `  ${fn} "$@"`,
    "else",
    `  compdef ${fn} ${name}`,
    "fi",
    "",
  ].join("\n");
}

export function fishCompletion(root: CommandNode): string {
  const commands = allCommands(root);
  const name = root.name;
  const fn = `__${name.replace(/[^A-Za-z0-9_]/g, "_")}_path`;
  const skips = commands
    .filter((node) => valueFlags(node).length > 0)
    .flatMap((node) => [
      `                    case ${double(node.path)}`,
      `                        contains -- $word ${valueFlags(node).join(" ")}; and set skip 1`,
    ]);
  const descents = commands.flatMap((node) =>
    node.subcommands.map(
      (child) =>
        `            case ${[child.name, ...child.aliases].map((word) => double(`${node.path}/${word}`)).join(" ")}\n                set cmdpath ${double(child.path)}`,
    ),
  );
  const completions = commands.flatMap((node) => {
    const when = fishSingle(`test (${fn}) = ${double(node.path)}`);
    const subcommands = [
      ...node.subcommands.map(
        (child) =>
          `complete -c ${name} -n ${when} -f -a ${fishSingle(child.name)} -d ${fishSingle(oneLine(child.description))}`,
      ),
      ...node.argumentChoices.map((choice) => `complete -c ${name} -n ${when} -f -a ${fishSingle(choice)}`),
    ];
    const flags = node.options.map((option) => {
      const spelled = option.names
        .map((flag) => (flag.startsWith("--") ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`))
        .join(" ");
      const value = !option.takesValue
        ? ""
        : option.choices
          ? ` -x -a ${fishSingle(option.choices.join(" "))}`
          : option.path
            ? " -r -F"
            : " -x";
      return `complete -c ${name} -n ${when} ${spelled}${value} -d ${fishSingle(oneLine(option.description))}`;
    });
    return [...subcommands, ...flags];
  });
  return [
    `# fish completion for ${name}, generated by \`${name} completion fish\` from its commands.`,
    `# Load it with: ${name} completion fish | source, or save it as ~/.config/fish/completions/${name}.fish`,
    `function ${fn}`,
    "    set -l words (commandline -opc)",
    "    set -e words[1]",
    `    set -l cmdpath ${double(root.path)}`,
    "    set -l skip 0",
    "    for word in $words",
    "        if test $skip -eq 1",
    "            set skip 0",
    "            continue",
    "        end",
    '        switch "$word"',
    "            case '--*=*'",
    "                continue",
    "            case '-*'",
    '                switch "$cmdpath"',
    ...skips,
    "                end",
    "                continue",
    "        end",
    '        switch "$cmdpath/$word"',
    ...descents,
    "        end",
    "    end",
    "    echo $cmdpath",
    "end",
    `complete -c ${name} -f`,
    ...completions,
    "",
  ].join("\n");
}

export const shells = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof shells)[number];

export function completionScript(program: Command, shell: Shell): string {
  const tree = commandTree(program);
  switch (shell) {
    case "bash":
      return bashCompletion(tree);
    case "zsh":
      return zshCompletion(tree);
    case "fish":
      return fishCompletion(tree);
  }
}

export function registerCompletion(program: Command): void {
  program
    .command("completion")
    .description("print a shell completion script for bash, zsh or fish")
    .addArgument(new Argument("<shell>", "the shell").choices(shells))
    .addHelpText(
      "after",
      `
Load it in the current shell:
  bash:  source <(bosun completion bash)
  zsh:   source <(bosun completion zsh)
  fish:  bosun completion fish | source`,
    )
    .action(function (this: Command, shell: Shell) {
      process.stdout.write(completionScript(rootOf(this), shell));
    });
}
