// Running OCM's own agents and hub controllers (the compatibility oracle) next to bosun on real
// control planes: their CRDs and bootstrap RBAC from OCM's Go modules, their processes with logs
// that a failing test prints, and the kubeconfig files they read.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { HubInfo, Namespaces, SecretKeys, Secrets } from "../../../api/constants.ts";
import { bootstrapKubeconfig } from "../../../cli/commands/join.ts";
import type { OcmBinaries, OcmBinary } from "../../../local/ocm/binaries.ts";
import { freePort } from "../../../local/ports.ts";
import { ManagedProcess, tailOfFile } from "../../../local/process.ts";
import { applyServerSide } from "../../../runtime/apply.ts";
import type { KubeClient } from "../../../runtime/kube/client.ts";
import type { Unstructured } from "../../../runtime/kube/types.ts";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "..", "..", "..", "cli", "bosun.ts");
const fieldManager = "bosun-compat";

/** OCM's hub CRDs (api module paths), as clusteradm's cluster-manager installs them. */
export const ocmHubCrdFiles = [
  "addon/v1alpha1/0000_00_addon.open-cluster-management.io_clustermanagementaddons.crd.yaml",
  "addon/v1alpha1/0000_01_addon.open-cluster-management.io_managedclusteraddons.crd.yaml",
  "addon/v1alpha1/0000_02_addon.open-cluster-management.io_addondeploymentconfigs.crd.yaml",
  "addon/v1alpha1/0000_03_addon.open-cluster-management.io_addontemplates.crd.yaml",
  "cluster/v1/0000_00_clusters.open-cluster-management.io_managedclusters.crd.yaml",
  "cluster/v1alpha1/0000_05_clusters.open-cluster-management.io_addonplacementscores.crd.yaml",
  "cluster/v1beta1/0000_02_clusters.open-cluster-management.io_placements.crd.yaml",
  "cluster/v1beta1/0000_03_clusters.open-cluster-management.io_placementdecisions.crd.yaml",
  "cluster/v1beta2/0000_00_clusters.open-cluster-management.io_managedclustersets.crd.yaml",
  "cluster/v1beta2/0000_01_clusters.open-cluster-management.io_managedclustersetbindings.crd.yaml",
  "work/v1/0000_00_work.open-cluster-management.io_manifestworks.crd.yaml",
  "work/v1alpha1/0000_00_work.open-cluster-management.io_manifestworkreplicasets.crd.yaml",
];

/** OCM's managed-cluster CRDs, as the klusterlet installs them. */
export const ocmManagedCrdFiles = [
  "cluster/v1alpha1/0000_02_clusters.open-cluster-management.io_clusterclaims.crd.yaml",
  "work/v1/0000_01_work.open-cluster-management.io_appliedmanifestworks.crd.yaml",
];

