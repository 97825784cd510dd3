// OCM's own agents (v1.0.0 binaries) on a hub run by bosun: `bosun init` and `bosun hub` on one
// control plane, OCM's registration and work agents on a managed control plane with bosun's
// managed CRDs. The registration agent joins with a `bosun get token` token, `bosun accept`
// accepts it, and it reports Joined, Available, its lease and its claims; the work agent applies
// ManifestWorks made on the bosun hub, split ones included, and reports their status feedback.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Labels, Lease, Namespaces } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { ensureOcmBinaries, type OcmBinaries } from "../../local/ocm/binaries.ts";
import type { ManagedProcess } from "../../local/process.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { eventually } from "../support/wait.ts";
import {
  bosun,
  extractHubKubeconfig,
  logFile,
  reportLogsOnFailure,
  startBosunHub,
  startOcmRegistrationAgent,
  startOcmWorkAgent,
  storedAgentName,
  writeBootstrapKubeconfig,
  type LogSource,
  type OcmProcess,
} from "./support/agents-ocm.ts";

const cluster = "spoke1";
const clusterApi = "cluster.open-cluster-management.io";
const workApi = "work.open-cluster-management.io";
const clusterRef = { apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: cluster };
const workRef = (name: string) => ({
  apiVersion: `${workApi}/v1`,
  kind: "ManifestWork",
  namespace: cluster,
  name,
});

