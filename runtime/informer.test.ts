import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pino from "pino";
import { KubeApiError } from "./errors.ts";
import { Informer } from "./informer.ts";
import type { KubeApi } from "./kube/client.ts";

/** The waits an informer chooses when every list fails with `failure`, for its first five retries. */
async function retryWaits(failure: () => Error): Promise<number[]> {
  const waits: number[] = [];
  const client = {
    listAll: () => Promise.reject(failure()),
    watch: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(failure()) }) }),
  } as unknown as KubeApi;
  const informer: Informer = new Informer({
    client,
    apiVersion: "v1",
    kind: "ConfigMap",
    logger: pino({ level: "silent" }),
    backoff: { initialMs: 100, maxMs: 10_000, jitter: 0 },
    reconnectWindowMs: 60_000,
    random: () => 0.5,
    now: () => 1_000,
    delay: (ms) => {
      waits.push(ms);
      if (waits.length === 5) void informer.stop();
      return Promise.resolve();
    },
  });
  informer.start();
  while (waits.length < 5) await new Promise((resolve) => setImmediate(resolve));
  await informer.stop();
  return waits;
}

describe("Informer retries with a reconnect window", () => {
  const cases: { name: string; failure: () => Error; waits: number[] }[] = [
    {
      name: "a server that cannot be reached: after the prompt retry, the informer's own slot",
      failure: () => new Error("connect ECONNREFUSED"),
      // Phase 30 s of a 60 s window, the clock at 1 s: the slot is 29 s away.
      waits: [100, 29_000, 29_000, 29_000, 29_000],
    },
    {
      name: "a server that is starting (503): the same slots",
      failure: () => new KubeApiError("unavailable", 503, "ServiceUnavailable"),
      waits: [100, 29_000, 29_000, 29_000, 29_000],
    },
    {
      name: "a throttling server (429): the same slots",
      failure: () => new KubeApiError("too many requests", 429, "TooManyRequests"),
      waits: [100, 29_000, 29_000, 29_000, 29_000],
    },
    {
      name: "a refusal by a live server (403): exponential backoff, no slot",
      failure: () => new KubeApiError("forbidden", 403, "Forbidden"),
      waits: [100, 200, 400, 800, 1_600],
    },
  ];
  for (const { name, failure, waits } of cases)
    it(name, async () => {
      assert.deepEqual(await retryWaits(failure), waits);
    });
});
