// The work agent against two real control planes, a hub and a managed cluster: ManifestWorks
// created on the hub become real on the managed cluster in OCM's order, drift is put back,
// status reaches the hub, and deletion follows the work's deleteOption. Admin clients are used
// on both sides: the agent identity's RBAC is tested with the registration agent.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { BosunWorkAnnotations, BosunWorkLabels, BosunWorkReasons, Finalizers } from "../../api/constants.ts";
import type { Condition } from "../../api/types/meta.ts";
import type {
  AppliedManifestWork,
  Manifest,
  ManifestCondition,
  ManifestWork,
  ManifestWorkSpec,
} from "../../api/types/work.ts";
import { appliedManifestWorkName } from "../../klusterlet/work/applied-name.ts";
import { WorkAgent } from "../../klusterlet/work/controller.ts";
import { releaseAppliedWorks } from "../../klusterlet/work/release.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const hubPlane = useControlPlane("work-hub");
const managedPlane = useControlPlane("work-managed");
const logger = pino({ level: "silent" });
const cluster = "cluster1";
const workApi = "work.open-cluster-management.io/v1";
const wait = { timeoutMs: 60_000 };

const configMap = (name: string, namespace: string, data: Record<string, string>): Manifest => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data,
});
const namespaceManifest = (name: string): Manifest => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name },
});
const cmRef = (name: string, namespace: string) => ({ apiVersion: "v1", kind: "ConfigMap", name, namespace });
const workRef = (name: string) => ({ apiVersion: workApi, kind: "ManifestWork", namespace: cluster, name });

function condition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

