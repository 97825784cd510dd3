// Locates OCM's own binaries (the test and benchmark oracle), building them from the Go module
// proxy into the version-keyed cache on first use (local/ocm/build.sh), and the CRDs of the same
// release from the module cache the build filled.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const buildScript = join(import.meta.dirname, "build.sh");

/** The OCM release the compatibility suite and benchmarks run by default. */
export const defaultOcmVersion = "v1.0.0";

export type OcmBinary = "placement" | "registration" | "work" | "registration-operator";

export interface OcmBinaries {
  version: string;
  dir: string;
  path(binary: OcmBinary): string;
  /** The directory of `open-cluster-management.io/api@<version>` in the Go module cache (its CRDs). */
  apiModuleDir: string;
  /** The directory of `open-cluster-management.io/ocm@<version>` in the Go module cache (its manifests). */
  ocmModuleDir: string;
}

export interface EnsureOcmOptions {
  version?: string;
  binaries?: OcmBinary[];
  /** Overrides the cache root (the build script's BOSUN_OCM_CACHE). */
  cacheRoot?: string;
}

async function moduleDir(module: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run("go", ["mod", "download", "-json", module], { env, maxBuffer: 1 << 20 });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${module} gave no directory`);
  return dir;
}

export async function ensureOcmBinaries(options: EnsureOcmOptions = {}): Promise<OcmBinaries> {
  const version = options.version ?? defaultOcmVersion;
  const binaries = options.binaries ?? ["placement", "registration", "work"];
  const env: NodeJS.ProcessEnv = { ...process.env, BOSUN_OCM_VERSION: version, GOTOOLCHAIN: "local" };
  if (options.cacheRoot) env.BOSUN_OCM_CACHE = options.cacheRoot;
  let dir: string;
  try {
    const { stdout } = await run("bash", [buildScript, ...binaries], { env, maxBuffer: 16 << 20 });
    dir = stdout.trim().split("\n").pop() ?? "";
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(
      `building OCM ${version} (${binaries.join(", ")}) failed:\n${stderr.split("\n").slice(-40).join("\n")}`,
      {
        cause: error,
      },
    );
  }
  const [apiModuleDir, ocmModuleDir] = await Promise.all([
    moduleDir(`open-cluster-management.io/api@${version}`, env),
    moduleDir(`open-cluster-management.io/ocm@${version}`, env),
  ]);
  return { version, dir, path: (binary) => join(dir, binary), apiModuleDir, ocmModuleDir };
}
