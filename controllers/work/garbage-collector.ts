// The hub's ManifestWork garbage collector: deletes finished works whose
// `deleteOption.ttlSecondsAfterFinished` has passed (the agent then removes what they applied,
// as for any deleted work), and wakes up for each one when it falls due.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ManifestWork } from "../../api/types/work.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller, type ReconcileContext } from "../../runtime/controller.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import { refOf, type KubeApi } from "../../runtime/kube/client.ts";
import { objectKey } from "../../runtime/kube/types.ts";
import { HubInformers } from "../informers.ts";
import { deletionDueAt } from "./ttl.ts";

export interface WorkGarbageCollectorOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  informers?: InformerFactory;
  cacheSyncTimeoutMs?: number;
}

export class WorkGarbageCollector {
  readonly #client: KubeApi;
  readonly #clock: Clock;
  readonly #cache: ControllerCache;
  readonly #controller: Controller;
  readonly works: Informer<ManifestWork>;

  constructor(options: WorkGarbageCollectorOptions) {
    const logger = options.logger.child({ component: "work-gc" });
    this.#client = options.client;
    this.#clock = options.clock;
    this.#cache = new ControllerCache({ ...options, logger });
    this.works = this.#cache.informers.informer(
      HubInformers.manifestWorks.resource,
      HubInformers.manifestWorks.scope,
    );
    this.#controller = new Controller({
      name: "manifestwork-gc",
      reconcile: (key, _signal, context) => this.reconcile(key, context),
      registry: options.registry,
      logger: options.logger,
      clock: options.clock,
    });
    // Only a work with a TTL can ever be due; the rest are never queued.
    const changed = (work: ManifestWork) => {
      if (work.spec?.deleteOption?.ttlSecondsAfterFinished !== undefined)
        this.#controller.enqueue(objectKey(work));
    };
    this.works.addHandlers({ onAdd: changed, onUpdate: (_previous, current) => changed(current) });
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#cache.sync(signal);
    this.#controller.start();
  }

  async stop(): Promise<void> {
    await this.#controller.stop();
    await this.#cache.release();
  }

  whenIdle(): Promise<void> {
    return this.#controller.whenIdle();
  }

  async reconcile(key: string, context?: ReconcileContext): Promise<{ requeueAfterMs?: number } | void> {
    const work = this.works.get(key);
    if (!work) return;
    const dueAt = deletionDueAt(work);
    if (dueAt === undefined) return;
    const waitMs = dueAt - this.#clock.now();
    if (waitMs > 0) return { requeueAfterMs: waitMs };
    try {
      // The uid precondition: never delete a newer work that took this one's name.
      await this.#client.delete(refOf(work), { uid: work.metadata.uid });
      context?.logger.info("deleted a finished ManifestWork whose ttlSecondsAfterFinished passed");
    } catch (error) {
      if (!(error instanceof KubeApiError && (error.notFound || error.conflict))) throw error;
    }
  }
}
