import "reflect-metadata";
import { csrPhase } from "../../api/csr.ts";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { before, describe, it } from "node:test";
import * as x509 from "@peculiar/x509";
import { parse } from "yaml";
import { createCertificateAuthority, type CertificateAuthority } from "../../runtime/pki.ts";
import { certificateMatchesKey, createKeyAndRequest, isIssuedBy, readCertificate } from "./certificate.ts";
import {
  agentAnnotations,
  certificateRotatedMessage,
  certificateSigningRequest,
  goUtcTimeString,
  evaluateStoredCredentials,
  isClusterCsr,
  mergeClientConfigs,
  randomAgentName,
  rotationDueAtMs,
  rotationThreshold,
  shouldHaltCsrCreation,
  validateExpirationSeconds,
  type CertificateSigningRequest,
  type SecretData,
} from "./identity.ts";
import { hubEndpoint, hubKubeconfig } from "./kubeconfig.ts";

const day = 86_400_000;

/** Signs a PEM certificate request with the CA, as a CSR signer would. */
async function sign(
  ca: CertificateAuthority,
  csrPem: string,
  validity: { notBefore: Date; notAfter: Date },
): Promise<string> {
  const request = new x509.Pkcs10CertificateRequest(csrPem);
  const certificate = await x509.X509CertificateGenerator.create(
    {
      subject: request.subjectName,
      issuer: ca.certificate.subject,
      publicKey: request.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      ...validity,
      serialNumber: "01",
    },
    webcrypto,
  );
  return certificate.toString("pem");
}

const bootstrapKubeconfig = (server: string, caData = "Y2E=") => `
apiVersion: v1
kind: Config
clusters:
  - name: hub
    cluster: { server: "${server}", certificate-authority-data: "${caData}" }
users:
  - name: bootstrap
    user: { token: "secret-token" }
contexts:
  - name: bootstrap
    context: { cluster: hub, user: bootstrap }
current-context: bootstrap
`;

