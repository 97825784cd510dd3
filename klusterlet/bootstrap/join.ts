// The join: with the bootstrap kubeconfig (a token), create the ManagedCluster and ask the
// hub for a client certificate through a CSR; store the issued certificate as the hub secret
// on the managed cluster; from then on talk to the hub with that certificate only, and renew
// it with itself before it runs out.
import type { Logger } from "pino";
import { csrPhase, type CsrPhase } from "../../api/csr.ts";
import {
  Csr,
  ManagedClusterConditions,
  ManagedClusterReasons,
  Namespaces,
  Resources,
  SecretKeys,
  Secrets,
} from "../../api/constants.ts";
import type { ClientConfig, ManagedCluster } from "../../api/types/cluster.ts";
import type { Clock } from "../../runtime/clock.ts";
import { setCondition } from "../../runtime/conditions.ts";
import { isKubeApiError } from "../../runtime/errors.ts";
import { Informer } from "../../runtime/informer.ts";
import { KubeClient, type KubeApi } from "../../runtime/kube/client.ts";
import type { KubeObject } from "../../runtime/kube/types.ts";
import { patchStatus } from "../../runtime/status.ts";
import { backoffMs } from "../../runtime/backoff.ts";
import { ChangeNotifier, delay } from "../../runtime/wait.ts";
import {
  certificateMatchesKey,
  createKeyAndRequest,
  readCertificate,
  type CertificateInfo,
  type Subject,
} from "./certificate.ts";
import {
  agentAnnotations,
  agentSubject,
  certificateRotatedMessage,
  certificateSigningRequest,
  clusterCsrSelector,
  csrApiVersion,
  csrKind,
  decodeSecretData,
  encodeSecretData,
  evaluateStoredCredentials,
  isClusterCsr,
  mergeClientConfigs,
  randomAgentName,
  shouldHaltCsrCreation,
  type CertificateSigningRequest,
  type SecretData,
} from "./identity.ts";
import { hubEndpoint, hubKubeconfig, type HubEndpoint } from "./kubeconfig.ts";

/** Where the agent keeps its secrets on the managed cluster. */
export interface SecretLocation {
  /** Default `open-cluster-management-agent`. */
  namespace?: string;
  /** Default `bootstrap-hub-kubeconfig`. */
  bootstrapSecretName?: string;
  /** Default `hub-kubeconfig-secret`. */
  hubSecretName?: string;
}

export interface JoinOptions extends SecretLocation {
  managedClient: KubeClient;
  clusterName: string;
  /** Default: the stored `agent-name`, else 5 random characters. */
  agentName?: string;
  /** The bootstrap kubeconfig's text; default: read from the bootstrap secret. */
  bootstrapKubeconfig?: string;
  clock: Clock;
  logger: Logger;
  /** Requested client certificate lifetime; 0 leaves it to the signer. Default one year, at least 3600. */
  expirationSeconds?: number;
  /** HTTPS URLs at which the hub can reach the managed cluster (spec.managedClusterClientConfigs). */
  externalServerUrls?: string[];
  /** Base64 CA bundle sent with the URLs; default the managed client's CA. */
  externalServerCaBundle?: string;
  /** Annotations for a new ManagedCluster; only `agent.open-cluster-management.io` ones are kept. */
  clusterAnnotations?: Record<string, string>;
  /** How long to wait before counting pending CSRs again after the storm guard halted. Default 60 s. */
  haltRetryMs?: number;
  /** First retry delay after a failure (doubling up to a minute). Default 1 s. */
  retryBaseMs?: number;
  random?: () => number;
  signal: AbortSignal;
}

/** The hub as the agent's own identity. */
export interface HubConnection {
  /** A client for the hub authenticated with the agent's client certificate only. */
  client: KubeClient;
  clusterName: string;
  agentName: string;
  certificate: CertificateInfo;
  endpoint: HubEndpoint;
  /** The bootstrap kubeconfig the join read, if any: a different one in the secret later means rejoin. */
  bootstrapKubeconfig?: string;
}

const maxRetryMs = 60_000;

function secretNames(location: SecretLocation) {
  return {
    namespace: location.namespace ?? Namespaces.agent,
    bootstrap: location.bootstrapSecretName ?? Secrets.bootstrapHubKubeconfig,
    hub: location.hubSecretName ?? Secrets.hubKubeconfig,
  };
}

interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

async function readSecret(
  client: KubeApi,
  namespace: string,
  name: string,
): Promise<SecretObject | undefined> {
  return client.getOrUndefined<SecretObject>({ apiVersion: "v1", kind: "Secret", namespace, name });
}

