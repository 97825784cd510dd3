// Progressive policy rollout on a real hub: a Placement with three decision groups, the
// placement, propagation and replica controllers running over one cache, and the clusters'
// agents simulated by writing what they report into the policy ManifestWorks' status (the
// Applied condition and the status feedback of each template, read from the template as
// delivered). Group 0 goes first and each group follows once the earlier ones succeeded; a group
// failing past its deadline halts the rollout with an Event and a state; a policy change rolls
// out group by group again, leaving the replicas of groups not released yet as they were.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import {
  BosunPolicyRollout,
  BosunPolicyWorkLabels,
  Labels,
  PolicyLabels,
  Resources,
} from "../../api/constants.ts";
import type { Policy, PolicySpec } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { HubInformers } from "../../controllers/informers.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { parseRolloutState, type RolloutState } from "../../controllers/propagation/policy-rollout.ts";
import { PolicyPropagator } from "../../controllers/propagation/propagator.ts";
import { ReplicaController } from "../../controllers/propagation/replica-controller.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { objectKey, type Unstructured } from "../../runtime/kube/types.ts";
import { formatTime } from "../../runtime/time.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("policy-rollout");
const logger = pino({ level: "silent" });
const clusterApi = "cluster.open-cluster-management.io";
const policyApi = "policy.open-cluster-management.io";
const workApi = "work.open-cluster-management.io";
const namespace = "rollouts";
const revisionKey = BosunPolicyRollout.revisionAnnotation;

/** Decision groups: 0 = alpha (the canary), 1 = bravo and charlie, 2 = delta. */
const clusters = ["alpha", "bravo", "charlie", "delta"];

type EventObject = Unstructured & { reason?: string; message?: string; involvedObject?: { name?: string } };

const policyRef = (name: string) => ({ apiVersion: `${policyApi}/v1`, kind: "Policy", namespace, name });

function configurationPolicy(name: string, namespaceName: string) {
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
            complianceType: "musthave",
            objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: namespaceName } },
          },
        ],
      },
    },
  };
}

