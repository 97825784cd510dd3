// The agent's hub identity without I/O: its name, the CSR it asks for, whether a stored
// certificate is still good, when to rotate it, and when to stop asking.
import { Annotations, Csr, Labels, SecretKeys, csrSubject } from "../../api/constants.ts";
import { csrPhase } from "../../api/csr.ts";
import type { ClientConfig } from "../../api/types/cluster.ts";
import type { CertificateSigningRequest } from "../../api/types/kube.ts";
import { certificateMatchesKey, readCertificate, type CertificateInfo, type Subject } from "./certificate.ts";
import { hubEndpoint, sameEndpoint, type HubEndpoint } from "./kubeconfig.ts";

export const csrApiVersion: CertificateSigningRequest["apiVersion"] = "certificates.k8s.io/v1";
export const csrKind: CertificateSigningRequest["kind"] = "CertificateSigningRequest";

/** The characters Kubernetes uses for random name suffixes (no vowels, no look-alikes). */
const agentNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
export const agentNameLength = 5;

export function randomAgentName(random: () => number = Math.random): string {
  let name = "";
  for (let i = 0; i < agentNameLength; i++) {
    name += agentNameAlphabet[Math.floor(random() * agentNameAlphabet.length)] ?? "b";
  }
  return name;
}

export function agentSubject(clusterName: string, agentName: string): Subject {
  return csrSubject(clusterName, agentName);
}

/** Checks `expirationSeconds`: 0 leaves the lifetime to the signer, otherwise at least 3600. */
export function validateExpirationSeconds(value: number): number {
  if (!Number.isInteger(value) || value < 0 || (value > 0 && value < Csr.minExpirationSeconds)) {
    throw new RangeError(
      `expirationSeconds must be 0 or an integer >= ${Csr.minExpirationSeconds}, got ${value}`,
    );
  }
  return value;
}

export type { CertificateSigningRequest };

export function certificateSigningRequest(
  clusterName: string,
  csrPem: string,
  expirationSeconds: number,
): CertificateSigningRequest {
  return {
    apiVersion: csrApiVersion,
    kind: csrKind,
    metadata: { generateName: `${clusterName}-`, labels: { [Labels.clusterName]: clusterName } },
    spec: {
      request: Buffer.from(csrPem).toString("base64"),
      signerName: Csr.signerName,
      usages: [...Csr.usages],
      ...(expirationSeconds > 0 ? { expirationSeconds } : {}),
    },
  };
}

/** The label selector of the cluster's own (non add-on) CSRs. */
export function clusterCsrSelector(clusterName: string): string {
  return `${Labels.clusterName}=${clusterName},!${Labels.addonName}`;
}

/** A CSR this agent may have made: the cluster label, no add-on label, named `<cluster>-…`. */
export function isClusterCsr(csr: CertificateSigningRequest, clusterName: string): boolean {
  const labels = csr.metadata.labels ?? {};
  return (
    labels[Labels.clusterName] === clusterName &&
    !(Labels.addonName in labels) &&
    (csr.metadata.name ?? "").startsWith(`${clusterName}-`)
  );
}

/** True when the hub already holds the threshold of pending CSRs for the cluster. */
export function shouldHaltCsrCreation(
  csrs: readonly CertificateSigningRequest[],
  clusterName: string,
): boolean {
  const pending = csrs.filter((csr) => {
    const labels = csr.metadata.labels ?? {};
    return (
      labels[Labels.clusterName] === clusterName &&
      !(Labels.addonName in labels) &&
      csrPhase(csr) === "pending"
    );
  });
  return pending.length >= Csr.clusterCsrThreshold;
}

/** Decoded values of the hub secret. */
export type SecretData = Partial<Record<string, string>>;

export function decodeSecretData(data: Record<string, string> | undefined): SecretData {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]),
  );
}

export function encodeSecretData(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString("base64")]),
  );
}

export type StoredCredentials =
  | { valid: true; certificate: CertificateInfo; certPem: string; keyPem: string; endpoint: HubEndpoint }
  | { valid: false; reason: string };

export interface ExpectedIdentity {
  clusterName: string;
  agentName: string;
  /** The hub the bootstrap kubeconfig names; the stored kubeconfig must point at it too. */
  endpoint?: HubEndpoint;
}

