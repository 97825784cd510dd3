// A hub and managed clusters on real control planes, with `bosun hub` and one `bosun agent` per
// cluster as separate processes that a fault test can kill, stop and start again. The agents
// join with a bootstrap token, are accepted, and the fleet is returned once every cluster is
// Joined and Available.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManagedClusterConditions, Namespaces, Resources, Secrets, Taints } from "../../../api/constants.ts";
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import { acceptCluster } from "../../../cli/commands/accept.ts";
import { bootstrapKubeconfig } from "../../../cli/commands/join.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../../controllers/registration/bootstrap.ts";
import { ensureKubeBinaries } from "../../../local/binaries.ts";
import { ControlPlane } from "../../../local/controlplane.ts";
import { findCondition } from "../../../runtime/conditions.ts";
import { installCrds } from "../../../runtime/crds.ts";
import { KubeClient } from "../../../runtime/kube/client.ts";
import { eventually } from "../../support/wait.ts";
import { agentProcess, hubProcess, type BosunProcess } from "./processes.ts";

export interface ProcessMember {
  plane: ControlPlane;
  client: KubeClient;
  agent: BosunProcess;
  /** A fresh agent process for this cluster (the previous one stopped or killed), started. */
  restartAgent(extra?: string[]): Promise<BosunProcess>;
}

export interface ProcessFleet {
  dir: string;
  hubPlane: ControlPlane;
  hub: KubeClient;
  hubController: BosunProcess;
  clusters: Record<string, ProcessMember>;
  /** The hub's bootstrap endpoint (server and CA) for writing bootstrap kubeconfigs. */
  endpoint: { server: string; caPem: string };
  stop(): Promise<void>;
  /** The tails of every process log, for a failure report. */
  logs(): Promise<string>;
}

export interface ProcessFleetOptions {
  name: string;
  clusters: readonly string[];
  /** Extra `bosun hub` flags. */
  hubArgs?: string[];
  /** Extra `bosun agent` flags, per cluster. */
  agentArgs?: (cluster: string) => string[];
}

export const clusterRef = (name: string) => ({
  apiVersion: Resources.ManagedCluster.apiVersion,
  kind: "ManagedCluster",
  name,
});

/** Joined, Available and without the unreachable/unavailable taints. */
export async function assertAvailable(hub: KubeClient, name: string): Promise<void> {
  const cluster = await hub.get<ManagedCluster>(clusterRef(name));
  for (const type of [ManagedClusterConditions.joined, ManagedClusterConditions.available]) {
    assert.equal(findCondition(cluster.status?.conditions, type)?.status, "True", `${name}: ${type}`);
  }
  const taints = (cluster.spec?.taints ?? []).map((taint) => taint.key);
  assert.ok(
    !taints.includes(Taints.unreachable) && !taints.includes(Taints.unavailable),
    `${name}: taints ${taints.join(", ")}`,
  );
}

export async function startProcessFleet(options: ProcessFleetOptions): Promise<ProcessFleet> {
  // Every child process registers an exit hook that kills it with this test process.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 64));
  const binaries = await ensureKubeBinaries();
  const dir = await mkdtemp(join(tmpdir(), `bosun-${options.name}-`));
  const planes: ControlPlane[] = [];
  const clients: KubeClient[] = [];
  const processes: BosunProcess[] = [];
  const stop = async () => {
    for (const child of processes) await child.stop();
    for (const client of clients) client.close();
    for (const plane of planes) await plane.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const logs = async () => {
    const parts = await Promise.all(
      processes.map(async (child) => `--- ${child.logFile} ---\n${await child.logTail(30)}`),
    );
    return parts.join("\n");
  };
  try {
    const hubPlane = await ControlPlane.start({ name: `${options.name}-hub`, binaries });
    planes.push(hubPlane);
    const hub = await KubeClient.fromFile(hubPlane.kubeconfigPath);
    clients.push(hub);
    await installCrds(hub, "hub");
    const endpoint = hubEndpointOf(hub);
    await ensureBootstrapIdentity(hub, endpoint);
    const token = await mintBootstrapToken(hub);
    const hubController = hubProcess(dir, "hub", hubPlane.kubeconfigPath, options.hubArgs);
    processes.push(hubController);
    await hubController.start();

    const clusters: Record<string, ProcessMember> = {};
    for (const name of options.clusters) {
      const plane = await ControlPlane.start({ name: `${options.name}-${name}`, binaries });
      planes.push(plane);
      const client = await KubeClient.fromFile(plane.kubeconfigPath);
      clients.push(client);
      await installCrds(client, "managed");
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.agent } });
      await client.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: Secrets.bootstrapHubKubeconfig, namespace: Namespaces.agent },
        stringData: { kubeconfig: bootstrapKubeconfig(endpoint.server, endpoint.caPem, token) },
      });
      let generation = 0;
      const newAgent = (extra: string[]) =>
        agentProcess(dir, `agent-${name}-${generation++}`, name, plane.kubeconfigPath, [
          ...(options.agentArgs?.(name) ?? []),
          ...extra,
        ]);
      const member: ProcessMember = {
        plane,
        client,
        agent: newAgent([]),
        async restartAgent(extra = []) {
          await member.agent.stop();
          member.agent = newAgent(extra);
          processes.push(member.agent);
          await member.agent.start();
          return member.agent;
        },
      };
      processes.push(member.agent);
      await member.agent.start();
      clusters[name] = member;
    }
    for (const name of options.clusters) await acceptCluster(hub, name, { waitMs: 90_000 });
    for (const name of options.clusters) {
      await eventually(() => assertAvailable(hub, name), {
        timeoutMs: 90_000,
        what: `${name} joined and available`,
      });
    }
    return { dir, hubPlane, hub, hubController, clusters, endpoint, stop, logs };
  } catch (error) {
    const tail = await logs();
    await stop();
    throw new Error(`the fleet did not start:\n${tail}`, { cause: error });
  }
}
