import assert from "node:assert/strict";
import { test } from "node:test";
import { startProgress, waitWithProgress } from "./progress.ts";

function recorder(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (text: string) => chunks.push(text) };
}

test("piped: one plain line per change of state, none for repeats", () => {
  const out = recorder(false);
  const progress = startProgress(out);
  progress.update("0/3 joined");
  progress.update("0/3 joined");
  progress.update("2/3 joined");
  progress.done("3/3 joined");
  assert.deepEqual(out.chunks, ["  0/3 joined\n", "  2/3 joined\n", "  3/3 joined\n"]);
  assert.ok(out.chunks.every((chunk) => !chunk.includes("\r") && !chunk.includes("\x1b")));
});

test("on a terminal: the line is redrawn in place with the seconds waited, and ended with a newline", () => {
  const out = recorder(true);
  let now = 0;
  const progress = startProgress(out, { now: () => now, tickMs: 60_000 });
  progress.update("waiting");
  now = 3_400;
  progress.update("still waiting");
  progress.done("ready");
  const clear = "\r\x1b[2K";
  assert.ok(out.chunks[0]!.startsWith(clear) && out.chunks[0]!.endsWith(" waiting (0s)"), out.chunks[0]);
  assert.ok(
    out.chunks[1]!.startsWith(clear) && out.chunks[1]!.endsWith(" still waiting (3s)"),
    out.chunks[1],
  );
  assert.equal(out.chunks.at(-1), "\r\x1b[2K  ready\n");
});

test("waitWithProgress returns what the check found, and names the last state when it gives up", async () => {
  const out = recorder(false);
  let calls = 0;
  const found = await waitWithProgress(
    out,
    10_000,
    () => {
      calls++;
      return Promise.resolve(calls < 3 ? { state: `try ${calls}` } : { state: "found", done: 42 });
    },
    { pollMs: 1 },
  );
  assert.equal(found, 42);
  assert.deepEqual(out.chunks, ["  try 1\n", "  try 2\n", "  found\n"]);
  await assert.rejects(
    waitWithProgress(out, 0, () => Promise.resolve({ state: "1/2 ready" }), { pollMs: 1, what: "the fleet" }),
    /the fleet did not finish within 0 s \(1\/2 ready\)/,
  );
});
