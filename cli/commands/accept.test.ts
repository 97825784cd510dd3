import "reflect-metadata";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { describe, it } from "node:test";
import * as x509 from "@peculiar/x509";
import { Csr, Labels } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { CertificateSigningRequest } from "../../controllers/registration/csr.ts";
import { MemoryKube } from "../../test/support/memory-kube.ts";
import { acceptCluster } from "./accept.ts";

async function pendingCsr(cluster: string): Promise<CertificateSigningRequest> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const request = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: `O=system:open-cluster-management:${cluster}, O=system:open-cluster-management:managed-clusters, CN=system:open-cluster-management:${cluster}:agent1`,
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    },
    webcrypto,
  );
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name: `${cluster}-abcde`, labels: { [Labels.clusterName]: cluster } },
    spec: {
      request: Buffer.from(request.toString("pem")).toString("base64"),
      signerName: Csr.signerName,
      usages: [...Csr.usages],
      username: "system:serviceaccount:open-cluster-management:agent-registration-bootstrap",
      groups: [
        "system:serviceaccounts",
        "system:serviceaccounts:open-cluster-management",
        "system:authenticated",
      ],
    },
  };
}

const clusterRef = {
  apiVersion: "cluster.open-cluster-management.io/v1",
  kind: "ManagedCluster",
  name: "c1",
};

async function hub(accepted: boolean, withCsr: boolean): Promise<MemoryKube> {
  const kube = new MemoryKube();
  await kube.create<ManagedCluster>({
    apiVersion: "cluster.open-cluster-management.io/v1",
    kind: "ManagedCluster",
    metadata: { name: "c1" },
    spec: { hubAcceptsClient: accepted },
  });
  if (withCsr) await kube.create(await pendingCsr("c1"));
  return kube;
}

describe("accept --dry-run", () => {
  it("reports the CSR it would approve and the acceptance, and writes nothing", async () => {
    const kube = await hub(false, true);
    const lines: string[] = [];
    const result = await acceptCluster(kube, "c1", { dryRun: true, log: (line) => lines.push(line) });
    assert.deepEqual(result, {
      cluster: "c1",
      approved: ["c1-abcde"],
      skipped: [],
      accepted: true,
      dryRun: true,
    });
    assert.deepEqual(lines, [
      "CSR c1-abcde would be approved (dry run)",
      "would set hubAcceptsClient to true for managed cluster c1 (dry run)",
    ]);
    const csr = await kube.get<CertificateSigningRequest>({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      name: "c1-abcde",
    });
    assert.equal(csr.status?.conditions, undefined);
    assert.equal((await kube.get<ManagedCluster>(clusterRef)).spec?.hubAcceptsClient, false);
  });

  it("says a cluster accepted before needs nothing", async () => {
    const lines: string[] = [];
    const result = await acceptCluster(await hub(true, false), "c1", {
      dryRun: true,
      log: (line) => lines.push(line),
    });
    assert.equal(result.accepted, false);
    assert.deepEqual(lines, ["managed cluster c1 is accepted already (dry run)"]);
  });

  it("fails as the real run would when there is nothing to approve", async () => {
    await assert.rejects(acceptCluster(await hub(false, false), "c1", { dryRun: true }), {
      message: "no csr is approved yet for cluster c1",
    });
    await assert.rejects(
      acceptCluster(new MemoryKube(), "c2", { dryRun: true }),
      /no ManagedCluster named c2 on the hub/,
    );
  });
});
