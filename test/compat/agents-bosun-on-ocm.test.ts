// bosun's agent on a hub run by OCM (v1.0.0 binaries): OCM's CRDs and bootstrap RBAC, OCM's
// registration and placement controllers, and OCM's registration and work admission webhooks
// registered as OCM's cluster-manager registers them, so that every ManagedCluster and
// ManifestWork write (the agents' and the test's) passes OCM's mutation and validation. bosun's
// agent joins through `bosun join` with a token for OCM's bootstrap ServiceAccount and is
// accepted with `bosun accept`; a second managed cluster runs OCM's own registration and work
// agents. Both get the same ManifestWorks, and what bosun's agent writes (the work's status and
// feedback, the AppliedManifestWork, the applied objects' metadata, the ManagedCluster's status)
// is compared field by field with what OCM's agents write.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { Labels, Namespaces } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { AppliedManifestWork, ManifestWork } from "../../api/types/work.ts";
import { stopBackground } from "../../cli/background.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { ensureOcmBinaries, type OcmBinaries } from "../../local/ocm/binaries.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient, type ObjectRef } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { eventually } from "../support/wait.ts";
import {
  appliedObjectView,
  appliedView,
  describeDifference,
  differences,
  judge,
  managedClusterView,
  knownDifferences,
  workView,
} from "./support/agents-compare.ts";
import {
  applyOcmBootstrapRbac,
  bosun,
  extractHubKubeconfig,
  installOcmCrds,
  logFile,
  ocmBootstrapToken,
  OcmProcess,
  reportLogsOnFailure,
  startOcmRegistrationAgent,
  startOcmWorkAgent,
  storedAgentName,
  writeBootstrapKubeconfig,
  type LogSource,
} from "./support/agents-ocm.ts";
import { startOcmWebhooks, webhookRefusals, type OcmWebhooks } from "./support/agents-webhooks.ts";

const scenario = "bosun's agent on OCM's hub";
/** The cluster bosun's agent runs on, and the one OCM's agents run on. */
const bosunCluster = "bosun-spoke";
const ocmCluster = "ocm-spoke";
const clusters = [bosunCluster, ocmCluster] as const;
const clusterApi = "cluster.open-cluster-management.io";
const workApi = "work.open-cluster-management.io";

