// Certificates and keys for a local control plane: one CA that is the apiserver's
// serving CA, its client CA and kube-controller-manager's CSR signing CA, so that
// certificates the CSR signer issues authenticate against the same apiserver.
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import * as x509 from "@peculiar/x509";

const crypto = webcrypto;
const ecdsa = { name: "ECDSA", namedCurve: "P-256" } as const;
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" } as const;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"]);
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

export async function publicKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("spki", key);
  return x509.PemConverter.encode(der, "PUBLIC KEY");
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Backdated by an hour so that small clock differences between processes never
  // make a fresh certificate "not yet valid".
  const notBefore = new Date(Date.now() - 3600_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86400_000) };
}

export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${commonName}`,
      keys,
      signingAlgorithm,
      ...validity(3650),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return {
    keys,
    certificate,
    certPem: certificate.toString("pem"),
    keyPem: await privateKeyPem(keys.privateKey),
  };
}

export interface LeafRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  server?: boolean;
  client?: boolean;
  days?: number;
}

function distinguishedName(commonName: string, organizations: string[]): string {
  const escape = (value: string) => value.replace(/([,+"\\<>;=])/g, "\\$1");
  return [...organizations.map((o) => `O=${escape(o)}`), `CN=${escape(commonName)}`].join(", ");
}

export async function issueCertificate(ca: CertificateAuthority, request: LeafRequest): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const usages: string[] = [];
  if (request.server) usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (request.client) usages.push(x509.ExtendedKeyUsage.clientAuth);
  const names: x509.JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey, false, crypto),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const certificate = await x509.X509CertificateGenerator.create(
    {
      subject: distinguishedName(request.commonName, request.organizations ?? []),
      issuer: ca.certificate.subject,
      publicKey: keys.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm,
      ...validity(request.days ?? 365),
      extensions,
    },
    crypto,
  );
  return { certPem: certificate.toString("pem"), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A key pair for signing and verifying service-account tokens. */
export async function createServiceAccountKeys(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateKeys();
  return {
    privateKeyPem: await privateKeyPem(keys.privateKey),
    publicKeyPem: await publicKeyPem(keys.publicKey),
  };
}
