// The hub process: every hub controller (registration, placement, ManifestWorkReplicaSet,
// policy propagation) behind one leader election, with metrics and
// health endpoints. Only the leader reconciles; the others wait, ready to take over.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { Namespaces, Work } from "../api/constants.ts";
import { applyServerSide } from "../runtime/apply.ts";
import type { Clock } from "../runtime/clock.ts";
import type { KubeApi } from "../runtime/kube/client.ts";
import { InformerFactory } from "../runtime/informer-factory.ts";
import { LeaderElector, leaderReadiness } from "../runtime/leader.ts";
import { MetricsServer, type BoundAddress } from "../runtime/server.ts";
import { PlacementController } from "./placement/controller.ts";
import { PolicyPropagator } from "./propagation/propagator.ts";
import { PolicySetController } from "./propagation/policyset-controller.ts";
import { ReplicaController } from "./propagation/replica-controller.ts";
import { RegistrationControllers } from "./registration/controller.ts";
import { ReplicaSetController } from "./replicasets/controller.ts";
import { WorkGarbageCollector } from "./work/garbage-collector.ts";
import { startWorkWebhook } from "./work/webhook.ts";

export const hubLeaseName = "bosun-hub";

export interface HubWebhookOptions {
  /** Where the ManifestWork admission webhook listens (every hub process serves it). */
  host: string;
  port: number;
  /** The URL the API server calls; default https://host:port. */
  url?: string;
  /** The limit on a ManifestWork's summed manifest size, in bytes; default 512000. */
  manifestLimitBytes?: number;
}

export interface HubOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  metrics: { host: string; port: number };
  autoApprovedUsers?: string[];
  /** Unique per process; defaults to the host name plus a random suffix. */
  identity?: string;
  leaseDurationMs?: number;
  /** How long a new leader waits for its caches before giving up; default 60 s. */
  cacheSyncTimeoutMs?: number;
  /** Serve and register the ManifestWork admission webhook; off when absent. */
  webhook?: HubWebhookOptions;
  /**
   * The most manifest bytes one ManifestWork of a ManifestWorkReplicaSet carries; bigger
   * templates are split into parts under it. Default 512000, OCM's webhook limit.
   */
  manifestLimitBytes?: number;
}

export interface RunningHub {
  metricsAddress: BoundAddress;
  /** Where the API server sends ManifestWork admission reviews, when the webhook runs. */
  webhookUrl?: string;
  isLeader(): boolean;
  /**
   * Settles with the error that makes this hub unable to serve, such as caches that did not
   * sync (a CRD not installed, a permission missing); never settles while all is well.
   */
  failed: Promise<Error>;
  /** The informers of the current term (undefined while following); for tests and diagnostics. */
  informers(): InformerFactory | undefined;
  /** Stops reconciling, hands the lease over, and closes the endpoints. */
  stop(): Promise<void>;
}

/** The controllers the leader runs; each start() returns once its caches are synced. */
interface HubController {
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export async function runHub(options: HubOptions): Promise<RunningHub> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const logger = options.logger.child({ component: "hub" });
  const server = new MetricsServer({ registry, logger, clock: options.clock });

  await applyServerSide(
    options.client,
    { apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.hub } },
    { fieldManager: "bosun-hub", force: true },
  );

  let running: HubController[] = [];
  let informers: InformerFactory | undefined;
  let synced = false;
  const failure = Promise.withResolvers<Error>();
  let syncFailure: string | undefined;
  const elector = new LeaderElector({
    client: options.client,
    namespace: Namespaces.hub,
    name: hubLeaseName,
    identity: options.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`,
    leaseDurationMs: options.leaseDurationMs,
    clock: options.clock,
    logger,
    onStartedLeading: async (signal) => {
      logger.info("leading: starting the hub controllers");
      // One cache per term, shared by every controller: each kind is listed and watched once.
      informers = new InformerFactory({ client: options.client, logger });
      const shared = { client: options.client, clock: options.clock, logger, registry, informers };
      const cacheSyncTimeoutMs = options.cacheSyncTimeoutMs;
      running = [
        new RegistrationControllers({
          ...shared,
          autoApprovedUsers: options.autoApprovedUsers,
          cacheSyncTimeoutMs,
        }),
        new PlacementController({ ...shared, cacheSyncTimeoutMs }),
        new ReplicaSetController({
          ...shared,
          cacheSyncTimeoutMs,
          ...(options.manifestLimitBytes !== undefined
            ? { manifestLimitBytes: options.manifestLimitBytes }
            : {}),
        }),
        new WorkGarbageCollector({ ...shared, cacheSyncTimeoutMs }),
        new PolicyPropagator({ ...shared, cacheSyncTimeoutMs }),
        new PolicySetController({ ...shared, cacheSyncTimeoutMs }),
        new ReplicaController({
          ...shared,
          cacheSyncTimeoutMs,
          ...(options.manifestLimitBytes !== undefined
            ? { manifestLimitBytes: options.manifestLimitBytes }
            : {}),
        }),
      ];
      try {
        for (const controller of running) await controller.start(signal);
      } catch (error) {
        if (signal.aborted) return;
        const reason = error instanceof Error ? error : new Error(String(error));
        syncFailure = reason.message;
        logger.error({ err: reason }, "the hub controllers could not start");
        failure.resolve(reason);
        return;
      }
      synced = true;
    },
    onStoppedLeading: async () => {
      logger.info("no longer leading: stopping the hub controllers");
      synced = false;
      await Promise.all(running.map((controller) => controller.stop()));
      await informers?.stop();
      informers = undefined;
      running = [];
    },
  });
  server.addReadinessCheck("leader", leaderReadiness(elector));
  // A follower is ready (it has seen a leader); a leader once its caches are synced.
  server.addReadinessCheck("controllers", () => !elector.isLeader || synced);
  server.addReadinessCheck("caches", () => syncFailure === undefined);
  const webhook = options.webhook
    ? await startWorkWebhook({
        client: options.client,
        logger,
        manifestLimitBytes: options.webhook.manifestLimitBytes ?? Work.manifestSizeLimit,
        host: options.webhook.host,
        port: options.webhook.port,
        url: options.webhook.url,
        nowMs: options.clock.now(),
      })
    : undefined;
  const metricsAddress = await server.listen(options.metrics);
  const campaign = new AbortController();
  const electing = elector.run(campaign.signal);

  return {
    metricsAddress,
    ...(webhook ? { webhookUrl: webhook.url } : {}),
    isLeader: () => elector.isLeader,
    failed: failure.promise,
    informers: () => informers,
    async stop() {
      await elector.release();
      campaign.abort();
      await electing;
      await server.close();
      await webhook?.server.close();
    },
  };
}
