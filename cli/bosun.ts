#!/usr/bin/env -S node --max-semi-space-size=4
// The `bosun` command line. Each command group lives in cli/commands/ and registers itself.
import { Command, CommanderError } from "commander";
import { registerLocal } from "./commands/local.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerInit } from "./commands/init.ts";
import { registerGet } from "./commands/get.ts";
import { registerAccept } from "./commands/accept.ts";
import { registerHub } from "./commands/hub.ts";
import { registerJoin } from "./commands/join.ts";
import { registerAgent } from "./commands/agent.ts";
import { registerExplain } from "./commands/explain.ts";
import { registerPolicy } from "./commands/policy.ts";
import { registerCompliance } from "./commands/compliance.ts";
import { registerVersion } from "./commands/version.ts";
import { registerCompletion } from "./commands/completion.ts";
import { registerApply } from "./commands/apply.ts";

export function buildProgram(): Command {
  const program = new Command("bosun")
    .description("An Open Cluster Management compatible governance engine for fleets of Kubernetes clusters")
    .showHelpAfterError()
    .exitOverride();
  registerLocal(program);
  registerDemo(program);
  registerInit(program);
  registerGet(program);
  registerAccept(program);
  registerHub(program);
  registerJoin(program);
  registerAgent(program);
  registerExplain(program);
  registerPolicy(program);
  registerCompliance(program);
  registerVersion(program);
  registerCompletion(program);
  registerApply(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Usage errors exit 2; help and version exit 0.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    console.error(`error: ${(error as Error).message}`);
    if ((error as Error).cause) console.error(`  caused by: ${String((error as Error).cause)}`);
    process.exitCode = 1;
  }
}

if (import.meta.main) await main();