/** The works both agents get, in each cluster's namespace. */
function works(namespace: string): ManifestWork[] {
  const work = (name: string, spec: ManifestWork["spec"], labels?: Record<string, string>): ManifestWork => ({
    apiVersion: `${workApi}/v1`,
    kind: "ManifestWork",
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    spec,
  });
  return [
    work(
      "basic",
      {
        workload: {
          manifests: [
            // Out of apply order on purpose: the ConfigMap needs the Namespace after it.
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "settings", namespace: "demo" },
              data: { a: "1" },
            },
            { apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } },
            {
              apiVersion: "apps/v1",
              kind: "Deployment",
              metadata: { name: "web", namespace: "demo", labels: { tier: "front" } },
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
            resourceIdentifier: { group: "apps", resource: "deployments", namespace: "demo", name: "web" },
            feedbackRules: [
              { type: "WellKnownStatus" },
              {
                type: "JSONPaths",
                jsonPaths: [
                  { name: "desired", path: ".spec.replicas" },
                  { name: "image", path: ".spec.template.spec.containers[0].image" },
                  { name: "missing", path: ".status.nothing" },
                  { name: "selector", path: ".spec.selector.matchLabels" },
                ],
              },
            ],
          },
        ],
      },
      { app: "demo" },
    ),
    work("strategies", {
      deleteOption: { propagationPolicy: "Orphan" },
      workload: {
        manifests: [
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "ssa", namespace: "default" },
            data: { k: "v" },
          },
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "adopted", namespace: "default" },
            data: { k: "from-work" },
          },
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "kube-root-ca.crt", namespace: "default" },
          },
        ],
      },
      manifestConfigs: [
        {
          resourceIdentifier: { resource: "configmaps", namespace: "default", name: "ssa" },
          updateStrategy: { type: "ServerSideApply" },
          feedbackRules: [{ type: "JSONPaths", jsonPaths: [{ name: "k", path: ".data.k" }] }],
        },
        {
          resourceIdentifier: { resource: "configmaps", namespace: "default", name: "adopted" },
          updateStrategy: { type: "CreateOnly" },
        },
        {
          resourceIdentifier: { resource: "configmaps", namespace: "default", name: "kube-root-ca.crt" },
          updateStrategy: { type: "ReadOnly" },
          feedbackRules: [{ type: "JSONPaths", jsonPaths: [{ name: "name", path: ".metadata.name" }] }],
        },
      ],
    }),
    work("broken", {
      workload: {
        manifests: [
          { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "default" } },
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "fine", namespace: "default" },
            data: { k: "v" },
          },
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "lost", namespace: "nowhere" },
            data: { k: "v" },
          },
        ],
      },
    }),
    work("rules", {
      workload: {
        manifests: [
          {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "once", namespace: "default" },
            spec: {
              template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
            },
          },
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "ruled", namespace: "default" },
            data: { ready: "yes" },
          },
        ],
      },
      manifestConfigs: [
        {
          resourceIdentifier: { group: "batch", resource: "jobs", namespace: "default", name: "once" },
          feedbackRules: [{ type: "WellKnownStatus" }],
          conditionRules: [{ type: "WellKnownConditions", condition: "Complete" }],
        },
        {
          resourceIdentifier: { resource: "configmaps", namespace: "default", name: "ruled" },
          conditionRules: [
            {
              type: "CEL",
              condition: "Progressing",
              celExpressions: ["object.data.ready == 'yes'"],
              message: "it is ready",
            },
            {
              type: "CEL",
              condition: "Degraded",
              celExpressions: ["object.data.ready == 'no'"],
              messageExpression: "'ready is ' + object.data.ready",
            },
            { type: "CEL", condition: "Broken", celExpressions: ["object.data.nothing == 'x'"] },
          ],
        },
      ],
    }),
  ];
}

/** The objects the works apply (or read) on each cluster, whose metadata both agents set alike. */
const appliedObjects: ObjectRef[] = [
  { apiVersion: "v1", kind: "Namespace", name: "demo" },
  { apiVersion: "v1", kind: "ConfigMap", namespace: "demo", name: "settings" },
  { apiVersion: "apps/v1", kind: "Deployment", namespace: "demo", name: "web" },
  { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "ssa" },
  { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "adopted" },
  { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "fine" },
  { apiVersion: "batch/v1", kind: "Job", namespace: "default", name: "once" },
  { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "ruled" },
];

