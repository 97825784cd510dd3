// Finds the helm binary that local/helm/build.sh caches, and runs it.
import { execFile } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export interface HelmBinary {
  /** The release it was built at (pin.env's HELM_VERSION). */
  version: string;
  path: string;
}

/** The variables build.sh reads to place its cache; pass them from the entry point's environment. */
export interface HelmCacheEnv {
  BOSUN_HELM_CACHE?: string | undefined;
  XDG_CACHE_HOME?: string | undefined;
}

/** The npm script that fills the cache; named in the error when the binary is missing. */
export const buildHelmScript = "npm run build:helm";

const pinFile = join(import.meta.dirname, "pin.env");

/** The cache root build.sh uses for these variables: the override, else <cache home>/bosun/helm. */
export function defaultHelmCacheRoot(env: HelmCacheEnv = {}, home: string = homedir()): string {
  if (env.BOSUN_HELM_CACHE) return env.BOSUN_HELM_CACHE;
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "bosun", "helm");
}

/** The HELM_VERSION line of a pin file's text. */
export function parseHelmPin(text: string): string {
  const version = /^HELM_VERSION=(v\d+\.\d+\.\d+)\s*$/m.exec(text)?.[1];
  if (!version) throw new Error(`${pinFile} names no HELM_VERSION=vX.Y.Z`);
  return version;
}

/** The cached helm at the pinned version; throws, naming the npm script to run, when it is missing. */
export async function helmBinary(options: { cacheRoot?: string } = {}): Promise<HelmBinary> {
  const version = parseHelmPin(await readFile(pinFile, "utf8"));
  const path = join(options.cacheRoot ?? defaultHelmCacheRoot(), version, "helm");
  try {
    await access(path, constants.X_OK);
  } catch (error) {
    throw new Error(`helm ${version} is not in the cache (${path} is missing): run \`${buildHelmScript}\``, {
      cause: error,
    });
  }
  return { version, path };
}

export interface HelmResult {
  /** The exit code; 0 on success. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with these arguments; a failing command is a result (non-zero code), not a throw. */
export function runHelm(helm: Pick<HelmBinary, "path">, args: string[]): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    execFile(helm.path, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`cannot run ${helm.path} ${args.join(" ")}`, { cause: error }));
        return;
      }
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
  });
}
