// Locates the kube-apiserver, kube-controller-manager, kubectl and etcd binaries, building the
// missing ones from the Go module proxy into the version-keyed cache on first use.
import { spawn } from "node:child_process";
import { join } from "node:path";

export interface KubeBinaries {
  dir: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  /** The kubectl of the same Kubernetes release as the control plane. */
  kubectl: string;
  etcd: string;
}

export interface EnsureBinariesOptions {
  /** Receives the build's progress lines (stderr); the build is silent when the cache is warm. */
  onProgress?: (line: string) => void;
  /** Overrides the cache root (the build script's BOSUN_KUBE_CACHE). */
  cacheRoot?: string;
}

const buildScript = join(import.meta.dirname, "kube", "build.sh");

export async function ensureKubeBinaries(options: EnsureBinariesOptions = {}): Promise<KubeBinaries> {
  const env = { ...process.env };
  if (options.cacheRoot) env.BOSUN_KUBE_CACHE = options.cacheRoot;
  const child = spawn("bash", [buildScript], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  const stderrTail: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  let partial = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
      options.onProgress?.(line);
    }
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode) => resolve(exitCode ?? 1));
  });
  if (code !== 0) {
    throw new Error(`building the Kubernetes binaries failed (exit ${code}):\n${stderrTail.join("\n")}`);
  }
  const dir = stdout.trim().split("\n").pop() ?? "";
  return {
    dir,
    kubeApiserver: join(dir, "kube-apiserver"),
    kubeControllerManager: join(dir, "kube-controller-manager"),
    kubectl: join(dir, "kubectl"),
    etcd: join(dir, "etcd"),
  };
}
