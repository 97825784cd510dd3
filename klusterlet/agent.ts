// The agent of a managed cluster: joins the hub (or reuses its stored certificate), then
// reports the cluster's status, renews its lease, applies the cluster's ManifestWorks with its
// own identity and evaluates (and enforces) the ConfigurationPolicies they deliver, rotating
// its certificate before it runs out. Runs until the signal aborts; usable in-process and from
// `bosun agent`.
import type { Logger } from "pino";
import { Registry } from "prom-client";
import type { Clock } from "../runtime/clock.ts";
import { jittered } from "../runtime/jitter.ts";
import type { KubeClient } from "../runtime/kube/client.ts";
import { Informer } from "../runtime/informer.ts";
import type { KubeObject } from "../runtime/kube/types.ts";
import { BosunAgent, Namespaces, SecretKeys, Secrets } from "../api/constants.ts";
import { judgeBootstrapChange } from "./bootstrap/bootstrap-change.ts";
import {
  decodeSecretData,
  rotationDueAtMs,
  rotationThreshold,
  validateExpirationSeconds,
} from "./bootstrap/identity.ts";
import {
  clientConfigsFor,
  ensureManagedCluster,
  joinHub,
  renewClientCertificate,
  type HubConnection,
  type JoinOptions,
  type SecretLocation,
} from "./bootstrap/join.ts";
import { PolicyAgent } from "./policy/controller.ts";
import { ClusterStatusAgent } from "./status/controller.ts";
import { WorkAgent } from "./work/controller.ts";
import { backoffMs } from "../runtime/backoff.ts";
import { delay, delayUntil } from "../runtime/wait.ts";

export type AgentPhase = "joining" | "running" | "stopped";

export interface AgentOptions extends SecretLocation {
  /** The managed cluster, with rights to read nodes and ClusterClaims and to manage the agent's secrets. */
  managedClient: KubeClient;
  clusterName: string;
  /** Default: the stored `agent-name`, else 5 random characters. */
  agentName?: string;
  /** The bootstrap kubeconfig's text; default: the `bootstrap-hub-kubeconfig` secret. */
  bootstrapKubeconfig?: string;
  clock: Clock;
  logger: Logger;
  /** Stops the agent. */
  signal: AbortSignal;
  /** Where the controllers' metrics go; a private registry when absent. */
  registry?: Registry;
  /** Client certificate lifetime to request; 0 leaves it to the signer. Default 31536000, at least 3600. */
  expirationSeconds?: number;
  /** HTTPS URLs of the managed API server for spec.managedClusterClientConfigs. */
  externalServerUrls?: string[];
  /** Base64 CA bundle for those URLs; default the managed client's CA. */
  externalServerCaBundle?: string;
  /** Annotations (prefix `agent.open-cluster-management.io`) for a new ManagedCluster. */
  clusterAnnotations?: Record<string, string>;
  /** Default 20. */
  maxCustomClusterClaims?: number;
  reservedClusterClaimSuffixes?: string[];
  /** Status refresh period without events. Default 60 s. */
  statusResyncMs?: number;
  /**
   * Cut off from the hub's API server past a prompt retry, the agent's watches retry once per
   * this window, each in a slot of its own, so that a fleet reconnects spread out. Default 60 s.
   */
  hubReconnectWindowMs?: number;
  /** Runs the work agent, which applies this cluster's ManifestWorks. Default true. */
  workAgent?: boolean;
  /** Full resync of every ManifestWork without events (stretched by up to 10%). Default 4 min. */
  workResyncMs?: number;
  /** How long an AppliedManifestWork no ManifestWork backs is kept before eviction. Default 60 min. */
  workEvictionGracePeriodMs?: number;
  /** Runs the policy agent, which evaluates the cluster namespace's ConfigurationPolicies. Default true. */
  policyAgent?: boolean;
  /** How often the client configs of the ManagedCluster are checked. Default 60 min. */
  registrationResyncMs?: number;
  random?: () => number;
  /**
   * Shifts every time the agent reads (lease renewals, condition times, certificate checks) by
   * this much, to see how a hub copes with an agent whose clock is off. Default 0.
   */
  clockOffsetMs?: number;
  /** Told when the agent starts joining, runs with its certificate, and stops. */
  onPhase?: (phase: AgentPhase, connection?: HubConnection) => void;
}

