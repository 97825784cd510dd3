// One simulated agent of the scale harness: everything a real agent does against the hub, with
// its own identity, while its managed cluster is only a few values in memory. It creates its
// ManagedCluster and a CSR with the bootstrap credentials, waits for the hub to accept it and sign
// the certificate, then with that certificate alone: writes its ManagedCluster status (Joined,
// Available, version, claims), renews its lease, watches the ManifestWorks of its namespace and
// reports each generation as the work agent (and, for policy works, the policy agent) would.
import type { Logger } from "pino";
import { stringify } from "yaml";
import {
  BosunPolicyWorkLabels,
  ConditionStatus,
  Finalizers,
  ManagedClusterConditions,
  ManagedClusterReasons,
  Resources,
} from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { createKeyAndRequest } from "../../klusterlet/bootstrap/certificate.ts";
import {
  agentSubject,
  certificateSigningRequest,
  randomAgentName,
} from "../../klusterlet/bootstrap/identity.ts";
import { ensureManagedCluster } from "../../klusterlet/bootstrap/join.ts";
import { availableMessage, desiredClusterStatus } from "../../klusterlet/status/cluster-status.ts";
import { LeaseRenewer } from "../../klusterlet/status/lease.ts";
import type { Clock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { isKubeApiError } from "../../runtime/errors.ts";
import { jittered } from "../../runtime/jitter.ts";
import { Informer } from "../../runtime/informer.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { patchStatus } from "../../runtime/status.ts";
import { appliedConditions, reportedPolicyStatus } from "../reported-status.ts";

/** What the agents of one process share: the bootstrap client, the CSR waiter, a write limiter. */
export interface FleetContext {
  bootstrap: KubeClient;
  hubServer: string;
  caPem: string;
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** Resolves with the signed certificate of a CSR (one watch for every agent's CSR). */
  certificateOf(csrName: string, signal: AbortSignal): Promise<string>;
  /** Runs a write to the hub when one of the process's write slots is free. */
  limit<T>(write: () => Promise<T>): Promise<T>;
  counters: AgentCounters;
  /** The ClusterClaims every agent reports, besides its own name and region. */
  claims: (cluster: string) => { name: string; value: string }[];
  kubernetesVersion: string;
  idleSocketTimeoutMs: number;
  /** The agents' `--hub-reconnect-window`. */
  hubReconnectWindowMs: number;
  /** The ManagedClusters' spec.leaseDurationSeconds; unset, the hub's default (60 s). */
  leaseDurationSeconds?: number;
}

export interface AgentCounters {
  joined: number;
  writes: number;
  failures: number;
  workReports: number;
}

const workRef = (work: ManifestWork) => ({
  apiVersion: Resources.ManifestWork.apiVersion,
  kind: Resources.ManifestWork.kind,
  namespace: work.metadata.namespace,
  name: work.metadata.name!,
});

function kubeconfig(server: string, caPem: string, certPem: string, keyPem: string, user: string): string {
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "hub", cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: [
      { name: user, user: { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) } },
    ],
    contexts: [{ name: "hub", context: { cluster: "hub", user } }],
    "current-context": "hub",
  });
}

export class SimulatedAgent {
  readonly name: string;
  readonly #fleet: FleetContext;
  readonly #stop = new AbortController();
  #client?: KubeClient;
  #lease?: LeaseRenewer;
  /** Generation last reported, by work name. */
  readonly #reported = new Map<string, number>();
  #works?: Informer<ManifestWork>;
  #reporting = false;
  #dirty = false;
  #joined = false;

  constructor(name: string, fleet: FleetContext) {
    this.name = name;
    this.#fleet = fleet;
  }

  get joined(): boolean {
    return this.#joined;
  }