/** The decoded hub secret, or undefined when there is none. */
export async function readHubSecret(
  managedClient: KubeApi,
  location: SecretLocation = {},
): Promise<SecretData | undefined> {
  const names = secretNames(location);
  const secret = await readSecret(managedClient, names.namespace, names.hub);
  return secret ? decodeSecretData(secret.data) : undefined;
}

/** The bootstrap kubeconfig from the bootstrap secret, or undefined when there is none. */
export async function readBootstrapKubeconfig(
  managedClient: KubeApi,
  location: SecretLocation = {},
): Promise<string | undefined> {
  const names = secretNames(location);
  const secret = await readSecret(managedClient, names.namespace, names.bootstrap);
  return decodeSecretData(secret?.data)[SecretKeys.kubeconfig] || undefined;
}

/** The agent name: the one given, else the stored one, else a new random one. */
export async function resolveAgentName(
  managedClient: KubeApi,
  options: SecretLocation & { agentName?: string; random?: () => number },
): Promise<string> {
  if (options.agentName) return options.agentName;
  const stored = (await readHubSecret(managedClient, options))?.[SecretKeys.agentName];
  return stored || randomAgentName(options.random);
}

export interface ConnectOptions extends SecretLocation {
  managedClient: KubeApi;
  clusterName: string;
  agentName: string;
  clock: Clock;
  /** The hub the bootstrap kubeconfig names; stored credentials for another hub are not used. */
  expectedEndpoint?: HubEndpoint;
  logger?: Logger;
}

/**
 * A client for the hub over mTLS with the stored client certificate, or undefined when the
 * hub secret holds no valid certificate for this cluster and agent.
 */
export async function connectToHub(options: ConnectOptions): Promise<HubConnection | undefined> {
  const data = await readHubSecret(options.managedClient, options);
  if (!data) return undefined;
  const stored = evaluateStoredCredentials(
    data,
    { clusterName: options.clusterName, agentName: options.agentName, endpoint: options.expectedEndpoint },
    options.clock.now(),
  );
  if (!stored.valid) {
    options.logger?.info({ reason: stored.reason }, "the stored hub credentials cannot be used");
    return undefined;
  }
  // Built from the stored certificate and key rather than the stored kubeconfig, which may
  // point at files (as OCM's agent writes it) that this process does not have.
  const client = await KubeClient.fromString(hubKubeconfig(stored.endpoint, stored.certPem, stored.keyPem), {
    userAgent: `bosun-agent/${options.clusterName}`,
  });
  return {
    client,
    clusterName: options.clusterName,
    agentName: options.agentName,
    certificate: stored.certificate,
    endpoint: stored.endpoint,
  };
}

export interface ManagedClusterRegistration {
  clusterName: string;
  clientConfigs: ClientConfig[];
  annotations: Record<string, string>;
  /** Written into a ManagedCluster this creates (unset: the hub's default, 60 s); the hub owns it after. */
  leaseDurationSeconds?: number;
}

/**
 * Creates the ManagedCluster (not accepted) when it is missing, and adds client-config URLs it
 * lacks. Unauthorized and Forbidden answers are ignored: a bootstrap token may have expired,
 * and only an accepted cluster may update its ManagedCluster.
 */
