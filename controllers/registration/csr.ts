// Which CertificateSigningRequests the hub may approve for a cluster. Every check is OCM's;
// bosun also insists on the exact key usages, so that no approved certificate can serve as
// anything but an agent's client identity.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { Csr, Labels } from "../../api/constants.ts";
import type { CertificateSigningRequest } from "../../api/types/kube.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { formatTime } from "../../runtime/time.ts";

export type { CertificateSigningRequest };

export interface RequestSubject {
  commonName: string;
  organizations: string[];
}

export type CsrVerdict = { valid: true; cluster: string; agent: string } | { valid: false; reason: string };

/** The subject of a base64-encoded PEM CSR, or an error naming what is wrong with it. */
export function parseRequest(base64Request: string): RequestSubject | Error {
  const pem = Buffer.from(base64Request, "base64").toString("utf8");
  const block = /-----BEGIN ([A-Z ]+)-----/.exec(pem);
  if (!block || block[1] !== Csr.pemBlockType) {
    return new Error(`spec.request is not a PEM block of type "${Csr.pemBlockType}"`);
  }
  try {
    const request = new x509.Pkcs10CertificateRequest(pem);
    const subject = request.subjectName;
    return {
      commonName: subject.getField("CN")[0] ?? "",
      organizations: subject.getField("O"),
    };
  } catch (error) {
    return new Error("spec.request cannot be parsed as a PKCS#10 certificate request", { cause: error });
  }
}

/**
 * Whether `csr` is a well-formed request for an agent identity of the cluster its label
 * names: the right signer and usages, a subject of exactly
 * CN=system:open-cluster-management:<cluster>:<agent>, O=system:open-cluster-management:<cluster>
 * (plus the managed-clusters group).
 */
export function checkClusterCsr(csr: CertificateSigningRequest, subject: RequestSubject | Error): CsrVerdict {
  const cluster = csr.metadata.labels?.[Labels.clusterName];
  if (!cluster) return { valid: false, reason: `the CSR has no ${Labels.clusterName} label` };
  if (csr.spec.signerName !== Csr.signerName) {
    return { valid: false, reason: `spec.signerName is "${csr.spec.signerName}", not "${Csr.signerName}"` };
  }
  const usages = [...(csr.spec.usages ?? [])].sort();
  const expectedUsages = [...Csr.usages].sort();
  if (
    usages.length !== expectedUsages.length ||
    usages.some((usage, index) => usage !== expectedUsages[index])
  ) {
    return { valid: false, reason: `spec.usages must be exactly [${Csr.usages.join(", ")}]` };
  }
  if (subject instanceof Error) return { valid: false, reason: subject.message };
  const organizations = subject.organizations.filter((org) => org !== Csr.managedClustersGroup);
  if (organizations.length !== 1 || organizations[0] !== `${Csr.subjectPrefix}${cluster}`) {
    return { valid: false, reason: `the subject's organizations must be [${Csr.subjectPrefix}${cluster}]` };
  }
  if (!subject.commonName.startsWith(Csr.subjectPrefix)) {
    return { valid: false, reason: `the subject's common name must start with ${Csr.subjectPrefix}` };
  }
  const parts = subject.commonName.slice(Csr.subjectPrefix.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    return {
      valid: false,
      reason: `the subject's common name must be ${Csr.subjectPrefix}<cluster>:<agent>`,
    };
  }
  if (parts[0] !== cluster) {
    return {
      valid: false,
      reason: `the subject names cluster "${parts[0]}" but the label names "${cluster}"`,
    };
  }
  return { valid: true, cluster, agent: parts[1] };
}

/** A renewal is requested with the agent's current certificate: the requester is the CN itself. */
export function isRenewalRequest(csr: CertificateSigningRequest, subject: RequestSubject): boolean {
  return csr.spec.username === subject.commonName;
}

/** Requests made with a bootstrap credential (a bootstrap token or the bootstrap service account). */
export function isBootstrapRequester(csr: CertificateSigningRequest): boolean {
  const username = csr.spec.username ?? "";
  const groups = csr.spec.groups ?? [];
  const bootstrapUser =
    username.startsWith(Csr.bootstrapUserPrefix) || username === Csr.bootstrapServiceAccountUser;
  const bootstrapGroup =
    groups.includes(Csr.bootstrapGroup) ||
    Csr.bootstrapServiceAccountGroups.some((group) => groups.includes(group));
  return bootstrapUser && bootstrapGroup;
}

function approvalCondition(reason: string, message: string, nowMs: number) {
  return { type: "Approved", status: "True", reason, message, lastUpdateTime: formatTime(nowMs) };
}

/** Approves a CSR through its approval subresource; the signer then issues the certificate. */
export async function approveCsr(
  client: KubeApi,
  csr: CertificateSigningRequest,
  reason: string,
  message: string,
  nowMs: number,
): Promise<void> {
  const conditions = [...(csr.status?.conditions ?? []), approvalCondition(reason, message, nowMs)];
  await client.replace({ ...csr, status: { ...csr.status, conditions } }, { subresource: "approval" });
}
