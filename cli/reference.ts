// The CLI reference in README.md, rendered from every command's own help so it cannot drift
// from the commands. `npm run docs:cli` rewrites the part of README.md between the markers;
// cli/reference.test.ts fails when that part differs from what the program renders.
import { readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram } from "./bosun.ts";

export const referenceStart = "<!-- cli-reference:start -->";
export const referenceEnd = "<!-- cli-reference:end -->";
export const readmePath = join(import.meta.dirname, "..", "README.md");

/** Help is rendered at this width whatever the terminal, so the reference is the same everywhere. */
const helpWidth = 100;

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent)
    names.unshift(current.name());
  return names.join(" ");
}

function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

/**
 * The Markdown of every command's help, depth first from the program. Defaults that name the
 * user's home directory (--dir, --agent-dir) are shown with `~`.
 */
export function renderReference(program: Command, home: string = homedir()): string {
  const sections = everyCommand(program).map((command) => {
    command.configureOutput({ getOutHelpWidth: () => helpWidth, getOutHasColors: () => false });
    const text = command.helpInformation();
    const help = (home.length > 1 ? text.replaceAll(home, "~") : text).trimEnd();
    return `### \`${commandPath(command)}\`\n\n\`\`\`text\n${help}\n\`\`\``;
  });
  return [
    "<!-- Generated from the commands' help by `npm run docs:cli`; edit the commands, not this. -->",
    "",
    ...sections.flatMap((section) => [section, ""]),
  ].join("\n");
}

/** `readme` with the text between the markers replaced by `reference`. */
export function replaceReference(readme: string, reference: string): string {
  const start = readme.indexOf(referenceStart);
  const end = readme.indexOf(referenceEnd);
  if (start < 0 || end < start)
    throw new Error(`README.md needs the markers ${referenceStart} and ${referenceEnd}, in that order`);
  return `${readme.slice(0, start + referenceStart.length)}\n${reference}${readme.slice(end)}`;
}

/** The text between the markers. */
export function currentReference(readme: string): string | undefined {
  const start = readme.indexOf(referenceStart);
  const end = readme.indexOf(referenceEnd);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + referenceStart.length + 1, end);
}

async function main(): Promise<void> {
  const readme = await readFile(readmePath, "utf8");
  const updated = replaceReference(readme, renderReference(buildProgram()));
  if (updated === readme) {
    console.log("README.md's CLI reference is current");
    return;
  }
  await writeFile(readmePath, updated);
  console.log("README.md's CLI reference rewritten");
}

if (import.meta.main) await main();