export async function ensureManagedCluster(
  client: KubeApi,
  registration: ManagedClusterRegistration,
  logger: Logger,
): Promise<void> {
  const ref = {
    apiVersion: Resources.ManagedCluster.apiVersion,
    kind: Resources.ManagedCluster.kind,
    name: registration.clusterName,
  };
  try {
    const existing = await client.getOrUndefined<ManagedCluster>(ref);
    if (!existing) {
      const annotations = agentAnnotations(registration.annotations);
      await client.create<ManagedCluster>({
        apiVersion: Resources.ManagedCluster.apiVersion as ManagedCluster["apiVersion"],
        kind: Resources.ManagedCluster.kind,
        metadata: {
          name: registration.clusterName,
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
        // No URLs, no field: OCM's agent leaves an empty list out as well.
        spec: {
          ...(registration.clientConfigs.length > 0
            ? { managedClusterClientConfigs: registration.clientConfigs }
            : {}),
          ...(registration.leaseDurationSeconds
            ? { leaseDurationSeconds: registration.leaseDurationSeconds }
            : {}),
          hubAcceptsClient: false,
        },
      });
      logger.info("created the ManagedCluster on the hub");
      return;
    }
    const merged = mergeClientConfigs(existing.spec?.managedClusterClientConfigs, registration.clientConfigs);
    if (!merged.changed) return;
    await client.replace<ManagedCluster>({
      ...existing,
      spec: { ...existing.spec, managedClusterClientConfigs: merged.configs },
    });
    logger.info("added client configs to the ManagedCluster");
  } catch (error) {
    if (isKubeApiError(error, 401) || isKubeApiError(error, 403)) {
      logger.info(
        { status: (error as { status: number }).status },
        "may not create or update the ManagedCluster",
      );
      return;
    }
    if (isKubeApiError(error) && error.alreadyExists) return;
    throw error;
  }
}

export interface IssuedCertificate {
  csrName: string;
  certPem: string;
  keyPem: string;
  certificate: CertificateInfo;
}

export interface CertificateRequestOptions {
  clusterName: string;
  agentName: string;
  expirationSeconds: number;
  clock: Clock;
  logger: Logger;
  haltRetryMs?: number;
  retryBaseMs?: number;
  random?: () => number;
  signal: AbortSignal;
}

/** Why an issued certificate cannot be used, or undefined when it can. */
function issuedCertificateProblem(certPem: string, keyPem: string, subject: Subject): string | undefined {
  let info: CertificateInfo;
  try {
    info = readCertificate(certPem);
  } catch (error) {
    return (error as Error).message;
  }
  if (!certificateMatchesKey(certPem, keyPem)) return "the certificate's public key is not the request's key";
  if (info.commonName !== subject.commonName) return `the certificate is issued to ${info.commonName}`;
  if (!subject.organizations.every((organization) => info.organizations.includes(organization)))
    return "the certificate lacks the cluster's organizations";
  return undefined;
}

/**
 * Asks the hub for a client certificate until one is issued: creates a CSR with a fresh key
 * (unless the hub already holds the threshold of pending CSRs for the cluster), waits for
 * approval and the certificate, and checks that the certificate belongs to the key and
 * subject. Made with `client`'s identity: the bootstrap token at join, the current
 * certificate at renewal (so that the hub can approve the renewal by itself).
 */
export async function requestClientCertificate(
  client: KubeApi,
  options: CertificateRequestOptions,
): Promise<IssuedCertificate> {
  const { clusterName, clock, signal } = options;
  const random = options.random ?? Math.random;
  const logger = options.logger;
  const subject = agentSubject(clusterName, options.agentName);
  const changes = new ChangeNotifier();
  const informer = new Informer<CertificateSigningRequest>({
    client,
    apiVersion: csrApiVersion,
    kind: csrKind,
    labelSelector: clusterCsrSelector(clusterName),
    logger,
    random,
  });
  const notify = () => changes.notify();
  informer.addHandlers({ onAdd: notify, onUpdate: notify, onDelete: notify });
  informer.start();
  try {
    await informer.waitForSync(signal);
    for (let failures = 0; ;) {
      signal.throwIfAborted();
      try {
        if (shouldHaltCsrCreation(informer.list(), clusterName)) {
          logger.warn(
            { reason: Csr.creationHaltedEvent, threshold: Csr.clusterCsrThreshold },
            "stop creating CSRs since there are too many pending on the hub",
          );
          await changes.wait(clock, signal, options.haltRetryMs ?? 60_000);
          continue;
        }
        const { keyPem, csrPem } = await createKeyAndRequest(subject);
        const created = await client.create(
          certificateSigningRequest(clusterName, csrPem, options.expirationSeconds),
        );
        const csrName = created.metadata.name ?? "";
        logger.info({ csr: csrName }, "created a certificate signing request; waiting for approval");
        const outcome = await waitForCsrOutcome(informer, changes, csrName, clusterName, clock, signal);
        if (outcome.phase === "issued") {
          const certPem = Buffer.from(outcome.certificate, "base64").toString("utf8");
          const problem = issuedCertificateProblem(certPem, keyPem, subject);
          if (!problem) {
            const certificate = readCertificate(certPem);
            logger.info(
              { csr: csrName, notAfter: new Date(certificate.notAfterMs).toISOString() },
              "the client certificate was issued",
            );
            return { csrName, certPem, keyPem, certificate };
          }
          logger.error({ csr: csrName, problem }, "the issued certificate cannot be used");
        } else {
          logger.warn(
            { csr: csrName, phase: outcome.phase },
            "the certificate signing request was not approved",
          );
        }
      } catch (error) {
        if (signal.aborted) throw error;
        logger.warn({ err: error }, "requesting a client certificate failed");
      }
      failures++;
      await delay(clock, backoffMs(failures, options.retryBaseMs ?? 1000, maxRetryMs, random), signal);
    }
  } finally {
    await informer.stop();
  }
}

type CsrOutcome =
  | { phase: "issued"; certificate: string }
  | { phase: Exclude<CsrPhase, "issued" | "pending" | "approved"> | "deleted" };

async function waitForCsrOutcome(
  informer: Informer<CertificateSigningRequest>,
  changes: ChangeNotifier,
  csrName: string,
  clusterName: string,
  clock: Clock,
  signal: AbortSignal,
): Promise<CsrOutcome> {
  let seen = false;
  for (;;) {
    const csr = informer.get(csrName);
    if (csr && isClusterCsr(csr, clusterName)) {
      seen = true;
      const phase = csrPhase(csr);
      if (phase === "issued") return { phase, certificate: csr.status?.certificate ?? "" };
      if (phase === "denied" || phase === "failed") return { phase };
    } else if (seen) {
      return { phase: "deleted" };
    }
    await changes.wait(clock, signal);
  }
}

/** Writes the hub secret (creating the agent namespace when missing). */
export async function writeHubSecret(
  managedClient: KubeApi,
  location: SecretLocation,
  values: Record<string, string>,
): Promise<void> {
  const names = secretNames(location);
  const namespaceRef = { apiVersion: "v1", kind: "Namespace", name: names.namespace };
  if (!(await managedClient.getOrUndefined(namespaceRef))) {
    try {
      await managedClient.create({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: names.namespace },
      });
    } catch (error) {
      if (!(isKubeApiError(error) && error.alreadyExists)) throw error;
    }
  }
  const data = encodeSecretData(values);
  const existing = await readSecret(managedClient, names.namespace, names.hub);
  if (existing) {
    await managedClient.replace<SecretObject>({ ...existing, data: { ...existing.data, ...data } });
  } else {
    await managedClient.create<SecretObject>({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: names.hub, namespace: names.namespace },
      type: "Opaque",
      data,
    });
  }
}

