// An agent's identity on a real hub, made by hand as a test needs it: a key, a CSR for any
// subject, label and signer (forged ones included), kubeconfigs for a certificate or a token,
// and the assertion that the API server refused a request.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { stringify } from "yaml";
import { Csr, Labels } from "../../api/constants.ts";
import type { CertificateSigningRequest } from "../../controllers/registration/csr.ts";
import { KubeApiError } from "../../runtime/errors.ts";

export interface AgentKey {
  keys: webcrypto.CryptoKeyPair;
  keyPem: string;
}

export async function agentKey(): Promise<AgentKey> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const der = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keys, keyPem: x509.PemConverter.encode(der, "PRIVATE KEY") };
}

/** A CSR for `subject`, labelled for `labelCluster`, with OCM's signer and usages unless overridden. */
export async function csrFor(
  key: AgentKey,
  labelCluster: string,
  subject: string,
  overrides: Partial<CertificateSigningRequest["spec"]> = {},
): Promise<CertificateSigningRequest> {
  const request = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: subject, keys: key.keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } },
    webcrypto,
  );
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { generateName: `${labelCluster}-`, labels: { [Labels.clusterName]: labelCluster } },
    spec: {
      request: Buffer.from(request.toString("pem")).toString("base64"),
      signerName: Csr.signerName,
      usages: [...Csr.usages],
      expirationSeconds: 3600,
      ...overrides,
    },
  };
}

/** The subject OCM's agent asks for: the cluster's two groups and `<cluster>:<agent>`. */
export const agentSubject = (cluster: string, agent = "agent1") =>
  `O=system:open-cluster-management:${cluster}, O=system:open-cluster-management:managed-clusters, CN=system:open-cluster-management:${cluster}:${agent}`;

export function kubeconfigWith(server: string, caPem: string, user: Record<string, string>): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "hub",
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: "u", user }],
    contexts: [{ name: "c", context: { cluster: "hub", user: "u" } }],
    "current-context": "c",
  });
}

/** The kubeconfig of a client certificate and its key. */
export function certificateKubeconfig(
  server: string,
  caPem: string,
  certPem: string,
  keyPem: string,
): string {
  return kubeconfigWith(server, caPem, {
    "client-certificate-data": Buffer.from(certPem).toString("base64"),
    "client-key-data": Buffer.from(keyPem).toString("base64"),
  });
}

export async function expectForbidden(promise: Promise<unknown>, what?: string): Promise<void> {
  await assert.rejects(
    promise,
    (error: unknown) => error instanceof KubeApiError && error.status === 403,
    what ? `${what}: not refused with 403` : undefined,
  );
}