describe("agent identity", () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  const now = Date.parse("2026-06-01T00:00:00Z");
  const validity = { notBefore: new Date(now - 10 * day), notAfter: new Date(now + 90 * day) };
  let keyPem: string;
  let certPem: string;
  let stored: SecretData;

  before(async () => {
    ca = await createCertificateAuthority("hub-ca");
    otherCa = await createCertificateAuthority("other-ca");
    const request = await createKeyAndRequest({
      commonName: "system:open-cluster-management:c1:abcde",
      organizations: ["system:open-cluster-management:c1", "system:open-cluster-management:managed-clusters"],
    });
    keyPem = request.keyPem;
    certPem = await sign(ca, request.csrPem, validity);
    const endpoint = hubEndpoint(bootstrapKubeconfig("https://hub.example:6443"));
    stored = {
      "tls.crt": certPem,
      "tls.key": keyPem,
      kubeconfig: hubKubeconfig(endpoint, certPem, keyPem),
      "cluster-name": "c1",
      "agent-name": "abcde",
    };
  });

  describe("createKeyAndRequest", () => {
    it("makes an EC P-256 request with the subject, signed with its key", async () => {
      const { csrPem, keyPem: key } = await createKeyAndRequest({
        commonName: "system:open-cluster-management:c1:abcde",
        organizations: [
          "system:open-cluster-management:c1",
          "system:open-cluster-management:managed-clusters",
        ],
      });
      assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
      assert.match(key, /^-----BEGIN PRIVATE KEY-----/);
      const request = new x509.Pkcs10CertificateRequest(csrPem);
      assert.deepEqual(request.subjectName.getField("CN"), ["system:open-cluster-management:c1:abcde"]);
      assert.deepEqual(request.subjectName.getField("O"), [
        "system:open-cluster-management:c1",
        "system:open-cluster-management:managed-clusters",
      ]);
      assert.equal((request.publicKey.algorithm as { namedCurve?: string }).namedCurve, "P-256");
      assert.equal(await request.verify(), true);
    });
  });

  describe("certificate checks", () => {
    it("reads the subject and validity", () => {
      const info = readCertificate(certPem);
      assert.equal(info.commonName, "system:open-cluster-management:c1:abcde");
      assert.equal(info.notAfterMs, validity.notAfter.getTime());
    });

    it("matches a certificate with its own key only", async () => {
      assert.equal(certificateMatchesKey(certPem, keyPem), true);
      const other = await createKeyAndRequest({ commonName: "x", organizations: [] });
      assert.equal(certificateMatchesKey(certPem, other.keyPem), false);
      assert.equal(certificateMatchesKey(certPem, "not a key"), false);
    });

    it("tells which CA issued a certificate", async () => {
      assert.equal(await isIssuedBy(certPem, ca.certPem), true);
      assert.equal(await isIssuedBy(certPem, otherCa.certPem), false);
    });

    it("rejects data that is not a certificate", () => {
      assert.throws(() => readCertificate("garbage"), /not a PEM certificate/);
    });
  });

  describe("evaluateStoredCredentials", () => {
    const expected = { clusterName: "c1", agentName: "abcde" };

    it("accepts a valid stored certificate", () => {
      const result = evaluateStoredCredentials(stored, expected, now);
      assert.equal(result.valid, true);
      assert.equal(result.valid && result.endpoint.server, "https://hub.example:6443");
    });

    const invalid: [string, () => SecretData, number, RegExp, Partial<typeof expected>?][] = [
      ["no certificate", () => ({ ...stored, "tls.crt": undefined }), now, /no client certificate/],
      [
        "garbage certificate",
        () => ({ ...stored, "tls.crt": "x" }),
        now,
        /tls.crt: the data is not a PEM certificate/,
      ],
      ["expired", () => stored, validity.notAfter.getTime(), /expired/],
      ["not valid yet", () => stored, validity.notBefore.getTime() - 1, /not valid yet/],
      [
        "another agent",
        () => stored,
        now,
        /issued to system:open-cluster-management:c1:abcde, not .*:c1:zzzzz/,
        { agentName: "zzzzz" },
      ],
      [
        "another cluster",
        () => stored,
        now,
        /not system:open-cluster-management:c2:abcde/,
        { clusterName: "c2" },
      ],
      ["a foreign key", () => ({ ...stored, "tls.key": stored["tls.crt"] }), now, /key does not belong/],
      ["another cluster-name", () => ({ ...stored, "cluster-name": "c9" }), now, /cluster-name differs/],
      ["another agent-name", () => ({ ...stored, "agent-name": "zz" }), now, /agent-name differs/],
    ];
    for (const [name, data, at, reason, override] of invalid) {
      it(`refuses ${name}`, () => {
        const result = evaluateStoredCredentials(data(), { ...expected, ...override }, at);
        assert.equal(result.valid, false);
        assert.match(result.valid ? "" : result.reason, reason);
      });
    }

    it("refuses credentials for another hub than the bootstrap kubeconfig's", () => {
      const elsewhere = hubEndpoint(bootstrapKubeconfig("https://other-hub:6443"));
      const result = evaluateStoredCredentials(stored, { ...expected, endpoint: elsewhere }, now);
      assert.equal(result.valid, false);
      const same = hubEndpoint(bootstrapKubeconfig("https://hub.example:6443"));
      assert.equal(evaluateStoredCredentials(stored, { ...expected, endpoint: same }, now).valid, true);
    });
  });

  describe("hubKubeconfig", () => {
    it("embeds the certificate under default-auth in default-context, with the bootstrap server and CA", () => {
      const config = parse(stored.kubeconfig!) as {
        clusters: { name: string; cluster: Record<string, string> }[];
        users: { name: string; user: Record<string, string> }[];
        contexts: { name: string; context: Record<string, string> }[];
        "current-context": string;
      };
      assert.deepEqual(config.clusters, [
        {
          name: "hub",
          cluster: { server: "https://hub.example:6443", "certificate-authority-data": "Y2E=" },
        },
      ]);
      assert.equal(config.users.length, 1);
      assert.equal(config.users[0]!.name, "default-auth");
      assert.deepEqual(Object.keys(config.users[0]!.user).sort(), [
        "client-certificate-data",
        "client-key-data",
      ]);
      assert.equal(
        Buffer.from(config.users[0]!.user["client-certificate-data"]!, "base64").toString(),
        certPem,
      );
      assert.deepEqual(config.contexts, [
        {
          name: "default-context",
          context: { cluster: "hub", user: "default-auth", namespace: "configuration" },
        },
      ]);
      assert.equal(config["current-context"], "default-context");
    });

    it("names what is missing from a bad bootstrap kubeconfig", () => {
      assert.throws(() => hubEndpoint("apiVersion: v1\nkind: Config\n"), /no current-context/);
      assert.throws(() => hubEndpoint("{"), /cannot be parsed/);
      assert.throws(
        () => hubEndpoint("users:\n  - user: { token: s3cr3t-t0ken }\n  bad: [\n"),
        (error: Error) =>
          /cannot be parsed/.test(error.message) &&
          !JSON.stringify(error, Object.getOwnPropertyNames(error)).includes("s3cr3t") &&
          error.cause === undefined,
      );
    });
  });
});

