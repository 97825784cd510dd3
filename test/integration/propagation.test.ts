// Policy propagation on a real hub, with the placement controller making the decisions over the
// same cache. The clusters' agents are simulated by writing what they report into the policy
// ManifestWorks' status (the Applied condition and the status feedback of each template). A
// replica per decided cluster carrying the root's templates in its works; compliance flowing
// back to the replica, the root and the metrics; dependencies holding a template back until met;
// clusters leaving, disabled policies and removed bindings taking the replicas away; and bad
// input reported without stopping other policies.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  BosunGovernanceMetrics,
  BosunPolicyWorkLabels,
  Labels,
  MetricValues,
  Metrics,
  PolicyLabels,
  Resources,
} from "../../api/constants.ts";
import type { Placement } from "../../api/types/placement.ts";
import type { PlacementBinding, Policy, PolicySpec } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { HubInformers } from "../../controllers/informers.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { PolicyPropagator } from "../../controllers/propagation/propagator.ts";
import { PolicySetController } from "../../controllers/propagation/policyset-controller.ts";
import { ReplicaController } from "../../controllers/propagation/replica-controller.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { objectKey, type Unstructured } from "../../runtime/kube/types.ts";
import { formatTime } from "../../runtime/time.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { sampleValue } from "../support/metric-samples.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("propagation");
const logger = pino({ level: "silent" });
const clusterApi = "cluster.open-cluster-management.io";
const policyApi = "policy.open-cluster-management.io";
const workApi = "work.open-cluster-management.io";
const namespace = "policies";

type KubeObjectWithStatus = Unstructured & { status?: { compliant?: string; statusMessage?: string } };
type EventObject = Unstructured & { reason?: string; message?: string; involvedObject?: { name?: string } };

const policyRef = (name: string, ns = namespace) => ({
  apiVersion: `${policyApi}/v1`,
  kind: "Policy",
  namespace: ns,
  name,
});

function configurationPolicy(name: string, complianceType = "musthave", extra: Record<string, unknown> = {}) {
  return {
    objectDefinition: {
      apiVersion: `${policyApi}/v1`,
      kind: "ConfigurationPolicy",
      metadata: { name },
      spec: {
        remediationAction: "inform",
        severity: "low",
        "object-templates": [
          {
            complianceType,
            objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: `${name}-ns` } },
          },
        ],
      },
    },
    ...extra,
  };
}

