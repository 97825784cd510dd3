import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { KubeApiError } from "./errors.ts";
import { CacheSyncError, InformerFactory } from "./informer-factory.ts";
import type { KubeApi } from "./kube/client.ts";
import { initialEventsEndAnnotation } from "./kube/types.ts";

const configMaps = { apiVersion: "v1", kind: "ConfigMap" } as const;

/** A factory over a client whose one streamed list answers only when `answer` is called. */
function slowServer(warnings: string[]) {
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const client = {
    watch: (_apiVersion: string, _kind: string, options: { signal?: AbortSignal }) => ({
      [Symbol.asyncIterator]: () => {
        let sent = false;
        return {
          next: async (): Promise<IteratorResult<unknown>> => {
            if (!sent) {
              await answered;
              sent = true;
              return {
                done: false,
                value: {
                  type: "BOOKMARK",
                  object: {
                    metadata: { resourceVersion: "1", annotations: { [initialEventsEndAnnotation]: "true" } },
                  },
                },
              };
            }
            await new Promise((resolve) => options.signal?.addEventListener("abort", resolve));
            return { done: true, value: undefined };
          },
        };
      },
    }),
  } as unknown as KubeApi;
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
  return { factory: new InformerFactory({ client, logger }), answer };
}

describe("InformerFactory.waitForSync", () => {
  it("waits past its timeout for caches that are only slow, warning each time", async () => {
    const warnings: string[] = [];
    const { factory, answer } = slowServer(warnings);
    factory.informer(configMaps);
    factory.start();
    try {
      const waiting = factory.waitForSync({ timeoutMs: 20 });
      while (warnings.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.match(warnings[0]!, /caches are still filling/);
      answer();
      await waiting;
      assert.ok(factory.hasSynced);
    } finally {
      await factory.stop();
    }
  });

  it("fails when a cache is refused by a live server, naming the resource and the reason", async () => {
    const client = {
      watch: () => ({
        [Symbol.asyncIterator]: () => ({
          next: () =>
            Promise.reject(new KubeApiError("the server could not find the resource", 404, "NotFound")),
        }),
      }),
    } as unknown as KubeApi;
    const factory = new InformerFactory({ client, logger: pino({ level: "silent" }) });
    factory.informer(configMaps);
    factory.start();
    try {
      await assert.rejects(factory.waitForSync({ timeoutMs: 20 }), (error: unknown) => {
        assert.ok(error instanceof CacheSyncError);
        assert.match(error.message, /ConfigMap\.v1: the resource is not served/);
        return true;
      });
    } finally {
      await factory.stop();
    }
  });
});
