// The commands as an operator types them, each a separate `bosun` process, on real control
// planes: init on the hub, join on a managed cluster (which starts the agent in the
// background), accept, get clusters, then unjoin.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Namespaces, Secrets } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import { startBackground, stopBackground } from "../../cli/background.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { eventually } from "../support/wait.ts";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "..", "..", "cli", "bosun.ts");

async function bosun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("the bosun command line", () => {
  let hub: ControlPlane;
  let spoke: ControlPlane;
  let agentDir: string;
  let hubClient: KubeClient;

  before(async () => {
    const binaries = await ensureKubeBinaries();
    hub = await ControlPlane.start({ name: "cli-hub", binaries });
    spoke = await ControlPlane.start({ name: "cli-spoke", binaries });
    agentDir = await mkdtemp(join(tmpdir(), "bosun-cli-agents-"));
    hubClient = await KubeClient.fromFile(hub.kubeconfigPath);
  });

  after(async () => {
    await stopBackground(agentDir, "agent-spoke1");
    await stopBackground(agentDir, "hub-controllers");
    hubClient?.close();
    await spoke?.stop();
    await hub?.stop();
    await rm(agentDir, { recursive: true, force: true });
  });

  test("init prints a join command with a working token; usage errors exit 2", async () => {
    const init = await bosun("init", "--kubeconfig", hub.kubeconfigPath, "-o", "json");
    assert.equal(init.code, 0, init.stderr);
    const printed = JSON.parse(init.stdout) as {
      hubToken: string;
      hubApiserver: string;
      joinCommand: string;
    };
    assert.equal(printed.hubApiserver, hub.server);
    assert.match(
      printed.joinCommand,
      /^bosun join --hub-token \S+ --hub-apiserver https:\/\/127\.0\.0\.1:\d+ --cluster-name <cluster_name>$/,
    );

    const missing = await bosun("accept", "--kubeconfig", hub.kubeconfigPath);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--clusters/);
    const badName = await bosun(
      "join",
      "--kubeconfig",
      spoke.kubeconfigPath,
      "--hub-token",
      printed.hubToken,
      "--hub-apiserver",
      hub.server,
      "--cluster-name",
      "Not_A_Name",
    );
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /--cluster-name "Not_A_Name" must be a DNS-1123 label/);
  });

  test("join, accept and get clusters take a cluster from nothing to Joined and Available", async () => {
    await startBackground(agentDir, "hub-controllers", [
      "hub",
      "--kubeconfig",
      hub.kubeconfigPath,
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--webhook-bind-address",
      "127.0.0.1:0",
    ]);
    const token = JSON.parse(
      (await bosun("get", "token", "--kubeconfig", hub.kubeconfigPath, "-o", "json")).stdout,
    ) as {
      hubToken: string;
    };
    const join = await bosun(
      "join",
      "--kubeconfig",
      spoke.kubeconfigPath,
      "--hub-token",
      token.hubToken,
      "--hub-apiserver",
      hub.server,
      "--cluster-name",
      "spoke1",
      "--agent-dir",
      agentDir,
    );
    assert.equal(join.code, 0, join.stderr);
    assert.match(join.stdout, /hub CA sha256:[0-9a-f]{64}/);
    assert.match(join.stdout, /bosun accept --clusters spoke1/);

    const accept = await bosun(
      "accept",
      "--kubeconfig",
      hub.kubeconfigPath,
      "--clusters",
      "spoke1",
      "--wait",
      "--timeout",
      "120",
    );
    assert.equal(accept.code, 0, accept.stderr);
    assert.match(accept.stdout, /CSR spoke1-\w+ approved/);
    assert.match(accept.stdout, /set hubAcceptsClient to true for managed cluster spoke1/);

    await eventually(
      async () => {
        const cluster = await hubClient.get<ManagedCluster>({
          apiVersion: "cluster.open-cluster-management.io/v1",
          kind: "ManagedCluster",
          name: "spoke1",
        });
        assert.equal(findCondition(cluster.status?.conditions, "ManagedClusterJoined")?.status, "True");
        assert.equal(
          findCondition(cluster.status?.conditions, "ManagedClusterConditionAvailable")?.status,
          "True",
        );
      },
      { timeoutMs: 90_000, what: "spoke1 joined and available" },
    );
    const table = await bosun("get", "clusters", "--kubeconfig", hub.kubeconfigPath);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+ACCEPTED\s+JOINED\s+AVAILABLE/m);
    assert.match(table.stdout, /^spoke1\s+true\s+True\s+True\s+default\s+v1\.36\.3/m);
    const json = JSON.parse(
      (await bosun("get", "clusters", "--kubeconfig", hub.kubeconfigPath, "-o", "json")).stdout,
    ) as {
      items: ManagedCluster[];
    };
    assert.deepEqual(
      json.items.map((cluster) => cluster.metadata.name),
      ["spoke1"],
    );
    assert.equal(json.items[0]!.metadata.managedFields, undefined);
  });

  test("unjoin stops the agent, deletes what its works applied and removes its credentials; the hub keeps the cluster", async () => {
    const spokeClient = await KubeClient.fromFile(spoke.kubeconfigPath);
    const delivered = { apiVersion: "v1", kind: "ConfigMap", name: "delivered", namespace: "default" };
    await hubClient.create({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: "before-unjoin", namespace: "spoke1" },
      spec: {
        workload: { manifests: [{ ...delivered, metadata: { name: "delivered", namespace: "default" } }] },
      },
    });
    await eventually(async () => assert.ok(await spokeClient.getOrUndefined(delivered)), {
      timeoutMs: 60_000,
      what: "the work applied on spoke1",
    });
    const unjoin = await bosun(
      "unjoin",
      "--kubeconfig",
      spoke.kubeconfigPath,
      "--cluster-name",
      "spoke1",
      "--agent-dir",
      agentDir,
    );
    assert.equal(unjoin.code, 0, unjoin.stderr);
    assert.match(unjoin.stdout, /stopped the agent/);
    assert.match(unjoin.stdout, /removed AppliedManifestWork \w+-before-unjoin: 1 resources deleted/);
    try {
      assert.equal(await spokeClient.getOrUndefined(delivered), undefined);
      assert.deepEqual(
        (await spokeClient.listAll("work.open-cluster-management.io/v1", "AppliedManifestWork")).items,
        [],
      );
      await eventually(async () => {
        assert.equal(
          await spokeClient.getOrUndefined({
            apiVersion: "v1",
            kind: "Secret",
            name: Secrets.hubKubeconfig,
            namespace: Namespaces.agent,
          }),
          undefined,
        );
      });
    } finally {
      spokeClient.close();
    }
    assert.ok(
      await hubClient.getOrUndefined({
        apiVersion: "cluster.open-cluster-management.io/v1",
        kind: "ManagedCluster",
        name: "spoke1",
      }),
    );
  });
});