async function storeCertificate(
  options: Pick<JoinOptions, "managedClient" | "clusterName" | keyof SecretLocation>,
  agentName: string,
  endpoint: HubEndpoint,
  issued: IssuedCertificate,
): Promise<void> {
  await writeHubSecret(options.managedClient, options, {
    [SecretKeys.tlsCert]: issued.certPem,
    [SecretKeys.tlsKey]: issued.keyPem,
    [SecretKeys.kubeconfig]: hubKubeconfig(endpoint, issued.certPem, issued.keyPem),
    [SecretKeys.clusterName]: options.clusterName,
    [SecretKeys.agentName]: agentName,
  });
}

/**
 * Records `ClusterCertificateRotated` on the ManagedCluster with the new identity, after a
 * renewal. (The certificate of the join is not recorded: OCM's agent records rotations only.)
 * Best effort: the agent may not write its status while the cluster is not accepted.
 */
export async function recordCertificateRotation(
  connection: HubConnection,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  const ref = {
    apiVersion: Resources.ManagedCluster.apiVersion,
    kind: Resources.ManagedCluster.kind,
    name: connection.clusterName,
  };
  const { notBeforeMs, notAfterMs } = connection.certificate;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const cluster = await connection.client.get<ManagedCluster>(ref);
      const conditions = setCondition(
        cluster.status?.conditions,
        {
          type: ManagedClusterConditions.clusterCertificateRotated,
          status: "True",
          reason: ManagedClusterReasons.clientCertificateUpdated,
          message: certificateRotatedMessage(notBeforeMs, notAfterMs),
        },
        clock.now(),
      );
      await patchStatus(connection.client, cluster, { ...cluster.status, conditions });
      return;
    } catch (error) {
      if (isKubeApiError(error) && error.conflict) continue;
      logger.debug({ err: error }, "could not record the certificate rotation on the ManagedCluster");
      return;
    }
  }
}

/** Validates the https URLs for spec.managedClusterClientConfigs, naming the bad one. */
export function clientConfigsFor(
  urls: readonly string[] | undefined,
  caBundle: string | undefined,
): ClientConfig[] {
  return (urls ?? []).map((url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new RangeError(`externalServerUrls: "${url}" is not a URL`);
    }
    if (parsed.protocol !== "https:")
      throw new RangeError(`externalServerUrls: "${url}" must be an https URL`);
    return caBundle ? { url, caBundle } : { url };
  });
}

