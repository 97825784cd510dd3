// OCM's admission webhooks (`registration webhook-server`, `work webhook-server`) on a hub that
// runs off-cluster: serving a certificate for 127.0.0.1 from a CA made here, and registered with
// the webhook configurations of OCM's own cluster-manager manifests, their service references
// turned into URLs. Each server binds fixed health and metrics ports (:8000, :8080), so each runs
// in a network namespace of its own, reached through Unix sockets (socket-relay.ts) both ways:
// the API server calls 127.0.0.1:<free port>, the server calls the API server at its usual URL.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import type { Server } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { Namespaces } from "../../../api/constants.ts";
import type { OcmBinaries } from "../../../local/ocm/binaries.ts";
import { freePort } from "../../../local/ports.ts";
import { ManagedProcess, tailOfFile } from "../../../local/process.ts";
import { applyServerSide } from "../../../runtime/apply.ts";
import type { KubeClient } from "../../../runtime/kube/client.ts";
import type { Unstructured } from "../../../runtime/kube/types.ts";
import { createCertificateAuthority, issueCertificate } from "../../../runtime/pki.ts";
import { relay } from "./socket-relay.ts";

const fieldManager = "bosun-compat";
const relayScript = join(import.meta.dirname, "socket-relay.ts");
/** The port each server listens on inside its own namespace. */
const innerPort = 9443;

/** Each server, the manifests that register it, and the service name they call it by. */
const servers = [
  {
    binary: "registration",
    service: "cluster-manager-registration-webhook",
    manifests: [
      "cluster-manager-registration-webhook-validatingconfiguration.yaml",
      "cluster-manager-registration-webhook-mutatingconfiguration.yaml",
      "cluster-manager-registration-webhook-clustersetbinding-validatingconfiguration.yaml",
    ],
  },
  {
    binary: "work",
    service: "cluster-manager-work-webhook",
    manifests: ["cluster-manager-work-webhook-validatingconfiguration.yaml"],
  },
] as const;

/** One webhook server: its process in its namespace and the host side of its relays. */
class WebhookServer {
  readonly name: string;
  readonly logFile: string;
  readonly port: number;
  readonly #process: ManagedProcess;
  readonly #relays: Server[];

  constructor(name: string, logFile: string, port: number, process: ManagedProcess, relays: Server[]) {
    this.name = name;
    this.logFile = logFile;
    this.port = port;
    this.#process = process;
    this.#relays = relays;
  }

  get exited(): { code: number | null } | undefined {
    return this.#process.exited;
  }

  async logTail(lines = 30): Promise<string> {
    return `--- ${this.name} (${this.logFile}) ---\n${await tailOfFile(this.logFile, lines)}`;
  }

  async stop(): Promise<void> {
    await this.#process.stop(5_000);
    await Promise.all(this.#relays.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export interface OcmWebhooks {
  servers: readonly WebhookServer[];
  /** The webhook configurations registered on the hub, by kind and name. */
  configurations: readonly { kind: string; name: string }[];
  stop(): Promise<void>;
}

export interface OcmWebhookOptions {
  /** The hub's kubeconfig (an admin's, as the cluster-manager's webhook identity may do more). */
  hubKubeconfig: string;
  /** The hub API server's URL, as that kubeconfig names it (https://127.0.0.1:<port>). */
  hubServer: string;
  dir: string;
}

/**
 * Starts both webhook servers, waits until each answers over TLS, and registers OCM's webhook
 * configurations for them on the hub.
 */
export async function startOcmWebhooks(
  hub: KubeClient,
  binaries: OcmBinaries,
  options: OcmWebhookOptions,
): Promise<OcmWebhooks> {
  const dir = join(options.dir, "ocm-webhooks");
  await mkdir(dir, { recursive: true });
  const ca = await createCertificateAuthority("ocm-webhooks");
  const serving = await issueCertificate(ca, {
    commonName: "127.0.0.1",
    ipAddresses: ["127.0.0.1"],
    server: true,
  });
  const certDir = join(dir, "serving-certs");
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, "tls.crt"), serving.certPem, { mode: 0o600 });
  await writeFile(join(certDir, "tls.key"), serving.keyPem, { mode: 0o600 });
  const hubAddress = new URL(options.hubServer);
  if (hubAddress.hostname !== "127.0.0.1")
    throw new Error(`the hub is not on loopback: ${options.hubServer}`);
  const hubPort = Number(hubAddress.port);

