// The registration agent against two real control planes, a hub and a managed cluster. The
// test plays the hub's part by hand (approving CSRs, accepting the cluster, granting OCM's
// per-cluster RBAC, creating the lease) so that only the agent is under test.
import "reflect-metadata";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, afterEach, before, describe, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Pkcs10CertificateRequest } from "@peculiar/x509";
import { parse, parseAllDocuments, stringify } from "yaml";
import { ClusterRBAC, Labels, RBAC, Resources } from "../../api/constants.ts";
import type { ClusterClaim, ManagedCluster } from "../../api/types/cluster.ts";
import { runAgent, type AgentOptions, type AgentPhase } from "../../klusterlet/agent.ts";
import { createKeyAndRequest, isIssuedBy, readCertificate } from "../../klusterlet/bootstrap/certificate.ts";
import type { CertificateSigningRequest } from "../../klusterlet/bootstrap/identity.ts";
import { connectToHub, readHubSecret, type HubConnection } from "../../klusterlet/bootstrap/join.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { systemClock, type Clock } from "../../runtime/clock.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { type Lease } from "../../runtime/leader.ts";
import { captureLogger } from "../support/log-capture.ts";
import { eventually } from "../support/wait.ts";
import { parseMicroTime } from "../../runtime/time.ts";

const projectRoot = resolve(import.meta.dirname, "..", "..");
const day = 86_400_000;
const csrApi = "certificates.k8s.io/v1";
const rbacApi = "rbac.authorization.k8s.io/v1";
const cluster1 = "cluster1";
const subjectPrefix = "system:open-cluster-management:";
const { logger, entries: logEntries } = captureLogger("debug");

async function installCrds(client: KubeClient, dir: string): Promise<void> {
  const crds: Unstructured[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".yaml"))) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const crd = document.toJS() as Unstructured | null;
      if (crd) crds.push(crd);
    }
  }
  for (const crd of crds) await client.create(crd);
  for (const crd of crds) {
    const spec = crd.spec as {
      group: string;
      names: { kind: string };
      versions: { name: string; served: boolean }[];
    };
    const version = spec.versions.find((v) => v.served)!.name;
    // A new CRD can answer 404 or 429 until it is established.
    await eventually(() => client.list(`${spec.group}/${version}`, spec.names.kind, { limit: 1 }), {
      timeoutMs: 60_000,
      what: `CRD ${spec.names.kind}`,
    });
  }
}

function rbacObjects(): Unstructured[] {
  const clusterRole = (name: string, rules: unknown[]): Unstructured => ({
    apiVersion: rbacApi,
    kind: "ClusterRole",
    metadata: { name },
    rules,
  });
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "open-cluster-management" } },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "agent-registration-bootstrap", namespace: "open-cluster-management" },
    },
    // OCM's bootstrap ClusterRole (ocm-core.md §1.8).
    clusterRole(RBAC.bootstrapClusterRole, [
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
      {
        apiGroups: ["certificates.k8s.io"],
        resources: ["certificatesigningrequests"],
        verbs: ["create", "get", "list", "watch"],
      },
      {
        apiGroups: ["cluster.open-cluster-management.io"],
        resources: ["managedclusters"],
        verbs: ["get", "create", "list", "watch"],
      },
      {
        apiGroups: ["cluster.open-cluster-management.io"],
        resources: ["managedclustersets/join"],
        verbs: ["create"],
      },
    ]),
    bootstrapBinding(),
    clusterRole(RBAC.registrationClusterRole, [
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["get", "list", "watch", "update"],
      },
      {
        apiGroups: ["addon.open-cluster-management.io"],
        resources: ["managedclusteraddons"],
        verbs: ["get", "list", "watch"],
      },
      {
        apiGroups: ["addon.open-cluster-management.io"],
        resources: ["managedclusteraddons/status"],
        verbs: ["patch", "update"],
      },
      { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
    ]),
  ];
}

function bootstrapBinding(): Unstructured {
  return {
    apiVersion: rbacApi,
    kind: "ClusterRoleBinding",
    metadata: { name: RBAC.bootstrapServiceAccountBinding },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: RBAC.bootstrapClusterRole },
    subjects: [
      { kind: "ServiceAccount", name: "agent-registration-bootstrap", namespace: "open-cluster-management" },
    ],
  };
}

