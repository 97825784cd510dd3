import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { MemoryKube } from "../test/support/memory-kube.ts";
import { ManualClock } from "../test/support/manual-clock.ts";
import { EventRecorder } from "./events.ts";
import type { KubeApi } from "./kube/client.ts";

const logger = pino({ level: "silent" });

function subject(name: string) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "team", uid: `uid-${name}`, resourceVersion: "1" },
  };
}

function setup(options: { aggregationWindowMs?: number; maxRemembered?: number } = {}) {
  const clock = new ManualClock();
  const kube = new MemoryKube({ clock });
  const recorder = new EventRecorder({ client: kube, component: "test", clock, logger, ...options });
  const verbs = () => kube.writes.filter((write) => write.kind === "Event").map((write) => write.verb);
  return { clock, recorder, verbs };
}

test("a repeat within the window is folded into the first Event; outside it, a new Event", async () => {
  const { clock, recorder, verbs } = setup({ aggregationWindowMs: 1_000 });
  await recorder.record(subject("a"), "Warning", "Failed", "boom");
  clock.advance(500);
  await recorder.record(subject("a"), "Warning", "Failed", "boom");
  assert.deepEqual(verbs(), ["create", "patch"]);
  clock.advance(1_001);
  await recorder.record(subject("a"), "Warning", "Failed", "boom");
  assert.deepEqual(verbs(), ["create", "patch", "create"]);
});

test("a stale event is forgotten even when one recorded before it was repeated since", async () => {
  const { clock, recorder, verbs } = setup({ aggregationWindowMs: 1_000 });
  await recorder.record(subject("a"), "Normal", "Synced", "one");
  clock.advance(1);
  await recorder.record(subject("b"), "Normal", "Synced", "two");
  clock.advance(899);
  await recorder.record(subject("a"), "Normal", "Synced", "one");
  clock.advance(600);
  // "b" was last seen 1,499 ms ago: a new Event; "a" 600 ms ago: folded.
  await recorder.record(subject("b"), "Normal", "Synced", "two");
  await recorder.record(subject("a"), "Normal", "Synced", "one");
  assert.deepEqual(verbs(), ["create", "create", "patch", "create", "patch"]);
});

test("beyond maxRemembered the least recently recorded events are forgotten first", async () => {
  const { recorder, verbs } = setup({ maxRemembered: 2 });
  await recorder.record(subject("a"), "Normal", "Synced", "x");
  await recorder.record(subject("b"), "Normal", "Synced", "x");
  await recorder.record(subject("a"), "Normal", "Synced", "x"); // a is now the most recent
  await recorder.record(subject("c"), "Normal", "Synced", "x"); // forgets b
  await recorder.record(subject("a"), "Normal", "Synced", "x");
  await recorder.record(subject("b"), "Normal", "Synced", "x");
  assert.deepEqual(verbs(), ["create", "create", "patch", "create", "patch", "create"]);
});

/** A client whose writes wait until released, so that a test sees what is in flight. */
function gatedClient() {
  const calls: { verb: string; body: unknown; release: (error?: Error) => void }[] = [];
  const call = (verb: string, body: unknown) =>
    new Promise<unknown>((resolve, reject) =>
      calls.push({ verb, body, release: (error) => (error ? reject(error) : resolve(body)) }),
    );
  const client = {
    create: (body: unknown) => call("create", body),
    patch: (_ref: unknown, _type: unknown, body: unknown) => call("patch", body),
  } as unknown as KubeApi;
  return { client, calls };
}

/** A recorder in the background mode over a gated client. */
function backgroundRecorder(concurrency: number, maxPending: number) {
  const { client, calls } = gatedClient();
  const recorder = new EventRecorder({
    client,
    component: "test",
    clock: new ManualClock(),
    logger,
    background: { concurrency, maxPending },
  });
  return { recorder, calls };
}

/** Lets the microtasks of settled writes run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test("in the background a record returns at once; writes follow in order, a few at a time", async () => {
  const { recorder, calls } = backgroundRecorder(2, 100);
  for (const name of ["a", "b", "c"]) await recorder.record(subject(name), "Normal", "Synced", name);
  // The repeat of "a" waits for a's create, whatever the free slots.
  await recorder.record(subject("a"), "Normal", "Synced", "a");
  await settle();
  const names = () =>
    calls.map((c) => (c.body as { metadata?: { name?: string } }).metadata?.name?.split(".")[0] ?? c.verb);
  assert.deepEqual(names(), ["a", "b"], "two in flight");
  let flushed = false;
  const flushing = recorder.flush().then(() => (flushed = true));
  calls[1]!.release();
  await settle();
  assert.deepEqual(names(), ["a", "b", "c"]);
  calls[2]!.release();
  await settle();
  // c done, a still in flight: the patch of a started but waits for a's create.
  assert.deepEqual(names(), ["a", "b", "c"]);
  calls[0]!.release();
  await settle();
  assert.deepEqual(names(), ["a", "b", "c", "patch"]);
  assert.equal((calls[3]!.body as { count?: number }).count, 2);
  assert.equal(flushed, false, "flush waits for the last write");
  calls[3]!.release();
  await flushing;
  assert.equal(recorder.dropped, 0);
});

test("in the background, a repeat of an Event whose create failed is not patched, and the next one creates afresh", async () => {
  const { recorder, calls } = backgroundRecorder(4, 100);
  await recorder.record(subject("a"), "Warning", "Failed", "boom");
  await recorder.record(subject("a"), "Warning", "Failed", "boom");
  await settle();
  calls[0]!.release(new Error("refused"));
  await recorder.flush();
  assert.deepEqual(
    calls.map((c) => c.verb),
    ["create"],
    "no patch of an Event that does not exist",
  );
  await recorder.record(subject("a"), "Warning", "Failed", "boom");
  await settle();
  assert.deepEqual(
    calls.map((c) => c.verb),
    ["create", "create"],
  );
  calls[1]!.release();
  await recorder.flush();
});

test("in the background, beyond maxPending waiting writes new events are dropped and counted", async () => {
  const { recorder, calls } = backgroundRecorder(1, 2);
  for (const name of ["a", "b", "c", "d", "e"])
    await recorder.record(subject(name), "Normal", "Synced", name);
  // a is in flight, b and c wait; d and e are dropped.
  assert.equal(recorder.dropped, 2);
  for (let i = 0; i < 3; i++) {
    await settle();
    calls[i]!.release();
  }
  await recorder.flush();
  assert.equal(calls.length, 3);
});

test("a flush with a time limit gives up when a write does not end, and says so", async () => {
  const { recorder, calls } = backgroundRecorder(1, 10);
  await recorder.record(subject("a"), "Normal", "Synced", "a");
  assert.equal(await recorder.flush(20), false);
  calls[0]!.release();
  assert.equal(await recorder.flush(1000), true);
});