describe(scenario, () => {
  let ocm: OcmBinaries;
  let dir: string;
  const agentDir = () => join(dir, "bosun-agents");
  const planes: Partial<Record<"hub" | (typeof clusters)[number], ControlPlane>> = {};
  const spokes: Partial<Record<(typeof clusters)[number], KubeClient>> = {};
  const agentIds: Partial<Record<(typeof clusters)[number], string>> = {};
  let hub: KubeClient;
  const processes: OcmProcess[] = [];
  let webhooks: OcmWebhooks | undefined;

  reportLogsOnFailure(() =>
    [
      ...processes,
      ...(webhooks?.servers ?? []),
      dir ? logFile("bosun agent", join(agentDir(), `agent-${bosunCluster}.log`)) : undefined,
      ...Object.values(planes),
    ].filter((source): source is LogSource => source !== undefined),
  );

  const spoke = (cluster: (typeof clusters)[number]) => spokes[cluster]!;
  const workOf = (cluster: string, name: string) =>
    hub.get<ManifestWork>({ apiVersion: `${workApi}/v1`, kind: "ManifestWork", namespace: cluster, name });
  const appliedOf = async (cluster: (typeof clusters)[number], name: string) =>
    (await spoke(cluster).listAll<AppliedManifestWork>(`${workApi}/v1`, "AppliedManifestWork")).items.find(
      (applied) => applied.spec?.manifestWorkName === name,
    );

  /**
   * Everything both agents wrote for one work, side by side: the known differences are logged
   * with their reasons, any other fails the test with the list.
   */
  async function compareWork(t: TestContext, name: string) {
    const view = async (cluster: (typeof clusters)[number]) => ({
      work: workView(await workOf(cluster, name)),
      applied: appliedView(await appliedOf(cluster, name), agentIds[cluster]!),
    });
    const [mine, theirs] = await Promise.all([view(bosunCluster), view(ocmCluster)]);
    const verdict = judge(differences(mine, theirs), knownDifferences);
    assert.deepEqual(
      verdict.unexplained.map(describeDifference),
      [],
      `${scenario}, work ${name}: bosun's agent differs from OCM's`,
    );
    const byReason = Map.groupBy(verdict.explained, ({ known }) => known);
    for (const [known, explained] of byReason) {
      const [first] = explained;
      t.diagnostic(
        `work ${name}, ${known.origin}: ${known.reason} (${explained.length} field(s), e.g. ${describeDifference(first!.difference)})`,
      );
    }
  }

  async function compareObjects(t: TestContext) {
    for (const ref of appliedObjects) {
      const [mine, theirs] = await Promise.all(
        clusters.map(async (cluster) =>
          appliedObjectView(await spoke(cluster).getOrUndefined<Unstructured>(ref)),
        ),
      );
      const found = differences(mine, theirs);
      assert.deepEqual(
        found.map(describeDifference),
        [],
        `${scenario}, ${ref.kind} ${ref.namespace ?? ""}/${ref.name} on the managed cluster`,
      );
      if (!mine) t.diagnostic(`${ref.kind} ${ref.namespace ?? ""}/${ref.name}: absent on both clusters`);
    }
  }

  /** Waits until both agents have handled the current generation of each work. */
  async function waitForApplied(names: readonly string[]) {
    await eventually(
      async () => {
        for (const cluster of clusters) {
          for (const name of names) {
            const work = await workOf(cluster, name);
            const applied = findCondition(work.status?.conditions, "Applied");
            assert.equal(applied?.observedGeneration, work.metadata.generation, `${cluster}/${name} Applied`);
            assert.ok(findCondition(work.status?.conditions, "Available"), `${cluster}/${name} Available`);
          }
        }
      },
      { timeoutMs: 90_000, what: "both agents reporting every work" },
    );
  }

  before(async () => {
    const [kube, oracle] = await Promise.all([
      ensureKubeBinaries(),
      ensureOcmBinaries({ binaries: ["registration", "placement", "work"] }),
    ]);
    ocm = oracle;
    dir = await mkdtemp(join(tmpdir(), "bosun-compat-bosun-agent-"));
    const [hubPlane, ...spokePlanes] = await Promise.all(
      ["ocm-hub", ...clusters].map((name) => ControlPlane.start({ name, binaries: kube })),
    );
    planes.hub = hubPlane!;
    hub = await KubeClient.fromFile(hubPlane!.kubeconfigPath);
    for (const [index, cluster] of clusters.entries()) {
      planes[cluster] = spokePlanes[index]!;
      spokes[cluster] = await KubeClient.fromFile(spokePlanes[index]!.kubeconfigPath);
    }

    // OCM's hub: its CRDs, the bootstrap identity clusteradm init creates, its controllers.
    await installOcmCrds(hub, ocm, "hub");
    await applyOcmBootstrapRbac(hub, ocm);
    await hub.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.hub } });
    const hubArgs = [`--kubeconfig=${hubPlane!.kubeconfigPath}`, `--namespace=${Namespaces.hub}`];
    processes.push(
      await OcmProcess.start(ocm, "registration", "controller", hubArgs, {
        name: "ocm-registration-controller",
        dir,
      }),
      await OcmProcess.start(ocm, "placement", "controller", hubArgs, {
        name: "ocm-placement-controller",
        dir,
      }),
    );
    // OCM's webhooks, in the path of every write from here on: each refuses what only it refuses.
    webhooks = await startOcmWebhooks(hub, ocm, {
      hubKubeconfig: hubPlane!.kubeconfigPath,
      hubServer: hubPlane!.server,
      dir,
    });
    await eventually(
      async () => {
        const refusals = await webhookRefusals(hub);
        assert.match(refusals.managedCluster ?? "admitted", /is invalid in client configs/);
        assert.match(refusals.manifestWork ?? "admitted", /name must be set in manifest/);
      },
      { timeoutMs: 30_000, what: "OCM's webhooks admitting for the hub" },
    );
    const token = await ocmBootstrapToken(hub);
    const hubCaFile = join(dir, "hub-ca.crt");
    await writeFile(hubCaFile, hubPlane!.caPem);

    // The managed APIs (bosun's on bosun's cluster, where `bosun join` installs them again; OCM's
    // on OCM's), and the same claims on both clusters, one of them for the managed cluster only.
    await installCrds(spoke(bosunCluster), "managed");
    await installOcmCrds(spoke(ocmCluster), ocm, "managed");
    for (const cluster of clusters) {
      for (const [name, value, labels] of [
        ["region.open-cluster-management.io", "eu-west-1", undefined],
        ["id.k8s.io", "same-id", undefined],
        ["internal.example.com", "hidden", { "open-cluster-management.io/spoke-only": "" }],
      ] as const) {
        await spoke(cluster).create({
          apiVersion: `${clusterApi}/v1alpha1`,
          kind: "ClusterClaim",
          metadata: { name, ...(labels ? { labels } : {}) },
          spec: { value },
        });
      }
      // An object the CreateOnly manifest finds already there.
      await spoke(cluster).create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "adopted", namespace: "default", labels: { existing: "yes" } },
        data: { k: "from-cluster" },
      });
    }

    // bosun's agent, the way an operator joins a cluster.
    const join_ = await bosun(
      "join",
      "--kubeconfig",
      planes[bosunCluster]!.kubeconfigPath,
      "--hub-token",
      token,
      "--hub-apiserver",
      hubPlane!.server,
      "--cluster-name",
      bosunCluster,
      "--ca-file",
      hubCaFile,
      "--agent-dir",
      agentDir(),
    );
    assert.equal(join_.code, 0, `bosun join: ${join_.stderr}`);

    // OCM's agents, the way the klusterlet runs them.
    await spoke(ocmCluster).create({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: Namespaces.agent },
    });
    processes.push(
      await startOcmRegistrationAgent(ocm, {
        clusterName: ocmCluster,
        bootstrapKubeconfig: await writeBootstrapKubeconfig(
          join(dir, "bootstrap.kubeconfig"),
          hubPlane!.server,
          hubPlane!.caPem,
          token,
        ),
        managedKubeconfig: planes[ocmCluster]!.kubeconfigPath,
        dir,
      }),
    );

    const accept = await bosun(
      "accept",
      "--kubeconfig",
      hubPlane!.kubeconfigPath,
      "--clusters",
      clusters.join(","),
      "--wait",
      "--timeout",
      "120",
    );
    assert.equal(accept.code, 0, `bosun accept: ${accept.stderr}`);
    await eventually(
      async () => {
        for (const cluster of clusters) {
          const current = await hub.get<ManagedCluster>({
            apiVersion: `${clusterApi}/v1`,
            kind: "ManagedCluster",
            name: cluster,
          });
          for (const type of ["ManagedClusterJoined", "ManagedClusterConditionAvailable"])
            assert.equal(
              findCondition(current.status?.conditions, type)?.status,
              "True",
              `${cluster} ${type}`,
            );
        }
      },
      { timeoutMs: 120_000, what: "both clusters Joined and Available on OCM's hub" },
    );
    for (const cluster of clusters) agentIds[cluster] = await storedAgentName(spoke(cluster));
    processes.push(
      await startOcmWorkAgent(ocm, {
        clusterName: ocmCluster,
        hubKubeconfig: await extractHubKubeconfig(spoke(ocmCluster), join(dir, "ocm-work-hub-kubeconfig")),
        managedKubeconfig: planes[ocmCluster]!.kubeconfigPath,
        agentId: agentIds[ocmCluster],
        dir,
      }),
    );
  });

  after(async () => {
    if (dir) await stopBackground(agentDir(), `agent-${bosunCluster}`);
    for (const process of processes.reverse()) await process.stop();
    await webhooks?.stop();
    hub?.close();
    for (const client of Object.values(spokes)) client.close();
    await Promise.all(Object.values(planes).map((plane) => plane.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("bosun's agent registers on OCM's hub as OCM's agent does: the same ManagedCluster status", async (t) => {
    const view = async (cluster: string) =>
      managedClusterView(
        await hub.get<ManagedCluster>({
          apiVersion: `${clusterApi}/v1`,
          kind: "ManagedCluster",
          name: cluster,
        }),
      );
    await eventually(
      async () => {
        for (const cluster of clusters) {
          const claims = ((await view(cluster)) as { status: ManagedCluster["status"] }).status
            ?.clusterClaims;
          assert.deepEqual(
            claims?.map((claim) => claim.name),
            ["id.k8s.io", "region.open-cluster-management.io"],
            cluster,
          );
        }
      },
      { timeoutMs: 90_000, what: "the claims of both clusters on the hub" },
    );
    // The hub adds ClockSynced once it has seen a lease renewal: both settle.
    await eventually(
      async () => {
        const found = differences(await view(bosunCluster), await view(ocmCluster));
        assert.deepEqual(
          found.map(describeDifference),
          [],
          `${scenario}: the ManagedCluster bosun's agent writes differs`,
        );
      },
      { timeoutMs: 60_000, what: "the same ManagedCluster status" },
    );
    t.diagnostic("ManagedCluster status: no difference");
  });

  test("OCM's webhooks admitted bosun's agent's ManagedCluster and mutated it as they do OCM's agent's", async () => {
    for (const cluster of clusters) {
      const current = await hub.get<ManagedCluster>({
        apiVersion: `${clusterApi}/v1`,
        kind: "ManagedCluster",
        name: cluster,
      });
      // Only OCM's mutating webhook sets this label; the agents never do.
      assert.equal(
        current.metadata.labels?.[Labels.clusterSet],
        "default",
        `${cluster}: the default cluster set`,
      );
    }
  });

  test("bosun's agent applies ManifestWorks from OCM's hub and reports them as OCM's agent does", async (t) => {
    for (const cluster of clusters) for (const work of works(cluster)) await hub.create(work);
    await waitForApplied(works(bosunCluster).map((work) => work.metadata.name!));
    // No controllers run pods here: the Deployment's status is written as its controller would.
    for (const cluster of clusters) {
      await spoke(cluster).patch(
        { apiVersion: "apps/v1", kind: "Deployment", namespace: "demo", name: "web" },
        "merge",
        { status: { replicas: 2, readyReplicas: 2, availableReplicas: 1, updatedReplicas: 2 } },
        { subresource: "status" },
      );
    }
    for (const name of ["basic", "strategies", "broken", "rules"]) {
      await eventually(() => compareWork(t, name), { timeoutMs: 60_000, what: `work ${name} alike` });
    }
    const feedback = (await workOf(bosunCluster, "basic")).status?.resourceStatus?.manifests?.[2]
      ?.statusFeedback;
    assert.deepEqual(
      feedback?.values?.map((value) => value.name),
      ["ReadyReplicas", "Replicas", "AvailableReplicas", "desired", "image"],
      "the feedback compared is there",
    );
    await compareObjects(t);
  });

  test("an updated ManifestWork: the removed manifest is deleted and the change applied, alike", async (t) => {
    for (const cluster of clusters) {
      await hub.patch(
        { apiVersion: `${workApi}/v1`, kind: "ManifestWork", namespace: cluster, name: "basic" },
        "json",
        [
          { op: "remove", path: "/spec/workload/manifests/2" },
          { op: "replace", path: "/spec/workload/manifests/0/data/a", value: "2" },
        ],
      );
    }
    await waitForApplied(["basic"]);
    await eventually(
      async () => {
        for (const cluster of clusters)
          assert.equal(
            await spoke(cluster).getOrUndefined({
              apiVersion: "apps/v1",
              kind: "Deployment",
              namespace: "demo",
              name: "web",
            }),
            undefined,
            `${cluster}: the removed Deployment is deleted`,
          );
      },
      { timeoutMs: 60_000, what: "the removed Deployment deleted on both clusters" },
    );
    await eventually(() => compareWork(t, "basic"), {
      timeoutMs: 60_000,
      what: "work basic alike after the update",
    });
    await compareObjects(t);
  });

  test("deleted ManifestWorks: everything removed but what the Orphan work leaves, alike", async (t) => {
    for (const cluster of clusters)
      for (const name of ["basic", "strategies", "broken", "rules"])
        await hub.delete({ apiVersion: `${workApi}/v1`, kind: "ManifestWork", namespace: cluster, name });
    await eventually(
      async () => {
        for (const cluster of clusters) {
          assert.deepEqual(
            (await hub.list(`${workApi}/v1`, "ManifestWork", { namespace: cluster })).items.map(
              (w) => w.metadata.name,
            ),
            [],
            `${cluster}: works gone from the hub`,
          );
          assert.deepEqual(
            (await spoke(cluster).list(`${workApi}/v1`, "AppliedManifestWork")).items,
            [],
            cluster,
          );
          assert.equal(
            await spoke(cluster).getOrUndefined({ apiVersion: "v1", kind: "Namespace", name: "demo" }),
            undefined,
          );
        }
      },
      { timeoutMs: 90_000, what: "every work finalized on both clusters" },
    );
    await compareObjects(t);
    for (const cluster of clusters) {
      const left = await spoke(cluster).get<Unstructured>({
        apiVersion: "v1",
        kind: "ConfigMap",
        namespace: "default",
        name: "ssa",
      });
      assert.equal(
        left.metadata.ownerReferences,
        undefined,
        `${cluster}: the orphaned ConfigMap has no owner`,
      );
    }
  });
  test("OCM's hub refused bosun's agent nothing: OCM's RBAC and webhooks admit what bosun's agent does", async () => {
    // The webhooks were in the path all along: they still refuse what they refuse.
    const refusals = await webhookRefusals(hub);
    assert.match(refusals.managedCluster ?? "admitted", /is invalid in client configs/);
    assert.match(refusals.manifestWork ?? "admitted", /name must be set in manifest/);
    for (const server of webhooks!.servers) assert.equal(server.exited, undefined, `${server.name} exited`);
    // OCM's hub binds a cluster's RBAC once it is accepted, while the agent may already hold its
    // certificate and start listing: a request refused before those bindings existed is that
    // race (the agent retries), not a permission OCM's RBAC lacks. What counts is a refusal after
    // them (5 s for a loaded API server's authorizer cache to see them; a permission OCM lacks is
    // refused on every retry, for the whole test).
    const bindings = [
      ...(await hub.listAll<Unstructured>("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")).items,
      ...(
        await hub.listAll<Unstructured>("rbac.authorization.k8s.io/v1", "RoleBinding", {
          namespace: bosunCluster,
        })
      ).items,
    ].filter((binding) => binding.metadata.name?.includes(bosunCluster));
    assert.ok(bindings.length > 0, `OCM's hub bound RBAC for ${bosunCluster}`);
    const boundAtMs = Math.max(
      ...bindings.map((binding) => Date.parse(binding.metadata.creationTimestamp ?? "")),
    );
    const log = await readFile(join(agentDir(), `agent-${bosunCluster}.log`), "utf8");
    const refused = log
      .split("\n")
      .filter((line) => /forbidden|Unauthorized|"status":40[13]\b|admission webhook/i.test(line))
      .filter((line) => {
        const time = /"time":"([^"]+)"/.exec(line)?.[1];
        return time === undefined || Date.parse(time) > boundAtMs + 5000;
      });
    assert.deepEqual(refused, [], `${scenario}: requests of bosun's agent that OCM's hub refused`);
  });
});
