// Keys, certificate requests and certificate checks for the agent's hub identity.
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

const crypto = webcrypto;
const ecdsa = { name: "ECDSA", namedCurve: "P-256" } as const;
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" } as const;

export interface Subject {
  commonName: string;
  organizations: string[];
}

export interface KeyAndRequest {
  /** PKCS #8 PEM. Held in memory until the certificate is issued; never logged. */
  keyPem: string;
  /** PEM "CERTIFICATE REQUEST". */
  csrPem: string;
}

/** A fresh EC P-256 key and a certificate request for `subject` signed with it. */
export async function createKeyAndRequest(subject: Subject): Promise<KeyAndRequest> {
  const keys = await crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"]);
  const request = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: [
        ...subject.organizations.map((organization) => ({ O: [organization] })),
        { CN: [subject.commonName] },
      ],
      keys,
      signingAlgorithm,
    },
    crypto,
  );
  const der = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keyPem: x509.PemConverter.encode(der, "PRIVATE KEY"), csrPem: request.toString("pem") };
}

export interface CertificateInfo {
  commonName: string;
  organizations: string[];
  notBeforeMs: number;
  notAfterMs: number;
  issuer: string;
}

/** Reads the first certificate of a PEM bundle; throws a clear error when there is none. */
export function readCertificate(pem: string): CertificateInfo {
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(firstPemBlock(pem, "CERTIFICATE"));
  } catch (error) {
    throw new Error("the data is not a PEM certificate", { cause: error });
  }
  const name = certificate.subjectName;
  return {
    commonName: name.getField("CN")[0] ?? "",
    organizations: name.getField("O"),
    notBeforeMs: certificate.notBefore.getTime(),
    notAfterMs: certificate.notAfter.getTime(),
    issuer: certificate.issuer,
  };
}

/** True when `keyPem` (PKCS #8 or SEC 1) is the private key of the certificate's public key. */
export function certificateMatchesKey(certPem: string, keyPem: string): boolean {
  try {
    const certificate = new x509.X509Certificate(firstPemBlock(certPem, "CERTIFICATE"));
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
    return Buffer.from(certificate.publicKey.rawData).equals(fromKey);
  } catch {
    return false;
  }
}

/** True when the certificate was issued by (its signature verifies with) `caPem`. */
export async function isIssuedBy(certPem: string, caPem: string): Promise<boolean> {
  const certificate = new x509.X509Certificate(firstPemBlock(certPem, "CERTIFICATE"));
  const ca = new x509.X509Certificate(firstPemBlock(caPem, "CERTIFICATE"));
  return certificate.verify({ publicKey: ca.publicKey, signatureOnly: true }, crypto);
}

function firstPemBlock(pem: string, type: string): string {
  const match = new RegExp(`-----BEGIN ${type}-----[\\s\\S]+?-----END ${type}-----`).exec(pem);
  if (!match) throw new Error(`no PEM block of type ${type}`);
  return match[0];
}
