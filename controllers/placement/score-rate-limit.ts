// spec.scoreRateLimit, as the Placement API documents it: a change in which clusters are
// decided is written at once, but a change in their scores alone at most once per limit.
// Scores move whenever any placement's decisions move (Balance counts them all), so without
// the limit every decision anywhere would rewrite every PlacementDecision's scores.
import type { PlacementDecision } from "../../api/types/placement.ts";

export const defaultScoreRateLimitMs = 60_000;

/** The limit in ms from "30s", "1m", "2h"; the default for anything else. */
export function scoreRateLimitMs(value: string | undefined): number {
  const match = /^([0-9]+)([hms])$/.exec(value ?? "");
  if (!match) return defaultScoreRateLimitMs;
  const unit = { h: 3_600_000, m: 60_000, s: 1000 }[match[2] as "h" | "m" | "s"];
  return Number(match[1]) * unit;
}

type Decisions = NonNullable<PlacementDecision["status"]>["decisions"];

/** True when the decisions name other clusters or reasons, not only other scores. */
export function decisionsChangedBeyondScores(existing: Decisions, desired: Decisions): boolean {
  if (existing.length !== desired.length) return true;
  return existing.some(
    (decision, index) =>
      decision.clusterName !== desired[index]!.clusterName || decision.reason !== desired[index]!.reason,
  );
}

/** When scores may next be written: undefined when they may be written now. */
export function scoresBlockedUntil(
  lastScoreUpdateTime: string | undefined,
  limitMs: number,
  nowMs: number,
): number | undefined {
  const last = lastScoreUpdateTime ? Date.parse(lastScoreUpdateTime) : NaN;
  if (Number.isNaN(last)) return undefined;
  const next = last + limitMs;
  return nowMs >= next ? undefined : next;
}
