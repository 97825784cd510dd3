// The state of a CertificateSigningRequest, decided once for every reader (the hub's approver,
// the agent waiting for its certificate, `bosun accept`).
import { CsrConditionTypes } from "./constants.ts";
import type { CertificateSigningRequest } from "./types/kube.ts";

export type CsrPhase = "pending" | "approved" | "issued" | "denied" | "failed";

function hasCondition(csr: CertificateSigningRequest, type: string): boolean {
  return (csr.status?.conditions ?? []).some(
    (condition) => condition.type === type && condition.status !== "False",
  );
}

/** Denied and Failed win over Approved; issued means approved with a certificate. */
export function csrPhase(csr: CertificateSigningRequest): CsrPhase {
  if (hasCondition(csr, CsrConditionTypes.denied)) return "denied";
  if (hasCondition(csr, CsrConditionTypes.failed)) return "failed";
  if (hasCondition(csr, CsrConditionTypes.approved)) return csr.status?.certificate ? "issued" : "approved";
  return "pending";
}

/** Neither approved, denied nor failed yet. */
export function isPending(csr: CertificateSigningRequest): boolean {
  return csrPhase(csr) === "pending";
}
