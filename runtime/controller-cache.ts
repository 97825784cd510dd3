// A controller's hold on the process's shared informers. Given the process's factory, the
// controller only starts it (idempotent) and waits for it; given none (a controller run on its
// own, in a test or a tool), it makes a factory of its own and stops it with the controller.
import type { Logger } from "pino";
import { InformerFactory } from "./informer-factory.ts";
import type { KubeApi } from "./kube/client.ts";

/** How long a controller waits for its caches at start-up before failing. */
export const defaultCacheSyncTimeoutMs = 60_000;

export interface ControllerCacheOptions {
  client: KubeApi;
  logger: Logger;
  /** The process's shared informers; a private factory when absent. */
  informers?: InformerFactory;
  /** How long `sync()` waits before failing with the resources still missing. */
  cacheSyncTimeoutMs?: number;
}

export class ControllerCache {
  readonly informers: InformerFactory;
  readonly #owned: boolean;
  readonly #timeoutMs: number;

  constructor(options: ControllerCacheOptions) {
    this.#owned = options.informers === undefined;
    this.informers =
      options.informers ?? new InformerFactory({ client: options.client, logger: options.logger });
    this.#timeoutMs = options.cacheSyncTimeoutMs ?? defaultCacheSyncTimeoutMs;
  }

  /** Starts the informers (those not started yet) and waits until every one has listed. */
  async sync(signal?: AbortSignal): Promise<void> {
    this.informers.start();
    await this.informers.waitForSync({ timeoutMs: this.#timeoutMs, ...(signal ? { signal } : {}) });
  }

  /** Stops the informers when they are this controller's own; shared ones outlive it. */
  async release(): Promise<void> {
    if (this.#owned) await this.informers.stop();
  }
}
