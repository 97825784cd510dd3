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

describe("Informer reading its state", () => {
  /** An informer on a client whose watches go as `watches` says, and whose LIST answers one object. */
  async function syncThrough(
    watches: (options: { sendInitialEvents?: boolean; signal?: AbortSignal }) => AsyncIterable<unknown>,
  ) {
    const calls: string[] = [];
    const client = {
      listAll: () => {
        calls.push("LIST");
        return Promise.resolve({
          items: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "a", namespace: "n", resourceVersion: "5" },
            },
          ],
          resourceVersion: "5",
        });
      },
      watch: (
        _apiVersion: string,
        _kind: string,
        options: { sendInitialEvents?: boolean; signal?: AbortSignal },
      ) => {
        calls.push(options.sendInitialEvents ? "WATCH streamed" : "WATCH");
        return watches(options);
      },
    } as unknown as KubeApi;
    const informer: Informer = new Informer({
      client,
      apiVersion: "v1",
      kind: "ConfigMap",
      logger: pino({ level: "silent" }),
      delay: () => Promise.resolve(),
    });
    informer.start();
    await informer.waitForSync();
    const state = { calls: [...calls], keys: informer.keys(), stats: { ...informer.stats } };
    await informer.stop();
    return state;
  }
  const idle = (options: { signal?: AbortSignal }) => ({
    [Symbol.asyncIterator]: () => ({
      next: () =>
        new Promise<IteratorResult<unknown>>((resolve) =>
          options.signal?.addEventListener("abort", () => resolve({ done: true, value: undefined })),
        ),
    }),
  });

  it("a streamed list: the objects, then the bookmark that ends them; no LIST", async () => {
    let streamed = false;
    const state = await syncThrough((options) => {
      if (!options.sendInitialEvents || streamed) return idle(options);
      streamed = true;
      return (async function* () {
        yield { type: "ADDED", object: { metadata: { name: "a", namespace: "n", resourceVersion: "7" } } };
        yield {
          type: "BOOKMARK",
          object: {
            metadata: { resourceVersion: "8", annotations: { "k8s.io/initial-events-end": "true" } },
          },
        };
        yield* idle(options);
      })();
    });
    assert.deepEqual(state.calls, ["WATCH streamed"]);
    assert.deepEqual(state.keys, ["n/a"]);
    assert.equal(state.stats.streamedLists, 1);
  });

  it("a server that refuses the streamed list (422): LIST and watch, no failure counted", async () => {
    const state = await syncThrough((options) => {
      if (!options.sendInitialEvents) return idle(options);
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.reject(new KubeApiError("forbidden param", 422, "Invalid")),
        }),
      };
    });
    assert.deepEqual(state.calls, ["WATCH streamed", "LIST"]);
    assert.deepEqual(state.keys, ["n/a"]);
    assert.equal(state.stats.failures, 0);
  });

  it("a server that ends the streamed list before its bookmark: LIST and watch from then on", async () => {
    const state = await syncThrough((options) => {
      if (!options.sendInitialEvents) return idle(options);
      // One object, then the stream ends.
      const events = [
        { type: "ADDED", object: { metadata: { name: "a", namespace: "n", resourceVersion: "7" } } },
      ].values();
      return { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(events.next()) }) };
    });
    assert.deepEqual(state.calls, ["WATCH streamed", "LIST"]);
    assert.deepEqual(state.keys, ["n/a"]);
    assert.equal(state.stats.streamedLists, 0);
  });
});