describe("certificateRotatedMessage", () => {
  it("prints instants as Go prints a UTC time.Time", () => {
    const cases: [string, string][] = [
      ["2026-12-07T01:52:05.000Z", "2026-12-07 01:52:05 +0000 UTC"],
      ["2027-01-31T23:59:59.500Z", "2027-01-31 23:59:59.5 +0000 UTC"],
      ["2026-02-03T04:05:06.120Z", "2026-02-03 04:05:06.12 +0000 UTC"],
    ];
    for (const [iso, printed] of cases) assert.equal(goUtcTimeString(Date.parse(iso)), printed);
  });

  it("names the certificate's validity as OCM's agent does", () => {
    assert.equal(
      certificateRotatedMessage(Date.parse("2026-12-07T01:52:05Z"), Date.parse("2027-12-07T01:52:05Z")),
      "client certificate rotated starting from 2026-12-07 01:52:05 +0000 UTC to 2027-12-07 01:52:05 +0000 UTC",
    );
  });
});

describe("randomAgentName", () => {
  it("has five characters from the alphabet", () => {
    assert.match(randomAgentName(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(
      randomAgentName(() => 0),
      "bbbbb",
    );
    assert.equal(
      randomAgentName(() => 0.9999),
      "99999",
    );
  });
});

describe("validateExpirationSeconds", () => {
  it("accepts 0 and values from 3600", () => {
    for (const value of [0, 3600, 31536000]) assert.equal(validateExpirationSeconds(value), value);
  });
  it("refuses other values, naming the field", () => {
    for (const value of [1, 3599, -1, 1.5])
      assert.throws(() => validateExpirationSeconds(value), /expirationSeconds/);
  });
});

describe("certificateSigningRequest", () => {
  it("has OCM's name prefix, label, signer, usages and lifetime", () => {
    const csr = certificateSigningRequest("c1", "PEM", 3600);
    assert.deepEqual(csr.metadata, {
      generateName: "c1-",
      labels: { "open-cluster-management.io/cluster-name": "c1" },
    });
    assert.deepEqual(csr.spec, {
      request: Buffer.from("PEM").toString("base64"),
      signerName: "kubernetes.io/kube-apiserver-client",
      usages: ["digital signature", "key encipherment", "client auth"],
      expirationSeconds: 3600,
    });
  });
  it("omits expirationSeconds when it is 0", () => {
    assert.equal("expirationSeconds" in certificateSigningRequest("c1", "PEM", 0).spec, false);
  });
});

function csr(
  name: string,
  labels: Record<string, string>,
  conditions: { type: string; status: string }[] = [],
  certificate?: string,
): CertificateSigningRequest {
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name, labels },
    spec: { request: "", signerName: "kubernetes.io/kube-apiserver-client", usages: [] },
    status: { conditions, certificate },
  };
}

const clusterLabel = { "open-cluster-management.io/cluster-name": "c1" };

