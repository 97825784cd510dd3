import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import { MemoryKube } from "../test/support/memory-kube.ts";
import { ManualClock } from "../test/support/manual-clock.ts";
import { EventRecorder } from "./events.ts";

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