describe("work agent", () => {
  let hub: KubeClient;
  let managed: KubeClient;
  let agent: WorkAgent;

  async function createWork(
    name: string,
    spec: ManifestWorkSpec,
    labels?: Record<string, string>,
    annotations?: Record<string, string>,
  ) {
    return hub.create<ManifestWork>({
      apiVersion: workApi,
      kind: "ManifestWork",
      metadata: { name, namespace: cluster, labels, annotations },
      spec,
    });
  }

  async function updateWork(name: string, change: (spec: ManifestWorkSpec) => ManifestWorkSpec) {
    const current = await hub.get<ManifestWork>(workRef(name));
    return hub.replace<ManifestWork>({ ...current, spec: change(structuredClone(current.spec ?? {})) });
  }

  async function work(name: string): Promise<ManifestWork> {
    return hub.get<ManifestWork>(workRef(name));
  }

  /** Waits until the work's Applied condition has the status for its current generation. */
  async function appliedIs(name: string, status: "True" | "False"): Promise<ManifestWork> {
    return eventually(async () => {
      const current = await work(name);
      const applied = condition(current.status?.conditions, "Applied");
      assert.equal(applied?.status, status, JSON.stringify(current.status));
      assert.equal(applied?.observedGeneration, current.metadata.generation);
      return current;
    }, wait);
  }

  function manifestStatus(current: ManifestWork, ordinal: number): ManifestCondition {
    const entry = current.status?.resourceStatus?.manifests?.find((m) => m.resourceMeta.ordinal === ordinal);
    assert.ok(entry, `no status for manifest ${ordinal}`);
    return entry;
  }

  async function gone(
    ref: { apiVersion: string; kind: string; name: string; namespace?: string },
    client: KubeClient,
  ) {
    await eventually(async () => {
      assert.equal(await client.getOrUndefined(ref), undefined, `${ref.kind} ${ref.name} still exists`);
    }, wait);
  }

  async function applied(name: string): Promise<AppliedManifestWork> {
    return managed.get<AppliedManifestWork>({
      apiVersion: workApi,
      kind: "AppliedManifestWork",
      name: appliedManifestWorkName(agent.hubHash, name),
    });
  }

  /** Waits until the agent has reconciled a work `count` more times and gone idle. */
  async function reconciledAgain(name: string, since: number): Promise<void> {
    await eventually(() => assert.ok(agent.controller.reconcilesOf(`${cluster}/${name}`) > since), wait);
    await agent.whenIdle();
  }

  before(async () => {
    hub = await KubeClient.fromFile(hubPlane.plane.kubeconfigPath);
    managed = await KubeClient.fromFile(managedPlane.plane.kubeconfigPath);
    await installCrds(hub, "hub");
    await installCrds(managed, "managed");
    await hub.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: cluster } });
    for (const ns of ["apps", "other"])
      await managed.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    agent = new WorkAgent({
      hubClient: await KubeClient.fromFile(hubPlane.plane.kubeconfigPath),
      managedClient: await KubeClient.fromFile(managedPlane.plane.kubeconfigPath),
      clusterName: cluster,
      agentId: "agent-under-test",
      clock: systemClock(),
      logger,
      registry: new Registry(),
      // Short, so that the eviction test sees a record evicted; no other test leaves one unbacked.
      evictionGracePeriodMs: 3000,
    });
    agent.start();
  });

  after(async () => {
    await agent?.stop();
    hub?.close();
    managed?.close();
  });

  test("a Namespace, a CRD, a custom resource of it and a ConfigMap apply in order, the CR once the CRD is Established", async () => {
    const crd: Manifest = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    };
    const widget: Manifest = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w1", namespace: "ordered" },
      spec: { size: 3 },
    };
    // Spec order is the reverse of what the cluster needs.
    await createWork(
      "ordered",
      {
        workload: {
          manifests: [widget, configMap("c1", "ordered", { a: "1" }), crd, namespaceManifest("ordered")],
        },
      },
      { team: "blue" },
    );
    const current = await appliedIs("ordered", "True");
    assert.ok(current.metadata.finalizers?.includes(Finalizers.manifestWorkCleanup));
    // Status reports by spec index.
    assert.equal(manifestStatus(current, 0).resourceMeta.kind, "Widget");
    assert.equal(manifestStatus(current, 0).resourceMeta.resource, "widgets");
    assert.equal(manifestStatus(current, 3).resourceMeta.kind, "Namespace");
    assert.equal(condition(current.status?.conditions, "Available")?.status, "True");

    const amw = await applied("ordered");
    assert.deepEqual(amw.spec, {
      hubHash: agent.hubHash,
      agentID: "agent-under-test",
      manifestWorkName: "ordered",
    });
    assert.equal(amw.metadata.labels?.team, "blue");
    assert.ok(amw.metadata.finalizers?.includes(Finalizers.appliedManifestWorkCleanup));
    await eventually(async () => {
      const resources = (await applied("ordered")).status?.appliedResources ?? [];
      assert.deepEqual(resources.map((r) => `${r.resource}/${r.name}`).sort(), [
        "configmaps/c1",
        "customresourcedefinitions/widgets.example.com",
        "namespaces/ordered",
        "widgets/w1",
      ]);
      assert.ok(resources.every((r) => r.uid));
    }, wait);
    const live = await managed.get<Unstructured>({
      apiVersion: "example.com/v1",
      kind: "Widget",
      name: "w1",
      namespace: "ordered",
    });
    assert.deepEqual(live.spec, { size: 3 });
    assert.deepEqual(
      live.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
      [["AppliedManifestWork", amw.metadata.name, amw.metadata.uid]],
    );
  });

  test("Update: an edited ConfigMap is reverted and a deleted one recreated", async () => {
    await createWork("drift", { workload: { manifests: [configMap("drift", "apps", { a: "1" })] } });
    await appliedIs("drift", "True");
    const first = await managed.get<Unstructured>(cmRef("drift", "apps"));
    await managed.patch(cmRef("drift", "apps"), "merge", { data: { a: "edited", b: "added" } });
    await eventually(async () => {
      const live = await managed.get<Unstructured>(cmRef("drift", "apps"));
      assert.deepEqual(live.data, { a: "1" });
    }, wait);
    await managed.delete(cmRef("drift", "apps"));
    await eventually(async () => {
      const live = await managed.get<Unstructured>(cmRef("drift", "apps"));
      assert.notEqual(live.metadata.uid, first.metadata.uid);
      assert.deepEqual(live.data, { a: "1" });
    }, wait);
  });

  test("ReadOnly reports status feedback and changes nothing", async () => {
    await managed.create(configMap("existing", "apps", { x: "spoke" }));
    await createWork("readonly", {
      workload: { manifests: [configMap("existing", "apps", { x: "hub" })] },
      manifestConfigs: [
        {
          resourceIdentifier: { resource: "configmaps", name: "existing", namespace: "apps" },
          updateStrategy: { type: "ReadOnly" },
          feedbackRules: [{ type: "JSONPaths", jsonPaths: [{ name: "x", path: ".data.x" }] }],
        },
      ],
    });
    const current = await eventually(async () => {
      const w = await appliedIs("readonly", "True");
      assert.deepEqual(manifestStatus(w, 0).statusFeedback?.values, [
        { name: "x", fieldValue: { type: "String", string: "spoke" } },
      ]);
      return w;
    }, wait);
    assert.equal(condition(manifestStatus(current, 0).conditions, "Available")?.status, "True");
    const live = await managed.get<Unstructured>(cmRef("existing", "apps"));
    assert.deepEqual(live.data, { x: "spoke" });
    assert.equal(live.metadata.ownerReferences, undefined);
  });

  test("CreateOnly creates once and never overwrites", async () => {
    await createWork("createonly", {
      workload: { manifests: [configMap("once", "apps", { a: "1" })] },
      manifestConfigs: [
        {
          resourceIdentifier: { resource: "configmaps", name: "once", namespace: "apps" },
          updateStrategy: { type: "CreateOnly" },
        },
      ],
    });
    await appliedIs("createonly", "True");
    await managed.patch(cmRef("once", "apps"), "merge", { data: { a: "spoke" } });
    await updateWork("createonly", (spec) => ({
      ...spec,
      workload: { manifests: [configMap("once", "apps", { a: "3" })] },
    }));
    await appliedIs("createonly", "True");
    await agent.whenIdle();
    const live = await managed.get<Unstructured>(cmRef("once", "apps"));
    assert.deepEqual(live.data, { a: "spoke" });
    assert.equal(live.metadata.ownerReferences?.[0]?.kind, "AppliedManifestWork");
  });

  test("ServerSideApply with ignoreFields keeps a field changed on the cluster, and still applies hub changes", async () => {
    const ssa = (kept: string): ManifestWorkSpec => ({
      workload: { manifests: [configMap("ssa", "apps", { kept, ignored: "hub" })] },
      manifestConfigs: [
        {
          resourceIdentifier: { resource: "configmaps", name: "ssa", namespace: "apps" },
          updateStrategy: {
            type: "ServerSideApply",
            serverSideApply: {
              ignoreFields: [{ condition: "OnSpokePresent", jsonPaths: [".data.ignored"] }],
            },
          },
        },
      ],
    });
    await createWork("ssa", ssa("1"));
    await appliedIs("ssa", "True");
    const created = await managed.get<Unstructured>(cmRef("ssa", "apps"));
    assert.deepEqual(created.data, { kept: "1", ignored: "hub" });
    assert.ok(
      created.metadata.managedFields?.some((f) => f.manager === "work-agent" && f.operation === "Apply"),
    );

    const before = agent.controller.reconcilesOf(`${cluster}/ssa`);
    await managed.patch(cmRef("ssa", "apps"), "merge", { data: { ignored: "spoke" } });
    await reconciledAgain("ssa", before);
    assert.deepEqual((await managed.get<Unstructured>(cmRef("ssa", "apps"))).data, {
      kept: "1",
      ignored: "spoke",
    });

    await updateWork("ssa", () => ssa("2"));
    await eventually(async () => {
      const live = await managed.get<Unstructured>(cmRef("ssa", "apps"));
      assert.deepEqual(live.data, { kept: "2", ignored: "spoke" });
    }, wait);
  });

  test("a manifest removed from the work is deleted; the others stay", async () => {
    await createWork("shrink", {
      workload: { manifests: [configMap("keep", "apps", { a: "1" }), configMap("drop", "apps", { b: "2" })] },
    });
    await appliedIs("shrink", "True");
    const kept = await managed.get<Unstructured>(cmRef("keep", "apps"));
    await updateWork("shrink", (spec) => ({
      ...spec,
      workload: { manifests: [configMap("keep", "apps", { a: "1" })] },
    }));
    await gone(cmRef("drop", "apps"), managed);
    await eventually(async () => {
      const resources = (await applied("shrink")).status?.appliedResources ?? [];
      assert.deepEqual(
        resources.map((r) => r.name),
        ["keep"],
      );
    }, wait);
    assert.equal((await managed.get<Unstructured>(cmRef("keep", "apps"))).metadata.uid, kept.metadata.uid);
  });

  test("deleteOption Foreground (default) removes everything, then the AppliedManifestWork and the work", async () => {
    await createWork("doomed", {
      workload: { manifests: [namespaceManifest("doomed"), configMap("d1", "apps", { a: "1" })] },
    });
    await appliedIs("doomed", "True");
    const amwName = appliedManifestWorkName(agent.hubHash, "doomed");
    await hub.delete(workRef("doomed"));
    await gone(workRef("doomed"), hub);
    await gone(cmRef("d1", "apps"), managed);
    await gone({ apiVersion: workApi, kind: "AppliedManifestWork", name: amwName }, managed);
    // The namespace is terminating or gone.
    const ns = await managed.getOrUndefined<Unstructured>({
      apiVersion: "v1",
      kind: "Namespace",
      name: "doomed",
    });
    assert.ok(ns === undefined || ns.metadata.deletionTimestamp);
  });

  test("Orphan keeps every resource, without the AppliedManifestWork owner reference", async () => {
    await createWork("orphan", {
      workload: { manifests: [configMap("o1", "other", { a: "1" }), configMap("o2", "other", { a: "2" })] },
      deleteOption: { propagationPolicy: "Orphan" },
    });
    await appliedIs("orphan", "True");
    await hub.delete(workRef("orphan"));
    await gone(workRef("orphan"), hub);
    await gone(
      {
        apiVersion: workApi,
        kind: "AppliedManifestWork",
        name: appliedManifestWorkName(agent.hubHash, "orphan"),
      },
      managed,
    );
    for (const name of ["o1", "o2"]) {
      const live = await managed.get<Unstructured>(cmRef(name, "other"));
      assert.equal(live.metadata.ownerReferences, undefined);
    }
  });

  test("SelectivelyOrphan keeps exactly the named resource, and deletes the others", async () => {
    await createWork("selective", {
      workload: {
        manifests: [configMap("s-keep", "other", { a: "1" }), configMap("s-drop", "other", { a: "2" })],
      },
      deleteOption: {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: {
          orphaningRules: [{ group: "", resource: "configmaps", namespace: "other", name: "s-keep" }],
        },
      },
    });
    await appliedIs("selective", "True");
    assert.equal(
      (await managed.get<Unstructured>(cmRef("s-keep", "other"))).metadata.ownerReferences,
      undefined,
    );
    assert.equal(
      (await managed.get<Unstructured>(cmRef("s-drop", "other"))).metadata.ownerReferences?.length,
      1,
    );
    await hub.delete(workRef("selective"));
    await gone(workRef("selective"), hub);
    await gone(cmRef("s-drop", "other"), managed);
    const kept = await managed.get<Unstructured>(cmRef("s-keep", "other"));
    assert.equal(kept.metadata.ownerReferences, undefined);
  });

  test("a manifest the cluster refuses fails alone, with the API server's message", async () => {
    await createWork("refused", {
      workload: {
        manifests: [
          { apiVersion: "example.org/v1", kind: "Gadget", metadata: { name: "g", namespace: "apps" } },
          {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "bad-svc", namespace: "apps" },
            spec: { type: "NoSuchType", ports: [{ port: 80 }] },
          },
          configMap("fine", "apps", { a: "1" }),
        ],
      },
    });
    const current = await appliedIs("refused", "False");
    const gadget = condition(manifestStatus(current, 0).conditions, "Applied");
    assert.equal(gadget?.status, "False");
    assert.equal(gadget?.reason, "AppliedManifestFailed");
    assert.match(
      gadget?.message ?? "",
      /^Failed to apply manifest: .*the server doesn't have a resource type "Gadget"/,
    );
    const service = condition(manifestStatus(current, 1).conditions, "Applied");
    assert.equal(service?.status, "False");
    assert.match(
      service?.message ?? "",
      /^Failed to apply manifest: Service "bad-svc" is invalid: spec.type: Unsupported value: "NoSuchType"/,
    );
    assert.equal(condition(manifestStatus(current, 2).conditions, "Applied")?.status, "True");
    assert.deepEqual((await managed.get<Unstructured>(cmRef("fine", "apps"))).data, { a: "1" });
    assert.equal(condition(current.status?.conditions, "Applied")?.reason, "AppliedManifestWorkFailed");
  });

  test("a Deployment's readiness reaches the hub through WellKnownStatus, a JSONPath and a CEL rule", async () => {
    const deployment: Manifest = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "apps" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "nginx" }] },
        },
      },
    };
    await createWork("feedback", {
      workload: { manifests: [deployment] },
      manifestConfigs: [
        {
          resourceIdentifier: { group: "apps", resource: "deployments", name: "web", namespace: "apps" },
          feedbackRules: [
            { type: "WellKnownStatus" },
            {
              type: "JSONPaths",
              jsonPaths: [{ name: "available", path: '.status.conditions[?(@.type=="Available")].status' }],
            },
          ],
          conditionRules: [
            {
              condition: "Ready",
              type: "CEL",
              celExpressions: ["object.status.readyReplicas == object.spec.replicas"],
              message: "all replicas ready",
            },
          ],
        },
      ],
    });
    await appliedIs("feedback", "True");
    // The test control plane runs no deployment controller (and no kubelet): the status a
    // real cluster's controllers would write is set here through the status subresource.
    await managed.patch(
      { apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "apps" },
      "merge",
      {
        status: {
          replicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
          conditions: [
            { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "ok" },
          ],
        },
      },
      { subresource: "status" },
    );
    const current = await eventually(async () => {
      const w = await work("feedback");
      const entry = manifestStatus(w, 0);
      assert.deepEqual(entry.statusFeedback?.values, [
        { name: "ReadyReplicas", fieldValue: { type: "Integer", integer: 2 } },
        { name: "Replicas", fieldValue: { type: "Integer", integer: 2 } },
        { name: "AvailableReplicas", fieldValue: { type: "Integer", integer: 2 } },
        { name: "available", fieldValue: { type: "String", string: "True" } },
      ]);
      assert.equal(condition(entry.conditions, "Ready")?.status, "True");
      assert.equal(condition(w.status?.conditions, "Ready")?.status, "True");
      return w;
    }, wait);
    const entry = manifestStatus(current, 0);
    assert.equal(condition(entry.conditions, "StatusFeedbackSynced")?.reason, "StatusFeedbackSynced");
    assert.equal(condition(entry.conditions, "Ready")?.message, "all replicas ready");
    assert.equal(condition(current.status?.conditions, "Ready")?.reason, "ConditionRulesAggregated");
  });

  test("an executor without permissions fails with OCM's message and applies nothing", async () => {
    await createWork("executor", {
      workload: { manifests: [configMap("exec", "apps", { a: "1" })] },
      executor: {
        subject: { type: "ServiceAccount", serviceAccount: { namespace: "apps", name: "nobody" } },
      },
    });
    const current = await appliedIs("executor", "False");
    assert.equal(
      condition(manifestStatus(current, 0).conditions, "Applied")?.message,
      "Failed to apply manifest: not allowed to apply the resource  configmaps, apps exec, will try again in 1m0s",
    );
    assert.equal(await managed.getOrUndefined(cmRef("exec", "apps")), undefined);
  });

  test("split parts: part 1 waits until part 0 is Applied", async () => {
    const labels = (index: number) => ({
      [BosunWorkLabels.partIndex]: String(index),
      [BosunWorkLabels.partCount]: "2",
      [BosunWorkLabels.templateHash]: "abc123",
    });
    const annotations = { [BosunWorkAnnotations.partOf]: "split" };
    // Part 0 first carries a manifest the cluster refuses, so it is not Applied.
    await createWork(
      "split",
      {
        workload: {
          manifests: [
            namespaceManifest("split"),
            { apiVersion: "example.org/v1", kind: "Gadget", metadata: { name: "g" } },
          ],
        },
      },
      labels(0),
      annotations,
    );
    await createWork(
      "split-part-1",
      { workload: { manifests: [configMap("late", "split", { a: "1" })] } },
      labels(1),
      annotations,
    );
    await appliedIs("split", "False");
    const waiting = await eventually(async () => {
      const w = await work("split-part-1");
      const appliedCondition = condition(w.status?.conditions, "Applied");
      assert.equal(appliedCondition?.reason, BosunWorkReasons.earlierPartsNotApplied);
      return appliedCondition;
    }, wait);
    assert.equal(waiting?.status, "False");
    assert.match(waiting?.message ?? "", /part 1 of 2 of split waits until part 0 is applied/);
    assert.equal(await managed.getOrUndefined(cmRef("late", "split")), undefined);

    await updateWork("split", (spec) => ({ ...spec, workload: { manifests: [namespaceManifest("split")] } }));
    await appliedIs("split", "True");
    await appliedIs("split-part-1", "True");
    assert.deepEqual((await managed.get<Unstructured>(cmRef("late", "split"))).data, { a: "1" });
  });

  test("an AppliedManifestWork no ManifestWork backs, or of another hub, is marked, then evicted with what it applied", async () => {
    const appliedApi = { apiVersion: workApi, kind: "AppliedManifestWork" };
    const orphans = [
      {
        name: appliedManifestWorkName(agent.hubHash, "vanished"),
        hash: agent.hubHash,
        configMap: "vanished",
      },
      { name: appliedManifestWorkName("f".repeat(64), "web"), hash: "f".repeat(64), configMap: "other-hub" },
    ];
    for (const orphan of orphans) {
      const record = await managed.create<AppliedManifestWork>({
        apiVersion: workApi,
        kind: "AppliedManifestWork",
        metadata: { name: orphan.name, finalizers: [Finalizers.appliedManifestWorkCleanup] },
        spec: { hubHash: orphan.hash, agentID: "agent-under-test", manifestWorkName: orphan.configMap },
      });
      const owned = await managed.create<Unstructured>({
        ...configMap(orphan.configMap, "apps", { a: "1" }),
        metadata: {
          name: orphan.configMap,
          namespace: "apps",
          ownerReferences: [
            {
              apiVersion: workApi,
              kind: "AppliedManifestWork",
              name: orphan.name,
              uid: record.metadata.uid!,
            },
          ],
        },
      });
      await managed.patch(
        { ...appliedApi, name: orphan.name },
        "merge",
        {
          status: {
            appliedResources: [
              {
                group: "",
                version: "v1",
                resource: "configmaps",
                namespace: "apps",
                name: orphan.configMap,
                uid: owned.metadata.uid,
              },
            ],
          },
        },
        { subresource: "status" },
      );
    }
    // A ConfigMap the agent did not apply stays, whatever happens to the records.
    await managed.create(configMap("bystander", "apps", { a: "1" }));
    for (const orphan of orphans) {
      await gone({ ...appliedApi, name: orphan.name }, managed);
      await gone(cmRef(orphan.configMap, "apps"), managed);
    }
    assert.ok(await managed.getOrUndefined(cmRef("bystander", "apps")));
    // Records backed by a work of this hub were never touched.
    const marked = (await managed.listAll<AppliedManifestWork>(workApi, "AppliedManifestWork")).items.filter(
      (record) => record.status?.evictionStartTime,
    );
    assert.deepEqual(
      marked.map((record) => record.metadata.name),
      [],
    );
  });

  test("the agent never wrote a ManifestWork outside its cluster namespace", async () => {
    await hub.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "cluster2" } });
    await hub.create<ManifestWork>({
      apiVersion: workApi,
      kind: "ManifestWork",
      metadata: { name: "elsewhere", namespace: "cluster2" },
      spec: { workload: { manifests: [configMap("elsewhere", "apps", { a: "1" })] } },
    });
    await createWork("marker", { workload: { manifests: [configMap("marker", "apps", { a: "1" })] } });
    await appliedIs("marker", "True");
    const other = await hub.get<ManifestWork>({ ...workRef("elsewhere"), namespace: "cluster2" });
    assert.equal(other.metadata.finalizers, undefined);
    assert.equal(await managed.getOrUndefined(cmRef("elsewhere", "apps")), undefined);
  });

  // Last: it stops the agent, as `bosun unjoin` does before releasing.
  test("released keeping what was applied (unjoin --keep-applied): resources stay without the owner, the records go", async () => {
    await createWork("kept", { workload: { manifests: [configMap("kept", "apps", { a: "1" })] } });
    await appliedIs("kept", "True");
    const record = await applied("kept");
    await agent.stop();
    const result = await releaseAppliedWorks(managed, { mode: "orphan" });
    assert.deepEqual(result.remaining, []);
    assert.ok(result.released.some((entry) => entry.name === record.metadata.name && entry.orphaned === 1));
    assert.deepEqual((await managed.listAll<AppliedManifestWork>(workApi, "AppliedManifestWork")).items, []);
    const kept = await managed.get<Unstructured>(cmRef("kept", "apps"));
    assert.deepEqual(kept.data, { a: "1" });
    assert.ok(!(kept.metadata.ownerReferences ?? []).some((owner) => owner.uid === record.metadata.uid));
  });
});