/** What OCM's hub grants an accepted cluster (ocm-core.md §1.8). */
function perClusterRbac(cluster: string): Unstructured[] {
  const subjects = ClusterRBAC.groups(cluster).map((name) => ({
    apiGroup: "rbac.authorization.k8s.io",
    kind: "Group",
    name,
  }));
  const own = {
    apiGroups: ["cluster.open-cluster-management.io"],
    resources: ["managedclusters"],
    resourceNames: [cluster],
  };
  return [
    {
      apiVersion: rbacApi,
      kind: "ClusterRole",
      metadata: { name: ClusterRBAC.clusterRole(cluster) },
      rules: [
        {
          apiGroups: ["certificates.k8s.io"],
          resources: ["certificatesigningrequests"],
          verbs: ["create", "get", "list", "watch"],
        },
        {
          apiGroups: ["register.open-cluster-management.io"],
          resources: ["managedclusters/clientcertificates"],
          verbs: ["renew"],
        },
        { ...own, verbs: ["get", "list", "update", "watch"] },
        { ...own, resources: ["managedclusters/status"], verbs: ["patch", "update"] },
      ],
    },
    {
      apiVersion: rbacApi,
      kind: "ClusterRoleBinding",
      metadata: { name: ClusterRBAC.clusterRole(cluster) },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: ClusterRBAC.clusterRole(cluster),
      },
      subjects,
    },
    {
      apiVersion: rbacApi,
      kind: "RoleBinding",
      metadata: { name: ClusterRBAC.registrationRoleBinding(cluster), namespace: cluster },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: RBAC.registrationClusterRole,
      },
      subjects,
    },
  ];
}

function bootstrapKubeconfigFor(hub: ControlPlane, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "hub",
        cluster: {
          server: hub.server,
          "certificate-authority-data": Buffer.from(hub.caPem).toString("base64"),
        },
      },
    ],
    users: [{ name: "bootstrap", user: { token } }],
    contexts: [{ name: "bootstrap", context: { cluster: "hub", user: "bootstrap" } }],
    "current-context": "bootstrap",
  });
}

async function clusterCsrs(client: KubeClient, cluster: string): Promise<CertificateSigningRequest[]> {
  const { items } = await client.listAll<CertificateSigningRequest>(csrApi, "CertificateSigningRequest", {
    labelSelector: `${Labels.clusterName}=${cluster}`,
  });
  return items;
}

async function approve(client: KubeClient, csr: CertificateSigningRequest): Promise<void> {
  const name = csr.metadata.name!;
  const current = await client.get<CertificateSigningRequest>({
    apiVersion: csrApi,
    kind: "CertificateSigningRequest",
    name,
  });
  await client.request({
    method: "PUT",
    path: `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}/approval`,
    body: {
      ...current,
      status: {
        ...current.status,
        conditions: [
          ...(current.status?.conditions ?? []),
          { type: "Approved", status: "True", reason: "ApprovedByTest", message: "approved by the test" },
        ],
      },
    },
  });
}

const clusterRef = (name: string) => ({
  apiVersion: Resources.ManagedCluster.apiVersion,
  kind: Resources.ManagedCluster.kind,
  name,
});

function condition(cluster: ManagedCluster | undefined, type: string) {
  return cluster?.status?.conditions?.find((c) => c.type === type);
}

interface RunningAgent {
  phases: AgentPhase[];
  connections: HubConnection[];
  readonly settled: boolean;
  stop(): Promise<void>;
}