  /** Bootstraps, waits to be accepted, writes the cluster's status and starts the lease and the work watch. */
  async join(): Promise<void> {
    const fleet = this.#fleet;
    const signal = this.#stop.signal;
    const logger = fleet.logger.child({ cluster: this.name });
    await fleet.limit(() =>
      ensureManagedCluster(
        fleet.bootstrap,
        {
          clusterName: this.name,
          clientConfigs: [],
          annotations: {},
          leaseDurationSeconds: fleet.leaseDurationSeconds,
        },
        logger,
      ),
    );
    const agentName = randomAgentName(fleet.random);
    const { keyPem, csrPem } = await createKeyAndRequest(agentSubject(this.name, agentName));
    const csr = await fleet.limit(() =>
      fleet.bootstrap.create(certificateSigningRequest(this.name, csrPem, 24 * 3600)),
    );
    fleet.counters.writes += 2;
    const certPem = await fleet.certificateOf(csr.metadata.name!, signal);
    this.#client = await KubeClient.fromString(
      kubeconfig(fleet.hubServer, fleet.caPem, certPem, keyPem, `${this.name}:${agentName}`),
      { idleSocketTimeoutMs: fleet.idleSocketTimeoutMs, userAgent: `bosun-scale-agent/${this.name}` },
    );
    const cluster = await this.#untilAccepted(signal);
    await this.#writeStatusFresh(cluster);
    this.#lease = new LeaseRenewer({
      client: {
        getOrUndefined: (ref) => this.#client!.getOrUndefined(ref),
        create: (object) => fleet.limit(() => this.#counted(this.#client!.create(object))),
        replace: (object) => fleet.limit(() => this.#counted(this.#client!.replace(object))),
      },
      clusterName: this.name,
      clock: fleet.clock,
      logger,
      random: fleet.random,
    });
    this.#lease.update(true, cluster.spec?.leaseDurationSeconds);
    this.#joined = true;
    fleet.counters.joined++;
    this.#watchWorks();
  }

  async #counted<T>(write: Promise<T>): Promise<T> {
    try {
      const result = await write;
      this.#fleet.counters.writes++;
      return result;
    } catch (error) {
      this.#fleet.counters.failures++;
      throw error;
    }
  }

  /** The ManagedCluster once the hub accepted it (read with the agent's own certificate). */
  async #untilAccepted(signal: AbortSignal): Promise<ManagedCluster> {
    const ref = { apiVersion: Resources.ManagedCluster.apiVersion, kind: "ManagedCluster", name: this.name };
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      try {
        const cluster = await this.#client!.get<ManagedCluster>(ref);
        const accepted = findCondition(cluster.status?.conditions, ManagedClusterConditions.hubAccepted);
        if (cluster.spec?.hubAcceptsClient && accepted?.status === ConditionStatus.True) return cluster;
      } catch (error) {
        // Until the hub has bound the cluster's RBAC, the new identity may be refused.
        if (!isKubeApiError(error, 403) && !isKubeApiError(error, 401)) throw error;
      }
      await new Promise((resolve) =>
        setTimeout(resolve, jittered(Math.min(5000, 500 * 2 ** attempt), 0.5, this.#fleet.random)),
      );
    }
  }

  async #writeStatus(cluster: ManagedCluster): Promise<void> {
    const fleet = this.#fleet;
    const now = fleet.clock.now();
    const status = desiredClusterStatus(
      cluster.status,
      {
        availability: {
          proceed: true,
          condition: {
            type: ManagedClusterConditions.available,
            status: ConditionStatus.True,
            reason: ManagedClusterReasons.available,
            message: availableMessage,
          },
        },
        kubernetesVersion: fleet.kubernetesVersion,
        nodes: {
          capacity: { cpu: "8", memory: "32Gi" },
          allocatable: { cpu: "7500m", memory: "30Gi" },
          problems: [],
        },
        claims: fleet.claims(this.name),
      },
      now,
    );
    if (status) await fleet.limit(() => this.#counted(patchStatus(this.#client!, cluster, status)));
  }

  /** Writes the status, reading the cluster again when the hub wrote it in between. */
  async #writeStatusFresh(cluster: ManagedCluster): Promise<void> {
    const ref = { apiVersion: Resources.ManagedCluster.apiVersion, kind: "ManagedCluster", name: this.name };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#writeStatus(cluster);
      } catch (error) {
        if (!(isKubeApiError(error) && error.conflict) || attempt >= 10) throw error;
        cluster = await this.#client!.get<ManagedCluster>(ref);
      }
    }
  }

  /**
   * Lists and watches the works of the cluster's namespace with bosun's informer, tuned as the
   * real work agent's hub informers are (the reconnect window included), until stopped.
   */
  #watchWorks(): void {
    const fleet = this.#fleet;
    const informer = new Informer<ManifestWork>({
      client: this.#client!,
      apiVersion: Resources.ManifestWork.apiVersion,
      kind: Resources.ManifestWork.kind,
      namespace: this.name,
      // Thousands of agents each warning about the same outage say nothing more than one.
      logger: fleet.logger.child({ cluster: this.name }, { level: "error" }),
      reconnectWindowMs: fleet.hubReconnectWindowMs,
      random: fleet.random,
    });
    const report = () => this.#report();
    informer.addHandlers({
      onAdd: report,
      onUpdate: report,
      onDelete: (work) => {
        this.#reported.delete(work.metadata.name!);
      },
    });
    this.#works = informer;
    informer.start();
  }

  /** Watch (re)starts of this agent's work informer. */
  get watchStarts(): number {
    return this.#works?.stats.watches ?? 0;
  }

  /** Reports every work at a generation not reported yet, one write at a time for this agent. */
  #report(): void {
    if (this.#reporting) {
      this.#dirty = true;
      return;
    }
    this.#reporting = true;
    void (async () => {
      do {
        this.#dirty = false;
        for (const work of this.#works?.list() ?? []) {
          if (work.metadata.deletionTimestamp) continue;
          if (this.#reported.get(work.metadata.name!) === work.metadata.generation) continue;
          await this.#reportWork(work);
        }
      } while (this.#dirty && !this.#stop.signal.aborted);
      this.#reporting = false;
    })();
  }

  async #reportWork(work: ManifestWork): Promise<void> {
    const client = this.#client!;
    const fleet = this.#fleet;
    const policy = work.metadata.labels?.[BosunPolicyWorkLabels.replica] !== undefined;
    try {
      if (!(work.metadata.finalizers ?? []).includes(Finalizers.manifestWorkCleanup)) {
        const finalizers = [...(work.metadata.finalizers ?? []), Finalizers.manifestWorkCleanup];
        await fleet.limit(() =>
          this.#counted(client.patch(workRef(work), "merge", { metadata: { finalizers } })),
        );
      }
      const now = fleet.clock.now();
      const status = policy ? reportedPolicyStatus(work, now) : { conditions: appliedConditions(work, now) };
      await fleet.limit(() =>
        this.#counted(client.patch(workRef(work), "merge", { status }, { subresource: "status" })),
      );
      this.#reported.set(work.metadata.name!, work.metadata.generation ?? 0);
      fleet.counters.workReports++;
    } catch (error) {
      if (isKubeApiError(error, 404)) return;
      fleet.logger.debug({ err: error, cluster: this.name, work: work.metadata.name }, "work report failed");
      // Reported again with the next event or the next watch restart.
      this.#dirty = true;
      await new Promise((resolve) => setTimeout(resolve, jittered(1000, 0.5, fleet.random)));
    }
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#lease?.update(false, undefined);
    await this.#works?.stop();
    this.#client?.close();
  }
}
