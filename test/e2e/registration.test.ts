// init → join → accept on real control planes: a hub and two managed clusters, the hub's
// registration controllers and one agent per cluster. Everything crosses the network for
// real: bootstrap tokens, CSRs signed by the hub's kube-controller-manager, mTLS, RBAC,
// leases and status.
import "reflect-metadata";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as x509 from "@peculiar/x509";
import { pino } from "pino";
import { Registry } from "prom-client";
import { parse } from "yaml";
import { Labels, Lease, Namespaces, Secrets, Taints } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { acceptCluster } from "../../cli/commands/accept.ts";
import { clustersTable } from "../../cli/commands/get.ts";
import { bootstrapKubeconfig } from "../../cli/commands/join.ts";
import { installCrds } from "../../runtime/crds.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { RegistrationControllers } from "../../controllers/registration/controller.ts";
import { ReplicaSetController } from "../../controllers/replicasets/controller.ts";
import { PolicyPropagator } from "../../controllers/propagation/propagator.ts";
import { ReplicaController } from "../../controllers/propagation/replica-controller.ts";
import { runCompliance } from "../../cli/commands/compliance.ts";
import { startPrometheus } from "../../local/prometheus/launcher.ts";
import { MetricsServer } from "../../runtime/server.ts";
import { runAgent, type AgentPhase } from "../../klusterlet/agent.ts";
import type { HubConnection } from "../../klusterlet/bootstrap/join.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { systemClock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { eventually } from "../support/wait.ts";

const logger = pino({ level: "silent" });
const clusterNames = ["east", "west"] as const;
const clusterRef = (name: string) => ({
  apiVersion: "cluster.open-cluster-management.io/v1",
  kind: "ManagedCluster",
  name,
});

interface RunningAgent {
  stop: AbortController;
  done: Promise<void>;
  phase: AgentPhase | undefined;
  connection: HubConnection | undefined;
}

