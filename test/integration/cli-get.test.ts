// `bosun get` on a real hub: the tables of clusters, cluster sets, placements and decisions,
// an unknown namespace named as such, --watch printing a row per change, and a credential
// without RBAC (picked from merged $KUBECONFIG files) told what it lacks.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { stringify } from "yaml";
import { Labels } from "../../api/constants.ts";
import {
  clusterSetTable,
  clusterTable,
  decisionTable,
  placementTable,
  scopeOf,
  workTable,
  type GetRequest,
  type TableSpec,
} from "../../cli/commands/get-tables.ts";
import { runGet } from "../../cli/commands/get.ts";
import { clientFor, explainKubeError, loadKubeconfig } from "../../cli/kube.ts";
import type { KubeObject } from "../../api/types/meta.ts";
import { installCrds } from "../../runtime/crds.ts";
import type { KubeClient } from "../../runtime/kube/client.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("cli-get");
const logger = pino({ level: "silent" });

const placementRef = (name: string) => ({
  apiVersion: "cluster.open-cluster-management.io/v1beta1",
  kind: "Placement",
  namespace: "default",
  name,
});

function capture() {
  const captured = { out: "", err: "" };
  return {
    captured,
    output: {
      out: { write: (text: string) => (captured.out += text) },
      err: { write: (text: string) => (captured.err += text) },
    },
  };
}

async function get<T extends KubeObject>(
  client: KubeClient,
  spec: TableSpec<T>,
  request: Partial<GetRequest> = {},
): Promise<string[]> {
  const { captured, output } = capture();
  await runGet(client, spec, { scope: scopeOf(spec, {}, undefined), output: "table", ...request }, output, {
    logger,
  });
  return captured.out.trimEnd().split("\n");
}

