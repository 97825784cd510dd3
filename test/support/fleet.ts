// A fleet on real control planes for end-to-end tests: a hub (CRDs, bootstrap identity,
// registration controllers) and managed clusters whose agents join it with a bootstrap token,
// are accepted, and run until the fleet stops. Everything crosses the network as in production:
// CSRs signed by the hub's kube-controller-manager, mTLS, RBAC, leases.
import assert from "node:assert/strict";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { ManagedClusterConditions, Namespaces, Resources, Secrets } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import { acceptCluster } from "../../cli/commands/accept.ts";
import { bootstrapKubeconfig } from "../../cli/commands/join.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { RegistrationControllers } from "../../controllers/registration/controller.ts";
import { runAgent } from "../../klusterlet/agent.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { systemClock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { eventually } from "./wait.ts";

export interface ManagedMember {
  plane: ControlPlane;
  /** Admin client of the managed cluster. */
  client: KubeClient;
}

export interface Fleet {
  hubPlane: ControlPlane;
  /** Admin client of the hub. */
  hub: KubeClient;
  clusters: Record<string, ManagedMember>;
  /** Stops the agents and the registration controllers, then every control plane. */
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** Prefix of the control planes' names. */
  name: string;
  clusters: readonly string[];
  logger: Logger;
}

/** Starts the hub and the clusters, joins and accepts every cluster, and waits until all are Available. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const binaries = await ensureKubeBinaries();
  const planes: ControlPlane[] = [];
  const clients: KubeClient[] = [];
  const agents: { stop: AbortController; done: Promise<void> }[] = [];
  let registration: RegistrationControllers | undefined;
  const stop = async () => {
    for (const agent of agents) agent.stop.abort();
    await Promise.allSettled(agents.map((agent) => agent.done));
    await registration?.stop();
    for (const client of clients) client.close();
    for (const plane of planes) await plane.stop();
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
    registration = new RegistrationControllers({
      client: hub,
      clock: systemClock(),
      logger: options.logger,
      registry: new Registry(),
    });
    await registration.start();

    const clusters: Record<string, ManagedMember> = {};
    for (const name of options.clusters) {
      const plane = await ControlPlane.start({ name: `${options.name}-${name}`, binaries });
      planes.push(plane);
      const client = await KubeClient.fromFile(plane.kubeconfigPath);
      clients.push(client);
      clusters[name] = { plane, client };
      await installCrds(client, "managed");
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.agent } });
      await client.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: Secrets.bootstrapHubKubeconfig, namespace: Namespaces.agent },
        stringData: { kubeconfig: bootstrapKubeconfig(endpoint.server, endpoint.caPem, token) },
      });
      const abort = new AbortController();
      agents.push({
        stop: abort,
        done: runAgent({
          managedClient: client,
          clusterName: name,
          clock: systemClock(),
          logger: options.logger,
          signal: abort.signal,
          expirationSeconds: 3600,
          statusResyncMs: 1000,
        }),
      });
    }
    for (const name of options.clusters) await acceptCluster(hub, name, { waitMs: 60_000 });
    for (const name of options.clusters) {
      await eventually(
        async () => {
          const cluster = await hub.get<ManagedCluster>({
            apiVersion: Resources.ManagedCluster.apiVersion,
            kind: "ManagedCluster",
            name,
          });
          for (const type of [ManagedClusterConditions.joined, ManagedClusterConditions.available]) {
            assert.equal(findCondition(cluster.status?.conditions, type)?.status, "True", type);
          }
        },
        { timeoutMs: 60_000, what: `${name} joined and available` },
      );
    }
    return { hubPlane, hub, clusters, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