describe("progressive policy rollout", () => {
  let client: KubeClient;
  let informers: InformerFactory;
  let placements: PlacementController;
  let propagator: PolicyPropagator;
  let replicas: ReplicaController;

  async function addPolicy(name: string, spec: Partial<PolicySpec>, annotations: Record<string, string>) {
    await client.create({
      ...policyRef(name),
      metadata: { name, namespace, annotations },
      spec: { disabled: false, "policy-templates": [], ...spec },
    });
    await client.create({
      apiVersion: `${policyApi}/v1`,
      kind: "PlacementBinding",
      metadata: { name, namespace },
      placementRef: { apiGroup: clusterApi, kind: "Placement", name: "waves" },
      subjects: [{ apiGroup: policyApi, kind: "Policy", name }],
    });
  }

  const getPolicy = (name: string) => client.get<Policy>(policyRef(name));
  const replicaName = (name: string) => `${namespace}.${name}`;

  /** The replicas of a root by cluster. */
  async function replicasOf(name: string): Promise<Map<string, Policy>> {
    const { items } = await client.listAll<Policy>(`${policyApi}/v1`, "Policy", {
      labelSelector: `${PolicyLabels.rootPolicy}=${replicaName(name)}`,
    });
    return new Map(items.map((replica) => [replica.metadata.namespace ?? "", replica]));
  }

  const replicaClusters = async (name: string) => [...(await replicasOf(name)).keys()].sort();

  async function rolloutState(name: string): Promise<RolloutState | undefined> {
    const root = await getPolicy(name);
    return parseRolloutState(root.metadata.annotations?.[BosunPolicyRollout.statusAnnotation]);
  }

  async function worksOf(name: string, cluster: string): Promise<ManifestWork[]> {
    const { items } = await client.listAll<ManifestWork>(`${workApi}/v1`, "ManifestWork", {
      namespace: cluster,
      labelSelector: `${BosunPolicyWorkLabels.replica}=${replicaName(name)}`,
    });
    return items;
  }

  /**
   * What a cluster's agents report once they applied and evaluated the templates its work carries
   * now: each ConfigurationPolicy applied, its compliance fed back together with the revision it
   * carries and its generation, evaluated at that generation.
   */
  async function report(name: string, cluster: string, compliant: "Compliant" | "NonCompliant") {
    const works = await eventually(async () => {
      const found = await worksOf(name, cluster);
      assert.ok(found.length > 0, `a work of ${name} in ${cluster}`);
      return found;
    });
    for (const work of works) {
      const generation = work.metadata.generation ?? 1;
      const manifests = (work.spec?.workload?.manifests ?? []).map((manifest, ordinal) => {
        const object = manifest as {
          kind: string;
          metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
        };
        const text = (valueName: string, value: string) => ({
          name: valueName,
          fieldValue: { type: "String", string: value },
        });
        const integer = (valueName: string, value: number) => ({
          name: valueName,
          fieldValue: { type: "Integer", integer: value },
        });
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
              status: "True",
              reason: "AppliedManifestComplete",
              message: "Apply manifest complete",
              observedGeneration: generation,
              lastTransitionTime: formatTime(Date.now()),
            },
          ],
          statusFeedback: {
            values: [
              text("compliant", compliant),
              text("message", `${compliant}; notification - namespaces [checked] reported`),
              text("lastTimestamp", new Date().toISOString()),
              text("rolloutRevision", object.metadata.annotations?.[revisionKey] ?? ""),
              integer("generation", generation),
              integer("lastEvaluatedGeneration", generation),
            ],
          },
        };
      });
      await client.patch(
        { apiVersion: `${workApi}/v1`, kind: "ManifestWork", namespace: cluster, name: work.metadata.name! },
        "merge",
        { status: { resourceStatus: { manifests } } },
        { subresource: "status" },
      );
    }
  }

  async function eventsOf(name: string): Promise<EventObject[]> {
    const { items } = await client.listAll<EventObject>("v1", "Event", { namespace });
    return items.filter((event) => event.involvedObject?.name === name);
  }

  /** Every governance object the API server holds is in the cache, and nothing is queued. */
  async function settle(): Promise<void> {
    const watched = [
      { resource: Resources.Policy, scope: {} },
      { resource: Resources.PlacementBinding, scope: {} },
      HubInformers.placementDecisions,
      HubInformers.manifestWorks,
    ];
    await eventually(async () => {
      for (const { resource, scope } of watched) {
        const live = await client.listAll(resource.apiVersion, resource.kind, scope);
        const cache = informers.informer(resource, scope);
        assert.equal(cache.size, live.items.length, resource.kind);
        for (const item of live.items)
          assert.equal(
            cache.get(objectKey(item))?.metadata.resourceVersion,
            item.metadata.resourceVersion,
            `${resource.kind} ${objectKey(item)}`,
          );
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
    const shared = { client, clock: systemClock(), logger, registry: new Registry(), informers };
    placements = new PlacementController(shared);
    propagator = new PolicyPropagator(shared);
    replicas = new ReplicaController(shared);
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await createBoundClusterSet(client, "fleet", namespace);
    for (const name of clusters) {
      await client.create({
        apiVersion: `${clusterApi}/v1`,
        kind: "ManagedCluster",
        metadata: {
          name,
          labels: { [Labels.clusterSet]: "fleet", ...(name === "alpha" ? { canary: "true" } : {}) },
        },
        spec: { hubAcceptsClient: true },
      });
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
    await client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "waves", namespace },
      spec: {
        decisionStrategy: {
          groupStrategy: {
            clustersPerDecisionGroup: 2,
            decisionGroups: [
              {
                groupName: "canary",
                groupClusterSelector: { labelSelector: { matchLabels: { canary: "true" } } },
              },
            ],
          },
        },
      },
    });
    await placements.start();
    await propagator.start();
    await replicas.start();
    // The placement's three decision groups are in place before any policy is bound to it.
    await eventually(async () => {
      const { items } = await client.listAll(`${clusterApi}/v1beta1`, "PlacementDecision", {
        namespace,
        labelSelector: `${Labels.placement}=waves`,
      });
      assert.deepEqual(
        items.map((decision) => decision.metadata.labels?.[Labels.decisionGroupIndex]).sort(),
        ["0", "1", "2"],
      );
    });
  });

  after(async () => {
    await replicas?.stop();
    await propagator?.stop();
    await placements?.stop();
    await informers?.stop();
  });

  test("an enforced policy goes to one decision group after the other as each succeeds", async () => {
    await addPolicy(
      "waves",
      { remediationAction: "enforce", "policy-templates": [configurationPolicy("waves-cfg", "first")] },
      { [BosunPolicyRollout.annotation]: "progressive" },
    );
    await settle();
    assert.deepEqual(await replicaClusters("waves"), ["alpha"], "only the canary group");
    const first = await rolloutState("waves");
    assert.equal(first?.phase, "Progressing");
    assert.equal(first?.releasedGroups, 1);
    const root = await getPolicy("waves");
    assert.deepEqual(
      root.status?.status?.map((entry) => entry.clustername),
      ["alpha"],
      "the root lists the clusters that have a replica",
    );
    const alpha = (await replicasOf("waves")).get("alpha")!;
    assert.equal(
      alpha.metadata.annotations?.[revisionKey],
      first?.revision,
      "the replica carries the revision",
    );
    assert.equal(
      alpha.metadata.annotations?.[BosunPolicyRollout.annotation],
      undefined,
      "settings stay on the root",
    );

    await report("waves", "alpha", "NonCompliant");
    await settle();
    assert.deepEqual(await replicaClusters("waves"), ["alpha"], "enforce waits for Compliant");

    await report("waves", "alpha", "Compliant");
    await eventually(async () =>
      assert.deepEqual(await replicaClusters("waves"), ["alpha", "bravo", "charlie"]),
    );
    await settle();
    assert.equal((await rolloutState("waves"))?.releasedGroups, 2);

    await report("waves", "bravo", "Compliant");
    await settle();
    assert.deepEqual(
      await replicaClusters("waves"),
      ["alpha", "bravo", "charlie"],
      "charlie has not reported",
    );
    await report("waves", "charlie", "Compliant");
    await eventually(async () => assert.deepEqual(await replicaClusters("waves"), clusters));

    await report("waves", "delta", "Compliant");
    await eventually(async () => assert.equal((await rolloutState("waves"))?.phase, "Succeeded"));
    await settle();
    const events = await eventsOf("waves");
    assert.equal(events.filter((event) => event.reason === "PolicyRolloutGroupReleased").length, 3);
    assert.ok(events.some((event) => event.reason === "PolicyRolloutSucceeded"));
    assert.equal((await getPolicy("waves")).status?.compliant, "Compliant");
  });

  test("a group that does not succeed within the deadline halts the rollout, with an Event and the state", async () => {
    await addPolicy(
      "stuck",
      { remediationAction: "enforce", "policy-templates": [configurationPolicy("stuck-cfg", "second")] },
      { [BosunPolicyRollout.annotation]: "progressive" },
    );
    await settle();
    await report("stuck", "alpha", "Compliant");
    await eventually(async () =>
      assert.deepEqual(await replicaClusters("stuck"), ["alpha", "bravo", "charlie"]),
    );
    await report("stuck", "bravo", "Compliant");
    await report("stuck", "charlie", "NonCompliant");
    await settle();
    // The deadline counts from the group's release: 2s have passed or soon will.
    await client.patch(policyRef("stuck"), "merge", {
      metadata: { annotations: { [BosunPolicyRollout.deadlineAnnotation]: "2s" } },
    });

    const halted = await eventually(async () => {
      const state = await rolloutState("stuck");
      assert.equal(state?.phase, "Halted");
      return state;
    });
    assert.equal(halted.reason, "DeadlineExceeded");
    assert.equal(
      halted.message,
      "rollout halted: decision group 1 did not succeed within 2s of its release: charlie (template stuck-cfg is NonCompliant)",
    );
    const event = await eventually(async () => {
      const found = (await eventsOf("stuck")).find((candidate) => candidate.reason === "PolicyRolloutHalted");
      assert.ok(found, "a PolicyRolloutHalted event");
      return found;
    });
    assert.equal(event.type, "Warning");
    assert.equal(event.message, halted.message);

    // Halted stays halted, even once the cluster recovers.
    await report("stuck", "charlie", "Compliant");
    await settle();
    assert.equal((await rolloutState("stuck"))?.phase, "Halted");
    assert.deepEqual(await replicaClusters("stuck"), ["alpha", "bravo", "charlie"], "delta gets nothing");
  });

  test("a policy change rolls out group by group again; replicas of groups not released yet stay as they were", async () => {
    const before = await replicasOf("waves");
    const previous = (await rolloutState("waves"))!;
    const changed = configurationPolicy("waves-cfg", "changed");
    await client.patch(policyRef("waves"), "merge", { spec: { "policy-templates": [changed] } });
    await settle();

    const state = (await rolloutState("waves"))!;
    assert.notEqual(state.revision, previous.revision, "a new revision");
    assert.equal(state.phase, "Progressing");
    assert.equal(state.releasedGroups, 1);
    const during = await replicasOf("waves");
    assert.equal(during.get("alpha")!.metadata.annotations?.[revisionKey], state.revision);
    for (const cluster of ["bravo", "charlie", "delta"])
      assert.equal(
        during.get(cluster)!.metadata.resourceVersion,
        before.get(cluster)!.metadata.resourceVersion,
        `${cluster}'s replica is untouched`,
      );
    // alpha's work now carries the change, its feedback still says Compliant for the old content.
    const [alphaWork] = await worksOf("waves", "alpha");
    const manifest = alphaWork!.spec!.workload!.manifests![0] as unknown as {
      metadata: { annotations: Record<string, string> };
    };
    assert.equal(manifest.metadata.annotations[revisionKey], state.revision);
    assert.equal((await rolloutState("waves"))?.releasedGroups, 1, "stale compliance releases nothing");

    await report("waves", "alpha", "Compliant");
    await eventually(async () => {
      const now = await replicasOf("waves");
      for (const cluster of ["alpha", "bravo", "charlie"])
        assert.equal(now.get(cluster)!.metadata.annotations?.[revisionKey], state.revision, cluster);
    });
    await settle();
    assert.equal(
      (await replicasOf("waves")).get("delta")!.metadata.resourceVersion,
      before.get("delta")!.metadata.resourceVersion,
      "delta keeps the previous content until its group is released",
    );

    await report("waves", "bravo", "Compliant");
    await report("waves", "charlie", "Compliant");
    await eventually(async () =>
      assert.equal(
        (await replicasOf("waves")).get("delta")!.metadata.annotations?.[revisionKey],
        state.revision,
      ),
    );
    await report("waves", "delta", "Compliant");
    await eventually(async () => assert.equal((await rolloutState("waves"))?.phase, "Succeeded"));
  });

  test("disabling a progressive policy removes every replica at once", async () => {
    await client.patch(policyRef("waves"), "merge", { spec: { disabled: true } });
    await settle();
    assert.deepEqual(await replicaClusters("waves"), []);
    assert.equal(
      (await getPolicy("waves")).metadata.annotations?.[BosunPolicyRollout.statusAnnotation],
      undefined,
      "re-enabling starts a new rollout",
    );
  });
});