describe("bosun get on a real hub", () => {
  let hub: KubeClient;

  before(async () => {
    hub = await clientFor(loadKubeconfig({ kubeconfig: fixture.plane.kubeconfigPath }, {}));
    await installCrds(hub, "hub");
    for (const [name, set] of [
      ["east", "prod"],
      ["west", "prod"],
      ["lab", "dev"],
    ] as const) {
      await hub.create({
        apiVersion: "cluster.open-cluster-management.io/v1",
        kind: "ManagedCluster",
        metadata: { name, labels: { [Labels.clusterSet]: set } },
        spec: { hubAcceptsClient: true },
      });
    }
    await hub.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSet",
      metadata: { name: "prod" },
      spec: { clusterSelector: { selectorType: "ExclusiveClusterSetLabel" } },
    });
    await hub.create({
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "prod", namespace: "default" },
      spec: { clusterSet: "prod" },
    });
    await hub.create({
      ...placementRef("eu"),
      metadata: { name: "eu", namespace: "default" },
      spec: { clusterSets: ["prod"] },
    });
    await hub.patch(
      placementRef("eu"),
      "merge",
      {
        status: {
          numberOfSelectedClusters: 1,
          conditions: [
            {
              type: "PlacementSatisfied",
              status: "True",
              reason: "AllDecisionsScheduled",
              message: "All cluster decisions scheduled",
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            },
          ],
        },
      },
      { subresource: "status" },
    );
    const decision = {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      metadata: {
        name: "eu-decision-1",
        namespace: "default",
        labels: {
          [Labels.placement]: "eu",
          [Labels.decisionGroupName]: "",
          [Labels.decisionGroupIndex]: "0",
        },
      },
    };
    await hub.create(decision);
    await hub.patch(
      { ...decision, name: "eu-decision-1", namespace: "default" },
      "merge",
      { status: { decisions: [{ clusterName: "east", reason: "" }] } },
      { subresource: "status" },
    );
  });

  after(() => hub?.close());

  test("prints kubectl-style tables of clusters, cluster sets, placements and decisions", async () => {
    assert.match(
      (await get(hub, clusterTable))[0]!,
      /^NAME\s+ACCEPTED\s+JOINED\s+AVAILABLE\s+CLUSTERSET\s+KUBERNETES/,
    );
    assert.deepEqual(
      (await get(hub, clusterTable)).slice(1).map((line) => line.split(/\s+/).slice(0, 3)),
      [
        ["east", "true", "prod"],
        ["lab", "true", "dev"],
        ["west", "true", "prod"],
      ],
    );
    const sets = await get(hub, clusterSetTable);
    assert.match(sets[0]!, /^NAME\s+SELECTOR TYPE\s+CLUSTERS\s+BINDINGS\s+AGE$/);
    assert.match(
      sets.find((line) => line.startsWith("prod "))!,
      /^prod\s+ExclusiveClusterSetLabel\s+2\s+default\s+\d+s$/,
    );
    const placements = await get(hub, placementTable, { output: "wide" });
    assert.match(
      placements[0]!,
      /^NAME\s+SUCCEEDED\s+SELECTED\s+REASON\s+AGE\s+CLUSTERSETS\s+DECISION GROUPS$/,
    );
    assert.match(placements[1]!, /^eu\s+True\s+1\s+AllDecisionsScheduled\s+\d+s\s+prod$/);
    assert.match((await get(hub, decisionTable))[1]!, /^eu-decision-1\s+eu\s+#0\s+1\s+\d+s$/);
  });

  test("names a namespace the hub does not have", async () => {
    await assert.rejects(get(hub, workTable, { scope: { namespace: "nosuch", explicit: true } }), {
      message: "namespace nosuch not found on the hub: is the cluster joined? (bosun get clusters)",
    });
  });

  test("--watch prints the table, then a row whenever a placement changes", async () => {
    const { captured, output } = capture();
    const stop = new AbortController();
    const watching = runGet(
      hub,
      placementTable,
      { scope: { namespace: "default", explicit: true }, output: "table", watch: true },
      output,
      { signal: stop.signal, logger },
    );
    await eventually(() => assert.match(captured.out, /^eu\s+True\s+1\s/m), { what: "the first table" });
    await hub.patch(
      placementRef("eu"),
      "merge",
      { status: { numberOfSelectedClusters: 2 } },
      { subresource: "status" },
    );
    await eventually(() => assert.match(captured.out, /\neu\s+True\s+2\s+AllDecisionsScheduled/), {
      what: "the changed row",
    });
    await hub.create({ ...placementRef("us"), metadata: { name: "us", namespace: "default" }, spec: {} });
    await eventually(() => assert.match(captured.out, /\nus\s+0\s/), { what: "the new placement's row" });
    stop.abort();
    await watching;
    const lines = captured.out.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME\s+SUCCEEDED\s+SELECTED\s+REASON\s+AGE$/);
    assert.equal(lines.filter((line) => line.startsWith("NAME")).length, 1, "the header is printed once");
  });

  test("a credential without RBAC, picked from merged $KUBECONFIG files, is told what it lacks", async () => {
    await hub.request({
      method: "POST",
      path: "/api/v1/namespaces/default/serviceaccounts",
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "nobody" } },
    });
    const { status } = await hub.request<{ status: { token: string } }>({
      method: "POST",
      path: "/api/v1/namespaces/default/serviceaccounts/nobody/token",
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 600 },
      },
    });
    const viewerFile = join(fixture.plane.dir, "viewer.kubeconfig");
    await writeFile(
      viewerFile,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "viewer-hub",
            cluster: {
              server: fixture.plane.server,
              "certificate-authority-data": Buffer.from(fixture.plane.caPem).toString("base64"),
            },
          },
        ],
        users: [{ name: "nobody", user: { token: status.token } }],
        contexts: [{ name: "viewer", context: { cluster: "viewer-hub", user: "nobody" } }],
        "current-context": "viewer",
      }),
    );
    const target = loadKubeconfig(
      { context: "viewer" },
      { KUBECONFIG: `${fixture.plane.kubeconfigPath}:${viewerFile}` },
    );
    assert.equal(target.contextFile, viewerFile);
    const viewer = await clientFor(target);
    try {
      await assert.rejects(
        get(viewer, workTable).catch((error: unknown) => {
          throw explainKubeError(error, target);
        }),
        {
          message: `user "nobody" of context "viewer" (${viewerFile}) (known to the server as "system:serviceaccount:default:nobody") is not allowed this on ${fixture.plane.server} (403 Forbidden): it needs RBAC permission to list manifestworks.work.open-cluster-management.io cluster-wide (a ClusterRole bound by a ClusterRoleBinding) for ServiceAccount default/nobody; or pick another credential with --kubeconfig/--context`,
        },
      );
    } finally {
      viewer.close();
    }
  });
});
