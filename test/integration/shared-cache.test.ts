// The hub's shared cache on a real API server: every hub controller reads one informer per
// kind (the API server counts one watch per kind), a cluster change reconciles only the
// placements and sets it can affect (counted, not timed), and caches that cannot sync fail
// start-up naming the resource.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Labels } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import { runHub } from "../../controllers/hub.ts";
import { HubInformers } from "../../controllers/informers.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { RegistrationControllers } from "../../controllers/registration/controller.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { CacheSyncError, InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";

const fixture = useControlPlane("shared-cache");
const logger = pino({ level: "silent" });
const clusterApi = "cluster.open-cluster-management.io";

/** Watches the API server has open, by resource, from its own apiserver_longrunning_requests gauge. */
async function openWatches(client: KubeClient): Promise<Map<string, number>> {
  const text = await client.requestText({ method: "GET", path: "/metrics" });
  const watches = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_longrunning_requests{") || !line.includes('verb="WATCH"')) continue;
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? "";
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    watches.set(resource, (watches.get(resource) ?? 0) + value);
  }
  return watches;
}

describe("the hub's shared cache", () => {
  let client: KubeClient;

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
  });

  after(() => client?.close());

  test("the hub opens one watch per kind, however many controllers read it", async () => {
    const hubClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    const hub = await runHub({
      client: hubClient,
      clock: systemClock(),
      logger,
      metrics: { host: "127.0.0.1", port: 0 },
      identity: "shared-cache-test",
    });
    try {
      await eventually(async () => {
        const response = await fetch(`${hub.metricsAddress.url}/readyz`);
        assert.equal(response.status, 200);
        assert.ok(hub.isLeader());
      });
      // Registration and placement both read clusters, sets and bindings; placement, the
      // replica sets and governance read placements and decisions; the propagator, the replica
      // and PolicySet controllers all read policies, and propagation and the replica sets read
      // manifestworks.
      const watches = await openWatches(client);
      for (const resource of [
        "managedclusters",
        "managedclustersets",
        "managedclustersetbindings",
        "placements",
        "placementdecisions",
        "addonplacementscores",
        "manifestworkreplicasets",
        "manifestworks",
        "policies",
        "placementbindings",
        "policysets",
      ]) {
        assert.equal(watches.get(resource), 1, `watches on ${resource}: ${JSON.stringify([...watches])}`);
      }
      // Plus the clusters' access objects: namespaces, ClusterRoles, ClusterRoleBindings, RoleBindings.
      assert.equal(hub.informers()?.informers.size, 18);
    } finally {
      await hub.stop();
      hubClient.close();
    }
  });

  test("a cluster label change reconciles only the placements and sets that can select it", async () => {
    for (const set of ["alpha", "beta"]) await createBoundClusterSet(client, set);
    const cluster = (name: string, set: string, app: string) =>
      client.create<ManagedCluster>({
        apiVersion: `${clusterApi}/v1`,
        kind: "ManagedCluster",
        // Not accepted, so no lease: registration taints it unreachable, as OCM does.
        metadata: { name, labels: { [Labels.clusterSet]: set, app } },
        spec: { hubAcceptsClient: false },
      });
    await cluster("a1", "alpha", "web");
    await cluster("b1", "beta", "db");
    const tolerations = [
      { key: "cluster.open-cluster-management.io/unreachable", operator: "Exists" as const },
    ];
    const placement = (name: string, spec: Placement["spec"]) =>
      client.create({
        apiVersion: `${clusterApi}/v1beta1`,
        kind: "Placement",
        metadata: { name, namespace: "default" },
        spec: { ...spec, tolerations },
      });
    const byLabel = (app: string) => [
      { requiredClusterSelector: { labelSelector: { matchLabels: { app } } } },
    ];
    await placement("web", { clusterSets: ["alpha"], predicates: byLabel("web") });
    await placement("web-any-set", { predicates: byLabel("web") });
    await placement("db", { clusterSets: ["beta"], predicates: byLabel("db") });
    await placement("gpu", {
      clusterSets: ["alpha"],
      predicates: [
        {
          requiredClusterSelector: {
            claimSelector: { matchExpressions: [{ key: "gpu", operator: "In", values: ["true"] }] },
          },
        },
      ],
    });
    const expected: Record<string, string[]> = { web: ["a1"], "web-any-set": ["a1"], db: ["b1"], gpu: [] };

    // Both controllers over one cache, as the hub runs them.
    const controllerClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    const informers = new InformerFactory({ client: controllerClient, logger });
    const shared = {
      client: controllerClient,
      clock: systemClock(),
      logger,
      registry: new Registry(),
      informers,
    };
    const registration = new RegistrationControllers(shared);
    const placements = new PlacementController(shared);
    try {
      await registration.start();
      await placements.start();
      // Settled: each placement's decisions and status are in the cache (so the events of the
      // controller's own writes have been handled) and no reconcile is waiting.
      const decisions = informers.informer<PlacementDecision>(
        HubInformers.placementDecisions.resource,
        HubInformers.placementDecisions.scope,
      );
      const cachedPlacements = informers.informer<Placement>({
        apiVersion: `${clusterApi}/v1beta1`,
        kind: "Placement",
      });
      const cachedClusters = informers.informer<ManagedCluster>({
        apiVersion: `${clusterApi}/v1`,
        kind: "ManagedCluster",
      });
      await eventually(() => {
        for (const name of ["a1", "b1"]) assert.ok(cachedClusters.get(name)?.spec?.taints?.length, name);
        for (const [name, clusters] of Object.entries(expected)) {
          const decided = decisions
            .byLabel(Labels.placement, name)
            .flatMap((pd) => pd.status?.decisions.map((d) => d.clusterName) ?? []);
          assert.deepEqual(
            decided.sort(),
            clusters,
            `${name}: ${JSON.stringify(cachedPlacements.get(`default/${name}`)?.status)}`,
          );
          const status = cachedPlacements.get(`default/${name}`)?.status;
          assert.equal(status?.numberOfSelectedClusters, clusters.length, name);
        }
      });
      assert.equal(informers.informers.size, 12, [...informers.informers.keys()].join(", "));
      await placements.whenIdle();
      await registration.setsIdle();
      const keys = ["default/web", "default/web-any-set", "default/db", "default/gpu"];
      const before = Object.fromEntries(keys.map((key) => [key, placements.reconcilesOf(key)]));
      const setsBefore = Object.fromEntries(
        ["alpha", "beta", "default", "global"].map((set) => [set, registration.setReconcilesOf(set)]),
      );

      await client.patch({ apiVersion: `${clusterApi}/v1`, kind: "ManagedCluster", name: "a1" }, "merge", {
        metadata: { labels: { tier: "gold" } },
      });

      await eventually(() => {
        assert.ok(placements.reconcilesOf("default/web") > before["default/web"]!);
        assert.ok(placements.reconcilesOf("default/web-any-set") > before["default/web-any-set"]!);
        assert.ok(registration.setReconcilesOf("alpha") > setsBefore.alpha!);
        assert.ok(registration.setReconcilesOf("global") > setsBefore.global!);
      });
      // The handlers that enqueue keys run together, on the event: nothing else is on its way.
      await placements.whenIdle();
      await registration.setsIdle();
      assert.equal(placements.reconcilesOf("default/db"), before["default/db"], "db selects from beta only");
      assert.equal(placements.reconcilesOf("default/gpu"), before["default/gpu"], "a1 has no gpu claim");
      assert.equal(registration.setReconcilesOf("beta"), setsBefore.beta);
      assert.equal(registration.setReconcilesOf("default"), setsBefore.default);

      // Each scheduling run is timed under OCM's metric names.
      const exposition = await shared.registry.metrics();
      for (const name of ["scheduling_scheduling_duration_seconds", "scheduling_bind_duration_seconds"]) {
        const count = new RegExp(`^${name}_count\\{name="placement_scheduling"\\} (\\d+)$`, "m").exec(
          exposition,
        );
        assert.ok(Number(count?.[1]) >= keys.length, `${name}: ${count?.[0]}`);
      }
    } finally {
      await placements.stop();
      await registration.stop();
      await informers.stop();
      controllerClient.close();
    }
  });

  test("caches that cannot sync fail start-up naming the resource, and the hub is not ready", async () => {
    await client.delete({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      name: `addonplacementscores.${clusterApi}`,
    });
    await eventually(async () => {
      const served = await client
        .request<{ resources: { kind: string }[] }>({ method: "GET", path: `/apis/${clusterApi}/v1alpha1` })
        .catch((error: unknown) => {
          // The group version goes away with its last CRD.
          if (error instanceof KubeApiError && error.notFound) return { resources: [] };
          throw error;
        });
      assert.ok(!served.resources.some((r) => r.kind === "AddOnPlacementScore"));
    });
    const hubClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    const hub = await runHub({
      client: hubClient,
      clock: systemClock(),
      logger,
      metrics: { host: "127.0.0.1", port: 0 },
      identity: "shared-cache-missing-crd",
      cacheSyncTimeoutMs: 3_000,
    });
    try {
      const failure = await hub.failed;
      assert.ok(failure instanceof CacheSyncError, String(failure));
      assert.equal(failure.unsynced.length, 1, failure.message);
      assert.match(failure.message, /AddOnPlacementScore\.cluster\.open-cluster-management\.io\/v1alpha1/);
      const response = await fetch(`${hub.metricsAddress.url}/readyz`);
      assert.equal(response.status, 503);
    } finally {
      await hub.stop();
      hubClient.close();
    }
  });
});