describe("csrPhase", () => {
  const approved = { type: "Approved", status: "True" };
  const denied = { type: "Denied", status: "True" };
  const cases: [string, CertificateSigningRequest, string][] = [
    ["no conditions", csr("c1-a", clusterLabel), "pending"],
    ["approved without certificate", csr("c1-a", clusterLabel, [approved]), "approved"],
    ["approved with certificate", csr("c1-a", clusterLabel, [approved], "Y2VydA=="), "issued"],
    ["denied", csr("c1-a", clusterLabel, [denied]), "denied"],
    ["approved and denied", csr("c1-a", clusterLabel, [approved, denied], "Y2VydA=="), "denied"],
    ["failed", csr("c1-a", clusterLabel, [approved, { type: "Failed", status: "True" }]), "failed"],
    ["a False approval", csr("c1-a", clusterLabel, [{ type: "Approved", status: "False" }]), "pending"],
  ];
  for (const [name, request, phase] of cases) it(name, () => assert.equal(csrPhase(request), phase));
});

describe("isClusterCsr", () => {
  const cases: [string, CertificateSigningRequest, boolean][] = [
    ["own CSR", csr("c1-x7k2p", clusterLabel), true],
    ["another cluster's label", csr("c1-x7k2p", { "open-cluster-management.io/cluster-name": "c2" }), false],
    ["no label", csr("c1-x7k2p", {}), false],
    [
      "an add-on CSR",
      csr("c1-x7k2p", { ...clusterLabel, "open-cluster-management.io/addon-name": "a" }),
      false,
    ],
    ["another name prefix", csr("c10-x7k2p", clusterLabel), false],
  ];
  for (const [name, request, expected] of cases)
    it(name, () => assert.equal(isClusterCsr(request, "c1"), expected));
});

describe("shouldHaltCsrCreation", () => {
  const pending = (n: number, labels: Record<string, string> = clusterLabel) =>
    Array.from({ length: n }, (_, i) => csr(`c1-${i}`, labels));
  it("halts at 10 pending CSRs of the cluster", () => {
    assert.equal(shouldHaltCsrCreation(pending(9), "c1"), false);
    assert.equal(shouldHaltCsrCreation(pending(10), "c1"), true);
  });
  it("does not count add-on CSRs, other clusters' CSRs or finished ones", () => {
    const others = [
      ...pending(5, { ...clusterLabel, "open-cluster-management.io/addon-name": "a" }),
      ...pending(5, { "open-cluster-management.io/cluster-name": "c2" }),
      csr("c1-done", clusterLabel, [{ type: "Approved", status: "True" }], "Y2VydA=="),
    ];
    assert.equal(shouldHaltCsrCreation([...pending(9), ...others], "c1"), false);
  });
});

describe("rotation", () => {
  it("draws the threshold from [0.20, 0.25)", () => {
    assert.equal(
      rotationThreshold(() => 0),
      0.2,
    );
    assert.ok(rotationThreshold(() => 0.999999) < 0.25);
    for (let i = 0; i < 100; i++) {
      const threshold = rotationThreshold();
      assert.ok(threshold >= 0.2 && threshold < 0.25, `${threshold}`);
    }
  });
  it("is due when the remaining share of the lifetime reaches the threshold", () => {
    assert.equal(rotationDueAtMs({ notBeforeMs: 0, notAfterMs: 1000 }, 0.2), 800);
    assert.equal(rotationDueAtMs({ notBeforeMs: 1000, notAfterMs: 5000 }, 0.25), 4000);
  });
});

describe("agentAnnotations", () => {
  it("keeps only agent.open-cluster-management.io annotations", () => {
    assert.deepEqual(
      agentAnnotations({ "agent.open-cluster-management.io/region": "eu", "example.com/x": "y", other: "z" }),
      { "agent.open-cluster-management.io/region": "eu" },
    );
    assert.deepEqual(agentAnnotations(undefined), {});
  });
});

describe("mergeClientConfigs", () => {
  it("appends missing URLs and reports the change", () => {
    const existing = [{ url: "https://a:6443", caBundle: "Y2E=" }];
    assert.deepEqual(mergeClientConfigs(existing, [{ url: "https://a:6443" }]), {
      configs: existing,
      changed: false,
    });
    assert.deepEqual(mergeClientConfigs(existing, [{ url: "https://b:6443" }]), {
      configs: [...existing, { url: "https://b:6443" }],
      changed: true,
    });
    assert.deepEqual(mergeClientConfigs(undefined, []), { configs: [], changed: false });
  });
});
