// The hub's ManifestWork admission webhook: what OCM's work webhook refuses (oversized,
// duplicate or nameless manifests, an executor the user may not act as) the API server refuses
// here too, with OCM's messages. CEL in a ValidatingAdmissionPolicy cannot measure a manifest's
// encoded size, so this is a webhook served by every hub process over TLS, registered by the
// hub itself with the CA of a serving certificate it keeps in a Secret.
import type { AddressInfo } from "node:net";
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { fastify, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { Groups, Namespaces, Resources } from "../../api/constants.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { createCertificateAuthority, issueCertificate } from "../../runtime/pki.ts";
import { reviewAdmission, type AdmissionOptions } from "./admission.ts";

export const workWebhookName = "bosun-work-validator";
export const workWebhookSecret = "bosun-work-webhook-serving-cert";
export const workWebhookPaths = {
  manifestWork: "/validate/manifestworks",
  manifestWorkReplicaSet: "/validate/manifestworkreplicasets",
} as const;
const fieldManager = "bosun-hub";

export interface ServingCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Whether a PEM certificate names `host` (a DNS name or an IP address) and is valid for another day. */
export function certificateCovers(certPem: string, host: string, nowMs: number): boolean {
  try {
    const certificate = new X509Certificate(certPem);
    if (Date.parse(certificate.validTo) - nowMs < 86_400_000) return false;
    return isIP(host) ? certificate.checkIP(host) !== undefined : certificate.checkHost(host) !== undefined;
  } catch {
    return false;
  }
}

/**
 * The webhook's serving certificate, from its Secret in the hub namespace; made (with a CA of
 * its own) when missing, expiring, or not naming `host`.
 */
export async function ensureServingCertificate(
  client: KubeApi,
  host: string,
  nowMs: number,
): Promise<ServingCertificate> {
  const ref = { apiVersion: "v1", kind: "Secret", namespace: Namespaces.hub, name: workWebhookSecret };
  const existing = await client.getOrUndefined<Unstructured & { data?: Record<string, string> }>(ref);
  const decode = (key: string) => Buffer.from(existing?.data?.[key] ?? "", "base64").toString("utf8");
  if (existing && certificateCovers(decode("tls.crt"), host, nowMs)) {
    return { caPem: decode("ca.crt"), certPem: decode("tls.crt"), keyPem: decode("tls.key") };
  }
  const ca = await createCertificateAuthority("bosun-work-webhook-ca");
  const leaf = await issueCertificate(ca, {
    commonName: host,
    ...(isIP(host) ? { ipAddresses: [host] } : { dnsNames: [host] }),
    server: true,
  });
  const encode = (text: string) => Buffer.from(text).toString("base64");
  await applyServerSide(
    client,
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: workWebhookSecret, namespace: Namespaces.hub },
      type: "kubernetes.io/tls",
      data: { "ca.crt": encode(ca.certPem), "tls.crt": encode(leaf.certPem), "tls.key": encode(leaf.keyPem) },
    },
    { fieldManager, force: true },
  );
  return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

/** A Service of the cluster, as a webhook's clientConfig.service names it. */
export interface ServiceReference {
  namespace: string;
  name: string;
  port: number;
  /** The URL's path, without a trailing slash; absent when it has none. */
  path?: string;
}

/**
 * The Service a webhook URL names by its cluster DNS name, `https://<name>.<namespace>.svc`
 * (any port and path); undefined for any other URL.
 */
export function serviceOfUrl(url: string): ServiceReference | undefined {
  const parsed = new URL(url);
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc$/.exec(
    parsed.hostname,
  );
  if (parsed.protocol !== "https:" || !match) return undefined;
  const path = parsed.pathname.replace(/\/+$/, "");
  return {
    name: match[1]!,
    namespace: match[3]!,
    port: parsed.port ? Number(parsed.port) : 443,
    ...(path ? { path } : {}),
  };
}

/**
 * The ValidatingWebhookConfiguration that sends ManifestWorks and replica sets to `url`. A URL
 * naming a Service (`https://<name>.<namespace>.svc:<port>`) is registered as that Service:
 * kube-apiserver cannot resolve cluster DNS names in a webhook's `url`, but reaches a Service
 * it is given by reference, and checks the serving certificate against that same name.
 */
