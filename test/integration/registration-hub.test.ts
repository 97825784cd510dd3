// The hub's side of registration on a real hub: the bootstrap token's limits, acceptance,
// per-cluster RBAC enforced by the real API server, CSR approval rules, lease availability
// and taints, denial, deletion, and cluster sets. The agent's part is played here by hand
// with real CSRs and certificates from the hub's signer.
import "reflect-metadata";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { after, before, describe, test } from "node:test";
import * as x509 from "@peculiar/x509";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Csr, Finalizers, Labels, Lease, Taints } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import { acceptCluster } from "../../cli/commands/accept.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { installCrds } from "../../runtime/crds.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { RegistrationControllers } from "../../controllers/registration/controller.ts";
import { clusterRoleBindingFor, sharedClusterRoles } from "../../controllers/registration/rbac.ts";
import { readServedTotals } from "../../bench/apiserver-metrics.ts";
import type { CertificateSigningRequest } from "../../controllers/registration/csr.ts";
import { systemClock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import {
  agentKey,
  agentSubject,
  csrFor,
  expectForbidden,
  kubeconfigWith,
  type AgentKey,
} from "../support/agent-identity.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { sampleValue } from "../support/metric-samples.ts";
import { eventually } from "../support/wait.ts";
import { formatMicroTime } from "../../runtime/time.ts";

const fixture = useControlPlane("registration-hub");
const logger = pino({ level: "silent" });
const clusterRef = (name: string) => ({
  apiVersion: "cluster.open-cluster-management.io/v1",
  kind: "ManagedCluster",
  name,
});

/** Renews a cluster's lease as its agent would. */
async function renewLease(agent: KubeClient, cluster: string): Promise<void> {
  const lease = await agent.get<Unstructured>({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    name: Lease.name,
    namespace: cluster,
  });
  await agent.replace({
    ...lease,
    spec: { ...(lease.spec as object), renewTime: formatMicroTime(Date.now()) },
  });
}

describe("hub registration", () => {
  let admin: KubeClient;
  let controllers: RegistrationControllers;
  let registry = new Registry();
  let bootstrap: KubeClient;
  let caPem: string;
  const certificates = new Map<string, { certPem: string; key: AgentKey }>();

  const csrState = (name: string) =>
    admin.get<CertificateSigningRequest>({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      name,
    });
  const cluster = (name: string) => admin.get<ManagedCluster>(clusterRef(name));
  async function agentClient(name: string): Promise<KubeClient> {
    const issued = certificates.get(name)!;
    return KubeClient.fromString(
      kubeconfigWith(fixture.plane.server, caPem, {
        "client-certificate-data": Buffer.from(issued.certPem).toString("base64"),
        "client-key-data": Buffer.from(issued.key.keyPem).toString("base64"),
      }),
    );
  }

  /** Adds rules to the ClusterRole bound to ServiceAccount default/<name>. */
  async function grantRole(name: string, rules: object[]): Promise<void> {
    const existing = await admin.getOrUndefined<Unstructured>({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      name,
    });
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules: [...((existing?.rules as object[]) ?? []), ...rules],
    };
    await applyServerSide(admin, role, { fieldManager: "test", force: true });
  }

  /** A client for ServiceAccount default/<name>, bound to a ClusterRole with `rules`. */
  async function clientWithRole(name: string, rules: object[]): Promise<KubeClient> {
    await applyServerSide(
      admin,
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "default" } },
      { fieldManager: "test" },
    );
    if (rules.length > 0) await grantRole(name, rules);
    await applyServerSide(
      admin,
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [{ kind: "ServiceAccount", name, namespace: "default" }],
      },
      { fieldManager: "test", force: true },
    );
    const { status } = await admin.request<{ status: { token: string } }>({
      method: "POST",
      path: `/api/v1/namespaces/default/serviceaccounts/${name}/token`,
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      },
    });
    return KubeClient.fromString(kubeconfigWith(fixture.plane.server, caPem, { token: status.token }));
  }

  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    caPem = fixture.plane.caPem;
    await installCrds(admin, "hub");
    await ensureBootstrapIdentity(admin, hubEndpointOf(admin));
    controllers = new RegistrationControllers({
      client: admin,
      clock: systemClock(),
      logger,
      registry,
      // Short, so that a test sees several resyncs of the clusters' access objects.
      accessResyncMs: 1000,
    });
    await controllers.start();
    bootstrap = await KubeClient.fromString(
      kubeconfigWith(fixture.plane.server, caPem, { token: await mintBootstrapToken(admin) }),
    );
  });
  after(async () => {
    await controllers?.stop();
    bootstrap?.close();
    admin?.close();
  });

  test("the bootstrap token can join and nothing else", async () => {
    for (const name of ["c1", "c2"]) {
      await bootstrap.create({
        apiVersion: "cluster.open-cluster-management.io/v1",
        kind: "ManagedCluster",
        metadata: { name },
        spec: { hubAcceptsClient: false },
      });
    }
    const info = await bootstrap.get<Unstructured>({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "cluster-info",
      namespace: "kube-public",
    });
    assert.match(String((info.data as Record<string, string>).kubeconfig), /certificate-authority-data/);
    await expectForbidden(bootstrap.list("v1", "Secret", { namespace: "kube-system" }));
    await expectForbidden(bootstrap.list("v1", "Namespace"));
    await expectForbidden(bootstrap.patch(clusterRef("c1"), "merge", { spec: { hubAcceptsClient: true } }));
    await expectForbidden(bootstrap.delete(clusterRef("c2")));
    await expectForbidden(
      bootstrap.create({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "escalate" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ kind: "Group", name: "system:authenticated", apiGroup: "rbac.authorization.k8s.io" }],
      }),
    );
  });

  test("a new cluster gets the default set label and the unreachable taint, and no certificate while unaccepted", async () => {
    await eventually(async () => {
      const c1 = await cluster("c1");
      assert.equal(c1.metadata.labels?.[Labels.clusterSet], "default");
      assert.deepEqual(
        c1.spec?.taints?.map((taint) => taint.key),
        [Taints.unreachable],
      );
    });
    const key = await agentKey();
    const created = await bootstrap.create(await csrFor(key, "c1", agentSubject("c1")));
    certificates.set("c1", { certPem: "", key });
    // Nothing approves a bootstrap CSR on its own: it stays pending with no certificate.
    const pending = await csrState(created.metadata.name!);
    assert.equal(pending.status?.certificate, undefined);
    assert.equal((pending.status?.conditions ?? []).length, 0);
    assert.equal((await cluster("c1")).spec?.hubAcceptsClient, false);
  });

  test("accept approves only a well-formed request for that cluster's own identity", async () => {
    const other = await agentKey();
    const claimsC2 = await bootstrap.create(await csrFor(other, "c1", agentSubject("c2")));
    const wrongSigner = await bootstrap.create(
      await csrFor(other, "c1", agentSubject("c1", "x"), {
        signerName: "kubernetes.io/kube-apiserver-client-kubelet",
      }),
    );
    const wrongUsages = await bootstrap.create(
      await csrFor(other, "c1", agentSubject("c1", "y"), {
        usages: ["client auth", "server auth", "digital signature", "key encipherment"],
      }),
    );
    const result = await acceptCluster(admin, "c1");
    assert.equal(result.approved.length, 1);
    assert.deepEqual(
      result.skipped.map((skipped) => skipped.csr).sort(),
      [claimsC2.metadata.name, wrongSigner.metadata.name, wrongUsages.metadata.name].sort(),
    );
    for (const name of [claimsC2.metadata.name!, wrongSigner.metadata.name!, wrongUsages.metadata.name!]) {
      const state = await csrState(name);
      assert.equal(
        (state.status?.conditions ?? []).some((condition) => condition.type === "Approved"),
        false,
        name,
      );
    }
    const approved = await eventually(async () => {
      const state = await csrState(result.approved[0]!);
      assert.ok(state.status?.certificate, "the hub's signer issued the certificate");
      return state;
    });
    const certPem = Buffer.from(approved.status!.certificate!, "base64").toString("utf8");
    const certificate = new x509.X509Certificate(certPem);
    assert.equal(certificate.issuer, new x509.X509Certificate(caPem).subject, "issued by the hub's CA");
    assert.equal(certificate.subjectName.getField("CN")[0], "system:open-cluster-management:c1:agent1");
    assert.equal(
      await certificate.verify({ publicKey: new x509.X509Certificate(caPem).publicKey }, webcrypto),
      true,
    );
    certificates.set("c1", { certPem, key: certificates.get("c1")!.key });

    await eventually(async () => {
      const c1 = await cluster("c1");
      assert.equal(findCondition(c1.status?.conditions, "HubAcceptedManagedCluster")?.status, "True");
      assert.equal(
        findCondition(c1.status?.conditions, "HubAcceptedManagedCluster")?.reason,
        "HubClusterAdminAccepted",
      );
      assert.ok(c1.metadata.finalizers?.includes(Finalizers.apiResourceCleanup));
      const namespace = await admin.get({ apiVersion: "v1", kind: "Namespace", name: "c1" });
      assert.equal(namespace.metadata.labels?.[Labels.clusterName], "c1");
      await admin.get({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        name: Lease.name,
        namespace: "c1",
      });
    });
  });

  test("an accepted agent works in its own namespace and cluster only, over mTLS", async () => {
    const agent = await agentClient("c1");
    try {
      await eventually(() => agent.get(clusterRef("c1")));
      await agent.patch(
        clusterRef("c1"),
        "merge",
        { status: { version: { kubernetes: "v1.36.3" } } },
        { subresource: "status" },
      );
      await renewLease(agent, "c1");
      await expectForbidden(agent.get(clusterRef("c2")));
      await expectForbidden(
        agent.patch(
          clusterRef("c2"),
          "merge",
          { status: { version: { kubernetes: "x" } } },
          { subresource: "status" },
        ),
      );
      await expectForbidden(agent.list("coordination.k8s.io/v1", "Lease", { namespace: "c2" }));
      await expectForbidden(agent.list("v1", "Secret", { namespace: "c1" }));
      await expectForbidden(agent.patch(clusterRef("c2"), "merge", { spec: { hubAcceptsClient: true } }));
    } finally {
      agent.close();
    }
  });

  test("a cluster's access is checked against the hub's cache: resyncs and a restart cost no request, what drifts is written back", async () => {
    const accessKinds = ["clusterroles", "clusterrolebindings", "rolebindings", "namespaces"];
    const served = async () => {
      const totals = await readServedTotals(admin);
      const count = (key: string) => totals.requests.get(key)?.count ?? 0;
      const byKey = Object.fromEntries(
        accessKinds.flatMap((kind) =>
          ["GET", "APPLY", "POST"].map((verb) => [`${verb} ${kind}`, count(`${verb} ${kind}`)]),
        ),
      );
      return {
        byKey,
        reads: accessKinds.reduce((sum, kind) => sum + count(`GET ${kind}`), 0),
        writes: accessKinds.reduce((sum, kind) => sum + count(`APPLY ${kind}`) + count(`POST ${kind}`), 0),
      };
    };
    // Done or requeued (a cluster waiting on its lease is requeued), never failed.
    const reconciles = async (of: Registry) => {
      let total = 0;
      for (const result of ["success", "requeue"])
        total +=
          (await sampleValue(of, "bosun_controller_reconcile_total", {
            controller: "managedcluster",
            result,
          })) ?? 0;
      return total;
    };
    let touches = 0;
    const touch = () =>
      admin.patch(clusterRef("c1"), "merge", { metadata: { labels: { touched: String(touches++) } } });

    // Past several resyncs (1 s here), each reconcile checks c1's access: from the cache.
    const before = await served();
    const reconcilesBefore = await reconciles(registry);
    await eventually(
      async () => {
        await touch();
        assert.ok((await reconciles(registry)) >= reconcilesBefore + 5, "reconciles spanning resyncs");
      },
      { timeoutMs: 30_000, intervalMs: 600, what: "reconciles of c1 across resyncs" },
    );
    const afterResyncs = await served();
    assert.deepEqual(afterResyncs.byKey, before.byKey, "no read and no write while nothing drifted");

    // Deleted by someone: the watch sees it and the hub writes back that object alone.
    const binding = clusterRoleBindingFor("c1");
    await admin.delete({ apiVersion: binding.apiVersion, kind: binding.kind, name: binding.metadata.name! });
    // Looked for with a LIST, so that the GETs counted are the hub's alone.
    await eventually(
      async () => {
        const found = await admin.list(binding.apiVersion, binding.kind, {
          fieldSelector: `metadata.name=${binding.metadata.name}`,
        });
        assert.equal(found.items.length, 1);
      },
      { timeoutMs: 30_000, intervalMs: 300, what: "the deleted ClusterRoleBinding restored" },
    );
    const afterDrift = await served();
    assert.equal(afterDrift.writes, before.writes + 1, "only the drifted object written");
    assert.equal(afterDrift.reads, before.reads, "and nothing read for it");

    // A restarted hub (a fresh controller on the same API server) lists the access objects
    // once per kind into its cache and reads none of c1's one by one.
    const restartedRegistry = new Registry();
    const restarted = new RegistrationControllers({
      client: admin,
      clock: systemClock(),
      logger,
      registry: restartedRegistry,
    });
    const beforeRestart = await served();
    await controllers.stop();
    // The restarted one serves the tests that follow (and is stopped after them).
    controllers = restarted;
    registry = restartedRegistry;
    await restarted.start();
    await eventually(
      async () => {
        await touch();
        assert.ok((await reconciles(restartedRegistry)) >= 1, "the restarted hub reconciled c1");
      },
      { timeoutMs: 30_000, intervalMs: 600, what: "the restarted hub looking at c1" },
    );
    // Starting, a hub applies its two shared ClusterRoles once, whatever the fleet; of the
    // clusters' own access objects it writes none.
    const afterRestart = await served();
    const diff = `after the restart: ${JSON.stringify(afterRestart.byKey)}, before: ${JSON.stringify(beforeRestart.byKey)}`;
    assert.equal(afterRestart.writes, beforeRestart.writes + sharedClusterRoles().length, diff);
    assert.equal(afterRestart.reads, beforeRestart.reads, diff);
  });

  test("admission: an agent cannot change its acceptance, taints, lease or labels; accepting needs managedclusters/accept", async () => {
    const agent = await agentClient("c1");
    try {
      // The agent may update (PUT) its own ManagedCluster, as OCM's RBAC allows, not patch it.
      const update = async (change: (cluster: ManagedCluster) => void) => {
        const current = await agent.get<ManagedCluster>(clusterRef("c1"));
        change(current);
        return agent.replace(current);
      };
      const rejected = async (change: (cluster: ManagedCluster) => void, message: RegExp) =>
        assert.rejects(update(change), (error: unknown) => {
          assert.ok(
            error instanceof KubeApiError && (error.status === 403 || error.status === 422),
            String(error),
          );
          assert.match(error.message, message);
          return true;
        });
      const agentRule = /agent may not change spec\.hubAcceptsClient, spec\.taints/;
      await eventually(() =>
        rejected((cluster) => (cluster.spec = { ...cluster.spec, taints: [] }), agentRule),
      );
      await rejected((cluster) => (cluster.spec = { ...cluster.spec, leaseDurationSeconds: 5 }), agentRule);
      await rejected(
        (cluster) =>
          (cluster.metadata.labels = { ...cluster.metadata.labels, [Labels.clusterSet]: "global" }),
        /agent may not change|cannot add ManagedCluster c1/,
      );
      // What OCM's agent does update is still allowed.
      await update(
        (cluster) =>
          (cluster.spec = {
            ...cluster.spec,
            managedClusterClientConfigs: [{ url: "https://c1.example.com:6443" }],
          }),
      );
    } finally {
      agent.close();
    }

    // An operator who may update ManagedClusters, but not managedclusters/accept, cannot accept.
    const operator = await clientWithRole("cluster-operator", [
      {
        apiGroups: ["cluster.open-cluster-management.io"],
        resources: ["managedclusters"],
        verbs: ["get", "create", "update", "patch"],
      },
    ]);
    try {
      await operator.create({
        apiVersion: "cluster.open-cluster-management.io/v1",
        kind: "ManagedCluster",
        metadata: { name: "c9" },
        spec: { hubAcceptsClient: false },
      });
      await assert.rejects(
        operator.patch(clusterRef("c9"), "merge", { spec: { hubAcceptsClient: true } }),
        (error: unknown) => {
          assert.ok(error instanceof KubeApiError);
          assert.match(
            error.message,
            /cannot accept ManagedCluster c9: setting spec\.hubAcceptsClient needs update on managedclusters\/accept/,
          );
          return true;
        },
      );
    } finally {
      operator.close();
    }
    await grantRole("cluster-operator", [
      {
        apiGroups: ["register.open-cluster-management.io"],
        resources: ["managedclusters/accept"],
        verbs: ["update"],
      },
    ]);
    const accepting = await clientWithRole("cluster-operator", []);
    try {
      await eventually(() =>
        accepting.patch(clusterRef("c9"), "merge", { spec: { hubAcceptsClient: true } }),
      );
    } finally {
      accepting.close();
    }
    await admin.delete(clusterRef("c9"));
  });

  test("renewals made with the agent's own certificate are approved; one claiming another cluster never is", async () => {
    const agent = await agentClient("c1");
    try {
      const foreign = await agent.create(await csrFor(await agentKey(), "c2", agentSubject("c2")));
      const renewalKey = await agentKey();
      const renewal = await agent.create(await csrFor(renewalKey, "c1", agentSubject("c1")));
      const approved = await eventually(async () => {
        const state = await csrState(renewal.metadata.name!);
        assert.ok(state.status?.certificate);
        return state;
      });
      assert.equal(
        approved.status?.conditions?.find((condition) => condition.type === "Approved")?.reason,
        Csr.autoApprovedReason,
      );
      assert.equal(approved.spec.username, "system:open-cluster-management:c1:agent1");
      const foreignState = await csrState(foreign.metadata.name!);
      assert.equal(
        (foreignState.status?.conditions ?? []).length,
        0,
        "a CSR for c2 made with c1's certificate stays pending",
      );
    } finally {
      agent.close();
    }
  });

  test("a lease that stops being renewed makes the cluster Unknown and unreachable; renewing recovers it", async () => {
    await admin.patch(clusterRef("c1"), "merge", { spec: { leaseDurationSeconds: 1 } });
    const agent = await agentClient("c1");
    try {
      // The agent reports Available, then goes quiet.
      await agent.patch(
        clusterRef("c1"),
        "merge",
        {
          status: {
            conditions: [
              {
                type: "ManagedClusterConditionAvailable",
                status: "True",
                reason: "ManagedClusterAvailable",
                message: "",
                lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, "Z"),
              },
            ],
          },
        },
        { subresource: "status" },
      );
      await eventually(
        async () => {
          const c1 = await cluster("c1");
          const available = findCondition(c1.status?.conditions, "ManagedClusterConditionAvailable");
          assert.equal(available?.status, "Unknown");
          assert.equal(available?.reason, "ManagedClusterLeaseUpdateStopped");
          assert.equal(available?.message, "Registration agent stopped updating its lease.");
          assert.ok(c1.spec?.taints?.some((taint) => taint.key === Taints.unreachable));
          const events = await admin.listAll<Unstructured>("v1", "Event", {
            namespace: "default",
            fieldSelector: "involvedObject.name=c1,reason=AvailableUnknown",
          });
          assert.equal(events.items[0]?.type, "Warning");
        },
        { timeoutMs: 30_000 },
      );

      // The agent comes back: renews its lease and reports Available again.
      await admin.patch(clusterRef("c1"), "merge", { spec: { leaseDurationSeconds: 60 } });
      await renewLease(agent, "c1");
      const current = await cluster("c1");
      await agent.patch(
        clusterRef("c1"),
        "merge",
        {
          status: {
            conditions: (current.status?.conditions ?? []).map((condition) =>
              condition.type === "ManagedClusterConditionAvailable"
                ? { ...condition, status: "True", reason: "ManagedClusterAvailable", message: "" }
                : condition,
            ),
          },
        },
        { subresource: "status" },
      );
      await eventually(async () => {
        const c1 = await cluster("c1");
        assert.equal(
          findCondition(c1.status?.conditions, "ManagedClusterConditionAvailable")?.status,
          "True",
        );
        assert.equal(
          c1.spec?.taints?.some((taint) => taint.key === Taints.unreachable),
          false,
        );
      });
    } finally {
      agent.close();
    }
  });

  test("cluster sets report their members and bindings their set", async () => {
    await eventually(async () => {
      const set = await admin.get<Unstructured>({
        apiVersion: "cluster.open-cluster-management.io/v1beta2",
        kind: "ManagedClusterSet",
        name: "default",
      });
      const condition = (
        set.status as { conditions?: { type: string; status: string; reason: string; message: string }[] }
      ).conditions?.[0];
      assert.deepEqual(
        [condition?.type, condition?.status, condition?.reason, condition?.message],
        ["ClusterSetEmpty", "False", "ClustersSelected", "2 ManagedClusters selected"],
      );
    });
    await admin.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "global", namespace: "default" },
      spec: { clusterSet: "global" },
    });
    await admin.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "missing", namespace: "default" },
      spec: { clusterSet: "missing" },
    });
    await eventually(async () => {
      const bound = await admin.get<Unstructured>({
        apiVersion: "cluster.open-cluster-management.io/v1beta2",
        kind: "ManagedClusterSetBinding",
        name: "global",
        namespace: "default",
      });
      const unbound = await admin.get<Unstructured>({
        apiVersion: "cluster.open-cluster-management.io/v1beta2",
        kind: "ManagedClusterSetBinding",
        name: "missing",
        namespace: "default",
      });
      const reason = (object: Unstructured) =>
        (object.status as { conditions?: { reason: string }[] } | undefined)?.conditions?.[0]?.reason;
      assert.equal(reason(bound), "ClusterSetBound");
      assert.equal(reason(unbound), "ClusterSetNotFound");
    });
  });

  test("denial revokes the agent's access; deletion removes its RBAC and lets the cluster go", async () => {
    await admin.patch(clusterRef("c1"), "merge", { spec: { hubAcceptsClient: false } });
    await eventually(async () => {
      const c1 = await cluster("c1");
      const accepted = findCondition(c1.status?.conditions, "HubAcceptedManagedCluster");
      assert.equal(accepted?.status, "False");
      assert.equal(accepted?.reason, "HubClusterAdminDenied");
    });
    const agent = await agentClient("c1");
    try {
      await eventually(() =>
        expectForbidden(agent.list("coordination.k8s.io/v1", "Lease", { namespace: "c1" })),
      );
      await expectForbidden(
        agent.patch(
          clusterRef("c1"),
          "merge",
          { status: { version: { kubernetes: "x" } } },
          { subresource: "status" },
        ),
      );
      // A denied cluster can still see its own ManagedCluster, to learn that it was denied.
      await agent.get(clusterRef("c1"));
    } finally {
      agent.close();
    }
    await admin.delete(clusterRef("c1"));
    await eventually(async () => {
      assert.equal(await admin.getOrUndefined(clusterRef("c1")), undefined);
      assert.equal(
        await admin.getOrUndefined({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRole",
          name: "open-cluster-management:managedcluster:c1",
        }),
        undefined,
      );
    });
    // The namespace, and whatever the user keeps in it, stays.
    await admin.get({ apiVersion: "v1", kind: "Namespace", name: "c1" });
  });
});
