import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decisionsChangedBeyondScores, scoreRateLimitMs, scoresBlockedUntil } from "./score-rate-limit.ts";

describe("scoreRateLimit", () => {
  for (const [value, expected] of [
    ["30s", 30_000],
    ["1m", 60_000],
    ["2h", 7_200_000],
    ["0s", 0],
    [undefined, 60_000],
    ["1d", 60_000],
    ["m", 60_000],
  ] as const) {
    test(`${String(value)} is ${expected} ms`, () => assert.equal(scoreRateLimitMs(value), expected));
  }

  const d = (clusterName: string, score?: number, reason = "") => ({
    clusterName,
    reason,
    ...(score ? { score } : {}),
  });
  test("only score changes are not changes of the decisions", () => {
    assert.equal(decisionsChangedBeyondScores([d("a", 10), d("b", 20)], [d("a", 30), d("b")]), false);
  });
  test("another cluster, another order, another length or another reason is", () => {
    assert.equal(decisionsChangedBeyondScores([d("a"), d("b")], [d("a"), d("c")]), true);
    assert.equal(decisionsChangedBeyondScores([d("a")], [d("a"), d("b")]), true);
    assert.equal(decisionsChangedBeyondScores([d("a", 1, "x")], [d("a", 1, "y")]), true);
  });

  const t0 = Date.parse("2026-01-01T00:00:00Z");
  test("scores wait until the limit has passed since the last score update", () => {
    assert.equal(scoresBlockedUntil("2026-01-01T00:00:00Z", 60_000, t0 + 10_000), t0 + 60_000);
    assert.equal(scoresBlockedUntil("2026-01-01T00:00:00Z", 60_000, t0 + 60_000), undefined);
    assert.equal(scoresBlockedUntil(undefined, 60_000, t0), undefined);
    assert.equal(scoresBlockedUntil("2026-01-01T00:00:00Z", 0, t0), undefined);
  });
});