export function workWebhookConfiguration(url: string, caPem: string): Unstructured {
  const base = url.replace(/\/+$/, "");
  const service = serviceOfUrl(url);
  const caBundle = Buffer.from(caPem).toString("base64");
  const clientConfig = (path: string) =>
    service
      ? { service: { ...service, path: `${service.path ?? ""}${path}` }, caBundle }
      : { url: `${base}${path}`, caBundle };
  const webhook = (name: string, path: string, version: string, resource: string) => ({
    name,
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: "Fail",
    timeoutSeconds: 10,
    clientConfig: clientConfig(path),
    rules: [
      {
        apiGroups: [Groups.work],
        apiVersions: [version],
        operations: ["CREATE", "UPDATE"],
        resources: [resource],
        scope: "Namespaced",
      },
    ],
  });
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: workWebhookName },
    webhooks: [
      webhook(
        "manifestworkvalidators.admission.work.open-cluster-management.io",
        workWebhookPaths.manifestWork,
        "v1",
        Resources.ManifestWork.plural,
      ),
      webhook(
        "manifestworkreplicasetvalidators.admission.work.open-cluster-management.io",
        workWebhookPaths.manifestWorkReplicaSet,
        "v1alpha1",
        Resources.ManifestWorkReplicaSet.plural,
      ),
    ],
  };
}

export interface WorkWebhookOptions {
  client: KubeApi;
  logger: Logger;
  manifestLimitBytes: number;
  certificate: ServingCertificate;
}

/** Asks the API server whether `user` may `execute-as` the executor, as OCM's webhook does. */
function executeAsReviewer(client: KubeApi): AdmissionOptions["mayExecuteAs"] {
  return async (review, user) => {
    const answer = await client.create<Unstructured & { status?: { allowed?: boolean } }>({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: {},
      spec: {
        user: user.username,
        uid: user.uid,
        groups: user.groups,
        extra: user.extra,
        resourceAttributes: review.resourceAttributes,
      },
    });
    return answer.status?.allowed === true;
  };
}

export class WorkWebhookServer {
  readonly #app: FastifyInstance;

  constructor(options: WorkWebhookOptions) {
    // A request may carry up to the API server's 3 MiB: the size check, not the body limit,
    // must answer an oversized work.
    this.#app = fastify({
      logger: false,
      bodyLimit: 4 * 1024 * 1024,
      // "__proto__" and "constructor" are valid keys of a Kubernetes object (a ConfigMap's data,
      // an unknown field): refusing them would refuse the write. JSON.parse makes them plain own
      // properties, and nothing here merges a body into another object.
      onProtoPoisoning: "ignore",
      onConstructorPoisoning: "ignore",
      https: { cert: options.certificate.certPem, key: options.certificate.keyPem },
    });
    const admission: AdmissionOptions = {
      manifestLimitBytes: options.manifestLimitBytes,
      mayExecuteAs: executeAsReviewer(options.client),
    };
    for (const path of Object.values(workWebhookPaths)) {
      this.#app.post(path, async (request) => {
        const review = await reviewAdmission(request.body, admission);
        if (review.response && !review.response.allowed)
          options.logger.info({ path, message: review.response.status?.message }, "admission denied");
        return review;
      });
    }
    this.#app.setErrorHandler(async (error, request, reply) => {
      options.logger.error({ err: error, url: request.url }, "admission request failed");
      return reply.code(500).send({ message: error instanceof Error ? error.message : "internal error" });
    });
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await this.#app.listen({ host, port });
    const address = this.#app.server.address() as AddressInfo;
    return { host, port: address.port };
  }

  async close(): Promise<void> {
    await this.#app.close();
  }
}

/**
 * Serves the webhook on `host:port` and registers it at `url` (default: `https://host:port`).
 * Returns the running server and the URL it is registered at.
 */
export async function startWorkWebhook(options: {
  client: KubeApi;
  logger: Logger;
  manifestLimitBytes: number;
  host: string;
  port: number;
  url?: string;
  nowMs: number;
}): Promise<{ server: WorkWebhookServer; url: string }> {
  const advertised = options.url ? new URL(options.url) : undefined;
  const certificate = await ensureServingCertificate(
    options.client,
    advertised?.hostname.replace(/^\[|\]$/g, "") ?? options.host,
    options.nowMs,
  );
  const server = new WorkWebhookServer({ ...options, certificate });
  const bound = await server.listen(options.host, options.port);
  const url =
    options.url ?? `https://${bound.host.includes(":") ? `[${bound.host}]` : bound.host}:${bound.port}`;
  try {
    await applyServerSide(options.client, workWebhookConfiguration(url, certificate.caPem), {
      fieldManager,
      force: true,
    });
  } catch (error) {
    await server.close();
    if (error instanceof KubeApiError)
      throw new Error(`registering the work webhook failed: ${error.message}`, { cause: error });
    throw error;
  }
  return { server, url };
}
