// Kubernetes built-in kinds bosun reads and writes, with the fields it uses.
import type { KubeObject, ObjectMeta, Time } from "./meta.ts";

export interface CertificateSigningRequestCondition {
  /** Approved, Denied or Failed. */
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: Time;
  lastTransitionTime?: Time;
}

/** certificates.k8s.io/v1 CertificateSigningRequest. */
export interface CertificateSigningRequest extends KubeObject {
  apiVersion: "certificates.k8s.io/v1";
  kind: "CertificateSigningRequest";
  metadata: ObjectMeta;
  spec: {
    /** A base64-encoded PEM block of type CERTIFICATE REQUEST. */
    request: string;
    signerName: string;
    usages?: string[];
    expirationSeconds?: number;
    /** Who created the request; the API server fills in these and ignores what clients send. */
    username?: string;
    groups?: string[];
  };
  status?: {
    conditions?: CertificateSigningRequestCondition[];
    /** The issued certificate, base64-encoded PEM. */
    certificate?: string;
  };
}

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime. */
  acquireTime?: string;
  /** MicroTime. */
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

/** coordination.k8s.io/v1 Lease. */
export interface Lease extends KubeObject {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: ObjectMeta;
  spec?: LeaseSpec;
}