/** Applies CRD files and waits until the API server lists each kind. */
export async function installCrdFiles(client: KubeClient, paths: readonly string[]): Promise<void> {
  const crds: Unstructured[] = [];
  for (const path of paths) crds.push(parse(await readFile(path, "utf8")) as Unstructured);
  for (const crd of crds) await applyServerSide(client, crd, { fieldManager, force: true });
  const deadline = Date.now() + 60_000;
  for (const crd of crds) {
    const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string }[] };
    const apiVersion = `${spec.group}/${spec.versions.at(-1)!.name}`;
    for (;;) {
      try {
        client.discovery.invalidate(apiVersion);
        await client.list(apiVersion, spec.names.kind, { limit: 1 });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${spec.names.kind} is not served`, { cause: error });
        await sleep(200);
      }
    }
  }
}

export async function installOcmCrds(
  client: KubeClient,
  binaries: OcmBinaries,
  side: "hub" | "managed",
): Promise<void> {
  const files = side === "hub" ? ocmHubCrdFiles : ocmManagedCrdFiles;
  await installCrdFiles(
    client,
    files.map((file) => join(binaries.apiModuleDir, file)),
  );
}

/**
 * The bootstrap identity of OCM's cluster-manager chart: the ServiceAccount, the
 * `open-cluster-management:bootstrap` ClusterRole and its binding, rendered from the chart's
 * own templates (their only template parts are the enabling conditions and the namespace).
 */
export async function applyOcmBootstrapRbac(client: KubeClient, binaries: OcmBinaries): Promise<void> {
  const templates = join(binaries.ocmModuleDir, "deploy/cluster-manager/chart/cluster-manager/templates");
  await applyServerSide(
    client,
    { apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.operator } },
    { fieldManager, force: true },
  );
  for (const file of [
    "bootstrap_sa.yaml",
    "bootstrap_cluster_role.yaml",
    "bootstrap_sa_cluster_role_binding.yaml",
  ]) {
    const text = (await readFile(join(templates, file), "utf8"))
      .split("\n")
      .filter((line) => !/^\s*\{\{-?\s*(if|end)\b/.test(line))
      .join("\n")
      .replaceAll("{{ .Release.Namespace }}", Namespaces.operator);
    if (text.includes("{{")) throw new Error(`${file}: template parts left after rendering`);
    for (const document of parseAllDocuments(text)) {
      const object = document.toJS() as Unstructured | null;
      if (object) await applyServerSide(client, object, { fieldManager, force: true });
    }
  }
}

/** A token for the bootstrap ServiceAccount, as `clusteradm get token` mints it. */
export async function ocmBootstrapToken(client: KubeClient): Promise<string> {
  const response = await client.request<{ status: { token: string } }>({
    method: "POST",
    path: `/api/v1/namespaces/${Namespaces.operator}/serviceaccounts/${HubInfo.bootstrapServiceAccount}/token`,
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  });
  return response.status.token;
}

/** An OCM binary running in its own process group, logging to `<dir>/<name>.log`. */
export class OcmProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #process: ManagedProcess;

  private constructor(name: string, logFile: string, process: ManagedProcess) {
    this.name = name;
    this.logFile = logFile;
    this.#process = process;
  }

  /**
   * Starts `<binary> <subcommand> ...args` with leader election off and its health endpoint on
   * a free loopback port (without --listen the serving setup would bind a fixed port).
   */
  static async start(
    binaries: OcmBinaries,
    binary: OcmBinary,
    subcommand: string,
    args: string[],
    options: { name: string; dir: string },
  ): Promise<OcmProcess> {
    await mkdir(options.dir, { recursive: true });
    const logFile = join(options.dir, `${options.name}.log`);
    const process = new ManagedProcess({
      name: options.name,
      command: binaries.path(binary),
      args: [subcommand, ...args, "--disable-leader-election", `--listen=127.0.0.1:${await freePort()}`],
      logFile,
      persistent: false,
    });
    await process.start();
    return new OcmProcess(options.name, logFile, process);
  }

  get exited(): { code: number | null } | undefined {
    return this.#process.exited;
  }

  /** The lines of its log that report a request the API server refused (401/403). */
  async refusals(): Promise<string[]> {
    const text = await readFile(this.logFile, "utf8").catch(() => "");
    return text.split("\n").filter((line) => /\bforbidden\b|\bUnauthorized\b/i.test(line));
  }

  async logTail(lines = 30): Promise<string> {
    // The serving stack's complaints about a missing request-header CA are noise off-cluster.
    const text = await tailOfFile(this.logFile, lines * 4);
    const kept = text.split("\n").filter((line) => !line.includes("requestheader-client-ca-file"));
    return `--- ${this.name} (${this.logFile}) ---\n${kept.slice(-lines).join("\n")}`;
  }

  async stop(): Promise<void> {
    await this.#process.stop(5_000);
  }
}

/** Writes a bootstrap kubeconfig (hub URL, CA, token) where OCM's registration agent reads it. */
export async function writeBootstrapKubeconfig(
  path: string,
  server: string,
  caPem: string,
  token: string,
): Promise<string> {
  await writeFile(path, bootstrapKubeconfig(server, caPem, token), { mode: 0o600 });
  return path;
}

/**
 * Extracts the hub kubeconfig secret an agent wrote on its managed cluster into `dir`: the
 * kubeconfig and the certificate and key files it names (relative to the kubeconfig's folder).
 */
export async function extractHubKubeconfig(managed: KubeClient, dir: string): Promise<string> {
  const secret = await managed.get<Unstructured>({
    apiVersion: "v1",
    kind: "Secret",
    namespace: Namespaces.agent,
    name: Secrets.hubKubeconfig,
  });
  const data = (secret.data ?? {}) as Record<string, string>;
  await mkdir(dir, { recursive: true });
  for (const key of [SecretKeys.kubeconfig, SecretKeys.tlsCert, SecretKeys.tlsKey]) {
    if (!data[key]) throw new Error(`the hub kubeconfig secret has no ${key}`);
    await writeFile(join(dir, key), Buffer.from(data[key], "base64"), { mode: 0o600 });
  }
  return join(dir, SecretKeys.kubeconfig);
}

export interface RegistrationAgentOptions {
  clusterName: string;
  bootstrapKubeconfig: string;
  managedKubeconfig: string;
  /** spec.managedClusterClientConfigs URLs; none when absent. */
  externalServerUrls?: string[];
  dir: string;
}

/** OCM's registration agent, with its secrets in the agent namespace as the klusterlet runs it. */
export function startOcmRegistrationAgent(
  binaries: OcmBinaries,
  options: RegistrationAgentOptions,
): Promise<OcmProcess> {
  return OcmProcess.start(
    binaries,
    "registration",
    "agent",
    [
      `--cluster-name=${options.clusterName}`,
      `--bootstrap-kubeconfig=${options.bootstrapKubeconfig}`,
      `--kubeconfig=${options.managedKubeconfig}`,
      `--namespace=${Namespaces.agent}`,
      `--hub-kubeconfig-dir=${join(options.dir, `${options.clusterName}-hub-kubeconfig`)}`,
      ...(options.externalServerUrls ?? []).map((url) => `--spoke-external-server-urls=${url}`),
    ],
    { name: `ocm-registration-agent-${options.clusterName}`, dir: options.dir },
  );
}

export interface WorkAgentOptions {
  clusterName: string;
  hubKubeconfig: string;
  managedKubeconfig: string;
  /** The klusterlet passes its own id; without one the agent uses the hub hash. */
  agentId?: string;
  dir: string;
}

/** OCM's work agent, syncing status every 2 s (10 s by default) to keep the tests short. */
export function startOcmWorkAgent(binaries: OcmBinaries, options: WorkAgentOptions): Promise<OcmProcess> {
  return OcmProcess.start(
    binaries,
    "work",
    "agent",
    [
      `--spoke-cluster-name=${options.clusterName}`,
      `--hub-kubeconfig=${options.hubKubeconfig}`,
      // The work source reads the same kubeconfig (default: the in-pod mount path).
      `--workload-source-config=${options.hubKubeconfig}`,
      `--kubeconfig=${options.managedKubeconfig}`,
      `--namespace=${Namespaces.agent}`,
      "--status-sync-interval=2s",
      ...(options.agentId ? [`--agent-id=${options.agentId}`] : []),
    ],
    { name: `ocm-work-agent-${options.clusterName}`, dir: options.dir },
  );
}

/** The agent name OCM's (or bosun's) registration agent stored in the hub kubeconfig secret. */
export async function storedAgentName(managed: KubeClient): Promise<string> {
  const secret = await managed.get<Unstructured>({
    apiVersion: "v1",
    kind: "Secret",
    namespace: Namespaces.agent,
    name: Secrets.hubKubeconfig,
  });
  const value = ((secret.data ?? {}) as Record<string, string>)[SecretKeys.agentName];
  if (!value) throw new Error("the hub kubeconfig secret has no agent-name");
  return Buffer.from(value, "base64").toString("utf8");
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `bosun <args>` as a separate process, the way an operator runs it. */
export async function bosun(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** `bosun hub` as a long-running process. */
export async function startBosunHub(hubKubeconfig: string, dir: string): Promise<ManagedProcess> {
  await mkdir(dir, { recursive: true });
  const hub = new ManagedProcess({
    name: "bosun-hub",
    command: process.execPath,
    args: [
      cli,
      "hub",
      "--kubeconfig",
      hubKubeconfig,
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--webhook-bind-address",
      "127.0.0.1:0",
    ],
    logFile: join(dir, "bosun-hub.log"),
    persistent: false,
  });
  await hub.start();
  return hub;
}

/** A log that a failing test prints the end of. */
export interface LogSource {
  logTail(lines?: number): Promise<string>;
}

/** The tail of a log file, as a LogSource. */
export function logFile(name: string, path: string): LogSource {
  return { logTail: async (lines = 30) => `--- ${name} (${path}) ---\n${await tailOfFile(path, lines)}` };
}

/** Prints the tails of `sources` after each failed test of the enclosing suite. */
export function reportLogsOnFailure(sources: () => readonly LogSource[]): void {
  afterEach(async (context) => {
    // TestContext.passed exists at run time but is missing from @types/node 24.
    const t = context as TestContext & { passed?: boolean };
    if (t.passed !== false) return;
    const tails = await Promise.all(sources().map((source) => source.logTail(30)));
    console.error(`logs after failed test "${t.name}":\n${tails.join("\n")}`);
  });
}