describe("OCM's agents on bosun's hub", () => {
  let ocm: OcmBinaries;
  let dir: string;
  let hubPlane: ControlPlane | undefined;
  let spokePlane: ControlPlane | undefined;
  let hub: KubeClient;
  let spoke: KubeClient;
  let bosunHub: ManagedProcess | undefined;
  let registrationAgent: OcmProcess | undefined;
  let workAgent: OcmProcess | undefined;

  reportLogsOnFailure(() =>
    [
      bosunHub && logFile("bosun hub", bosunHub.options.logFile),
      registrationAgent,
      workAgent,
      hubPlane,
      spokePlane,
    ].filter((source): source is LogSource => source !== undefined),
  );

  before(async () => {
    const [kube, oracle] = await Promise.all([
      ensureKubeBinaries(),
      ensureOcmBinaries({ binaries: ["registration", "work"] }),
    ]);
    ocm = oracle;
    dir = await mkdtemp(join(tmpdir(), "bosun-compat-ocm-agents-"));
    [hubPlane, spokePlane] = await Promise.all([
      ControlPlane.start({ name: "bosun-hub", binaries: kube }),
      ControlPlane.start({ name: cluster, binaries: kube }),
    ]);
    hub = await KubeClient.fromFile(hubPlane.kubeconfigPath);
    spoke = await KubeClient.fromFile(spokePlane.kubeconfigPath);

    const init = await bosun("init", "--kubeconfig", hubPlane.kubeconfigPath, "-o", "json");
    assert.equal(init.code, 0, `bosun init: ${init.stderr}`);
    bosunHub = await startBosunHub(hubPlane.kubeconfigPath, dir);
    const token = await bosun("get", "token", "--kubeconfig", hubPlane.kubeconfigPath, "-o", "json");
    assert.equal(token.code, 0, `bosun get token: ${token.stderr}`);
    const { hubToken, hubApiserver } = JSON.parse(token.stdout) as { hubToken: string; hubApiserver: string };

    // The managed side, as the klusterlet prepares it: bosun's managed CRDs, the agent namespace,
    // a claim made before the agent starts.
    await installCrds(spoke, "managed");
    await spoke.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.agent } });
    await spoke.create({
      apiVersion: `${clusterApi}/v1alpha1`,
      kind: "ClusterClaim",
      metadata: { name: "region.open-cluster-management.io" },
      spec: { value: "us-east-1" },
    });
    registrationAgent = await startOcmRegistrationAgent(ocm, {
      clusterName: cluster,
      bootstrapKubeconfig: await writeBootstrapKubeconfig(
        join(dir, "bootstrap.kubeconfig"),
        hubApiserver,
        hubPlane.caPem,
        hubToken,
      ),
      managedKubeconfig: spokePlane.kubeconfigPath,
      externalServerUrls: [spokePlane.server],
      dir,
    });
  });

  after(async () => {
    await workAgent?.stop();
    await registrationAgent?.stop();
    await bosunHub?.stop();
    hub?.close();
    spoke?.close();
    await spokePlane?.stop();
    await hubPlane?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("OCM's registration agent joins with bosun's token, bosun accept accepts it, and it becomes Joined and Available with its lease", async () => {
    const accept = await bosun(
      "accept",
      "--kubeconfig",
      hubPlane!.kubeconfigPath,
      "--clusters",
      cluster,
      "--wait",
      "--timeout",
      "120",
    );
    assert.equal(accept.code, 0, `bosun accept: ${accept.stderr}`);
    assert.match(accept.stdout, new RegExp(`CSR ${cluster}-\\w+ approved`));

    const managedCluster = await eventually(
      async () => {
        const current = await hub.get<ManagedCluster>(clusterRef);
        for (const type of [
          "HubAcceptedManagedCluster",
          "ManagedClusterJoined",
          "ManagedClusterConditionAvailable",
        ])
          assert.equal(findCondition(current.status?.conditions, type)?.status, "True", type);
        return current;
      },
      { timeoutMs: 120_000, what: `${cluster} Joined and Available on the bosun hub` },
    );
    assert.equal(
      findCondition(managedCluster.status?.conditions, "ManagedClusterJoined")?.reason,
      "ManagedClusterJoined",
    );
    assert.equal(managedCluster.status?.version?.kubernetes, "v1.36.3");
    assert.deepEqual(
      managedCluster.spec?.managedClusterClientConfigs?.map((config) => config.url),
      [spokePlane!.server],
    );
    assert.equal(managedCluster.metadata.labels?.[Labels.clusterSet], "default");

    // The agent renews the lease bosun's hub created, with the certificate it was issued.
    const lease = () =>
      hub.get<Unstructured & { spec: { renewTime?: string } }>({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        namespace: cluster,
        name: Lease.name,
      });
    const first = (await lease()).spec.renewTime;
    await hub.patch(clusterRef, "merge", { spec: { leaseDurationSeconds: 1 } });
    await eventually(async () => assert.notEqual((await lease()).spec.renewTime, first, "renewed"), {
      timeoutMs: 60_000,
      what: "the lease renewed by OCM's agent",
    });
    await hub.patch(clusterRef, "merge", { spec: { leaseDurationSeconds: 60 } });
    assert.equal(
      findCondition(
        (await hub.get<ManagedCluster>(clusterRef)).status?.conditions,
        "ManagedClusterConditionAvailable",
      )?.status,
      "True",
    );
  });

  test("OCM's agent reports its ClusterClaims, which bosun get clusters shows", async () => {
    await spoke.create({
      apiVersion: `${clusterApi}/v1alpha1`,
      kind: "ClusterClaim",
      metadata: { name: "gpu.example.com" },
      spec: { value: "a100" },
    });
    await eventually(
      async () => {
        const claims = (await hub.get<ManagedCluster>(clusterRef)).status?.clusterClaims ?? [];
        assert.deepEqual(
          claims.map((claim) => `${claim.name}=${claim.value}`),
          ["gpu.example.com=a100", "region.open-cluster-management.io=us-east-1"],
        );
      },
      { timeoutMs: 60_000, what: "both claims on the hub" },
    );
    const table = await bosun("get", "clusters", "--kubeconfig", hubPlane!.kubeconfigPath);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      new RegExp(
        `^${cluster}\\s+true\\s+True\\s+True\\s+default\\s+v1\\.36\\.3\\s.*gpu\\.example\\.com=a100,region\\.open-cluster-management\\.io=us-east-1\\b`,
        "m",
      ),
    );
  });

  test("OCM's work agent applies a ManifestWork from the bosun hub and its status feedback reaches the hub", async () => {
    const hubKubeconfig = await extractHubKubeconfig(spoke, join(dir, "work-hub-kubeconfig"));
    workAgent = await startOcmWorkAgent(ocm, {
      clusterName: cluster,
      hubKubeconfig,
      managedKubeconfig: spokePlane!.kubeconfigPath,
      agentId: await storedAgentName(spoke),
      dir,
    });
    await hub.create({
      apiVersion: `${workApi}/v1`,
      kind: "ManifestWork",
      metadata: { name: "web", namespace: cluster },
      spec: {
        workload: {
          manifests: [
            { apiVersion: "v1", kind: "Namespace", metadata: { name: "web" } },
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "settings", namespace: "web" },
              data: { a: "1" },
            },
            {
              apiVersion: "apps/v1",
              kind: "Deployment",
              metadata: { name: "web", namespace: "web" },
              spec: {
                replicas: 2,
                selector: { matchLabels: { app: "web" } },
                template: {
                  metadata: { labels: { app: "web" } },
                  spec: { containers: [{ name: "web", image: "nginx" }] },
                },
              },
            },
          ],
        },
        manifestConfigs: [
          {
            resourceIdentifier: { group: "apps", resource: "deployments", namespace: "web", name: "web" },
            feedbackRules: [
              { type: "WellKnownStatus" },
              {
                type: "JSONPaths",
                jsonPaths: [
                  { name: "desired", path: ".spec.replicas" },
                  { name: "image", path: ".spec.template.spec.containers[0].image" },
                ],
              },
            ],
          },
        ],
      },
    });
    const deployment = { apiVersion: "apps/v1", kind: "Deployment", namespace: "web", name: "web" };
    await eventually(async () => assert.ok(await spoke.getOrUndefined(deployment)), {
      timeoutMs: 60_000,
      what: "the Deployment applied by OCM's agent",
    });
    // No controllers run pods here: the Deployment's status is written as its controller would.
    await spoke.patch(
      deployment,
      "merge",
      { status: { replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 } },
      { subresource: "status" },
    );
    const work = await eventually(
      async () => {
        const current = await hub.get<ManifestWork>(workRef("web"));
        assert.equal(
          findCondition(current.status?.conditions, "Applied")?.reason,
          "AppliedManifestWorkComplete",
        );
        assert.equal(findCondition(current.status?.conditions, "Available")?.reason, "ResourcesAvailable");
        const values = current.status?.resourceStatus?.manifests?.[2]?.statusFeedback?.values ?? [];
        assert.deepEqual(Object.fromEntries(values.map((value) => [value.name, value.fieldValue])), {
          ReadyReplicas: { type: "Integer", integer: 2 },
          Replicas: { type: "Integer", integer: 2 },
          AvailableReplicas: { type: "Integer", integer: 2 },
          desired: { type: "Integer", integer: 2 },
          image: { type: "String", string: "nginx" },
        });
        return current;
      },
      { timeoutMs: 90_000, what: "the work Applied and Available with its feedback on the hub" },
    );
    assert.deepEqual(work.metadata.finalizers, ["cluster.open-cluster-management.io/manifest-work-cleanup"]);
    const settings = await spoke.get<Unstructured>({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "web",
      name: "settings",
    });
    assert.deepEqual(settings.data, { a: "1" });

    // Deleting the work on the hub: OCM's agent removes what it applied, then its finalizer.
    await hub.delete(workRef("web"));
    await eventually(
      async () => {
        assert.equal(await hub.getOrUndefined(workRef("web")), undefined, "the work is gone from the hub");
        assert.equal(
          await spoke.getOrUndefined({ apiVersion: "v1", kind: "Namespace", name: "web" }),
          undefined,
        );
        assert.deepEqual((await spoke.list(`${workApi}/v1`, "AppliedManifestWork")).items, []);
      },
      { timeoutMs: 90_000, what: "the work and what it applied removed" },
    );
  });

  test("a ManifestWorkReplicaSet that bosun's hub splits into parts is applied in full by OCM's agent, which knows nothing of parts", async () => {
    const configMaps = Array.from({ length: 24 }, (_, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `part-${String(i).padStart(2, "0")}`, namespace: "bundle" },
      data: { payload: `${i}`.padEnd(50_000, "x") },
    }));
    const manifests = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "bundle" } }, ...configMaps];
    assert.ok(JSON.stringify(manifests).length > 2 * 512_000, "more than two works' worth of manifests");
    await hub.create({
      apiVersion: `${clusterApi}/v1beta2`,
      kind: "ManagedClusterSetBinding",
      metadata: { name: "default", namespace: "default" },
      spec: { clusterSet: "default" },
    });
    await hub.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "everywhere", namespace: "default" },
      spec: {},
    });
    const replicaSetRef = {
      apiVersion: `${workApi}/v1alpha1`,
      kind: "ManifestWorkReplicaSet",
      namespace: "default",
      name: "bundle",
    };
    await hub.create({
      apiVersion: replicaSetRef.apiVersion,
      kind: replicaSetRef.kind,
      metadata: { name: "bundle", namespace: "default" },
      spec: {
        placementRefs: [{ name: "everywhere" }],
        manifestWorkTemplate: {
          workload: { manifests },
          // Feedback from the last ConfigMap, which is in the last part.
          manifestConfigs: [
            {
              resourceIdentifier: { resource: "configmaps", namespace: "bundle", name: "part-23" },
              feedbackRules: [{ type: "JSONPaths", jsonPaths: [{ name: "name", path: ".metadata.name" }] }],
            },
          ],
        },
      },
    });
    const parts = async () =>
      (
        await hub.listAll<ManifestWork>(`${workApi}/v1`, "ManifestWork", {
          namespace: cluster,
          labelSelector: `${Labels.manifestWorkReplicaSet}=default.bundle`,
        })
      ).items;
    await eventually(
      async () => {
        const works = await parts();
        assert.ok(works.length >= 3, `${works.length} parts`);
        for (const part of works) {
          assert.ok(
            JSON.stringify(part.spec?.workload?.manifests).length <= 512_000,
            `${part.metadata.name} within the limit`,
          );
          const applied = findCondition(part.status?.conditions, "Applied");
          assert.equal(applied?.status, "True", `${part.metadata.name} Applied`);
          assert.equal(
            applied?.observedGeneration,
            part.metadata.generation,
            `${part.metadata.name} current`,
          );
        }
        const names = (await spoke.listAll<Unstructured>("v1", "ConfigMap", { namespace: "bundle" })).items
          .map((item) => item.metadata.name)
          .filter((name) => name?.startsWith("part-"));
        assert.equal(names.length, configMaps.length, "every ConfigMap on the cluster");
        const feedback = works
          .flatMap((part) => part.status?.resourceStatus?.manifests ?? [])
          .filter((manifest) => manifest.resourceMeta.name === "part-23")
          .map((manifest) => manifest.statusFeedback?.values);
        assert.deepEqual(feedback, [[{ name: "name", fieldValue: { type: "String", string: "part-23" } }]]);
        const replicaSet = await hub.get<ManifestWorkReplicaSet>(replicaSetRef);
        assert.equal(
          findCondition(replicaSet.status?.conditions, "ManifestworkApplied")?.reason,
          "AsExpected",
        );
      },
      { timeoutMs: 150_000, what: "every part applied by OCM's agent" },
    );
    assert.equal(
      (await spoke.list(`${workApi}/v1`, "AppliedManifestWork")).items.length,
      (await parts()).length,
    );

    await hub.delete(replicaSetRef);
    await eventually(
      async () => {
        assert.deepEqual(await parts(), []);
        assert.equal(
          await spoke.getOrUndefined({ apiVersion: "v1", kind: "Namespace", name: "bundle" }),
          undefined,
        );
      },
      { timeoutMs: 120_000, what: "the parts and what they applied removed" },
    );
  });

  test("bosun's hub refused OCM's agents nothing: their RBAC on the hub covers what they do", async () => {
    for (const agent of [registrationAgent!, workAgent!]) {
      assert.deepEqual(await agent.refusals(), [], `${agent.name} was refused requests by bosun's hub`);
    }
  });
});