/** Checks options up front, naming the bad field. */
export function validateAgentOptions(options: AgentOptions): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.clusterName) || options.clusterName.length > 63)
    throw new RangeError(
      `clusterName: "${options.clusterName}" is not a valid namespace name (DNS-1123 label)`,
    );
  if (options.agentName !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.agentName))
    throw new RangeError(`agentName: "${options.agentName}" must be lowercase alphanumerics, '-' or '.'`);
  if (options.expirationSeconds !== undefined) validateExpirationSeconds(options.expirationSeconds);
  clientConfigsFor(options.externalServerUrls, undefined);
  if (
    options.maxCustomClusterClaims !== undefined &&
    !(Number.isInteger(options.maxCustomClusterClaims) && options.maxCustomClusterClaims >= 0)
  )
    throw new RangeError(
      `maxCustomClusterClaims must be an integer >= 0, got ${options.maxCustomClusterClaims}`,
    );
}

/** Runs the agent until `options.signal` aborts; resolves then. Invalid options reject at once. */
export async function runAgent(given: AgentOptions): Promise<void> {
  validateAgentOptions(given);
  const options = given.clockOffsetMs
    ? { ...given, clock: offsetClock(given.clock, given.clockOffsetMs) }
    : given;
  const { signal, clock } = options;
  const logger = options.logger.child({ component: "registration-agent", cluster: options.clusterName });
  const random = options.random ?? Math.random;
  const registry = options.registry ?? new Registry();
  const joinOptions: JoinOptions = { ...options, logger, random };
  try {
    for (let failures = 0; !signal.aborted;) {
      try {
        options.onPhase?.("joining");
        const connection = await joinHub(joinOptions);
        failures = 0;
        await runWithCertificate(connection, options, { logger, random, registry, joinOptions });
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        logger.error({ err: error }, "the agent failed; starting over");
        await delay(clock, backoffMs(failures, 1000, 60_000, random), signal).catch(() => undefined);
      }
    }
  } finally {
    options.onPhase?.("stopped");
  }
}

/** `clock` with now() shifted by offsetMs; timers still wait the same real time. */
export function offsetClock(clock: Clock, offsetMs: number): Clock {
  return {
    now: () => clock.now() + offsetMs,
    setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs),
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
}

interface SessionDependencies {
  logger: Logger;
  random: () => number;
  registry: Registry;
  joinOptions: JoinOptions;
}

/**
 * Runs the status, work and policy agents with one certificate until that certificate has been rotated or has
 * expired (then the caller joins again), or the agent is stopped.
 */
async function runWithCertificate(
  connection: HubConnection,
  options: AgentOptions,
  dependencies: SessionDependencies,
): Promise<void> {
  const { clock } = options;
  const { logger, random } = dependencies;
  const sessionOver = new AbortController();
  const session = AbortSignal.any([options.signal, sessionOver.signal]);
  const hubReconnectWindowMs = options.hubReconnectWindowMs ?? BosunAgent.hubReconnectWindowSeconds * 1000;
  const status = new ClusterStatusAgent({
    hubClient: connection.client,
    managedClient: options.managedClient,
    clusterName: connection.clusterName,
    clock,
    logger,
    registry: dependencies.registry,
    resyncMs: options.statusResyncMs,
    hubReconnectWindowMs,
    maxCustomClusterClaims: options.maxCustomClusterClaims,
    reservedClusterClaimSuffixes: options.reservedClusterClaimSuffixes,
    random,
  });
  const work =
    options.workAgent === false
      ? undefined
      : new WorkAgent({
          hubClient: connection.client,
          managedClient: options.managedClient,
          clusterName: connection.clusterName,
          agentId: connection.agentName,
          clock,
          logger,
          registry: dependencies.registry,
          resyncMs: options.workResyncMs,
          hubReconnectWindowMs,
          evictionGracePeriodMs: options.workEvictionGracePeriodMs,
          random,
        });
  const policy =
    options.policyAgent === false
      ? undefined
      : new PolicyAgent({
          managedClient: options.managedClient,
          clusterName: connection.clusterName,
          clock,
          logger,
          registry: dependencies.registry,
          random,
        });
  status.start();
  work?.start();
  policy?.start();
  options.onPhase?.("running", connection);
  const registrationLoop = keepRegistration(connection, options, dependencies, session);
  // A bootstrap kubeconfig given as text cannot change; one from the secret can.
  const bootstrapWatch =
    options.bootstrapKubeconfig === undefined
      ? watchBootstrapSecret(connection, options, logger, () =>
          sessionOver.abort(new Error("the bootstrap kubeconfig changed")),
        )
      : undefined;
  try {
    const rotateAt = rotationDueAtMs(connection.certificate, rotationThreshold(random));
    logger.info(
      {
        agent: connection.agentName,
        notAfter: new Date(connection.certificate.notAfterMs).toISOString(),
        rotateAt: new Date(rotateAt).toISOString(),
      },
      "running with the client certificate",
    );
    await delayUntil(clock, rotateAt, session);
    logger.info("the client certificate is due for rotation");
    // The renewal must succeed while the current certificate still works.
    const expired = new AbortController();
    const renewalSignal = AbortSignal.any([session, expired.signal]);
    const expiry = delayUntil(clock, connection.certificate.notAfterMs, renewalSignal).then(
      () => expired.abort(new Error("the client certificate expired before it was renewed")),
      () => undefined,
    );
    try {
      const renewed = await renewClientCertificate(connection, {
        ...dependencies.joinOptions,
        signal: renewalSignal,
      });
      renewed.client.close();
    } catch (error) {
      if (!session.aborted) logger.warn({ err: error }, "the client certificate was not renewed");
    } finally {
      expired.abort(new Error("renewal over"));
      await expiry;
    }
  } catch (error) {
    if (!session.aborted) throw error;
  } finally {
    sessionOver.abort(new Error("certificate session over"));
    await bootstrapWatch?.stop();
    await registrationLoop;
    await policy?.stop();
    await work?.stop();
    await status.stop();
    connection.client.close();
  }
}

