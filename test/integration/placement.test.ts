// The placement controller on a real hub: a placement by claims selects the right clusters,
// a new claim or taint moves the decision, and a misconfigured placement reports
// PlacementMisconfigured without harming another placement.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Labels } from "../../api/constants.ts";
import type { ManagedCluster, Taint } from "../../api/types/cluster.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import { explainLive } from "../../cli/commands/explain.ts";
import { installCrds } from "../../runtime/crds.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { systemClock } from "../../runtime/clock.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("placement");
const logger = pino({ level: "silent" });
const region = "region.open-cluster-management.io";

const clusterRef = (name: string) => ({
  apiVersion: "cluster.open-cluster-management.io/v1",
  kind: "ManagedCluster",
  name,
});
const placementRef = (name: string) => ({
  apiVersion: "cluster.open-cluster-management.io/v1beta1",
  kind: "Placement",
  namespace: "default",
  name,
});

describe("placement controller", () => {
  let client: KubeClient;
  let controllerClient: KubeClient;
  let controller: PlacementController;
  /** Every write the controller sends: method and object name. */
  const writes: string[] = [];

  async function addCluster(name: string, claims: Record<string, string>): Promise<void> {
    const created = await client.create<ManagedCluster>({
      apiVersion: "cluster.open-cluster-management.io/v1",
      kind: "ManagedCluster",
      metadata: { name, labels: { [Labels.clusterSet]: "prod" } },
      spec: { hubAcceptsClient: true },
    });
    await setClaims(created, claims);
  }

  async function setClaims(cluster: ManagedCluster, claims: Record<string, string>): Promise<void> {
    await client.patch(
      clusterRef(cluster.metadata.name!),
      "merge",
      { status: { clusterClaims: Object.entries(claims).map(([name, value]) => ({ name, value })) } },
      { subresource: "status" },
    );
  }

  async function decided(placement: string): Promise<string[]> {
    const list = await client.list<PlacementDecision>(
      "cluster.open-cluster-management.io/v1beta1",
      "PlacementDecision",
      {
        namespace: "default",
        labelSelector: `${Labels.placement}=${placement}`,
      },
    );
    return list.items.flatMap((pd) => pd.status?.decisions.map((d) => d.clusterName) ?? []).sort();
  }

  async function placementStatus(name: string) {
    const p = await client.get<Placement>(placementRef(name));
    const c = (type: string) => p.status?.conditions?.find((x) => x.type === type);
    return { p, satisfied: c("PlacementSatisfied"), misconfigured: c("PlacementMisconfigured") };
  }

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    await client.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSet",
      metadata: { name: "prod" },
      spec: { clusterSelector: { selectorType: "ExclusiveClusterSetLabel" } },
    });
    await client.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "prod", namespace: "default" },
      spec: { clusterSet: "prod" },
    });
    await addCluster("eu-1", { [region]: "eu-west" });
    await addCluster("eu-2", { [region]: "eu-central" });
    await addCluster("us-1", { [region]: "us-east" });
    controllerClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    for (const method of ["create", "patch", "delete", "replace"] as const) {
      const original = controllerClient[method].bind(controllerClient) as (
        ...args: unknown[]
      ) => Promise<unknown>;
      (controllerClient as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        const target = args[0] as { name?: string; metadata?: { name?: string } };
        writes.push(`${method} ${target.name ?? target.metadata?.name ?? "?"}`);
        return original(...args);
      };
    }
    controller = new PlacementController({
      client: controllerClient,
      clock: systemClock(),
      logger,
      registry: new Registry(),
    });
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    client?.close();
    controllerClient?.close();
  });

  test("a placement by claims selects the matching clusters", async () => {
    await client.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: { name: "eu", namespace: "default" },
      spec: {
        predicates: [
          {
            requiredClusterSelector: {
              claimSelector: {
                matchExpressions: [{ key: region, operator: "In", values: ["eu-west", "eu-central"] }],
              },
            },
          },
        ],
      },
    });
    await eventually(async () => assert.deepEqual(await decided("eu"), ["eu-1", "eu-2"]), {
      what: "eu decisions",
    });
    assert.ok(writes.includes("create eu-decision-1"), writes.join(", "));
    await eventually(async () => {
      const { p, satisfied, misconfigured } = await placementStatus("eu");
      assert.equal(p.status?.numberOfSelectedClusters, 2);
      assert.equal(satisfied?.reason, "AllDecisionsScheduled");
      assert.equal(misconfigured?.reason, "Succeedconfigured");
      assert.deepEqual(p.status?.decisionGroups?.[0]?.decisions, ["eu-decision-1"]);
    });
    const pd = await client.get<PlacementDecision>({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      namespace: "default",
      name: "eu-decision-1",
    });
    assert.equal(pd.metadata.ownerReferences?.[0]?.kind, "Placement");
    await eventually(async () => {
      const events = await client.listAll<Unstructured>("v1", "Event", {
        namespace: "default",
        fieldSelector: "involvedObject.name=eu",
      });
      const reasons = events.items.map((event) => `${event.reason as string}: ${event.message as string}`);
      assert.ok(reasons.includes("DecisionCreate: DecisionCreated"), reasons.join(", "));
      assert.ok(
        reasons.some((reason) => /^ScoreUpdate: eu-1:\d+ eu-2:\d+$/.test(reason)),
        reasons.join(", "),
      );
    });
    assert.equal(pd.metadata.labels?.[Labels.decisionGroupIndex], "0");
  });

  test("explain placement, live, agrees with what the controller wrote", async () => {
    const explanation = await explainLive(client, "default", "eu", Date.now());
    const written = await client.get<PlacementDecision>({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      namespace: "default",
      name: "eu-decision-1",
    });
    // The same clusters for the same reasons. Scores may lag: they are rewritten at most once
    // per scoreRateLimit (the next test).
    const withoutScores = (decisions: { clusterName: string; reason: string }[] = []) =>
      decisions.map(({ clusterName, reason }) => ({ clusterName, reason }));
    assert.deepEqual(
      explanation.placementDecisions.map((pd) => withoutScores(pd.status?.decisions)),
      [withoutScores(written.status?.decisions)],
    );
    assert.equal(explanation.status.numberOfSelectedClusters, 2);
    const us = explanation.clusters.find((cluster) => cluster.name === "us-1");
    assert.equal(us?.selected, false);
    assert.equal(us?.filteredBy?.plugin, "Predicate");
    assert.deepEqual(
      explanation.clusters.filter((cluster) => cluster.selected).map((cluster) => cluster.name),
      ["eu-1", "eu-2"],
    );
  });

  test("scores change at most once per scoreRateLimit, while the clusters decided change at once", async () => {
    const placement = await client.get<Placement>(placementRef("eu"));
    assert.ok(placement.status?.lastScoreUpdateTime, "the first write recorded lastScoreUpdateTime");
    const scores = async () =>
      (
        await client.get<PlacementDecision>({
          apiVersion: "cluster.open-cluster-management.io/v1beta1",
          kind: "PlacementDecision",
          namespace: "default",
          name: "eu-decision-1",
        })
      ).status?.decisions.map((decision) => decision.score ?? 0);
    // Steady now scores eu-1 and eu-2 as already decided (the first write could not), but the
    // default limit of a minute has not passed: the written scores stay as they were.
    const explained = await explainLive(client, "default", "eu", Date.now());
    const explainedScores = explained.placementDecisions[0]!.status!.decisions.map(
      (decision) => decision.score ?? 0,
    );
    assert.notDeepEqual(await scores(), explainedScores);
    // A shorter limit lets them through.
    await client.patch(placementRef("eu"), "merge", { spec: { scoreRateLimit: "1s" } });
    await eventually(async () => assert.deepEqual(await scores(), explainedScores), {
      what: "scores refreshed",
    });
    await client.patch(placementRef("eu"), "merge", { spec: { scoreRateLimit: "1m" } });
  });

  test("a new claim on a cluster moves the decision", async () => {
    const us1 = await client.get<ManagedCluster>(clusterRef("us-1"));
    await setClaims(us1, { [region]: "eu-west" });
    await eventually(async () => assert.deepEqual(await decided("eu"), ["eu-1", "eu-2", "us-1"]), {
      what: "us-1 joining the decisions",
    });
  });

  test("a NoSelect taint removes a cluster from the decision", async () => {
    const taint: Taint = {
      key: "maintenance",
      value: "true",
      effect: "NoSelect",
      timeAdded: new Date().toISOString(),
    };
    await client.patch(clusterRef("eu-1"), "merge", { spec: { taints: [taint] } });
    await eventually(async () => assert.deepEqual(await decided("eu"), ["eu-2", "us-1"]), {
      what: "eu-1 leaving the decisions",
    });
  });

  test("a misconfigured placement reports the plugin and message and harms no other placement", async () => {
    await client.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: { name: "broken", namespace: "default" },
      spec: {
        predicates: [
          { requiredClusterSelector: { celSelector: { celExpressions: ["managedCluster.metadata.("] } } },
        ],
      },
    });
    await eventually(async () => {
      const { misconfigured, p } = await placementStatus("broken");
      assert.equal(misconfigured?.status, "True");
      assert.equal(misconfigured?.reason, "Misconfigured");
      assert.match(misconfigured?.message ?? "", /^Predicate:compilation failed: /);
      assert.equal(p.status?.numberOfSelectedClusters, 0);
    });
    assert.deepEqual(await decided("broken"), []);
    // The other placement keeps working.
    await client.patch(clusterRef("eu-1"), "merge", { spec: { taints: null } });
    await eventually(async () => assert.deepEqual(await decided("eu"), ["eu-1", "eu-2", "us-1"]), {
      what: "eu-1 back in the decisions",
    });
  });

  test("nothing is written when nothing changed", async () => {
    await controller.whenIdle();
    const before = await placementStatus("eu");
    const pdBefore = await client.get<PlacementDecision>({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      namespace: "default",
      name: "eu-decision-1",
    });
    writes.length = 0;
    // An unrelated annotation makes the controller schedule the placement again.
    const reconciles = controller.reconcilesOf("default/eu");
    await client.patch(placementRef("eu"), "merge", { metadata: { annotations: { touched: "yes" } } });
    await eventually(() => assert.ok(controller.reconcilesOf("default/eu") > reconciles), {
      what: "the placement rescheduled",
    });
    await controller.whenIdle();
    const pdAfter = await client.get<PlacementDecision>({
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      namespace: "default",
      name: "eu-decision-1",
    });
    assert.equal(pdAfter.metadata.resourceVersion, pdBefore.metadata.resourceVersion);
    assert.deepEqual(writes, []);
    const after = await placementStatus("eu");
    assert.deepEqual(after.p.status, before.p.status);
  });
});
