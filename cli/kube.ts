// Kubeconfig handling shared by every command: --kubeconfig, then $KUBECONFIG, then
// ~/.kube/config; --context picks a context.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { KubeClient } from "../runtime/kube/client.ts";

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
}

export function addKubeFlags(command: Command, what = "the cluster"): Command {
  return command
    .option("--kubeconfig <file>", `kubeconfig of ${what} (default: $KUBECONFIG or ~/.kube/config)`)
    .option("--context <name>", "the kubeconfig context to use");
}

export function resolveKubeconfigPath(flags: KubeFlags, env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [flags.kubeconfig, env.KUBECONFIG?.split(":")[0], join(homedir(), ".kube", "config")];
  const path = candidates.find((candidate) => candidate && candidate.length > 0);
  if (!path || !existsSync(path)) {
    throw new Error(
      `no kubeconfig found (tried ${candidates.filter(Boolean).join(", ")}); pass --kubeconfig`,
    );
  }
  return path;
}

export async function clientFromFlags(flags: KubeFlags): Promise<KubeClient> {
  return KubeClient.fromFile(resolveKubeconfigPath(flags), {
    context: flags.context,
    userAgent: "bosun-cli",
  });
}
