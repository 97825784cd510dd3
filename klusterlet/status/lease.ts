// Renews the cluster's lease on the hub while the cluster is accepted: renewTime = now every
// leaseDurationSeconds, stretched by up to 25% at random so that a fleet's agents spread out.
import type { Logger } from "pino";
import { Labels, Lease as LeaseNames } from "../../api/constants.ts";
import type { Clock, TimerHandle } from "../../runtime/clock.ts";
import { isKubeApiError } from "../../runtime/errors.ts";
import { jittered } from "../../runtime/jitter.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { type Lease } from "../../runtime/leader.ts";
import { formatMicroTime } from "../../runtime/time.ts";

/** The calls the renewer makes; a KubeApi, or a fake in tests. */
export type LeaseClient = Pick<KubeApi, "getOrUndefined" | "create" | "replace">;

export interface LeaseRenewerOptions {
  client: LeaseClient;
  clusterName: string;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

export class LeaseRenewer {
  readonly #options: LeaseRenewerOptions;
  readonly #random: () => number;
  #durationSeconds = 0;
  #running = false;
  #generation = 0;
  #timer: TimerHandle;
  #inFlight: Promise<void> = Promise.resolve();
  /** The lease as the last renewal wrote it: the next one writes on it without reading first. */
  #last: Lease | undefined;
  /** Renewals written, for tests and logs. */
  renewals = 0;

  constructor(options: LeaseRenewerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  get running(): boolean {
    return this.#running;
  }

  /**
   * Tells the renewer what the ManagedCluster says. It starts renewing (at once) when the
   * cluster becomes accepted, restarts when the duration changes and stops when the cluster
   * is no longer accepted. A duration of 0 or none means 60 s.
   */
  update(accepted: boolean, leaseDurationSeconds: number | undefined): void {
    if (!accepted) {
      if (this.#running) this.#options.logger.info("cluster not accepted; stopped renewing the lease");
      this.#halt();
      return;
    }
    const duration =
      leaseDurationSeconds && leaseDurationSeconds > 0
        ? leaseDurationSeconds
        : LeaseNames.defaultDurationSeconds;
    if (this.#running && duration === this.#durationSeconds) return;
    this.#halt();
    this.#running = true;
    this.#durationSeconds = duration;
    this.#options.logger.info({ leaseDurationSeconds: duration }, "renewing the cluster lease");
    this.#tick(this.#generation);
  }

  async stop(): Promise<void> {
    this.#halt();
    await this.#inFlight;
  }

  #halt(): void {
    this.#running = false;
    this.#last = undefined;
    this.#generation++;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(generation: number): void {
    this.#timer = undefined;
    this.#inFlight = this.#inFlight.then(async () => {
      if (generation !== this.#generation) return;
      try {
        await this.#renew();
      } catch (error) {
        this.#options.logger.warn({ err: error }, "renewing the cluster lease failed");
      }
      if (generation !== this.#generation) return;
      const delayMs = jittered(this.#durationSeconds * 1000, LeaseNames.jitterFactor, this.#random);
      this.#timer = this.#options.clock.setTimeout(() => this.#tick(generation), delayMs);
    });
  }

  async #renew(): Promise<void> {
    const { client, clusterName, clock } = this.#options;
    const ref = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: LeaseNames.name,
      namespace: clusterName,
    };
    const renewTime = formatMicroTime(clock.now());
    // One request a renewal at rest, not a read and a write: at 10,000 clusters that is half
    // the hub's lease traffic. Someone else's write since (409) or a lease gone (404) sends the
    // renewal the long way round.
    if (this.#last) {
      try {
        this.#last = await client.replace<Lease>({ ...this.#last, spec: { ...this.#last.spec, renewTime } });
        this.renewals++;
        return;
      } catch (error) {
        // Only the server's word that the lease moved on (or went) calls for a read; a renewal
        // that did not reach it (an outage) tries the same write again next time, so that a
        // fleet coming back does not double its lease traffic.
        if (!isKubeApiError(error, 409) && !isKubeApiError(error, 404)) throw error;
        this.#last = undefined;
      }
    }
    const lease = await client.getOrUndefined<Lease>(ref);
    if (lease) {
      this.#last = await client.replace<Lease>({ ...lease, spec: { ...lease.spec, renewTime } });
      this.renewals++;
      return;
    }
    try {
      this.#last = await client.create<Lease>({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: {
          name: LeaseNames.name,
          namespace: clusterName,
          labels: { [Labels.clusterName]: clusterName },
        },
        spec: {
          holderIdentity: LeaseNames.holderIdentity,
          leaseDurationSeconds: this.#durationSeconds,
          renewTime,
        },
      });
      this.renewals++;
    } catch (error) {
      // OCM's per-cluster RBAC lets the agent update its lease, not create it: the hub does.
      if (isKubeApiError(error, 403)) {
        this.#options.logger.info("the cluster lease does not exist yet and the hub has not created it");
        return;
      }
      throw error;
    }
  }
}
