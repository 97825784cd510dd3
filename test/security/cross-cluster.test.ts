// One cluster's agent against another's objects on a real hub: with the certificate the hub
// issued to cluster c1, every read or write of c2's ManagedCluster, namespace (lease, works,
// policies, events, secrets, placement scores) is refused by the API server, as are the hub's
// own policies, decisions, replica sets and secrets, and anything beyond c1's own
// agent role in its own namespace (creating or deleting works, reading policies or secrets,
// binding roles, minting tokens), and no CSR it forges (another cluster's subject or group, an
// extra group, another signer) is approved, automatically or by `bosun accept`. Positive
// controls show that the same client does what an agent must.
import "reflect-metadata";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Csr, Lease } from "../../api/constants.ts";
import { acceptCluster } from "../../cli/commands/accept.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { RegistrationControllers } from "../../controllers/registration/controller.ts";
import type { CertificateSigningRequest } from "../../controllers/registration/csr.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient, type KubeApi } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { formatMicroTime } from "../../runtime/time.ts";
import {
  agentKey,
  agentSubject,
  certificateKubeconfig,
  csrFor,
  expectForbidden,
  kubeconfigWith,
} from "../support/agent-identity.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("security-cross-cluster");
const logger = pino({ level: "silent" });
const clusterApi = "cluster.open-cluster-management.io/v1";
const workApi = "work.open-cluster-management.io/v1";
const policyApi = "policy.open-cluster-management.io/v1";
const managedCluster = (name: string) => ({ apiVersion: clusterApi, kind: "ManagedCluster", name });
const lease = (namespace: string) => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  name: Lease.name,
  namespace,
});
const work = (namespace: string) => ({ apiVersion: workApi, kind: "ManifestWork", name: "w", namespace });
const csrRef = (name: string) => ({
  apiVersion: "certificates.k8s.io/v1",
  kind: "CertificateSigningRequest",
  name,
});