describe("registration end to end", () => {
  const planes: Record<string, ControlPlane> = {};
  const managed: Record<string, KubeClient> = {};
  const agents: Record<string, RunningAgent> = {};
  let hub: KubeClient;
  let controllers: RegistrationControllers;
  let token: string;

  function startAgent(name: string): RunningAgent {
    const stop = new AbortController();
    const agent: RunningAgent = { stop, done: Promise.resolve(), phase: undefined, connection: undefined };
    agent.done = runAgent({
      managedClient: managed[name]!,
      clusterName: name,
      clock: systemClock(),
      logger,
      signal: stop.signal,
      expirationSeconds: 3600,
      statusResyncMs: 1000,
      onPhase: (phase, connection) => {
        agent.phase = phase;
        if (connection) agent.connection = connection;
      },
    });
    agents[name] = agent;
    return agent;
  }

  async function stopAgent(name: string): Promise<void> {
    const agent = agents[name];
    if (!agent) return;
    agent.stop.abort();
    await agent.done;
    delete agents[name];
  }

  const hubCluster = (name: string) => hub.get<ManagedCluster>(clusterRef(name));
  const condition = (cluster: ManagedCluster, type: string) =>
    findCondition(cluster.status?.conditions, type);

  before(async () => {
    const binaries = await ensureKubeBinaries();
    for (const name of ["hub", ...clusterNames]) planes[name] = await ControlPlane.start({ name, binaries });
    hub = await KubeClient.fromFile(planes.hub!.kubeconfigPath);
    for (const name of clusterNames) managed[name] = await KubeClient.fromFile(planes[name]!.kubeconfigPath);

    // bosun init
    await installCrds(hub, "hub");
    const endpoint = hubEndpointOf(hub);
    await ensureBootstrapIdentity(hub, endpoint);
    token = await mintBootstrapToken(hub);
    controllers = new RegistrationControllers({
      client: hub,
      clock: systemClock(),
      logger,
      registry: new Registry(),
    });
    await controllers.start();

    // bosun join, on each managed cluster: the managed APIs and the bootstrap secret.
    for (const name of clusterNames) {
      await installCrds(managed[name]!, "managed");
      await managed[name]!.create({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: Namespaces.agent },
      });
      await managed[name]!.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: Secrets.bootstrapHubKubeconfig, namespace: Namespaces.agent },
        stringData: { kubeconfig: bootstrapKubeconfig(endpoint.server, endpoint.caPem, token) },
      });
      // A claim before the agent starts, one after: both must reach the hub.
      await managed[name]!.create({
        apiVersion: "cluster.open-cluster-management.io/v1alpha1",
        kind: "ClusterClaim",
        metadata: { name: "region.open-cluster-management.io" },
        spec: { value: name === "east" ? "us-east-1" : "us-west-2" },
      });
      startAgent(name);
    }
  });

  after(async () => {
    for (const name of Object.keys(agents)) await stopAgent(name);
    await controllers?.stop();
    hub?.close();
    for (const client of Object.values(managed)) client.close();
    for (const plane of Object.values(planes)) await plane.stop();
  });

  test("join → accept takes both clusters to Joined and Available, with certificates from the hub's signer", async () => {
    for (const name of clusterNames) {
      const result = await acceptCluster(hub, name, { waitMs: 60_000 });
      assert.equal(result.approved.length, 1, `one CSR approved for ${name}`);
    }
    for (const name of clusterNames) {
      const cluster = await eventually(
        async () => {
          const cluster = await hubCluster(name);
          assert.equal(condition(cluster, "ManagedClusterJoined")?.status, "True");
          assert.equal(condition(cluster, "ManagedClusterConditionAvailable")?.status, "True");
          return cluster;
        },
        { timeoutMs: 60_000, what: `${name} joined and available` },
      );
      assert.equal(condition(cluster, "HubAcceptedManagedCluster")?.status, "True");
      assert.equal(cluster.status?.version?.kubernetes, "v1.36.3");
      assert.equal(cluster.metadata.labels?.[Labels.clusterSet], "default");
      await eventually(async () => {
        const current = await hubCluster(name);
        assert.equal(current.spec?.taints?.some((taint) => taint.key === Taints.unreachable) ?? false, false);
      });

      // The stored hub credentials: a client certificate signed by the hub's CA, no token.
      const secret = await managed[name]!.get<Unstructured>({
        apiVersion: "v1",
        kind: "Secret",
        name: Secrets.hubKubeconfig,
        namespace: Namespaces.agent,
      });
      const data = secret.data as Record<string, string>;
      assert.deepEqual(Object.keys(data).sort(), [
        "agent-name",
        "cluster-name",
        "kubeconfig",
        "tls.crt",
        "tls.key",
      ]);
      const certificate = new x509.X509Certificate(Buffer.from(data["tls.crt"]!, "base64").toString("utf8"));
      const hubCa = new x509.X509Certificate(planes.hub!.caPem);
      assert.equal(certificate.issuer, hubCa.subject);
      assert.equal(
        certificate.subjectName.getField("CN")[0],
        `system:open-cluster-management:${name}:${Buffer.from(data["agent-name"]!, "base64").toString("utf8")}`,
      );
      const kubeconfig = parse(Buffer.from(data.kubeconfig!, "base64").toString("utf8")) as {
        users: { user: Record<string, unknown> }[];
      };
      assert.equal(JSON.stringify(kubeconfig).includes(token), false, "the bootstrap token is not kept");
      for (const user of kubeconfig.users)
        assert.equal(user.user.token, undefined, "the hub kubeconfig has no token");
    }
  });

  test("an agent's certificate works only for its own cluster", async () => {
    const east = agents.east!.connection!.client;
    await east.get(clusterRef("east"));
    for (const attempt of [
      () => east.get(clusterRef("west")),
      () => east.list("coordination.k8s.io/v1", "Lease", { namespace: "west" }),
      () =>
        east.patch(
          clusterRef("west"),
          "merge",
          { status: { version: { kubernetes: "forged" } } },
          { subresource: "status" },
        ),
      () => east.list("v1", "Secret", { namespace: "east" }),
    ]) {
      await assert.rejects(
        attempt(),
        (error: unknown) => error instanceof KubeApiError && error.status === 403,
      );
    }
  });

  test("a ManifestWork in a cluster's namespace is applied by that cluster's agent, over its mTLS identity", async () => {
    const workRef = {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      namespace: "east",
      name: "hello",
    };
    const cmRef = { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "hello" };
    await hub.create({
      apiVersion: workRef.apiVersion,
      kind: workRef.kind,
      metadata: { name: "hello", namespace: "east" },
      spec: {
        workload: {
          manifests: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "hello", namespace: "default" },
              data: { a: "1" },
            },
          ],
        },
      },
    });
    await eventually(async () => {
      const work = await hub.get<ManifestWork>(workRef);
      assert.equal(findCondition(work.status?.conditions, "Applied")?.status, "True");
    });
    assert.deepEqual((await managed.east!.get<Unstructured>(cmRef)).data, { a: "1" });
    assert.equal(await managed.west!.getOrUndefined(cmRef), undefined);
    await hub.delete(workRef);
    await eventually(async () => {
      assert.equal(await hub.getOrUndefined(workRef), undefined);
      assert.equal(await managed.east!.getOrUndefined(cmRef), undefined);
    });
  });

  test("a 1.4 MB ManifestWorkReplicaSet is split into works under the limit and applied on both clusters", async () => {
    // The hub's placement and replica-set controllers over one cache, as `bosun hub` runs them.
    const informers = new InformerFactory({ client: hub, logger });
    const shared = { client: hub, clock: systemClock(), logger, registry: new Registry(), informers };
    const placements = new PlacementController(shared);
    const replicaSets = new ReplicaSetController(shared);
    await placements.start();
    await replicaSets.start();
    const configMaps = Array.from({ length: 28 }, (_, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `part-${String(i).padStart(2, "0")}`, namespace: "bundle" },
      data: { payload: `${i}`.padEnd(50_000, "x") },
    }));
    const manifests = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "bundle" } }, ...configMaps];
    try {
      await hub.create({
        apiVersion: "cluster.open-cluster-management.io/v1beta2",
        kind: "ManagedClusterSetBinding",
        metadata: { name: "default", namespace: "default" },
        spec: { clusterSet: "default" },
      });
      await hub.create({
        apiVersion: "cluster.open-cluster-management.io/v1beta1",
        kind: "Placement",
        metadata: { name: "everywhere", namespace: "default" },
        spec: {},
      });
      const replicaSet = {
        apiVersion: "work.open-cluster-management.io/v1alpha1",
        kind: "ManifestWorkReplicaSet",
        metadata: { name: "bundle", namespace: "default" },
        spec: { placementRefs: [{ name: "everywhere" }], manifestWorkTemplate: { workload: { manifests } } },
      };
      assert.ok(JSON.stringify(replicaSet).length > 1_400_000, "a template well over one work's limit");
      await hub.create(replicaSet);

      const works = async () =>
        (
          await hub.listAll<ManifestWork>("work.open-cluster-management.io/v1", "ManifestWork", {
            labelSelector: `${Labels.manifestWorkReplicaSet}=default.bundle`,
          })
        ).items;
      await eventually(
        async () => {
          const all = await works();
          for (const cluster of clusterNames) {
            const parts = all.filter((work) => work.metadata.namespace === cluster);
            assert.ok(parts.length >= 3, `${cluster}: ${parts.length} parts`);
            for (const part of parts) {
              assert.ok(JSON.stringify(part.spec?.workload?.manifests).length < 512_000, part.metadata.name);
              assert.equal(
                findCondition(part.status?.conditions, "Applied")?.status,
                "True",
                part.metadata.name,
              );
            }
          }
        },
        { timeoutMs: 120_000, what: "every part Applied on both clusters" },
      );
      for (const cluster of clusterNames) {
        const applied = await managed[cluster]!.listAll<Unstructured>("v1", "ConfigMap", {
          namespace: "bundle",
        });
        const names = applied.items
          .map((item) => item.metadata.name)
          .filter((name) => name?.startsWith("part-"));
        assert.equal(names.length, configMaps.length, cluster);
      }

      // Deleting the replica set removes every part, and the agents remove what they applied.
      await hub.delete({
        apiVersion: replicaSet.apiVersion,
        kind: replicaSet.kind,
        namespace: "default",
        name: "bundle",
      });
      await eventually(
        async () => {
          assert.deepEqual(await works(), []);
          for (const cluster of clusterNames) {
            const left = await managed[cluster]!.listAll<Unstructured>("v1", "ConfigMap", {
              namespace: "bundle",
            });
            assert.equal(
              left.items.filter((item) => item.metadata.name?.startsWith("part-")).length,
              0,
              cluster,
            );
          }
        },
        { timeoutMs: 120_000, what: "the bundle removed from both clusters" },
      );
    } finally {
      await replicaSets.stop();
      await placements.stop();
      await informers.stop();
    }
  });

  test("a Policy placed by a claim is evaluated, enforced and remediated on that cluster only, and reported everywhere", async () => {
    // The hub's placement and governance controllers over one cache, serving /metrics, scraped
    // by a real Prometheus.
    const informers = new InformerFactory({ client: hub, logger });
    const registry = new Registry();
    const shared = { client: hub, clock: systemClock(), logger, registry, informers };
    const placements = new PlacementController(shared);
    const propagator = new PolicyPropagator(shared);
    const replicas = new ReplicaController(shared);
    const metrics = new MetricsServer({ registry, logger, clock: systemClock() });
    const address = await metrics.listen({ host: "127.0.0.1", port: 0 });
    const prometheus = await startPrometheus({
      targets: [{ job: "bosun-hub", url: `${address.url}/metrics` }],
      scrapeIntervalSeconds: 1,
    });
    await placements.start();
    await propagator.start();
    await replicas.start();
    const policyApi = "policy.open-cluster-management.io";
    const rootRef = (name: string) => ({
      apiVersion: `${policyApi}/v1`,
      kind: "Policy",
      namespace: "default",
      name,
    });
    type Root = Unstructured & {
      status?: { compliant?: string; status?: { clustername?: string; compliant?: string }[] };
    };
    const configurationPolicy = (name: string, objectTemplates: unknown[]) => ({
      objectDefinition: {
        apiVersion: `${policyApi}/v1`,
        kind: "ConfigurationPolicy",
        metadata: { name },
        spec: { remediationAction: "inform", severity: "medium", "object-templates": objectTemplates },
      },
    });
    const governedConfig = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "governed" },
      data: { level: "strict" },
    };
    const perCluster = async (name: string): Promise<Record<string, string | undefined>> => {
      const root = await hub.get<Root>(rootRef(name));
      const states: Record<string, string | undefined> = {};
      for (const entry of root.status?.status ?? []) states[entry.clustername ?? ""] = entry.compliant;
      return states;
    };
    const promValue = async (name: string): Promise<Record<string, number>> => {
      const values: Record<string, number> = {};
      for (const sample of await prometheus.query(
        `policy_governance_info{type="propagated",policy="${name}"}`,
      ))
        values[String(sample.metric.cluster_namespace)] = sample.value;
      return values;
    };
    const complianceTable = async () => {
      let text = "";
      await runCompliance(
        hub,
        { namespace: "default", output: "table", color: false },
        { write: (chunk: string) => (text += chunk) },
      );
      return text;
    };
    try {
      // The default set bound to the namespace (an earlier test may have done it already).
      await hub
        .create({
          apiVersion: "cluster.open-cluster-management.io/v1beta2",
          kind: "ManagedClusterSetBinding",
          metadata: { name: "default", namespace: "default" },
          spec: { clusterSet: "default" },
        })
        .catch((error: unknown) => {
          if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
        });
      await hub.create({
        apiVersion: "cluster.open-cluster-management.io/v1beta1",
        kind: "Placement",
        metadata: { name: "us-east", namespace: "default" },
        spec: {
          predicates: [
            {
              requiredClusterSelector: {
                claimSelector: {
                  matchExpressions: [
                    { key: "region.open-cluster-management.io", operator: "In", values: ["us-east-1"] },
                  ],
                },
              },
            },
          ],
        },
      });
      await hub.create({
        ...rootRef("governed"),
        metadata: { name: "governed", namespace: "default" },
        spec: {
          disabled: false,
          remediationAction: "inform",
          "policy-templates": [
            configurationPolicy("governed-objects", [
              {
                complianceType: "musthave",
                objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: "governed" } },
              },
              // Its diff is recorded in the status (a ConfigMap's is redacted by default).
              { complianceType: "musthave", objectDefinition: governedConfig, recordDiff: "InStatus" },
            ]),
            configurationPolicy("no-debug-config", [
              {
                complianceType: "mustnothave",
                objectDefinition: {
                  apiVersion: "v1",
                  kind: "ConfigMap",
                  metadata: { name: "debug", namespace: "default" },
                },
              },
            ]),
          ],
        },
      });
      await hub.create({
        ...rootRef("after-governed"),
        metadata: { name: "after-governed", namespace: "default" },
        spec: {
          disabled: false,
          remediationAction: "inform",
          dependencies: [
            {
              apiVersion: `${policyApi}/v1`,
              kind: "Policy",
              name: "governed",
              namespace: "default",
              compliance: "Compliant",
            },
          ],
          "policy-templates": [
            configurationPolicy("governed-namespace", [
              {
                complianceType: "musthave",
                objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: "governed" } },
              },
            ]),
          ],
        },
      });
      await hub.create({
        apiVersion: `${policyApi}/v1`,
        kind: "PlacementBinding",
        metadata: { name: "us-east", namespace: "default" },
        placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "Placement", name: "us-east" },
        subjects: [
          { apiGroup: policyApi, kind: "Policy", name: "governed" },
          { apiGroup: policyApi, kind: "Policy", name: "after-governed" },
        ],
      });

      // inform: east reports what is missing in OCM's words; west gets nothing.
      await eventually(
        async () => {
          assert.deepEqual(await perCluster("governed"), { east: "NonCompliant" });
          assert.deepEqual(await perCluster("after-governed"), { east: "Pending" });
          assert.deepEqual(await promValue("governed"), { east: 1 });
          assert.match(await complianceTable(), /governed\s+inform\s+NonCompliant\s+NonCompliant/);
        },
        { timeoutMs: 120_000, what: "NonCompliant on the root, in Prometheus and in bosun compliance" },
      );
      const replica = await hub.get<
        Unstructured & { status?: { details?: { history?: { message?: string }[] }[] } }
      >({
        ...rootRef("default.governed"),
        namespace: "east",
      });
      assert.equal(
        replica.status?.details?.[0]?.history?.[0]?.message,
        "NonCompliant; violation - namespaces [governed] not found; violation - configmaps [settings] not found in namespace governed",
      );
      assert.equal(
        replica.status?.details?.[1]?.history?.[0]?.message,
        "Compliant; notification - configmaps [debug] missing as expected in namespace default",
      );
      assert.equal(
        await managed.east!.getOrUndefined({ apiVersion: "v1", kind: "Namespace", name: "governed" }),
        undefined,
        "inform creates nothing",
      );
      assert.equal(
        (await managed.west!.listAll("policy.open-cluster-management.io/v1", "ConfigurationPolicy")).items
          .length,
        0,
        "nothing reaches the cluster the claim does not select",
      );

      // enforce: the objects exist on east, the dependent policy is released, all agree.
      await hub.patch(rootRef("governed"), "merge", { spec: { remediationAction: "enforce" } });
      const settings = { apiVersion: "v1", kind: "ConfigMap", namespace: "governed", name: "settings" };
      await eventually(
        async () => {
          assert.deepEqual(await perCluster("governed"), { east: "Compliant" });
          assert.deepEqual(await perCluster("after-governed"), { east: "Compliant" });
          assert.deepEqual(await promValue("governed"), { east: 0 });
          assert.match(await complianceTable(), /governed\s+enforce\s+Compliant\s+Compliant/);
          assert.ok(await managed.east!.getOrUndefined(settings), "the enforced ConfigMap on east");
        },
        { timeoutMs: 120_000, what: "Compliant after enforce, everywhere" },
      );
      assert.equal(
        await managed.west!.getOrUndefined({ apiVersion: "v1", kind: "Namespace", name: "governed" }),
        undefined,
      );

      // A delete on the cluster, as `kubectl delete`, is remediated and reported.
      const before = (await managed.east!.get<Unstructured>(settings)).metadata.uid;
      await managed.east!.delete(settings);
      await eventually(
        async () => {
          const again = await managed.east!.getOrUndefined<Unstructured>(settings);
          assert.ok(again && again.metadata.uid !== before, "recreated");
          const history = (
            await hub.get<Unstructured & { status?: { details?: { history?: { message?: string }[] }[] } }>({
              ...rootRef("default.governed"),
              namespace: "east",
            })
          ).status?.details?.[0]?.history?.map((entry) => entry.message);
          assert.ok(
            history?.some((message) => /was created successfully/.test(message ?? "")),
            "the remediation reported",
          );
          assert.deepEqual(await perCluster("governed"), { east: "Compliant" });
        },
        { timeoutMs: 60_000, what: "the deleted ConfigMap remediated and reported" },
      );

      // Back to inform, a `kubectl edit` of the ConfigMap on east is reported, and `bosun
      // compliance --cluster` shows the related objects and the diff that east itself reports,
      // through a read-only work that changes nothing there and is gone afterwards.
      await hub.patch(rootRef("governed"), "merge", { spec: { remediationAction: "inform" } });
      await eventually(
        async () => {
          const delivered = await managed.east!.get<Unstructured & { spec?: { remediationAction?: string } }>(
            {
              apiVersion: `${policyApi}/v1`,
              kind: "ConfigurationPolicy",
              namespace: "east",
              name: "governed-objects",
            },
          );
          assert.equal(delivered.spec?.remediationAction, "inform");
        },
        { timeoutMs: 60_000, what: "inform delivered to east" },
      );
      await managed.east!.patch(settings, "merge", { data: { level: "lax" } });
      await eventually(async () => assert.deepEqual(await perCluster("governed"), { east: "NonCompliant" }), {
        timeoutMs: 60_000,
        what: "the edited ConfigMap reported",
      });
      let explained = "";
      const explainedCode = await runCompliance(
        hub,
        { namespace: "default", policy: "governed", cluster: "east", output: "json", color: false },
        { write: (chunk: string) => (explained += chunk) },
      );
      assert.equal(explainedCode, 3, "the cell is NonCompliant");
      const cell = JSON.parse(explained) as {
        relatedObjectsNotRead?: string;
        templates: {
          name: string;
          relatedObjects?: {
            state: string;
            objects?: { kind?: string; name?: string; compliant?: string; reason?: string; diff?: string }[];
          };
        }[];
      };
      assert.equal(cell.relatedObjectsNotRead, undefined);
      const objects = cell.templates.find((entry) => entry.name === "governed-objects")?.relatedObjects;
      assert.equal(objects?.state, "read");
      const config = objects?.objects?.find((object) => object.kind === "ConfigMap");
      assert.equal(config?.name, "settings");
      assert.equal(config?.compliant, "NonCompliant");
      assert.equal(config?.reason, "Resource found but does not match");
      assert.match(config?.diff ?? "", /^-\s+level: lax$/m);
      assert.match(config?.diff ?? "", /^\+\s+level: strict$/m);
      const namespace = objects?.objects?.find((object) => object.kind === "Namespace");
      assert.equal(namespace?.name, "governed");
      assert.equal(namespace?.compliant, "Compliant");
      assert.equal(namespace?.reason, "Resource found as expected");
      assert.equal(
        (await managed.east!.get<Unstructured & { data?: Record<string, string> }>(settings)).data?.level,
        "lax",
        "reading changed nothing on east",
      );
      // With --watch one read-only work serves the whole watch: another edit on east shows up in
      // the next frame's diff, and the work goes when the watch ends.
      let watched = "";
      const stopWatching = new AbortController();
      const watching = runCompliance(
        hub,
        {
          namespace: "default",
          policy: "governed",
          cluster: "east",
          output: "table",
          color: false,
          watch: true,
          signal: stopWatching.signal,
        },
        { write: (chunk: string) => (watched += chunk) },
      );
      try {
        await eventually(() => assert.match(watched, /^\s+-\s+level: lax$/m), {
          timeoutMs: 30_000,
          what: "the watch's first frame with the diff",
        });
        await managed.east!.patch(settings, "merge", { data: { level: "relaxed" } });
        await eventually(() => assert.match(watched, /^\s+-\s+level: relaxed$/m), {
          timeoutMs: 60_000,
          what: "the watch's frame after another edit on east",
        });
        // One work serves the whole watch, written once: its generation never moved.
        const readers = (
          await hub.listAll("work.open-cluster-management.io/v1", "ManifestWork", {
            namespace: "east",
            labelSelector: "policy.bosun.dev/related-objects-of",
          })
        ).items.filter((reader) => !reader.metadata.deletionTimestamp);
        assert.deepEqual(
          readers.map((reader) => reader.metadata.generation),
          [1],
        );
      } finally {
        stopWatching.abort();
      }
      assert.equal(await watching, 3);
      // Deleted at once; gone once east's agent has released it (nothing of it to remove there).
      await eventually(
        async () =>
          assert.deepEqual(
            (
              await hub.listAll("work.open-cluster-management.io/v1", "ManifestWork", {
                namespace: "east",
                labelSelector: "policy.bosun.dev/related-objects-of",
              })
            ).items,
            [],
          ),
        { timeoutMs: 30_000, what: "the read-only work gone" },
      );
      assert.ok(
        await managed.east!.getOrUndefined({
          apiVersion: `${policyApi}/v1`,
          kind: "ConfigurationPolicy",
          namespace: "east",
          name: "governed-objects",
        }),
        "the policy it read stays",
      );

      // A Gatekeeper constraint as a policy template: delivered cluster-scoped with the inform
      // action turned into enforcementAction warn, and its audit read back in OCM's words.
      // No Gatekeeper runs here: east gets the CRD Gatekeeper would generate from the
      // ConstraintTemplate, and the test posts the audit results as Gatekeeper's audit does.
      await managed.east!.create({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "k8srequiredlabels.constraints.gatekeeper.sh" },
        spec: {
          group: "constraints.gatekeeper.sh",
          scope: "Cluster",
          names: { kind: "K8sRequiredLabels", plural: "k8srequiredlabels", singular: "k8srequiredlabels" },
          versions: [
            {
              name: "v1beta1",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            },
          ],
        },
      });
      await hub.create({
        apiVersion: `${policyApi}/v1`,
        kind: "Policy",
        metadata: { name: "owner-label", namespace: "default" },
        spec: {
          remediationAction: "inform",
          disabled: false,
          "policy-templates": [
            {
              objectDefinition: {
                apiVersion: "constraints.gatekeeper.sh/v1beta1",
                kind: "K8sRequiredLabels",
                metadata: { name: "ns-must-have-owner" },
                spec: {
                  match: { kinds: [{ apiGroups: [""], kinds: ["Namespace"] }] },
                  parameters: { labels: ["owner"] },
                },
              },
            },
          ],
        },
      });
      await hub.create({
        apiVersion: `${policyApi}/v1`,
        kind: "PlacementBinding",
        metadata: { name: "owner-label", namespace: "default" },
        placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "Placement", name: "us-east" },
        subjects: [{ apiGroup: policyApi, kind: "Policy", name: "owner-label" }],
      });
      const constraintRef = {
        apiVersion: "constraints.gatekeeper.sh/v1beta1",
        kind: "K8sRequiredLabels",
        name: "ns-must-have-owner",
      };
      const delivered = await eventually(
        async () => {
          const found = await managed.east!.get<Unstructured & { spec?: { enforcementAction?: string } }>(
            constraintRef,
          );
          assert.equal(found.spec?.enforcementAction, "warn");
          return found;
        },
        { timeoutMs: 60_000, what: "the constraint on east" },
      );
      const ownerMessage = 'you must provide labels: {"owner"}';
      await managed.east!.patch(
        constraintRef,
        "merge",
        {
          metadata: { resourceVersion: delivered.metadata.resourceVersion },
          status: {
            auditTimestamp: "2026-01-01T00:00:00Z",
            totalViolations: 1,
            violations: [
              {
                enforcementAction: "warn",
                kind: "Namespace",
                name: "governed",
                message: ownerMessage,
                version: "v1",
              },
            ],
          },
        },
        { subresource: "status" },
      );
      const newestMessage = async () => {
        const replica = await hub.get<Root>({
          ...rootRef("owner-label"),
          namespace: "east",
          name: "default.owner-label",
        });
        return (replica.status as { details?: { history?: { message?: string }[] }[] } | undefined)
          ?.details?.[0]?.history?.[0]?.message;
      };
      await eventually(
        async () => {
          assert.deepEqual(await perCluster("owner-label"), { east: "NonCompliant" });
          assert.equal(await newestMessage(), `NonCompliant; warn - ${ownerMessage} (on Namespace governed)`);
        },
        { timeoutMs: 90_000, what: "the constraint's violation on the root" },
      );
      await managed.east!.patch(
        constraintRef,
        "merge",
        { status: { totalViolations: 0, violations: [] } },
        { subresource: "status" },
      );
      await eventually(
        async () => {
          assert.deepEqual(await perCluster("owner-label"), { east: "Compliant" });
          assert.equal(await newestMessage(), "Compliant; The constraint has no violations");
        },
        { timeoutMs: 90_000, what: "the constraint's clean audit on the root" },
      );
    } finally {
      await replicas.stop();
      await propagator.stop();
      await placements.stop();
      await informers.stop();
      await prometheus.stop();
      await metrics.close();
    }
  });

  test("ClusterClaims created on a managed cluster appear on the hub; removing one removes it", async () => {
    await eventually(async () => {
      const east = await hubCluster("east");
      assert.deepEqual(
        east.status?.clusterClaims?.find((claim) => claim.name === "region.open-cluster-management.io")
          ?.value,
        "us-east-1",
      );
    });
    await managed.east!.create({
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "ClusterClaim",
      metadata: { name: "gpu.example.com" },
      spec: { value: "a100" },
    });
    await eventually(async () => {
      const claims = (await hubCluster("east")).status?.clusterClaims ?? [];
      assert.ok(claims.some((claim) => claim.name === "gpu.example.com" && claim.value === "a100"));
    });
    await managed.east!.delete({
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "ClusterClaim",
      name: "gpu.example.com",
    });
    await eventually(async () => {
      const claims = (await hubCluster("east")).status?.clusterClaims ?? [];
      assert.equal(
        claims.some((claim) => claim.name === "gpu.example.com"),
        false,
      );
      assert.ok(
        claims.some((claim) => claim.name === "region.open-cluster-management.io"),
        "other claims stay",
      );
    });
    // west never saw east's claim.
    const westClaims = (await hubCluster("west")).status?.clusterClaims ?? [];
    assert.deepEqual(
      westClaims.map((claim) => `${claim.name}=${claim.value}`),
      ["region.open-cluster-management.io=us-west-2"],
    );
  });

  test("get clusters shows the fleet", async () => {
    const { items } = await hub.listAll<ManagedCluster>(
      "cluster.open-cluster-management.io/v1",
      "ManagedCluster",
    );
    const table = clustersTable(
      items.sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")),
    );
    const lines = table.split("\n");
    assert.match(lines[0]!, /^NAME\s+ACCEPTED\s+JOINED\s+AVAILABLE\s+CLUSTERSET\s+KUBERNETES/);
    assert.match(
      lines[1]!,
      /^east\s+true\s+True\s+True\s+default\s+v1\.36\.3\s.*region\.open-cluster-management\.io=us-east-1/,
    );
    assert.match(
      lines[2]!,
      /^west\s+true\s+True\s+True\s+default\s+v1\.36\.3\s.*region\.open-cluster-management\.io=us-west-2/,
    );
  });

  test("a stopped agent turns its cluster Unknown and unreachable; restarted, it comes back without a new join", async () => {
    await hub.patch(clusterRef("west"), "merge", { spec: { leaseDurationSeconds: 1 } });
    const lease = () =>
      hub.get<Unstructured>({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        name: Lease.name,
        namespace: "west",
      });
    const renewTime = async () => String(((await lease()).spec as { renewTime?: string }).renewTime);
    const first = await renewTime();
    await eventually(async () => assert.notEqual(await renewTime(), first, "the agent renews its lease"));

    const csrsBefore = (
      await hub.listAll("certificates.k8s.io/v1", "CertificateSigningRequest", {
        labelSelector: `${Labels.clusterName}=west`,
      })
    ).items.length;
    await stopAgent("west");
    await eventually(
      async () => {
        const west = await hubCluster("west");
        const available = condition(west, "ManagedClusterConditionAvailable");
        assert.equal(available?.status, "Unknown");
        assert.equal(available?.reason, "ManagedClusterLeaseUpdateStopped");
        assert.ok(west.spec?.taints?.some((taint) => taint.key === Taints.unreachable));
      },
      { timeoutMs: 60_000, what: "west Unknown and unreachable" },
    );
    // east, whose agent keeps running, is untouched.
    assert.equal(condition(await hubCluster("east"), "ManagedClusterConditionAvailable")?.status, "True");

    startAgent("west");
    await eventually(
      async () => {
        const west = await hubCluster("west");
        assert.equal(condition(west, "ManagedClusterConditionAvailable")?.status, "True");
        assert.equal(west.spec?.taints?.some((taint) => taint.key === Taints.unreachable) ?? false, false);
      },
      { timeoutMs: 60_000, what: "west available again" },
    );
    const csrsAfter = (
      await hub.listAll("certificates.k8s.io/v1", "CertificateSigningRequest", {
        labelSelector: `${Labels.clusterName}=west`,
      })
    ).items.length;
    assert.equal(csrsAfter, csrsBefore, "the restarted agent reused its stored certificate");
  });
});
