// Auto-approval: a hub told to trust a bootstrap requester approves its clusters' CSRs and
// accepts each cluster the first time it asks; a later denial by the hub admin sticks.
import "reflect-metadata";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Annotations, Csr } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import { installCrds } from "../../runtime/crds.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { RegistrationControllers } from "../../controllers/registration/controller.ts";
import type { CertificateSigningRequest } from "../../controllers/registration/csr.ts";
import { systemClock } from "../../runtime/clock.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { agentKey, agentSubject, csrFor, kubeconfigWith } from "../support/agent-identity.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("registration-auto");
const clusterRef = {
  apiVersion: "cluster.open-cluster-management.io/v1",
  kind: "ManagedCluster",
  name: "auto1",
};

async function agentCsr(cluster: string): Promise<CertificateSigningRequest> {
  return csrFor(await agentKey(), cluster, agentSubject(cluster));
}

describe("auto-approval", () => {
  let admin: KubeClient;
  let bootstrap: KubeClient;
  let controllers: RegistrationControllers;

  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(admin, "hub");
    await ensureBootstrapIdentity(admin, hubEndpointOf(admin));
    controllers = new RegistrationControllers({
      client: admin,
      clock: systemClock(),
      logger: pino({ level: "silent" }),
      registry: new Registry(),
      autoApprovedUsers: [Csr.bootstrapServiceAccountUser],
    });
    await controllers.start();
    const token = await mintBootstrapToken(admin);
    bootstrap = await KubeClient.fromString(
      kubeconfigWith(fixture.plane.server, fixture.plane.caPem, { token }),
    );
  });
  after(async () => {
    await controllers?.stop();
    bootstrap?.close();
    admin?.close();
  });

  test("a trusted requester's cluster is approved and accepted the first time, and a later denial sticks", async () => {
    await bootstrap.create({
      apiVersion: "cluster.open-cluster-management.io/v1",
      kind: "ManagedCluster",
      metadata: { name: "auto1" },
      spec: { hubAcceptsClient: false },
    });
    const first = await bootstrap.create(await agentCsr("auto1"));
    await eventually(async () => {
      const csr = await admin.get<CertificateSigningRequest>({
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        name: first.metadata.name!,
      });
      assert.equal(
        csr.status?.conditions?.find((condition) => condition.type === "Approved")?.reason,
        Csr.autoApprovedReason,
      );
      assert.ok(csr.status?.certificate);
      const cluster = await admin.get<ManagedCluster>(clusterRef);
      assert.equal(cluster.spec?.hubAcceptsClient, true);
      assert.match(
        cluster.metadata.annotations?.[Annotations.automaticallyAcceptedOn] ?? "",
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      );
    });

    await admin.patch(clusterRef, "merge", { spec: { hubAcceptsClient: false } });
    await eventually(async () => {
      const cluster = await admin.get<ManagedCluster>(clusterRef);
      assert.equal(
        cluster.status?.conditions?.find((condition) => condition.type === "HubAcceptedManagedCluster")
          ?.status,
        "False",
      );
    });
    const second = await bootstrap.create(await agentCsr("auto1"));
    await eventually(async () => {
      const csr = await admin.get<CertificateSigningRequest>({
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        name: second.metadata.name!,
      });
      assert.ok(csr.status?.conditions?.some((condition) => condition.type === "Approved"));
    });
    assert.equal(
      (await admin.get<ManagedCluster>(clusterRef)).spec?.hubAcceptsClient,
      false,
      "the denial stands",
    );
  });

  test("a CSR sent before its ManagedCluster waits for it, then the cluster is accepted and the CSR approved", async () => {
    const early = await bootstrap.create(await agentCsr("auto3"));
    const csrRef = {
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      name: early.metadata.name!,
    };
    // The controller has looked at it (it approved auto1's, created after it) and left it pending.
    const marker = await bootstrap.create(await agentCsr("auto1"));
    await eventually(async () => {
      const approved = await admin.get<CertificateSigningRequest>({ ...csrRef, name: marker.metadata.name! });
      assert.ok(approved.status?.conditions?.some((condition) => condition.type === "Approved"));
    });
    assert.equal(((await admin.get<CertificateSigningRequest>(csrRef)).status?.conditions ?? []).length, 0);

    await bootstrap.create({
      apiVersion: "cluster.open-cluster-management.io/v1",
      kind: "ManagedCluster",
      metadata: { name: "auto3" },
      spec: { hubAcceptsClient: false },
    });
    await eventually(async () => {
      const csr = await admin.get<CertificateSigningRequest>(csrRef);
      assert.ok(csr.status?.certificate, "the CSR approved and signed");
      const cluster = await admin.get<ManagedCluster>({ ...clusterRef, name: "auto3" });
      assert.equal(cluster.spec?.hubAcceptsClient, true, "the cluster accepted");
    });
  });

  test("a requester that is not on the list is not approved", async () => {
    // The admin is not a bootstrap requester on the list: its CSR for auto2 stays pending.
    await admin.create({
      apiVersion: "cluster.open-cluster-management.io/v1",
      kind: "ManagedCluster",
      metadata: { name: "auto2" },
      spec: { hubAcceptsClient: false },
    });
    const csr = await admin.create(await agentCsr("auto2"));
    // auto1's approval above shows the controller is working; give it the same chance here.
    const marker = await bootstrap.create(await agentCsr("auto1"));
    await eventually(async () => {
      const approved = await admin.get<CertificateSigningRequest>({
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        name: marker.metadata.name!,
      });
      assert.ok(approved.status?.conditions?.some((condition) => condition.type === "Approved"));
    });
    const pending = await admin.get<CertificateSigningRequest>({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      name: csr.metadata.name!,
    });
    assert.equal((pending.status?.conditions ?? []).length, 0);
  });
});
