// Keeps the cluster's ManagedCluster status on the hub current: joined, available, version,
// resources and claims, written with the agent's own hub identity and only when they change;
// and renews the cluster lease while the hub accepts the cluster.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { ClusterClaims, Resources } from "../../api/constants.ts";
import type { ClusterClaim, ManagedCluster } from "../../api/types/cluster.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller } from "../../runtime/controller.ts";
import { Informer } from "../../runtime/informer.ts";
import { jittered } from "../../runtime/jitter.ts";
import type { KubeApi, KubeClient } from "../../runtime/kube/client.ts";
import type { KubeObject } from "../../runtime/kube/types.ts";
import { patchStatus } from "../../runtime/status.ts";
import {
  AvailabilityTracker,
  desiredClusterStatus,
  isAccepted,
  sumNodeResources,
  syncedClaims,
  type Node,
  type Observation,
} from "./cluster-status.ts";
import { kubernetesVersion, probeApiServer } from "./health.ts";
import { LeaseRenewer } from "./lease.ts";

export const statusFieldManager = "registration-agent";

export interface StatusAgentOptions {
  /** The hub, as the agent's own identity (its client certificate). */
  hubClient: KubeApi;
  managedClient: KubeClient;
  clusterName: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** How often the status is refreshed without any event (stretched by up to 10%). Default 60 s. */
  resyncMs?: number;
  /** See `AgentOptions.hubReconnectWindowMs`. */
  hubReconnectWindowMs?: number;
  maxCustomClusterClaims?: number;
  reservedClusterClaimSuffixes?: readonly string[];
  random?: () => number;
}

export class ClusterStatusAgent {
  readonly #options: StatusAgentOptions;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #resyncMs: number;
  readonly #clusters: Informer<ManagedCluster>;
  readonly #nodes: Informer<Node & KubeObject>;
  readonly #claims: Informer<ClusterClaim>;
  readonly #controller: Controller;
  readonly #availability = new AvailabilityTracker();
  readonly lease: LeaseRenewer;
  #reportedTruncation = "";

  constructor(options: StatusAgentOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#random = options.random ?? Math.random;
    this.#resyncMs = options.resyncMs ?? 60_000;
    this.#clusters = new Informer<ManagedCluster>({
      client: options.hubClient,
      apiVersion: Resources.ManagedCluster.apiVersion,
      kind: Resources.ManagedCluster.kind,
      // The agent may see only its own ManagedCluster.
      fieldSelector: `metadata.name=${options.clusterName}`,
      logger: this.#logger,
      reconnectWindowMs: options.hubReconnectWindowMs,
    });
    this.#nodes = new Informer({
      client: options.managedClient,
      apiVersion: "v1",
      kind: "Node",
      logger: this.#logger,
    });
    this.#claims = new Informer<ClusterClaim>({
      client: options.managedClient,
      apiVersion: Resources.ClusterClaim.apiVersion,
      kind: Resources.ClusterClaim.kind,
      logger: this.#logger,
    });
    this.lease = new LeaseRenewer({
      client: options.hubClient,
      clusterName: options.clusterName,
      clock: options.clock,
      logger: this.#logger,
      random: this.#random,
    });
    this.#controller = new Controller({
      name: "managed-cluster-status",
      registry: options.registry,
      logger: this.#logger,
      clock: options.clock,
      random: this.#random,
      backoff: { baseDelayMs: 500, maxDelayMs: 30_000 },
      reconcile: (key) => this.#reconcile(key),
    });
    const enqueue = () => this.#controller.enqueue(options.clusterName);
    const handlers = { onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue };
    this.#clusters.addHandlers(handlers);
    this.#nodes.addHandlers(handlers);
    this.#claims.addHandlers(handlers);
  }

  start(): void {
    this.#clusters.start();
    this.#nodes.start();
    this.#claims.start();
    this.#controller.start();
    this.#controller.enqueue(this.#options.clusterName);
  }

  async stop(): Promise<void> {
    await this.#controller.stop();
    await this.lease.stop();
    await Promise.all([this.#clusters.stop(), this.#nodes.stop(), this.#claims.stop()]);
  }

  /** Resolves when no reconcile is waiting or running. */
  whenIdle(): Promise<void> {
    return this.#controller.whenIdle();
  }

  async #reconcile(key: string): Promise<{ requeueAfterMs: number }> {
    const resync = { requeueAfterMs: jittered(this.#resyncMs, 0.1, this.#random) };
    if (!this.#clusters.hasSynced || !this.#nodes.hasSynced) return { requeueAfterMs: 1000 };
    const cluster = this.#clusters.get(key);
    if (!cluster) {
      this.lease.update(false, undefined);
      return resync;
    }
    const accepted = isAccepted(cluster.status);
    this.lease.update(accepted, cluster.spec?.leaseDurationSeconds);
    if (!accepted) return resync;

    const { clock, managedClient, hubClient } = this.#options;
    const availability = this.#availability.observe(await probeApiServer(managedClient), clock.now());
    const observation: Observation = { availability };
    if (availability.proceed) {
      observation.kubernetesVersion = await kubernetesVersion(managedClient);
      observation.nodes = sumNodeResources(this.#nodes.list());
      if (observation.nodes.problems.length > 0)
        this.#logger.warn(
          { problems: observation.nodes.problems },
          "skipped node resources that are not quantities",
        );
      if (this.#claims.hasSynced) observation.claims = this.#claimsToReport();
    }
    const desired = desiredClusterStatus(cluster.status, observation, clock.now());
    if (desired) {
      const written = await patchStatus(hubClient, cluster, desired, { fieldManager: statusFieldManager });
      if (written) this.#logger.debug("updated the ManagedCluster status");
    }
    return availability.recheckMs !== undefined ? { requeueAfterMs: availability.recheckMs } : resync;
  }

  #claimsToReport() {
    const result = syncedClaims(this.#claims.list(), {
      maxCustomClaims: this.#options.maxCustomClusterClaims,
      reservedSuffixes: this.#options.reservedClusterClaimSuffixes,
    });
    const truncation = result.truncated.join(",");
    if (truncation && truncation !== this.#reportedTruncation) {
      this.#logger.warn(
        { reason: ClusterClaims.truncatedEvent, truncated: result.truncated },
        "custom cluster claims beyond the limit are not reported",
      );
    }
    this.#reportedTruncation = truncation;
    return result.claims;
  }
}
