// Starts a real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC, client
// certificates, token auth, bootstrap tokens, service-account tokens) and
// kube-controller-manager (CSR signing with the same CA, garbage collection, namespaces,
// service accounts, bootstrap-token signing). Each process runs in its own process group
// so that stop() takes down everything it started.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { KubeBinaries } from "./binaries.ts";
import { freePort } from "./ports.ts";
import { createCertificateAuthority, createServiceAccountKeys, issueCertificate } from "../runtime/pki.ts";
import { ManagedProcess, tailOfFile } from "./process.ts";
import { waitForHttpOk } from "./probe.ts";

export interface ControlPlaneOptions {
  /** Names the cluster, context and user in the kubeconfig ("hub", "cluster1", ...). */
  name: string;
  binaries: KubeBinaries;
  /** Directory that holds the data, certificates and logs; a fresh temp dir when omitted. */
  dir?: string;
  /** Leaves the processes running when this Node process exits (`bosun local up`). */
  persistent?: boolean;
  /** Extra kube-apiserver flags, e.g. ["--watch-cache=false"]. */
  apiserverArgs?: string[];
  onProgress?: (message: string) => void;
  /** How long to wait for each component to become ready. */
  readyTimeoutMs?: number;
}

/** The on-disk description of a running control plane, enough to stop it from another process. */
export interface ControlPlaneRecord {
  name: string;
  dir: string;
  server: string;
  etcdUrl: string;
  kubeconfigPath: string;
  pids: { etcd: number; apiserver: number; controllerManager: number };
}

export interface Kubeconfig {
  apiVersion: "v1";
  kind: "Config";
  clusters: { name: string; cluster: { server: string; "certificate-authority-data": string } }[];
  users: { name: string; user: Record<string, string> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  "current-context": string;
}

const controllers = [
  "certificatesigningrequest-signing-controller",
  "certificatesigningrequest-cleaner-controller",
  "garbage-collector-controller",
  "namespace-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "root-ca-certificate-publisher-controller",
  "bootstrap-signer-controller",
  "token-cleaner-controller",
];

export class ControlPlane {
  readonly name: string;
  readonly dir: string;
  readonly server: string;
  readonly etcdUrl: string;
  readonly caPem: string;
  readonly adminToken: string;
  readonly kubeconfig: Kubeconfig;
  readonly kubeconfigPath: string;
  readonly #etcd: ManagedProcess;
  readonly #apiserver: ManagedProcess;
  readonly #controllerManager: ManagedProcess;
  readonly #readyTimeoutMs: number;
  readonly #ownsDir: boolean;

