// `bosun --version` (the version alone) and `bosun version`: bosun's version, Node's, the
// platform and, when a kubeconfig is given or found, the API server's version. A server that
// cannot be reached is reported, not fatal.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import type { KubeClient } from "../../runtime/kube/client.ts";
import { addKubeFlags, clientFor, explainKubeError, loadKubeconfig, type KubeFlags } from "../kube.ts";
import { outputOption } from "../output.ts";

/** The version in bosun's package.json, found upwards from `from` (the source tree or dist/). */
export function bosunVersion(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (manifest.name === "bosun" && manifest.version) return manifest.version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of bosun above ${from}`);
  }
}

export interface ServerVersion {
  url: string;
  context: string;
  /** The server's gitVersion, when it answered. */
  gitVersion?: string;
  /** Why it did not. */
  error?: string;
}

export interface VersionInfo {
  bosunVersion: string;
  nodeVersion: string;
  platform: string;
  server?: ServerVersion;
}

export function formatVersion(info: VersionInfo, output: "text" | "json" | "yaml"): string {
  if (output === "json") return JSON.stringify(info, null, 2);
  if (output === "yaml") return stringify(info).trimEnd();
  const lines = [`bosun: ${info.bosunVersion}`, `node: ${info.nodeVersion}`, `platform: ${info.platform}`];
  if (info.server) {
    const where = `${info.server.url}, context ${info.server.context}`;
    lines.push(
      info.server.gitVersion !== undefined
        ? `server: ${info.server.gitVersion} (${where})`
        : `server: unknown (${where}): ${info.server.error ?? ""}`,
    );
  }
  return lines.join("\n");
}

/** The API server's /version, or why it could not be read. */
export async function readServerVersion(client: Pick<KubeClient, "request">): Promise<string> {
  const version = await client.request<{ gitVersion?: string }>({
    method: "GET",
    path: "/version",
    timeoutMs: 5000,
  });
  return version?.gitVersion ?? "";
}

/** The server's version, when a kubeconfig is given or found; undefined when there is none. */
export async function serverVersion(
  flags: KubeFlags,
  env: { KUBECONFIG?: string | undefined } = process.env,
  home?: string,
): Promise<ServerVersion | undefined> {
  let target;
  try {
    target = loadKubeconfig(flags, env, home);
  } catch (error) {
    // No kubeconfig anywhere and none asked for: there is no server to ask.
    if (flags.kubeconfig === undefined && flags.context === undefined) return undefined;
    return { url: "", context: flags.context ?? "", error: (error as Error).message };
  }
  const found: ServerVersion = { url: target.server, context: target.context };
  let client: KubeClient | undefined;
  try {
    client = await clientFor(target, { timeoutMs: 5000 });
    return { ...found, gitVersion: await readServerVersion(client) };
  } catch (error) {
    return { ...found, error: (explainKubeError(error, target) as Error).message };
  } finally {
    client?.close();
  }
}

export function registerVersion(program: Command): void {
  program.version(`bosun ${bosunVersion()}`, "--version", "print the bosun version");
  addKubeFlags(
    program
      .command("version")
      .description("print the versions of bosun, Node.js and, with a kubeconfig, the API server")
      .addOption(outputOption(["text", "json", "yaml"], "text")),
    "the cluster to ask for its version",
  ).action(async (flags: KubeFlags & { output: "text" | "json" | "yaml" }) => {
    const server = await serverVersion(flags);
    const info: VersionInfo = {
      bosunVersion: bosunVersion(),
      nodeVersion: process.version,
      platform: `${process.platform}/${process.arch}`,
      ...(server ? { server } : {}),
    };
    console.log(formatVersion(info, flags.output));
  });
}