  const started: WebhookServer[] = [];
  const configurations: { kind: string; name: string }[] = [];
  try {
    for (const server of servers) {
      const name = `ocm-${server.binary}-webhook`;
      const apiSocket = join(dir, `${server.binary}-api.sock`);
      const webhookSocket = join(dir, `${server.binary}-webhook.sock`);
      const port = await freePort();
      const hostRelays = [
        await relay({ path: apiSocket }, { host: "127.0.0.1", port: hubPort }),
        await relay({ host: "127.0.0.1", port }, { path: webhookSocket }),
      ];
      const logFile = join(dir, `${name}.log`);
      const inner = [
        process.execPath,
        relayScript,
        `127.0.0.1:${hubPort}`,
        apiSocket,
        webhookSocket,
        `127.0.0.1:${innerPort}`,
        "--",
        binaries.path(server.binary),
        "webhook-server",
        `--kubeconfig=${options.hubKubeconfig}`,
        `--port=${innerPort}`,
        `--certdir=${certDir}`,
      ];
      const managed = new ManagedProcess({
        name,
        command: "unshare",
        // A user namespace too, so that no privilege is needed for the network namespace.
        args: [
          "--user",
          "--map-root-user",
          "--net",
          "sh",
          "-c",
          'ip link set lo up && exec "$@"',
          "sh",
          ...inner,
        ],
        logFile,
        persistent: false,
      });
      await managed.start();
      const webhook = new WebhookServer(name, logFile, port, managed, hostRelays);
      started.push(webhook);
      await waitUntilServing(webhook, ca.certPem);
    }

    const templates = join(binaries.ocmModuleDir, "manifests/cluster-manager/hub");
    const caBundle = Buffer.from(ca.certPem).toString("base64");
    for (const server of servers) {
      for (const file of server.manifests) {
        const configuration = renderConfiguration(
          await readFile(join(templates, file), "utf8"),
          file,
          caBundle,
          (service, path) => {
            const target = servers.findIndex((candidate) => candidate.service === service);
            if (target < 0) throw new Error(`${file}: calls an unknown service ${service}`);
            return `https://127.0.0.1:${started[target]!.port}${path}`;
          },
        );
        await applyServerSide(hub, configuration, { fieldManager, force: true });
        configurations.push({ kind: configuration.kind, name: configuration.metadata.name! });
      }
    }
  } catch (error) {
    for (const webhook of started) await webhook.stop();
    throw error;
  }

  return {
    servers: started,
    configurations,
    async stop() {
      for (const { kind, name } of configurations)
        await hub
          .delete({ apiVersion: "admissionregistration.k8s.io/v1", kind, name })
          .catch(() => undefined);
      for (const webhook of started) await webhook.stop();
    },
  };
}

/**
 * One of OCM's webhook configuration templates with its template parts filled in: no extra
 * labels, and each webhook's service reference replaced by the URL `urlOf` gives for it.
 */
export function renderConfiguration(
  template: string,
  file: string,
  caBundle: string,
  urlOf: (service: string, path: string) => string,
): Unstructured {
  const text = template
    .split("\n")
    .filter((line) => !/^\s*\{\{-?\s*(if|range|end)\b/.test(line) && !line.includes("{{ $key }}"))
    .join("\n")
    .replaceAll("{{ .ClusterManagerNamespace }}", Namespaces.hub)
    .replaceAll("{{.RegistrationWebhook.Port}}", String(innerPort))
    .replaceAll("{{ .RegistrationAPIServiceCABundle }}", caBundle);
  if (text.includes("{{")) throw new Error(`${file}: template parts left after rendering`);
  const configuration = parse(text) as Unstructured & {
    webhooks: {
      clientConfig: { service?: { name: string; path: string }; url?: string; caBundle: string };
    }[];
  };
  if (!configuration.metadata.labels) delete configuration.metadata.labels;
  for (const webhook of configuration.webhooks) {
    const service = webhook.clientConfig.service;
    if (!service) throw new Error(`${file}: a webhook without a service reference`);
    webhook.clientConfig = { url: urlOf(service.name, service.path), caBundle };
  }
  return configuration;
}

/** Waits until the server completes a TLS handshake with the certificate for 127.0.0.1. */
async function waitUntilServing(webhook: WebhookServer, caPem: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const failure = await new Promise<Error | undefined>((resolve) => {
      const probe = request(
        { host: "127.0.0.1", port: webhook.port, path: "/", method: "GET", ca: caPem, timeout: 2_000 },
        (response) => {
          response.resume();
          resolve(undefined);
        },
      );
      probe.on("timeout", () => probe.destroy(new Error("timed out")));
      probe.on("error", resolve);
      probe.end();
    });
    if (!failure) return;
    if (webhook.exited || Date.now() > deadline)
      throw new Error(`${webhook.name} is not serving:\n${await webhook.logTail()}`, { cause: failure });
    await sleep(200);
  }
}

/** What OCM's webhooks answer to a dry run of an object only they refuse; undefined if admitted. */
export interface WebhookRefusals {
  /** A ManagedCluster whose client config URL is not https. */
  managedCluster?: string;
  /** A ManifestWork whose manifest has no name. */
  manifestWork?: string;
}

export async function webhookRefusals(hub: KubeClient): Promise<WebhookRefusals> {
  const refusal = async (object: Unstructured) => {
    try {
      await hub.create(object, { dryRun: true });
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
  return {
    managedCluster: await refusal({
      apiVersion: "cluster.open-cluster-management.io/v1",
      kind: "ManagedCluster",
      metadata: { name: "webhook-probe" },
      spec: { hubAcceptsClient: false, managedClusterClientConfigs: [{ url: "http://plain.example.com" }] },
    }),
    manifestWork: await refusal({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: "webhook-probe", namespace: Namespaces.hub },
      spec: {
        workload: {
          manifests: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "default" } }],
        },
      },
    }),
  };
}