describe("policy propagation", () => {
  let client: KubeClient;
  let informers: InformerFactory;
  let registry: Registry;
  let placements: PlacementController;
  let propagator: PolicyPropagator;
  let replicas: ReplicaController;
  let policySets: PolicySetController;

  async function addCluster(name: string, labels: Record<string, string>): Promise<void> {
    await client.create({
      apiVersion: `${clusterApi}/v1`,
      kind: "ManagedCluster",
      metadata: { name, labels: { [Labels.clusterSet]: "fleet", name, ...labels } },
      spec: { hubAcceptsClient: true },
    });
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }

  async function addPlacement(name: string, spec: Placement["spec"]): Promise<void> {
    await client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name, namespace },
      spec,
    });
  }

  async function addPolicy(name: string, spec: Partial<PolicySpec>, labels: Record<string, string> = {}) {
    await client.create({
      ...policyRef(name),
      metadata: {
        name,
        namespace,
        labels,
        annotations: { "policy.open-cluster-management.io/standards": "NIST" },
      },
      spec: { disabled: false, "policy-templates": [], ...spec },
    });
  }

  async function addBinding(
    name: string,
    placement: string,
    subjects: string[],
    extra: Partial<PlacementBinding> = {},
  ) {
    await client.create({
      apiVersion: `${policyApi}/v1`,
      kind: "PlacementBinding",
      metadata: { name, namespace },
      placementRef: { apiGroup: clusterApi, kind: "Placement", name: placement },
      subjects: subjects.map((subject) => ({ apiGroup: policyApi, kind: "Policy", name: subject })),
      ...extra,
    });
  }

  const getPolicy = (name: string, ns = namespace) => client.get<Policy>(policyRef(name, ns));
  const replicaName = (name: string) => `${namespace}.${name}`;

  async function replicasOf(name: string): Promise<Policy[]> {
    const { items } = await client.listAll<Policy>(`${policyApi}/v1`, "Policy", {
      labelSelector: `${PolicyLabels.rootPolicy}=${replicaName(name)}`,
    });
    return items.sort((a, b) => (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? ""));
  }

  async function worksOf(name: string, cluster: string): Promise<ManifestWork[]> {
    const { items } = await client.listAll<ManifestWork>(`${workApi}/v1`, "ManifestWork", {
      namespace: cluster,
      labelSelector: `${BosunPolicyWorkLabels.replica}=${replicaName(name)}`,
    });
    return items;
  }

  /** What the cluster's agents report: each ConfigurationPolicy applied and its compliance fed back. */
  async function report(
    work: ManifestWork,
    compliance: Record<string, { compliant: string; message: string } | { applyError: string }>,
  ): Promise<void> {
    const current = await client.get<ManifestWork>({
      apiVersion: `${workApi}/v1`,
      kind: "ManifestWork",
      namespace: work.metadata.namespace,
      name: work.metadata.name!,
    });
    const now = formatTime(Date.now());
    const manifests = (current.spec?.workload?.manifests ?? []).map((manifest, ordinal) => {
      const object = manifest as { kind: string; metadata: { name: string; namespace?: string } };
      const reported = compliance[object.metadata.name];
      const applied = reported === undefined || !("applyError" in reported);
      return {
        resourceMeta: {
          ordinal,
          group: policyApi,
          version: "v1",
          kind: object.kind,
          resource: "configurationpolicies",
          name: object.metadata.name,
          namespace: object.metadata.namespace ?? "",
        },
        conditions: [
          {
            type: "Applied",
            status: applied ? "True" : "False",
            reason: applied ? "AppliedManifestComplete" : "AppliedManifestFailed",
            message: reported && "applyError" in reported ? reported.applyError : "Apply manifest complete",
            lastTransitionTime: now,
          },
        ],
        ...(reported && "compliant" in reported
          ? {
              statusFeedback: {
                values: [
                  { name: "compliant", fieldValue: { type: "String", string: reported.compliant } },
                  { name: "message", fieldValue: { type: "String", string: reported.message } },
                  {
                    name: "lastTimestamp",
                    fieldValue: { type: "String", string: new Date().toISOString().replace("Z", "000Z") },
                  },
                ],
              },
            }
          : {}),
      };
    });
    await client.patch(
      {
        apiVersion: `${workApi}/v1`,
        kind: "ManifestWork",
        namespace: current.metadata.namespace,
        name: current.metadata.name!,
      },
      "merge",
      { status: { resourceStatus: { manifests } } },
      { subresource: "status" },
    );
  }

  async function reportAll(name: string, cluster: string, compliance: Parameters<typeof report>[1]) {
    const works = await eventually(async () => {
      const found = await worksOf(name, cluster);
      assert.ok(found.length > 0, `a work of ${name} in ${cluster}`);
      return found;
    });
    for (const work of works) await report(work, compliance);
  }

  /** Every governance object the API server holds is in the controllers' cache, and nothing is queued. */
  async function settle(): Promise<void> {
    const watched = [
      { resource: Resources.Policy, scope: {} },
      { resource: Resources.PlacementBinding, scope: {} },
      { resource: Resources.PolicySet, scope: {} },
      HubInformers.placementDecisions,
      HubInformers.manifestWorks,
    ];
    await eventually(async () => {
      for (const { resource, scope } of watched) {
        const live = await client.listAll(resource.apiVersion, resource.kind, scope);
        const cache = informers.informer(resource, scope);
        assert.equal(cache.size, live.items.length, resource.kind);
        for (const item of live.items) {
          assert.equal(
            cache.get(objectKey(item))?.metadata.resourceVersion,
            item.metadata.resourceVersion,
            `${resource.kind} ${objectKey(item)}`,
          );
        }
      }
      assert.equal(
        placements.retrying + propagator.retrying + replicas.retrying,
        0,
        "reconciles waiting for a retry",
      );
      await Promise.all([placements.whenIdle(), propagator.whenIdle(), replicas.whenIdle()]);
    });
  }

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    informers = new InformerFactory({ client, logger });
    registry = new Registry();
    const shared = { client, clock: systemClock(), logger, registry, informers };
    placements = new PlacementController(shared);
    propagator = new PolicyPropagator(shared);
    replicas = new ReplicaController(shared);
    policySets = new PolicySetController(shared);
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await createBoundClusterSet(client, "fleet", namespace);
    await addCluster("east", { region: "east" });
    await addCluster("west", { region: "west" });
    await placements.start();
    await propagator.start();
    await replicas.start();
    await policySets.start();
  });

  after(async () => {
    await policySets?.stop();
    await replicas?.stop();
    await propagator?.stop();
    await placements?.stop();
    await informers?.stop();
  });

  test("a bound policy becomes one replica per decided cluster, carried there by a ManifestWork", async () => {
    await addPlacement("east-only", {
      predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { region: "east" } } } }],
    });
    await addPolicy(
      "ns-check",
      { remediationAction: "inform", "policy-templates": [configurationPolicy("ns-check-cfg")] },
      { team: "platform" },
    );
    await addBinding("ns-check-binding", "east-only", ["ns-check"]);
    await settle();

    const [replica, ...others] = await replicasOf("ns-check");
    assert.equal(others.length, 0, "only the decided cluster gets a replica");
    assert.equal(replica!.metadata.namespace, "east");
    assert.equal(replica!.metadata.name, "policies.ns-check");
    assert.equal(replica!.metadata.labels?.[PolicyLabels.clusterName], "east");
    assert.equal(replica!.metadata.labels?.[PolicyLabels.clusterNamespace], "east");
    assert.equal(replica!.metadata.labels?.team, "platform");
    assert.equal(replica!.metadata.annotations?.["policy.open-cluster-management.io/standards"], "NIST");
    assert.equal(replica!.spec["policy-templates"].length, 1);

    const [work] = await worksOf("ns-check", "east");
    assert.ok(work, "the replica's ManifestWork");
    const [manifest] = work.spec!.workload!.manifests as unknown as {
      kind: string;
      metadata: { name: string; namespace: string; labels: Record<string, string> };
      spec: { remediationAction: string };
    }[];
    assert.equal(manifest!.kind, "ConfigurationPolicy");
    assert.equal(manifest!.metadata.namespace, "east", "templates go into the cluster namespace");
    assert.equal(manifest!.metadata.labels[PolicyLabels.policy], "policies.ns-check");
    assert.equal(manifest!.spec.remediationAction, "inform");
    const feedback = work.spec!.manifestConfigs?.[0]?.feedbackRules?.[0]?.jsonPaths?.map((path) => path.path);
    assert.ok(feedback?.includes(".status.compliant"), "compliance is fed back");

    const root = await getPolicy("ns-check");
    assert.deepEqual(
      root.status?.status?.map((entry) => [entry.clustername, entry.compliant]),
      [["east", undefined]],
    );
    assert.equal(root.status?.compliant, undefined, "no compliance reported yet");
    assert.deepEqual(
      root.status?.placement?.map((entry) => [entry.placementBinding, entry.placement]),
      [["ns-check-binding", "east-only"]],
    );
  });

  test("compliance fed back by the cluster reaches the replica, the root, the events and the metrics", async () => {
    await reportAll("ns-check", "east", {
      "ns-check-cfg": {
        compliant: "NonCompliant",
        message: "NonCompliant; violation - namespaces [ns-check-cfg-ns] not found",
      },
    });
    await settle();
    const replica = (await replicasOf("ns-check"))[0]!;
    assert.equal(replica.status?.compliant, "NonCompliant");
    const detail = replica.status?.details?.[0];
    assert.equal(detail?.templateMeta?.name, "ns-check-cfg");
    assert.equal(detail?.compliant, "NonCompliant");
    assert.equal(
      detail?.history?.[0]?.message,
      "NonCompliant; violation - namespaces [ns-check-cfg-ns] not found",
    );
    const root = await getPolicy("ns-check");
    assert.equal(root.status?.compliant, "NonCompliant");
    assert.equal(root.status?.status?.[0]?.compliant, "NonCompliant");
    assert.equal(
      await sampleValue(registry, Metrics.policyGovernanceInfo, {
        type: MetricValues.typePropagated,
        policy: "ns-check",
        policy_namespace: namespace,
        cluster_namespace: "east",
      }),
      MetricValues.nonCompliant,
    );
    assert.equal(
      await sampleValue(registry, Metrics.policyGovernanceInfo, {
        type: MetricValues.typeRoot,
        policy: "ns-check",
        policy_namespace: namespace,
        cluster_namespace: MetricValues.nullClusterNamespace,
      }),
      MetricValues.nonCompliant,
    );

    await reportAll("ns-check", "east", {
      "ns-check-cfg": {
        compliant: "Compliant",
        message: "Compliant; notification - namespaces [ns-check-cfg-ns] found as specified",
      },
    });
    await settle();
    const after = (await replicasOf("ns-check"))[0]!;
    assert.equal(after.status?.compliant, "Compliant");
    assert.deepEqual(
      after.status?.details?.[0]?.history?.map((entry) => entry.message?.split(";")[0]),
      ["Compliant", "NonCompliant"],
      "history, newest first",
    );
    assert.equal((await getPolicy("ns-check")).status?.compliant, "Compliant");
    assert.equal(
      await sampleValue(registry, BosunGovernanceMetrics.complianceChangesTotal, {
        policy: "ns-check",
        policy_namespace: namespace,
        cluster_namespace: "east",
        compliant: "Compliant",
      }),
      1,
    );
    const { items: events } = await client.listAll<EventObject>("v1", "Event", { namespace });
    assert.ok(
      events.some(
        (event) =>
          event.involvedObject?.name === "ns-check" &&
          event.reason === "policy: east/ns-check-cfg" &&
          event.message?.startsWith("Compliant;"),
      ),
      "a compliance event on the root policy",
    );
  });

  test("a cluster that starts matching gets a replica; one that stops matching loses it and its work", async () => {
    await client.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: "west" }, "merge", {
      metadata: { labels: { region: "east" } },
    });
    await settle();
    assert.deepEqual(
      (await replicasOf("ns-check")).map((r) => r.metadata.namespace),
      ["east", "west"],
    );
    assert.equal((await worksOf("ns-check", "west")).length, 1);
    const root = await getPolicy("ns-check");
    assert.deepEqual(
      root.status?.status?.map((entry) => [entry.clustername, entry.compliant]),
      [
        ["east", "Compliant"],
        ["west", undefined],
      ],
    );
    assert.equal(root.status?.compliant, undefined, "an unknown cluster makes the aggregate unknown");

    await client.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: "west" }, "merge", {
      metadata: { labels: { region: "west" } },
    });
    await settle();
    assert.deepEqual(
      (await replicasOf("ns-check")).map((r) => r.metadata.namespace),
      ["east"],
    );
    assert.equal((await worksOf("ns-check", "west")).length, 0, "the work goes with the replica");
    assert.equal((await getPolicy("ns-check")).status?.compliant, "Compliant");
  });

  test("a binding override enforces on its clusters only; a restricted binding adds no cluster", async () => {
    await addPlacement("everywhere", { predicates: [] });
    await addPolicy("enforce-check", {
      remediationAction: "inform",
      "policy-templates": [configurationPolicy("enforce-check-cfg")],
    });
    await addBinding("enforce-check-east", "east-only", ["enforce-check"]);
    await addBinding("enforce-check-all", "everywhere", ["enforce-check"], {
      subFilter: "restricted",
      bindingOverrides: { remediationAction: "enforce" },
    });
    await settle();
    const found = await replicasOf("enforce-check");
    assert.deepEqual(
      found.map((r) => r.metadata.namespace),
      ["east"],
      "restricted adds nothing",
    );
    assert.equal(found[0]!.spec.remediationAction, "enforce");
    const [work] = await worksOf("enforce-check", "east");
    const manifest = work!.spec!.workload!.manifests![0] as unknown as {
      spec: { remediationAction: string };
    };
    assert.equal(manifest.spec.remediationAction, "enforce", "the override reaches the template");
  });

  test("a template waits for its dependency, reported Pending, and is delivered once it is met", async () => {
    await addPolicy("base", {
      remediationAction: "inform",
      "policy-templates": [configurationPolicy("base-cfg")],
    });
    await addPolicy("dependent", {
      remediationAction: "inform",
      dependencies: [
        { apiVersion: `${policyApi}/v1`, kind: "Policy", name: "base", namespace, compliance: "Compliant" },
      ],
      "policy-templates": [configurationPolicy("dependent-cfg")],
    });
    await addBinding("deps", "east-only", ["base", "dependent"]);
    await settle();
    const dependent = (await replicasOf("dependent"))[0]!;
    assert.equal(dependent.status?.compliant, "Pending");
    assert.match(
      dependent.status?.details?.[0]?.history?.[0]?.message ?? "",
      /^Pending; Dependencies were not satisfied: 1 is still pending \(Policy policies\.base\)$/,
    );
    const held = (await worksOf("dependent", "east")).flatMap((work) => work.spec?.workload?.manifests ?? []);
    assert.equal(held.length, 0, "the gated template is not delivered");
    assert.equal((await getPolicy("dependent")).status?.compliant, "Pending");

    await reportAll("base", "east", {
      "base-cfg": {
        compliant: "Compliant",
        message: "Compliant; notification - namespaces [base-cfg-ns] found as specified",
      },
    });
    await settle();
    const delivered = (await worksOf("dependent", "east")).flatMap(
      (work) => work.spec?.workload?.manifests ?? [],
    );
    assert.equal(delivered.length, 1, "the dependency is met: the template goes out");
  });

  test("a template the cluster cannot apply is NonCompliant with its reason; the other template still reports", async () => {
    await addPolicy("two-templates", {
      remediationAction: "inform",
      "policy-templates": [configurationPolicy("good-cfg"), configurationPolicy("refused-cfg")],
    });
    await addBinding("two-templates", "east-only", ["two-templates"]);
    await settle();
    await reportAll("two-templates", "east", {
      "good-cfg": { compliant: "Compliant", message: "Compliant; notification - fine" },
      "refused-cfg": { applyError: "the server could not find the requested resource" },
    });
    await settle();
    const replica = (await replicasOf("two-templates"))[0]!;
    assert.equal(replica.status?.compliant, "NonCompliant");
    assert.equal(replica.status?.details?.[0]?.compliant, "Compliant");
    assert.equal(replica.status?.details?.[1]?.compliant, "NonCompliant");
    assert.match(
      replica.status?.details?.[1]?.history?.[0]?.message ?? "",
      /^NonCompliant; template-error; /,
    );
  });

  test("a binding to a missing placement propagates nothing and says so; other policies keep converging", async () => {
    await addPolicy("orphan", {
      remediationAction: "inform",
      "policy-templates": [configurationPolicy("orphan-cfg")],
    });
    await addBinding("orphan", "no-such-placement", ["orphan"]);
    await settle();
    assert.equal((await replicasOf("orphan")).length, 0);
    await eventually(async () => {
      const { items } = await client.listAll<EventObject>("v1", "Event", { namespace });
      assert.ok(
        items.some(
          (event) => event.involvedObject?.name === "orphan" && /no-such-placement/.test(event.message ?? ""),
        ),
        "an event names the missing placement",
      );
    });
    // The earlier policies are untouched.
    assert.equal((await replicasOf("ns-check")).length, 1);
  });

  test("hub templates resolve per cluster, again when what they read changes; a bad one fails alone", async () => {
    await client.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace },
      data: { level: "info" },
    });
    const templated = configurationPolicy("templated-cfg");
    const definition = templated.objectDefinition as unknown as {
      spec: { "object-templates": { objectDefinition: Record<string, unknown> }[] };
    };
    definition.spec["object-templates"][0]!.objectDefinition = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cluster-info", namespace: "default" },
      data: {
        cluster: "{{hub .ManagedClusterName hub}}",
        zone: '{{hub index .ManagedClusterLabels "zone" hub}}',
        level: '{{hub fromConfigMap "" "settings" "level" hub}}',
      },
    };
    const broken = configurationPolicy("broken-cfg");
    (broken.objectDefinition.spec as Record<string, unknown>).severity = "{{hub fromConfigMap hub}}";
    await addPolicy("templated", { remediationAction: "inform", "policy-templates": [templated, broken] });
    await addBinding("templated", "east-only", ["templated"]);
    await settle();

    type Resolved = {
      spec: { "object-templates": { objectDefinition: { data: Record<string, string> } }[] };
    };
    const data = async () => {
      const replica = (await replicasOf("templated"))[0]!;
      return (replica.spec["policy-templates"][0]!.objectDefinition as unknown as Resolved).spec[
        "object-templates"
      ][0]!.objectDefinition.data;
    };
    assert.deepEqual(await data(), { cluster: "east", zone: "", level: "info" });
    const failed = (await replicasOf("templated"))[0]!.spec["policy-templates"][1]!.objectDefinition;
    assert.match(
      failed.metadata?.annotations?.["policy.open-cluster-management.io/hub-templates-error"] ?? "",
      /fromConfigMap/,
      "the failing template carries its error",
    );
    const [work] = await worksOf("templated", "east");
    assert.deepEqual(
      work!.spec!.workload!.manifests!.map(
        (manifest) => (manifest as { metadata: { name: string } }).metadata.name,
      ),
      ["templated-cfg"],
      "a template whose hub templates failed is not delivered",
    );
    await settle();
    const replica = (await replicasOf("templated"))[0]!;
    assert.equal(replica.status?.details?.[1]?.compliant, "NonCompliant");

    await client.patch({ apiVersion: "v1", kind: "ConfigMap", namespace, name: "settings" }, "merge", {
      data: { level: "debug" },
    });
    await settle();
    assert.equal((await data()).level, "debug", "a change to what a template read resolves it again");

    await client.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: "east" }, "merge", {
      metadata: { labels: { zone: "a" } },
    });
    await settle();
    assert.equal((await data()).zone, "a", "a cluster label change resolves the templates that read labels");
    await client.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: "east" }, "merge", {
      metadata: { labels: { zone: null } },
    });
    await settle();
  });

  test("hub templates of a policy naming a service account read with its rights, wherever it may read; a missing account or a forbidden read fails with OCM's message", async () => {
    const sources = "template-sources";
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: sources } });
    await client.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "shared", namespace: sources },
      data: { tier: "gold" },
    });
    const templated = configurationPolicy("sa-cfg");
    const definition = templated.objectDefinition as unknown as {
      spec: { "object-templates": { objectDefinition: Record<string, unknown> }[] };
    };
    definition.spec["object-templates"][0]!.objectDefinition = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "tier", namespace: "default" },
      // Outside the policy's namespace: only a service account may read it.
      data: { tier: `{{hub fromConfigMap "${sources}" "shared" "tier" hub}}` },
    };
    await addPolicy("sa-templated", {
      remediationAction: "inform",
      hubTemplateOptions: { serviceAccountName: "template-reader" },
      "policy-templates": [templated],
    });
    await addBinding("sa-templated", "east-only", ["sa-templated"]);

    type Resolved = {
      metadata?: { annotations?: Record<string, string> };
      spec: { "object-templates": { objectDefinition: { data: Record<string, string> } }[] };
    };
    const template = async () => {
      const [replica] = await replicasOf("sa-templated");
      assert.ok(replica, "the replica exists");
      return replica.spec["policy-templates"][0]!.objectDefinition as unknown as Resolved;
    };
    const templateError = async () =>
      (await template()).metadata?.annotations?.["policy.open-cluster-management.io/hub-templates-error"];

    // No such account yet: OCM's message, and its creation resolves the policy again.
    await eventually(async () =>
      assert.equal(
        await templateError(),
        `the service account in hubTemplateOptions.serviceAccountName (${namespace}/template-reader) does not exist`,
      ),
    );
    await client.create({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "template-reader", namespace },
    });
    // The account exists but may not list ConfigMaps there: the API server says so.
    await eventually(
      async () =>
        assert.match(
          (await templateError()) ?? "",
          new RegExp(
            `cannot list resource "configmaps" in API group "" in the namespace "${sources}": ensure the client has the list and watch permissions for the query: GroupVersion=v1, Kind=ConfigMap, Namespace=${sources}, Name=shared`,
          ),
        ),
      { timeoutMs: 60_000 },
    );
    // Granted list and watch (no get, as OCM asks), the forbidden read is retried and resolves.
    await client.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "template-reader", namespace: sources },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list", "watch"] }],
    });
    await client.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "template-reader", namespace: sources },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "template-reader" },
      subjects: [{ kind: "ServiceAccount", name: "template-reader", namespace }],
    });
    await eventually(
      async () => {
        const resolved = await template();
        assert.equal(
          resolved.metadata?.annotations?.["policy.open-cluster-management.io/hub-templates-error"],
          undefined,
        );
        assert.equal(resolved.spec["object-templates"][0]!.objectDefinition.data.tier, "gold");
      },
      { timeoutMs: 90_000 },
    );
    // The account's own watch brings a change of what the template read.
    await client.patch({ apiVersion: "v1", kind: "ConfigMap", namespace: sources, name: "shared" }, "merge", {
      data: { tier: "platinum" },
    });
    await eventually(async () =>
      assert.equal((await template()).spec["object-templates"][0]!.objectDefinition.data.tier, "platinum"),
    );
    await settle();
  });

  test("a bound PolicySet places its members and reports their aggregate compliance", async () => {
    await addPolicy("set-a", {
      remediationAction: "inform",
      "policy-templates": [configurationPolicy("set-a-cfg")],
    });
    await addPolicy("set-b", {
      remediationAction: "inform",
      "policy-templates": [configurationPolicy("set-b-cfg")],
    });
    await client.create({
      apiVersion: `${policyApi}/v1beta1`,
      kind: "PolicySet",
      metadata: { name: "baseline", namespace },
      spec: { description: "the baseline", policies: ["set-a", "set-b"] },
    });
    await client.create({
      apiVersion: `${policyApi}/v1`,
      kind: "PlacementBinding",
      metadata: { name: "baseline", namespace },
      placementRef: { apiGroup: clusterApi, kind: "Placement", name: "east-only" },
      subjects: [{ apiGroup: policyApi, kind: "PolicySet", name: "baseline" }],
    });
    await settle();
    assert.deepEqual(
      (await replicasOf("set-a")).map((r) => r.metadata.namespace),
      ["east"],
    );
    assert.deepEqual(
      (await replicasOf("set-b")).map((r) => r.metadata.namespace),
      ["east"],
    );
    const placement = (await getPolicy("set-a")).status?.placement?.[0];
    assert.equal(placement?.policySet, "baseline");
    const setRef = { apiVersion: `${policyApi}/v1beta1`, kind: "PolicySet", namespace, name: "baseline" };
    assert.equal(
      (await client.get<KubeObjectWithStatus>(setRef)).status?.compliant,
      undefined,
      "no member has reported",
    );

    await reportAll("set-a", "east", {
      "set-a-cfg": { compliant: "Compliant", message: "Compliant; notification - ok" },
    });
    await reportAll("set-b", "east", {
      "set-b-cfg": { compliant: "NonCompliant", message: "NonCompliant; violation - missing" },
    });
    await settle();
    const set = await client.get<KubeObjectWithStatus>(setRef);
    assert.equal(set.status?.compliant, "NonCompliant");
    assert.equal(set.status?.statusMessage, "All policies are reporting status");
  });

  test("disabling a policy, or deleting its binding or itself, removes its replicas and their works", async () => {
    await client.patch(policyRef("enforce-check"), "merge", { spec: { disabled: true } });
    await settle();
    assert.equal((await replicasOf("enforce-check")).length, 0);
    assert.equal((await worksOf("enforce-check", "east")).length, 0);
    const disabled = await getPolicy("enforce-check");
    assert.equal(disabled.status?.compliant, undefined);
    assert.deepEqual(disabled.status?.status ?? [], []);

    await client.delete({
      apiVersion: `${policyApi}/v1`,
      kind: "PlacementBinding",
      namespace,
      name: "two-templates",
    });
    await settle();
    assert.equal((await replicasOf("two-templates")).length, 0);

    await client.delete(policyRef("ns-check"));
    await settle();
    assert.equal((await replicasOf("ns-check")).length, 0);
    assert.equal((await worksOf("ns-check", "east")).length, 0);
    assert.equal(
      await sampleValue(registry, Metrics.policyGovernanceInfo, {
        type: MetricValues.typeRoot,
        policy: "ns-check",
        policy_namespace: namespace,
        cluster_namespace: MetricValues.nullClusterNamespace,
      }),
      undefined,
      "a deleted policy's series go",
    );
  });
});