describe("one cluster's agent against another's objects", () => {
  let admin: KubeClient;
  let controllers: RegistrationControllers;
  let bootstrap: KubeClient;
  const agents = new Map<string, KubeClient>();

  /** Joins `name` as its agent does, accepts it, and returns a client with its certificate. */
  async function join(name: string): Promise<KubeClient> {
    await bootstrap.create({
      apiVersion: clusterApi,
      kind: "ManagedCluster",
      metadata: { name },
      spec: { hubAcceptsClient: false },
    });
    const key = await agentKey();
    const csr = await bootstrap.create<CertificateSigningRequest>(
      await csrFor(key, name, agentSubject(name)),
    );
    const accepted = await acceptCluster(admin, name, { waitMs: 30_000 });
    assert.deepEqual(accepted.approved, [csr.metadata.name]);
    const issued = await eventually(async () => {
      const state = await admin.get<CertificateSigningRequest>(csrRef(csr.metadata.name!));
      assert.ok(state.status?.certificate, "issued");
      return Buffer.from(state.status.certificate, "base64").toString("utf8");
    });
    const client = await KubeClient.fromString(
      certificateKubeconfig(fixture.plane.server, fixture.plane.caPem, issued, key.keyPem),
    );
    // Its RBAC is in place once it can renew its lease.
    await eventually(async () => {
      const current = await client.get<Unstructured>(lease(name));
      await client.replace({
        ...current,
        spec: { ...(current.spec as object), renewTime: formatMicroTime(Date.now()) },
      });
    });
    return client;
  }

  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(admin, "hub");
    await ensureBootstrapIdentity(admin, hubEndpointOf(admin));
    controllers = new RegistrationControllers({
      client: admin,
      clock: systemClock(),
      logger,
      registry: new Registry(),
    });
    await controllers.start();
    bootstrap = await KubeClient.fromString(
      kubeconfigWith(fixture.plane.server, fixture.plane.caPem, { token: await mintBootstrapToken(admin) }),
    );
    for (const name of ["c1", "c2"]) agents.set(name, await join(name));
    // What there is to reach in each namespace: a work, a replicated policy, a secret.
    for (const namespace of ["c1", "c2"]) {
      await admin.create({
        apiVersion: workApi,
        kind: "ManifestWork",
        metadata: { name: "w", namespace },
        spec: {
          workload: {
            manifests: [
              { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "default" } },
            ],
          },
        },
      });
      await admin.create({
        apiVersion: policyApi,
        kind: "Policy",
        metadata: {
          name: "default.p",
          namespace,
          labels: { "policy.open-cluster-management.io/root-policy": "default.p" },
        },
        spec: { disabled: false, "policy-templates": [] },
      });
      await admin.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "s", namespace },
        stringData: { token: "secret" },
      });
    }
  });
  after(async () => {
    for (const client of agents.values()) client.close();
    await controllers?.stop();
    bootstrap?.close();
    admin?.close();
  });

  test("what an agent must do, it can (the controls for the refusals below)", async () => {
    const c1 = agents.get("c1")!;
    await c1.get(managedCluster("c1"));
    await c1.patch(
      managedCluster("c1"),
      "merge",
      { status: { version: { kubernetes: "v1.36.3" } } },
      {
        subresource: "status",
      },
    );
    await c1.list(workApi, "ManifestWork", { namespace: "c1" });
    await c1.patch(work("c1"), "merge", { status: { conditions: [] } }, { subresource: "status" });
    await c1.create({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "e.1", namespace: "c1" },
      involvedObject: { kind: "ManifestWork", name: "w", namespace: "c1" },
      reason: "Test",
      message: "m",
    });
  });

  const refused: { name: string; attempt: (c1: KubeApi) => Promise<unknown> }[] = [
    // c2's ManagedCluster
    { name: "get c2's ManagedCluster", attempt: (c1) => c1.get(managedCluster("c2")) },
    { name: "list every ManagedCluster", attempt: (c1) => c1.list(clusterApi, "ManagedCluster") },
    {
      name: "accept c2 (spec)",
      attempt: (c1) => c1.patch(managedCluster("c2"), "merge", { spec: { hubAcceptsClient: false } }),
    },
    {
      name: "write c2's ManagedCluster status",
      attempt: (c1) =>
        c1.patch(
          managedCluster("c2"),
          "merge",
          { status: { version: { kubernetes: "x" } } },
          { subresource: "status" },
        ),
    },
    { name: "delete c2's ManagedCluster", attempt: (c1) => c1.delete(managedCluster("c2")) },
    { name: "delete its own ManagedCluster", attempt: (c1) => c1.delete(managedCluster("c1")) },
    {
      name: "create another ManagedCluster",
      attempt: (c1) =>
        c1.create({ apiVersion: clusterApi, kind: "ManagedCluster", metadata: { name: "c3" }, spec: {} }),
    },
    // c2's namespace
    { name: "get c2's lease", attempt: (c1) => c1.get(lease("c2")) },
    {
      name: "renew c2's lease",
      attempt: async (c1) => {
        const current = await admin.get<Unstructured>(lease("c2"));
        return c1.replace({
          ...current,
          spec: { ...(current.spec as object), renewTime: formatMicroTime(Date.now()) },
        });
      },
    },
    { name: "list c2's works", attempt: (c1) => c1.list(workApi, "ManifestWork", { namespace: "c2" }) },
    { name: "watch every namespace's works", attempt: (c1) => c1.list(workApi, "ManifestWork") },
    { name: "get c2's work", attempt: (c1) => c1.get(work("c2")) },
    {
      name: "change c2's work",
      attempt: (c1) => c1.patch(work("c2"), "merge", { metadata: { labels: { x: "y" } } }),
    },
    {
      name: "report c2's work status",
      attempt: (c1) =>
        c1.patch(work("c2"), "merge", { status: { conditions: [] } }, { subresource: "status" }),
    },
    { name: "delete c2's work", attempt: (c1) => c1.delete(work("c2")) },
    {
      name: "get c2's replicated Policy",
      attempt: (c1) => c1.get({ apiVersion: policyApi, kind: "Policy", namespace: "c2", name: "default.p" }),
    },
    {
      name: "write c2's replicated Policy status",
      attempt: (c1) =>
        c1.patch(
          { apiVersion: policyApi, kind: "Policy", namespace: "c2", name: "default.p" },
          "merge",
          { status: { compliant: "Compliant" } },
          { subresource: "status" },
        ),
    },
    {
      name: "create an Event in c2's namespace",
      attempt: (c1) =>
        c1.create({
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: "e.2", namespace: "c2" },
          involvedObject: { kind: "ManifestWork", name: "w", namespace: "c2" },
          reason: "Forged",
          message: "m",
        }),
    },
    { name: "list c2's Secrets", attempt: (c1) => c1.list("v1", "Secret", { namespace: "c2" }) },
    {
      name: "score c2 for placements (an AddOnPlacementScore in c2's namespace)",
      attempt: (c1) =>
        c1.create({
          apiVersion: "cluster.open-cluster-management.io/v1alpha1",
          kind: "AddOnPlacementScore",
          metadata: { name: "forged", namespace: "c2" },
        }),
    },
    // The hub's own objects
    { name: "list every Policy", attempt: (c1) => c1.list(policyApi, "Policy") },
    {
      name: "list the placement decisions",
      attempt: (c1) => c1.list("cluster.open-cluster-management.io/v1beta1", "PlacementDecision"),
    },
    {
      name: "list the ManifestWorkReplicaSets",
      attempt: (c1) => c1.list("work.open-cluster-management.io/v1alpha1", "ManifestWorkReplicaSet"),
    },
    {
      name: "list the Secrets of the hub's namespace",
      attempt: (c1) => c1.list("v1", "Secret", { namespace: "open-cluster-management" }),
    },
    // Its own namespace, beyond an agent's role
    {
      name: "create a work in its own namespace",
      attempt: (c1) =>
        c1.create({
          apiVersion: workApi,
          kind: "ManifestWork",
          metadata: { name: "mine", namespace: "c1" },
          spec: { workload: { manifests: [] } },
        }),
    },
    { name: "delete its own work", attempt: (c1) => c1.delete(work("c1")) },
    {
      name: "read its own replicated Policy",
      attempt: (c1) => c1.get({ apiVersion: policyApi, kind: "Policy", namespace: "c1", name: "default.p" }),
    },
    {
      name: "write its own replicated Policy status",
      attempt: (c1) =>
        c1.patch(
          { apiVersion: policyApi, kind: "Policy", namespace: "c1", name: "default.p" },
          "merge",
          { status: { compliant: "Compliant" } },
          { subresource: "status" },
        ),
    },
    {
      name: "get a Secret in its own namespace",
      attempt: (c1) => c1.get({ apiVersion: "v1", kind: "Secret", namespace: "c1", name: "s" }),
    },
    {
      name: "bind itself a role in its own namespace",
      attempt: (c1) =>
        c1.create({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "escalate", namespace: "c1" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
          subjects: [
            {
              apiGroup: "rbac.authorization.k8s.io",
              kind: "Group",
              name: "system:open-cluster-management:c1",
            },
          ],
        }),
    },
    {
      name: "mint a service account token",
      attempt: (c1) =>
        c1.request({
          method: "POST",
          path: "/api/v1/namespaces/c1/serviceaccounts/default/token",
          body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} },
        }),
    },
    {
      name: "join a cluster set",
      attempt: (c1) =>
        c1.create({
          apiVersion: "cluster.open-cluster-management.io/v1beta2",
          kind: "ManagedClusterSetBinding",
          metadata: { name: "default", namespace: "c1" },
          spec: { clusterSet: "default" },
        }),
    },
    {
      name: "approve a CSR",
      attempt: async (c1) => {
        const [pending] = (
          await admin.listAll<CertificateSigningRequest>(
            "certificates.k8s.io/v1",
            "CertificateSigningRequest",
          )
        ).items;
        return c1.request({
          method: "PUT",
          path: `/apis/certificates.k8s.io/v1/certificatesigningrequests/${pending!.metadata.name}/approval`,
          body: {
            ...pending,
            status: { conditions: [{ type: "Approved", status: "True", reason: "Forged", message: "m" }] },
          },
        });
      },
    },
  ];
  for (const { name, attempt } of refused)
    test(`refused: ${name}`, async () => {
      await expectForbidden(attempt(agents.get("c1")!), name);
    });

  test("nothing was changed by the refused attempts", async () => {
    const c2 = await admin.get<Unstructured & { spec?: { hubAcceptsClient?: boolean } }>(
      managedCluster("c2"),
    );
    assert.equal(c2.spec?.hubAcceptsClient, true);
    assert.equal(c2.metadata.deletionTimestamp, undefined);
    assert.equal((await admin.get(work("c2"))).metadata.labels?.x, undefined);
    assert.equal(
      (await admin.listAll(clusterApi, "ManagedCluster")).items.some((item) => item.metadata.name === "c3"),
      false,
    );
  });

  test("no CSR it forges is approved, automatically or by bosun accept", async () => {
    const c1 = agents.get("c1")!;
    const forged = async (label: string, subject: string, overrides = {}) =>
      (await c1.create<CertificateSigningRequest>(await csrFor(await agentKey(), label, subject, overrides)))
        .metadata.name!;
    const forgeries = {
      "c2's subject": await forged("c2", agentSubject("c2")),
      "c2's group under its own name": await forged(
        "c1",
        "O=system:open-cluster-management:c2, O=system:open-cluster-management:managed-clusters, CN=system:open-cluster-management:c1:agent1",
      ),
      "c2's group as well as its own": await forged(
        "c1",
        `O=system:open-cluster-management:c2, ${agentSubject("c1")}`,
      ),
      "another signer": await forged("c1", agentSubject("c1"), {
        signerName: "kubernetes.io/kube-apiserver-client-kubelet",
      }),
      "server usages": await forged("c1", agentSubject("c1"), {
        usages: ["server auth", "digital signature", "key encipherment"],
      }),
    };
    // The API server itself refuses system:masters with this signer.
    await expectForbidden(forged("c1", `O=system:masters, ${agentSubject("c1")}`), "system:masters");
    // A genuine renewal made after them is approved: the approver has seen the forgeries too.
    const renewal = (
      await c1.create<CertificateSigningRequest>(await csrFor(await agentKey(), "c1", agentSubject("c1")))
    ).metadata.name!;
    await eventually(async () => {
      const state = await admin.get<CertificateSigningRequest>(csrRef(renewal));
      assert.equal(
        state.status?.conditions?.find((condition) => condition.type === "Approved")?.reason,
        Csr.autoApprovedReason,
      );
    });
    // An operator running `bosun accept` for either cluster approves none of them either.
    for (const cluster of ["c1", "c2"]) {
      const result = await acceptCluster(admin, cluster);
      assert.deepEqual(
        result.approved.filter((name) => Object.values(forgeries).includes(name)),
        [],
        `bosun accept ${cluster}`,
      );
    }
    for (const [what, name] of Object.entries(forgeries)) {
      const state = await admin.get<CertificateSigningRequest>(csrRef(name));
      assert.deepEqual(state.status?.conditions ?? [], [], `${what}: untouched`);
      assert.equal(state.status?.certificate, undefined, `${what}: no certificate`);
    }
  });

  test("the objects of c2 its agent needs are still there and its agent still works", async () => {
    const c2 = agents.get("c2")!;
    await c2.get(managedCluster("c2"));
    await c2.get(work("c2"));
  });
});