/**
 * Watches the bootstrap kubeconfig secret and calls `rejoin` once when its content changes to a
 * usable kubeconfig other than the one the connection was joined with.
 */
function watchBootstrapSecret(
  connection: HubConnection,
  options: AgentOptions,
  logger: Logger,
  rejoin: () => void,
): Informer<KubeObject & { data?: Record<string, string> }> {
  const namespace = options.namespace ?? Namespaces.agent;
  const name = options.bootstrapSecretName ?? Secrets.bootstrapHubKubeconfig;
  const informer = new Informer<KubeObject & { data?: Record<string, string> }>({
    client: options.managedClient,
    apiVersion: "v1",
    kind: "Secret",
    namespace,
    fieldSelector: `metadata.name=${name}`,
    logger,
    random: options.random,
  });
  let done = false;
  let lastReason = "";
  const check = () => {
    if (done) return;
    const secret = informer.get(`${namespace}/${name}`);
    const current = secret ? decodeSecretData(secret.data)[SecretKeys.kubeconfig] || undefined : undefined;
    const change = judgeBootstrapChange(connection.bootstrapKubeconfig, current, connection.endpoint);
    if (!change.rejoin) {
      if (change.reason !== lastReason && change.reason !== "unchanged")
        logger.warn({ secret: `${namespace}/${name}`, reason: change.reason }, "keeping the hub connection");
      lastReason = change.reason;
      return;
    }
    done = true;
    logger.info(
      { secret: `${namespace}/${name}`, sameHub: change.sameHub },
      change.sameHub
        ? "the bootstrap kubeconfig changed; joining again, keeping the client certificate if still valid"
        : "the bootstrap kubeconfig names another hub; joining it",
    );
    rejoin();
  };
  informer.addHandlers({ onAdd: check, onUpdate: check, onDelete: check });
  informer.start();
  return informer;
}

/** Adds missing client-config URLs to the ManagedCluster now and then, with the agent's identity. */
async function keepRegistration(
  connection: HubConnection,
  options: AgentOptions,
  dependencies: SessionDependencies,
  signal: AbortSignal,
): Promise<void> {
  const clientConfigs = clientConfigsFor(
    options.externalServerUrls,
    options.externalServerCaBundle ??
      (options.managedClient.kubeConfig.getCurrentCluster()?.caData || undefined),
  );
  if (clientConfigs.length === 0) return;
  while (!signal.aborted) {
    try {
      await ensureManagedCluster(
        connection.client,
        { clusterName: connection.clusterName, clientConfigs, annotations: {} },
        dependencies.logger,
      );
    } catch (error) {
      dependencies.logger.warn({ err: error }, "checking the ManagedCluster's client configs failed");
    }
    try {
      await delay(
        options.clock,
        jittered(options.registrationResyncMs ?? 3_600_000, 0.1, dependencies.random),
        signal,
      );
    } catch {
      return;
    }
  }
}