function bootstrapEndpointOf(text: string, options: JoinOptions): HubEndpoint {
  try {
    return hubEndpoint(text);
  } catch (error) {
    const names = secretNames(options);
    const source = options.bootstrapKubeconfig
      ? "the bootstrap kubeconfig"
      : `the bootstrap kubeconfig (secret ${names.namespace}/${names.bootstrap}, key ${SecretKeys.kubeconfig})`;
    throw new Error(`${source}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Joins the hub and returns the agent's own connection to it. A valid stored certificate is
 * reused; otherwise the bootstrap kubeconfig is used to register the cluster and obtain a
 * certificate, which is stored in the hub secret. Retries every failure until `signal` aborts.
 */
export async function joinHub(options: JoinOptions): Promise<HubConnection> {
  const { managedClient, clusterName, clock, signal } = options;
  const random = options.random ?? Math.random;
  const logger = options.logger;
  const expirationSeconds = options.expirationSeconds ?? Csr.defaultExpirationSeconds;
  const clientConfigs = clientConfigsFor(
    options.externalServerUrls,
    options.externalServerCaBundle ?? (managedClient.kubeConfig.getCurrentCluster()?.caData || undefined),
  );
  let agentName: string | undefined;
  let waitingForBootstrap = false;
  for (let failures = 0; ;) {
    signal.throwIfAborted();
    try {
      agentName ??= await resolveAgentName(managedClient, { ...options, random });
      const bootstrapText =
        options.bootstrapKubeconfig ?? (await readBootstrapKubeconfig(managedClient, options));
      const bootstrapEndpoint = bootstrapText ? bootstrapEndpointOf(bootstrapText, options) : undefined;
      const stored = await connectToHub({
        ...options,
        agentName,
        expectedEndpoint: bootstrapEndpoint,
        logger,
      });
      if (stored) {
        logger.info({ agent: agentName }, "using the stored client certificate");
        return { ...stored, bootstrapKubeconfig: bootstrapText };
      }
      if (!bootstrapText || !bootstrapEndpoint) {
        if (!waitingForBootstrap) logger.info("waiting for the bootstrap kubeconfig secret");
        waitingForBootstrap = true;
        failures++;
        await delay(clock, backoffMs(failures, options.retryBaseMs ?? 1000, maxRetryMs, random), signal);
        continue;
      }
      const bootstrapClient = await KubeClient.fromString(bootstrapText, {
        userAgent: `bosun-agent/${clusterName}`,
      });
      try {
        await ensureManagedCluster(
          bootstrapClient,
          { clusterName, clientConfigs, annotations: options.clusterAnnotations ?? {} },
          logger,
        );
        const issued = await requestClientCertificate(bootstrapClient, {
          ...options,
          agentName,
          expirationSeconds,
          random,
        });
        await storeCertificate(options, agentName, bootstrapEndpoint, issued);
        logger.info({ agent: agentName, csr: issued.csrName }, "stored the hub kubeconfig secret");
      } finally {
        bootstrapClient.close();
      }
      const connection = await connectToHub({
        ...options,
        agentName,
        expectedEndpoint: bootstrapEndpoint,
        logger,
      });
      if (connection) return { ...connection, bootstrapKubeconfig: bootstrapText };
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn({ err: error }, "joining the hub failed; retrying");
    }
    failures++;
    await delay(clock, backoffMs(failures, options.retryBaseMs ?? 1000, maxRetryMs, random), signal);
  }
}

/**
 * Obtains a new certificate with the current one (so that the hub approves it by itself when
 * the cluster is accepted), stores it, and returns the new connection.
 */
export async function renewClientCertificate(
  connection: HubConnection,
  options: Omit<JoinOptions, "clusterName" | "agentName" | "bootstrapKubeconfig">,
): Promise<HubConnection> {
  const logger = options.logger;
  const issued = await requestClientCertificate(connection.client, {
    ...options,
    clusterName: connection.clusterName,
    agentName: connection.agentName,
    expirationSeconds: options.expirationSeconds ?? Csr.defaultExpirationSeconds,
  });
  const target = { ...options, clusterName: connection.clusterName };
  await storeCertificate(target, connection.agentName, connection.endpoint, issued);
  const renewed = await connectToHub({
    ...target,
    agentName: connection.agentName,
    expectedEndpoint: connection.endpoint,
    logger,
  });
  if (!renewed) throw new Error("the renewed client certificate was stored but cannot be used");
  logger.info({ csr: issued.csrName }, "rotated the client certificate");
  await recordCertificateRotation(renewed, options.clock, logger);
  return renewed;
}