/**
 * Whether the stored hub secret holds usable credentials for this cluster and agent: a
 * certificate that is valid now, with the agent's subject, whose key is stored beside it, and
 * the same cluster name, agent name and hub as expected.
 */
export function evaluateStoredCredentials(
  data: SecretData,
  expected: ExpectedIdentity,
  nowMs: number,
): StoredCredentials {
  const certPem = data[SecretKeys.tlsCert];
  const keyPem = data[SecretKeys.tlsKey];
  const kubeconfig = data[SecretKeys.kubeconfig];
  if (!certPem || !keyPem || !kubeconfig) return { valid: false, reason: "no client certificate is stored" };
  let certificate: CertificateInfo;
  try {
    certificate = readCertificate(certPem);
  } catch (error) {
    return { valid: false, reason: `${SecretKeys.tlsCert}: ${(error as Error).message}` };
  }
  if (nowMs < certificate.notBeforeMs)
    return { valid: false, reason: "the client certificate is not valid yet" };
  if (nowMs >= certificate.notAfterMs) return { valid: false, reason: "the client certificate has expired" };
  const subject = agentSubject(expected.clusterName, expected.agentName);
  if (certificate.commonName !== subject.commonName)
    return {
      valid: false,
      reason: `the client certificate is issued to ${certificate.commonName}, not ${subject.commonName}`,
    };
  if (!subject.organizations.every((organization) => certificate.organizations.includes(organization)))
    return { valid: false, reason: "the client certificate's organizations do not match the cluster" };
  if (!certificateMatchesKey(certPem, keyPem))
    return { valid: false, reason: "the stored key does not belong to the client certificate" };
  if (data[SecretKeys.clusterName] !== expected.clusterName)
    return { valid: false, reason: `${SecretKeys.clusterName} differs` };
  if (data[SecretKeys.agentName] !== expected.agentName)
    return { valid: false, reason: `${SecretKeys.agentName} differs` };
  let endpoint: HubEndpoint;
  try {
    endpoint = hubEndpoint(kubeconfig);
  } catch (error) {
    return { valid: false, reason: `${SecretKeys.kubeconfig}: ${(error as Error).message}` };
  }
  if (expected.endpoint && !sameEndpoint(endpoint, expected.endpoint))
    return {
      valid: false,
      reason: "the stored kubeconfig points at another hub than the bootstrap kubeconfig",
    };
  return { valid: true, certificate, certPem, keyPem, endpoint };
}

/** 0.2 plus up to a quarter of it: the share of lifetime left at which to rotate. In [0.20, 0.25). */
export function rotationThreshold(random: () => number = Math.random): number {
  return 0.2 + 0.2 * random() * 0.25;
}

/** The moment the remaining share of the certificate's lifetime reaches `threshold`. */
export function rotationDueAtMs(
  certificate: Pick<CertificateInfo, "notBeforeMs" | "notAfterMs">,
  threshold: number,
): number {
  const total = certificate.notAfterMs - certificate.notBeforeMs;
  return certificate.notAfterMs - total * threshold;
}

/** A UTC instant as Go prints a time.Time with %v: `2026-12-07 01:52:05 +0000 UTC`. */
export function goUtcTimeString(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-07T01:52:05.000Z
  const fraction = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ""} +0000 UTC`;
}

/** The ClusterCertificateRotated message, with the certificate's validity as OCM's agent words it. */
export function certificateRotatedMessage(notBeforeMs: number, notAfterMs: number): string {
  return `client certificate rotated starting from ${goUtcTimeString(notBeforeMs)} to ${goUtcTimeString(notAfterMs)}`;
}

/** Only annotations with the agent prefix go on the ManagedCluster. */
export function agentAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([key]) => key.startsWith(Annotations.agentPrefix)),
  );
}

/** The client configs with every wanted URL that is missing appended; `changed` when any was. */
export function mergeClientConfigs(
  existing: readonly ClientConfig[] | undefined,
  wanted: readonly ClientConfig[],
): { configs: ClientConfig[]; changed: boolean } {
  const configs = [...(existing ?? [])];
  const known = new Set(configs.map((config) => config.url));
  let changed = false;
  for (const config of wanted) {
    if (known.has(config.url)) continue;
    configs.push(config);
    known.add(config.url);
    changed = true;
  }
  return { configs, changed };
}