describe("klusterlet registration agent", () => {
  let hub: ControlPlane;
  let managed: ControlPlane;
  let hubAdmin: KubeClient;
  let managedAdmin: KubeClient;
  let bootstrapToken: string;
  const agents: RunningAgent[] = [];

  function startAgent(
    options: Partial<AgentOptions> & { clusterName: string },
    stopOnRunning?: number,
  ): RunningAgent {
    const abort = new AbortController();
    const phases: AgentPhase[] = [];
    const connections: HubConnection[] = [];
    let settled = false;
    const done = runAgent({
      managedClient: managedAdmin,
      clock: systemClock(),
      logger,
      signal: abort.signal,
      statusResyncMs: 5_000,
      onPhase: (phase, connection) => {
        phases.push(phase);
        if (connection) connections.push(connection);
        if (phase === "running" && stopOnRunning !== undefined && connections.length >= stopOnRunning)
          abort.abort();
      },
      ...options,
    }).finally(() => (settled = true));
    const agent: RunningAgent = {
      phases,
      connections,
      get settled() {
        return settled;
      },
      stop: async () => {
        abort.abort();
        await done;
      },
    };
    agents.push(agent);
    return agent;
  }

  before(async () => {
    const binaries = await ensureKubeBinaries();
    hub = await ControlPlane.start({ name: "hub", binaries });
    managed = await ControlPlane.start({ name: "managed", binaries });
    hubAdmin = await KubeClient.fromFile(hub.kubeconfigPath);
    managedAdmin = await KubeClient.fromFile(managed.kubeconfigPath);
    await installCrds(hubAdmin, join(projectRoot, "crds", "hub"));
    await installCrds(managedAdmin, join(projectRoot, "crds", "managed"));
    for (const object of rbacObjects()) await hubAdmin.create(object);
    const review = await eventually(
      () =>
        hubAdmin.request<{ status: { token: string } }>({
          method: "POST",
          path: "/api/v1/namespaces/open-cluster-management/serviceaccounts/agent-registration-bootstrap/token",
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { expirationSeconds: 3600 },
          },
        }),
      { what: "a bootstrap token" },
    );
    bootstrapToken = review.status.token;
    await managedAdmin.create({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "open-cluster-management-agent" },
    });
    await managedAdmin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "bootstrap-hub-kubeconfig", namespace: "open-cluster-management-agent" },
      data: { kubeconfig: Buffer.from(bootstrapKubeconfigFor(hub, bootstrapToken)).toString("base64") },
    });
  });

  afterEach(async (context) => {
    const t = context as TestContext & { passed?: boolean };
    if (t.passed === false) {
      console.error(
        `agent log tail:\n${logEntries
          .slice(-30)
          .map((e) => JSON.stringify(e))
          .join("\n")}`,
      );
      for (const plane of [hub, managed]) if (plane) console.error(await plane.logTail(20));
    }
  });

  after(async () => {
    for (const agent of agents) await agent.stop();
    hubAdmin?.close();
    managedAdmin?.close();
    await managed?.stop();
    await hub?.stop();
  });

  let agent1: RunningAgent;
  let csr1: CertificateSigningRequest;

  test("the agent registers the cluster and asks for a certificate with OCM's CSR", async () => {
    agent1 = startAgent({
      clusterName: cluster1,
      externalServerUrls: ["https://cluster1.example:6443"],
      clusterAnnotations: {
        "agent.open-cluster-management.io/region": "eu-west",
        "example.com/ignored": "x",
      },
    });
    const cluster = await eventually(() => hubAdmin.get<ManagedCluster>(clusterRef(cluster1)), {
      what: "the ManagedCluster",
    });
    assert.equal(cluster.spec?.hubAcceptsClient, false);
    assert.deepEqual(cluster.spec?.managedClusterClientConfigs, [
      { url: "https://cluster1.example:6443", caBundle: Buffer.from(managed.caPem).toString("base64") },
    ]);
    assert.deepEqual(cluster.metadata.annotations, { "agent.open-cluster-management.io/region": "eu-west" });

    const [csr] = await eventually(
      async () => {
        const csrs = await clusterCsrs(hubAdmin, cluster1);
        assert.equal(csrs.length, 1);
        return csrs;
      },
      { what: "the CSR" },
    );
    csr1 = csr!;
    assert.match(csr1.metadata.name!, /^cluster1-/);
    assert.equal(csr1.metadata.generateName, "cluster1-");
    assert.deepEqual(csr1.metadata.labels, { [Labels.clusterName]: cluster1 });
    assert.equal(csr1.spec.signerName, "kubernetes.io/kube-apiserver-client");
    assert.deepEqual(csr1.spec.usages, ["digital signature", "key encipherment", "client auth"]);
    assert.equal(csr1.spec.expirationSeconds, 31536000);
    assert.equal(
      csr1.spec.username,
      "system:serviceaccount:open-cluster-management:agent-registration-bootstrap",
    );
    const requestPem = Buffer.from(csr1.spec.request, "base64").toString("utf8");
    const request = new Pkcs10CertificateRequest(requestPem);
    assert.deepEqual(request.subjectName.getField("O"), [
      "system:open-cluster-management:cluster1",
      "system:open-cluster-management:managed-clusters",
    ]);
    const [commonName] = request.subjectName.getField("CN");
    assert.match(commonName!, /^system:open-cluster-management:cluster1:[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(agent1.phases, ["joining"]);
    assert.equal(await readHubSecret(managedAdmin), undefined, "no hub secret before approval");
  });

  test("once approved, the agent stores an mTLS hub kubeconfig with a certificate from the hub's signer", async () => {
    // The hub's part: accept the cluster and grant its identity OCM's per-cluster RBAC.
    await hubAdmin.patch(clusterRef(cluster1), "merge", { spec: { hubAcceptsClient: true } });
    await hubAdmin.create({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: cluster1, labels: { [Labels.clusterName]: cluster1 } },
    });
    for (const object of perClusterRbac(cluster1)) await hubAdmin.create(object);
    await hubAdmin.patch(
      clusterRef(cluster1),
      "merge",
      {
        status: {
          conditions: [
            {
              type: "HubAcceptedManagedCluster",
              status: "True",
              reason: "HubClusterAdminAccepted",
              message: "Accepted by hub cluster admin",
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            },
          ],
        },
      },
      { subresource: "status" },
    );
    await hubAdmin.create<Lease>({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: "managed-cluster-lease",
        namespace: cluster1,
        labels: { [Labels.clusterName]: cluster1 },
      },
      spec: { holderIdentity: "managed-cluster-lease", renewTime: "2026-01-01T00:00:00.000000Z" },
    });
    await approve(hubAdmin, csr1);

    const secret = await eventually(
      async () => {
        const data = await readHubSecret(managedAdmin);
        assert.ok(data);
        return data;
      },
      { timeoutMs: 60_000, what: "the hub secret" },
    );
    assert.deepEqual(Object.keys(secret).sort(), [
      "agent-name",
      "cluster-name",
      "kubeconfig",
      "tls.crt",
      "tls.key",
    ]);
    assert.equal(secret["cluster-name"], cluster1);
    assert.match(secret["agent-name"]!, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const certificate = readCertificate(secret["tls.crt"]!);
    assert.equal(certificate.commonName, `${subjectPrefix}${cluster1}:${secret["agent-name"]}`);
    assert.equal(await isIssuedBy(secret["tls.crt"]!, hub.caPem), true, "issued by the hub's CSR signer");
    assert.equal(await isIssuedBy(secret["tls.crt"]!, managed.caPem), false);

    const kubeconfig = parse(secret.kubeconfig!) as {
      clusters: { cluster: Record<string, string> }[];
      users: { name: string; user: Record<string, string> }[];
      contexts: { name: string; context: Record<string, string> }[];
      "current-context": string;
    };
    assert.equal(kubeconfig.clusters[0]!.cluster.server, hub.server);
    assert.equal(
      kubeconfig.clusters[0]!.cluster["certificate-authority-data"],
      Buffer.from(hub.caPem).toString("base64"),
    );
    assert.deepEqual(
      kubeconfig.users.map((u) => u.name),
      ["default-auth"],
    );
    assert.deepEqual(Object.keys(kubeconfig.users[0]!.user).sort(), [
      "client-certificate-data",
      "client-key-data",
    ]);
    assert.equal(kubeconfig["current-context"], "default-context");
    assert.equal(kubeconfig.contexts[0]!.context.user, "default-auth");

    // The stored kubeconfig authenticates as the cluster's identity.
    const viaSecret = await KubeClient.fromString(secret.kubeconfig!);
    try {
      const review = await viaSecret.request<{
        status: { userInfo: { username: string; groups: string[] } };
      }>({
        method: "POST",
        path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      });
      assert.equal(review.status.userInfo.username, certificate.commonName);
      assert.ok(review.status.userInfo.groups.includes(`${subjectPrefix}${cluster1}`));
      assert.ok(review.status.userInfo.groups.includes("system:open-cluster-management:managed-clusters"));
    } finally {
      viaSecret.close();
    }
    await eventually(() => assert.deepEqual(agent1.phases, ["joining", "running"]), {
      what: "the agent running",
    });
    const connection = agent1.connections[0]!;
    assert.equal(connection.agentName, secret["agent-name"]);
    assert.equal(
      connection.client.kubeConfig.getCurrentUser()?.token,
      undefined,
      "the hub client has no token",
    );
    assert.ok(
      connection.client.kubeConfig.getCurrentUser()?.certData,
      "the hub client uses a client certificate",
    );
  });

  test("the agent reports Joined, Available and the Kubernetes version", async () => {
    const version = await managedAdmin.request<{ gitVersion: string }>({ method: "GET", path: "/version" });
    const cluster = await eventually(
      async () => {
        const current = await hubAdmin.get<ManagedCluster>(clusterRef(cluster1));
        assert.equal(condition(current, "ManagedClusterConditionAvailable")?.status, "True");
        return current;
      },
      { what: "Available" },
    );
    const joined = condition(cluster, "ManagedClusterJoined");
    assert.equal(joined?.status, "True");
    assert.equal(joined?.reason, "ManagedClusterJoined");
    assert.equal(joined?.message, "Managed cluster joined");
    assert.equal(condition(cluster, "ManagedClusterConditionAvailable")?.reason, "ManagedClusterAvailable");
    assert.equal(cluster.status?.version?.kubernetes, version.gitVersion);
    assert.equal(
      condition(cluster, "HubAcceptedManagedCluster")?.status,
      "True",
      "the hub's condition is kept",
    );
  });

  test("capacity and allocatable are the sums over the nodes", async () => {
    const nodes = [
      {
        name: "node-a",
        unschedulable: false,
        capacity: { cpu: "4", memory: "8Gi", pods: "110", "nvidia.com/gpu": "2" },
        allocatable: { cpu: "3800m", memory: "7Gi", pods: "110", "nvidia.com/gpu": "2" },
      },
      {
        name: "node-b",
        unschedulable: true,
        capacity: { cpu: "2", memory: "4Gi", pods: "110" },
        allocatable: { cpu: "2", memory: "4Gi", pods: "110" },
      },
    ];
    for (const node of nodes) {
      const created = await managedAdmin.create<Unstructured>({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: node.name },
        spec: { unschedulable: node.unschedulable },
      });
      await managedAdmin.replace(
        { ...created, status: { capacity: node.capacity, allocatable: node.allocatable } },
        { subresource: "status" },
      );
    }
    // Capacity an add-on placed on the ManagedCluster stays.
    await eventually(async () => {
      const current = await hubAdmin.get<ManagedCluster>(clusterRef(cluster1));
      await hubAdmin.patch(
        clusterRef(cluster1),
        "merge",
        {
          metadata: { resourceVersion: current.metadata.resourceVersion },
          status: { capacity: { "socket.example.com/widgets": "3" } },
        },
        { subresource: "status" },
      );
    });
    const cluster = await eventually(
      async () => {
        const current = await hubAdmin.get<ManagedCluster>(clusterRef(cluster1));
        assert.equal(current.status?.capacity?.cpu, "6");
        return current;
      },
      { what: "capacity" },
    );
    assert.deepEqual(cluster.status?.capacity, {
      cpu: "6",
      memory: "12Gi",
      pods: "220",
      "nvidia.com/gpu": "2",
      "socket.example.com/widgets": "3",
    });
    assert.deepEqual(cluster.status?.allocatable, {
      cpu: "3800m",
      memory: "7Gi",
      pods: "110",
      "nvidia.com/gpu": "2",
    });
  });

  test("ClusterClaims appear on the hub and disappear when deleted, over mTLS only", async () => {
    // Without the bootstrap binding, the token can no longer do anything on the hub.
    await hubAdmin.delete({
      apiVersion: rbacApi,
      kind: "ClusterRoleBinding",
      name: RBAC.bootstrapServiceAccountBinding,
    });
    const claim = (name: string, value: string, labels?: Record<string, string>): ClusterClaim => ({
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "ClusterClaim",
      metadata: { name, ...(labels ? { labels } : {}) },
      spec: { value },
    });
    await managedAdmin.create(claim("region.example.com", "eu-west"));
    await managedAdmin.create(claim("id.k8s.io", "cluster1-id"));
    await managedAdmin.create(claim("secret.example.com", "stays here", { [Labels.spokeOnly]: "" }));
    await eventually(
      async () => {
        const current = await hubAdmin.get<ManagedCluster>(clusterRef(cluster1));
        assert.deepEqual(current.status?.clusterClaims, [
          { name: "id.k8s.io", value: "cluster1-id" },
          { name: "region.example.com", value: "eu-west" },
        ]);
      },
      { what: "the claims on the hub" },
    );
    await managedAdmin.delete({
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "ClusterClaim",
      name: "region.example.com",
    });
    await eventually(
      async () => {
        const current = await hubAdmin.get<ManagedCluster>(clusterRef(cluster1));
        assert.deepEqual(current.status?.clusterClaims, [{ name: "id.k8s.io", value: "cluster1-id" }]);
      },
      { what: "the deleted claim gone from the hub" },
    );
    await hubAdmin.create(bootstrapBinding());
  });

  test("the agent renews the lease every leaseDurationSeconds", async () => {
    const leaseRef = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: "managed-cluster-lease",
      namespace: cluster1,
    };
    await hubAdmin.patch(clusterRef(cluster1), "merge", { spec: { leaseDurationSeconds: 1 } });
    const first = await eventually(
      async () => {
        const lease = await hubAdmin.get<Lease>(leaseRef);
        assert.notEqual(lease.spec?.renewTime, "2026-01-01T00:00:00.000000Z");
        return lease.spec!.renewTime!;
      },
      { what: "a renewal" },
    );
    assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, "MicroTime with six fractional digits");
    await eventually(
      async () => {
        const lease = await hubAdmin.get<Lease>(leaseRef);
        assert.ok(parseMicroTime(lease.spec!.renewTime!)! > parseMicroTime(first)!);
      },
      { what: "a later renewal" },
    );
  });

  test("a restarted agent reuses the stored certificate without a new CSR", async () => {
    await agent1.stop();
    assert.equal(agent1.phases.at(-1), "stopped");
    const stored = (await readHubSecret(managedAdmin))!;
    const csrsBefore = (await clusterCsrs(hubAdmin, cluster1)).map((csr) => csr.metadata.name).sort();
    const restarted = startAgent({ clusterName: cluster1 });
    await eventually(() => assert.equal(restarted.phases.at(-1), "running"), {
      what: "the restarted agent running",
    });
    assert.equal(restarted.connections[0]!.agentName, stored["agent-name"]);
    // The restarted agent works: a new claim reaches the hub.
    await managedAdmin.create<ClusterClaim>({
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "ClusterClaim",
      metadata: { name: "after-restart.example.com" },
      spec: { value: "yes" },
    });
    await eventually(
      async () => {
        const current = await hubAdmin.get<ManagedCluster>(clusterRef(cluster1));
        assert.ok(current.status?.clusterClaims?.some((c) => c.name === "after-restart.example.com"));
      },
      { what: "the claim from the restarted agent" },
    );
    assert.deepEqual(
      (await clusterCsrs(hubAdmin, cluster1)).map((csr) => csr.metadata.name).sort(),
      csrsBefore,
    );
    assert.equal((await readHubSecret(managedAdmin))!["tls.crt"], stored["tls.crt"]);
    await restarted.stop();
  });

  test("rotation asks for the new certificate with the current one", async () => {
    const stored = (await readHubSecret(managedAdmin))!;
    const csrsBefore = new Set((await clusterCsrs(hubAdmin, cluster1)).map((csr) => csr.metadata.name));
    // Late in the certificate's life by the agent's clock: rotation is due at once.
    const lateClock: Clock = { ...systemClock(), now: () => Date.now() + 0.85 * 365 * day };
    const rotating = startAgent({ clusterName: cluster1, clock: lateClock }, 2);
    const renewal = await eventually(
      async () => {
        const fresh = (await clusterCsrs(hubAdmin, cluster1)).filter(
          (csr) => !csrsBefore.has(csr.metadata.name),
        );
        assert.equal(fresh.length, 1);
        return fresh[0]!;
      },
      { what: "the renewal CSR" },
    );
    const commonName = `${subjectPrefix}${cluster1}:${stored["agent-name"]}`;
    assert.equal(renewal.spec.username, commonName, "made with the current certificate");
    assert.ok(renewal.spec.groups?.includes(`${subjectPrefix}${cluster1}`));
    await approve(hubAdmin, renewal);
    await eventually(
      async () => assert.notEqual((await readHubSecret(managedAdmin))!["tls.crt"], stored["tls.crt"]),
      {
        what: "the rotated certificate",
      },
    );
    const rotated = (await readHubSecret(managedAdmin))!;
    assert.equal(readCertificate(rotated["tls.crt"]!).commonName, commonName);
    assert.equal(await isIssuedBy(rotated["tls.crt"]!, hub.caPem), true);
    assert.notEqual(rotated["tls.key"], stored["tls.key"], "a new key");
    await eventually(() => assert.equal(rotating.settled, true), {
      what: "the agent to stop on its new certificate",
    });
    const connection = await connectToHub({
      managedClient: managedAdmin,
      clusterName: cluster1,
      agentName: rotated["agent-name"]!,
      clock: systemClock(),
    });
    assert.ok(connection, "the rotated certificate is usable");
    await connection.client.get(clusterRef(cluster1));
    connection.client.close();
  });

  test("an agent that is never approved gets no certificate and keeps waiting", async () => {
    const waiting = startAgent({
      clusterName: "cluster2",
      namespace: "agent-cluster2",
      bootstrapKubeconfig: bootstrapKubeconfigFor(hub, bootstrapToken),
    });
    await eventually(async () => assert.equal((await clusterCsrs(hubAdmin, "cluster2")).length, 1), {
      what: "cluster2's CSR",
    });
    await sleep(3000);
    assert.equal(waiting.settled, false, "still running");
    assert.deepEqual(waiting.phases, ["joining"]);
    assert.equal(await readHubSecret(managedAdmin, { namespace: "agent-cluster2" }), undefined);
    const [pending] = await clusterCsrs(hubAdmin, "cluster2");
    assert.equal(pending!.status?.certificate, undefined);
    assert.equal((await clusterCsrs(hubAdmin, "cluster2")).length, 1, "one CSR, not a stream of them");
    await waiting.stop();
    assert.equal(waiting.phases.at(-1), "stopped");
  });

  test("the agent creates no CSR while the hub holds 10 pending ones for its cluster", async () => {
    const { csrPem } = await createKeyAndRequest({
      commonName: `${subjectPrefix}cluster3:zzzzz`,
      organizations: [`${subjectPrefix}cluster3`],
    });
    for (let i = 0; i < 10; i++) {
      await hubAdmin.create({
        apiVersion: csrApi,
        kind: "CertificateSigningRequest",
        metadata: { generateName: "cluster3-", labels: { [Labels.clusterName]: "cluster3" } },
        spec: {
          request: Buffer.from(csrPem).toString("base64"),
          signerName: "kubernetes.io/kube-apiserver-client",
          usages: ["client auth"],
        },
      });
    }
    const halted = startAgent({
      clusterName: "cluster3",
      namespace: "agent-cluster3",
      bootstrapKubeconfig: bootstrapKubeconfigFor(hub, bootstrapToken),
    });
    await eventually(
      () =>
        assert.ok(
          logEntries.some(
            (entry) => entry.reason === "ClientCertificateCreationHalted" && entry.cluster === "cluster3",
          ),
        ),
      { what: "the halt to be logged" },
    );
    assert.equal((await clusterCsrs(hubAdmin, "cluster3")).length, 10);
    assert.equal(halted.settled, false);
    await halted.stop();
  });

  test("the agent never logs its key or the bootstrap token", () => {
    const text = logEntries.map((entry) => JSON.stringify(entry)).join("\n");
    assert.ok(logEntries.length > 0);
    assert.equal(text.includes("PRIVATE KEY"), false);
    assert.equal(text.includes(bootstrapToken), false);
  });
});