  private constructor(fields: {
    name: string;
    dir: string;
    server: string;
    etcdUrl: string;
    caPem: string;
    adminToken: string;
    kubeconfig: Kubeconfig;
    kubeconfigPath: string;
    etcd: ManagedProcess;
    apiserver: ManagedProcess;
    controllerManager: ManagedProcess;
    readyTimeoutMs: number;
    ownsDir: boolean;
  }) {
    this.name = fields.name;
    this.dir = fields.dir;
    this.server = fields.server;
    this.etcdUrl = fields.etcdUrl;
    this.caPem = fields.caPem;
    this.adminToken = fields.adminToken;
    this.kubeconfig = fields.kubeconfig;
    this.kubeconfigPath = fields.kubeconfigPath;
    this.#etcd = fields.etcd;
    this.#apiserver = fields.apiserver;
    this.#controllerManager = fields.controllerManager;
    this.#readyTimeoutMs = fields.readyTimeoutMs;
    this.#ownsDir = fields.ownsDir;
  }

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const progress = options.onProgress ?? (() => {});
    const ownsDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `bosun-${options.name}-`)));
    const pki = join(dir, "pki");
    const logs = join(dir, "logs");
    await mkdir(pki, { recursive: true });
    await mkdir(logs, { recursive: true });
    await mkdir(join(dir, "etcd"), { recursive: true, mode: 0o700 });

    const [etcdClientPort, etcdPeerPort, apiserverPort, controllerManagerPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const server = `https://127.0.0.1:${apiserverPort}`;
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;

    const ca = await createCertificateAuthority(`bosun-${options.name}-ca`);
    const serving = await issueCertificate(ca, {
      commonName: "kube-apiserver",
      server: true,
      dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
      ipAddresses: ["127.0.0.1", "10.96.0.1"],
    });
    const serviceAccount = await createServiceAccountKeys();
    const adminToken = randomBytes(24).toString("hex");
    const controllerManagerToken = randomBytes(24).toString("hex");
    const file = (name: string) => join(pki, name);
    await Promise.all([
      writeFile(file("ca.crt"), ca.certPem),
      writeFile(file("ca.key"), ca.keyPem, { mode: 0o600 }),
      writeFile(file("apiserver.crt"), serving.certPem),
      writeFile(file("apiserver.key"), serving.keyPem, { mode: 0o600 }),
      writeFile(file("sa.key"), serviceAccount.privateKeyPem, { mode: 0o600 }),
      writeFile(file("sa.pub"), serviceAccount.publicKeyPem),
      // token,user,uid,"groups"
      writeFile(
        file("tokens.csv"),
        `${adminToken},bosun-admin,bosun-admin,"system:masters"\n` +
          // The controller manager runs every controller under its own identity (no
          // per-controller service accounts), so it needs more than its bootstrap role.
          `${controllerManagerToken},system:kube-controller-manager,system:kube-controller-manager,"system:masters"\n`,
        { mode: 0o600 },
      ),
    ]);

    const kubeconfig = adminKubeconfig(options.name, server, ca.certPem, adminToken);
    const kubeconfigPath = join(dir, "admin.kubeconfig");
    await writeFile(kubeconfigPath, stringify(kubeconfig), { mode: 0o600 });
    const controllerManagerKubeconfig = join(dir, "controller-manager.kubeconfig");
    await writeFile(
      controllerManagerKubeconfig,
      stringify(adminKubeconfig(options.name, server, ca.certPem, controllerManagerToken)),
      { mode: 0o600 },
    );

    const persistent = options.persistent ?? false;
    const etcd = new ManagedProcess({
      name: "etcd",
      command: options.binaries.etcd,
      args: [
        `--name=${options.name}`,
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=${options.name}=http://127.0.0.1:${etcdPeerPort}`,
        // A throwaway data dir: fsync buys nothing and costs most of the write latency.
        "--unsafe-no-fsync",
        "--quota-backend-bytes=8589934592",
        "--log-level=warn",
      ],
      logFile: join(logs, "etcd.log"),
      persistent,
    });
    const apiserver = new ManagedProcess({
      name: "kube-apiserver",
      command: options.binaries.kubeApiserver,
      args: [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiserverPort}`,
        `--cert-dir=${join(dir, "apiserver")}`,
        `--tls-cert-file=${file("apiserver.crt")}`,
        `--tls-private-key-file=${file("apiserver.key")}`,
        `--client-ca-file=${file("ca.crt")}`,
        `--token-auth-file=${file("tokens.csv")}`,
        "--enable-bootstrap-token-auth=true",
        "--authorization-mode=RBAC",
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${file("sa.pub")}`,
        `--service-account-signing-key-file=${file("sa.key")}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        "--allow-privileged=true",
        "--profiling=false",
        // The "kubernetes" Service cannot point at a loopback address, and nothing here needs it.
        "--endpoint-reconciler-type=none",
        ...(options.apiserverArgs ?? []),
      ],
      logFile: join(logs, "kube-apiserver.log"),
      persistent,
    });
    const controllerManager = new ManagedProcess({
      name: "kube-controller-manager",
      command: options.binaries.kubeControllerManager,
      args: [
        `--kubeconfig=${controllerManagerKubeconfig}`,
        `--authentication-kubeconfig=${controllerManagerKubeconfig}`,
        `--authorization-kubeconfig=${controllerManagerKubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${controllerManagerPort}`,
        `--cert-dir=${join(dir, "controller-manager")}`,
        `--controllers=${controllers.join(",")}`,
        `--cluster-signing-cert-file=${file("ca.crt")}`,
        `--cluster-signing-key-file=${file("ca.key")}`,
        `--root-ca-file=${file("ca.crt")}`,
        `--service-account-private-key-file=${file("sa.key")}`,
        "--leader-elect=false",
        "--profiling=false",
      ],
      logFile: join(logs, "kube-controller-manager.log"),
      persistent,
    });

    const plane = new ControlPlane({
      name: options.name,
      dir,
      server,
      etcdUrl,
      caPem: ca.certPem,
      adminToken,
      kubeconfig,
      kubeconfigPath,
      etcd,
      apiserver,
      controllerManager,
      readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
      ownsDir,
    });
    try {
      progress(`${options.name}: starting etcd`);
      await etcd.start();
      await waitForHttpOk(`${etcdUrl}/health`, { timeoutMs: plane.#readyTimeoutMs, process: etcd });
      progress(`${options.name}: starting kube-apiserver`);
      await plane.startApiServer();
      progress(`${options.name}: starting kube-controller-manager`);
      await controllerManager.start();
      await waitForHttpOk(`https://127.0.0.1:${controllerManagerPort}/healthz`, {
        timeoutMs: plane.#readyTimeoutMs,
        process: controllerManager,
        insecure: true,
      });
      progress(`${options.name}: ready at ${server}`);
      await writeFile(join(dir, "control-plane.json"), JSON.stringify(plane.record(), null, 2));
      return plane;
    } catch (error) {
      const logsTail = await plane.logTail(30);
      await plane.stop({ keepDir: true });
      throw new Error(`control plane ${options.name} did not start (logs in ${logs}):\n${logsTail}`, {
        cause: error,
      });
    }
  }

  record(): ControlPlaneRecord {
    return {
      name: this.name,
      dir: this.dir,
      server: this.server,
      etcdUrl: this.etcdUrl,
      kubeconfigPath: this.kubeconfigPath,
      pids: {
        etcd: this.#etcd.pid ?? 0,
        apiserver: this.#apiserver.pid ?? 0,
        controllerManager: this.#controllerManager.pid ?? 0,
      },
    };
  }

  /** Starts (or restarts, on the same port and data) kube-apiserver and waits for /readyz. */
  async startApiServer(): Promise<void> {
    await this.#apiserver.start();
    await waitForHttpOk(`${this.server}/readyz`, {
      timeoutMs: this.#readyTimeoutMs,
      process: this.#apiserver,
      caPem: this.caPem,
      token: this.adminToken,
    });
  }

  /** Stops kube-apiserver alone, leaving etcd and its data in place. */
  async stopApiServer(): Promise<void> {
    await this.#apiserver.stop();
  }

  /** Stops kube-apiserver and starts it again on the same port, certificates and data. */
  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  /**
   * Stops etcd and starts it again on the same ports and data dir, leaving kube-apiserver
   * running (it reconnects by itself); resolves once both report healthy.
   */
  async restartEtcd(): Promise<void> {
    await this.#etcd.stop();
    await this.#etcd.start();
    await waitForHttpOk(`${this.etcdUrl}/health`, { timeoutMs: this.#readyTimeoutMs, process: this.#etcd });
    await waitForHttpOk(`${this.server}/readyz`, {
      timeoutMs: this.#readyTimeoutMs,
      process: this.#apiserver,
      caPem: this.caPem,
      token: this.adminToken,
    });
  }

  /** The last lines of every component's log, for a failing test's report. */
  async logTail(lines = 40): Promise<string> {
    const parts = await Promise.all(
      ["etcd", "kube-apiserver", "kube-controller-manager"].map(async (component) => {
        const tail = await tailOfFile(join(this.dir, "logs", `${component}.log`), lines);
        return `--- ${this.name}/${component} ---\n${tail}`;
      }),
    );
    return parts.join("\n");
  }

  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    // Reverse start order: the controller manager and apiserver go before their store.
    await this.#controllerManager.stop();
    await this.#apiserver.stop();
    await this.#etcd.stop();
    if (this.#ownsDir && !options.keepDir) await rm(this.dir, { recursive: true, force: true });
  }
}

export function adminKubeconfig(name: string, server: string, caPem: string, token: string): Kubeconfig {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name, cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } },
    ],
    users: [{ name: `${name}-admin`, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
    "current-context": name,
  };
}

export async function readControlPlaneRecord(dir: string): Promise<ControlPlaneRecord> {
  return JSON.parse(await readFile(join(dir, "control-plane.json"), "utf8")) as ControlPlaneRecord;
}
