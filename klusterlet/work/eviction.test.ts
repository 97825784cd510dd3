import assert from "node:assert/strict";
import { test } from "node:test";
import type { AppliedManifestWork } from "../../api/types/work.ts";
import { evictionDisabledAtMs, evictionStep, type EvictionStep } from "./eviction.ts";

const hash = "a".repeat(64);
const other = "b".repeat(64);
const hour = 3600_000;
const now = Date.parse("2026-12-07T12:00:00Z");

function applied(name: string, extra: { started?: string; deleting?: boolean } = {}) {
  return {
    metadata: {
      name,
      ...(extra.deleting ? { deletionTimestamp: "2026-12-07T11:00:00Z" } : {}),
    },
    status: extra.started ? { evictionStartTime: extra.started } : {},
  } satisfies Pick<AppliedManifestWork, "metadata" | "status">;
}

const cases: {
  name: string;
  applied: Pick<AppliedManifestWork, "metadata" | "status">;
  works: string[];
  gracePeriodMs?: number;
  want: EvictionStep;
}[] = [
  { name: "backed by its work", applied: applied(`${hash}-web`), works: ["web"], want: { action: "none" } },
  {
    name: "work gone: marked, looked at again after the grace period",
    applied: applied(`${hash}-web`),
    works: [],
    want: { action: "mark", requeueAfterMs: hour },
  },
  {
    name: "another hub's record: marked",
    applied: applied(`${other}-web`),
    works: ["web"],
    want: { action: "mark", requeueAfterMs: hour },
  },
  {
    name: "a name that is only the hash and a dash is no work of this hub",
    applied: applied(`${hash}-`),
    works: [""],
    want: { action: "mark", requeueAfterMs: hour },
  },
  {
    name: "marked 20 minutes ago: waits the 40 left",
    applied: applied(`${hash}-web`, { started: "2026-12-07T11:40:00Z" }),
    works: [],
    want: { action: "wait", requeueAfterMs: 40 * 60_000 },
  },
  {
    name: "marked an hour ago: evicted, saying why",
    applied: applied(`${hash}-web`, { started: "2026-12-07T11:00:00Z" }),
    works: [],
    want: { action: "evict", reason: "its ManifestWork web is gone from the hub" },
  },
  {
    name: "another hub's record past the grace period",
    applied: applied(`${other}-web`, { started: "2026-12-07T10:00:00Z" }),
    works: [],
    want: { action: "evict", reason: "it belongs to another hub" },
  },
  {
    name: "its work is back: unmarked",
    applied: applied(`${hash}-web`, { started: "2026-12-07T10:00:00Z" }),
    works: ["web"],
    want: { action: "unmark" },
  },
  {
    name: "an unreadable start time is set again rather than trusted",
    applied: applied(`${hash}-web`, { started: "yesterday" }),
    works: [],
    want: { action: "mark", requeueAfterMs: hour },
  },
  {
    name: "eviction off (100 years): nothing is marked",
    applied: applied(`${hash}-web`),
    works: [],
    gracePeriodMs: evictionDisabledAtMs,
    want: { action: "none" },
  },
  {
    name: "eviction off: an earlier mark is cleared",
    applied: applied(`${hash}-web`, { started: "2026-12-07T10:00:00Z" }),
    works: [],
    gracePeriodMs: evictionDisabledAtMs,
    want: { action: "unmark" },
  },
  {
    name: "a record being deleted is left to its cleanup",
    applied: applied(`${hash}-web`, { started: "2026-12-07T10:00:00Z", deleting: true }),
    works: [],
    want: { action: "none" },
  },
  {
    name: "grace period 0: evicted once marked",
    applied: applied(`${hash}-web`, { started: "2026-12-07T12:00:00Z" }),
    works: [],
    gracePeriodMs: 0,
    want: { action: "evict", reason: "its ManifestWork web is gone from the hub" },
  },
];

for (const c of cases) {
  test(`eviction: ${c.name}`, () => {
    const step = evictionStep({
      applied: c.applied,
      hubHash: hash,
      workExists: (name) => c.works.includes(name),
      nowMs: now,
      gracePeriodMs: c.gracePeriodMs ?? hour,
    });
    assert.deepEqual(step, c.want);
  });
}
