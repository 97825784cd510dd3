// The one exponential backoff of the project: every retry loop (work queue keys, informer
// list/watch, the agent's join and status loops) spaces its attempts with these.
import { jittered } from "./jitter.ts";

/** The delay before retry number `failures + 1`: `baseDelayMs * 2^failures`, at most `maxDelayMs`. */
export function exponentialDelay(failures: number, baseDelayMs: number, maxDelayMs: number): number {
  // Past 2^64 the product only overflows; the cap has long been reached.
  return Math.min(baseDelayMs * 2 ** Math.min(Math.max(0, failures), 64), maxDelayMs);
}

/**
 * The delay after attempt number `attempt` (1 for the first failure): `baseMs · 2^(attempt-1)`,
 * at most `maxMs`, stretched by up to `jitter` (0.2: up to 20% longer) so that many retrying
 * processes spread out.
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
  jitter = 0.2,
): number {
  return jittered(exponentialDelay(attempt - 1, baseMs, maxMs), jitter, random);
}

/**
 * The wait until the next slot of a repeating schedule: slots fall `phaseMs` after every
 * multiple of `windowMs` on the clock, and the wait is at least `minimumMs`. Processes with
 * phases spread over the window that all wait for their slot come back evenly spread over one
 * window, however long they were cut off, where random delays drawn afresh on each failure
 * would bunch up at the end of an outage.
 */
export function nextSlotDelayMs(nowMs: number, phaseMs: number, windowMs: number, minimumMs = 0): number {
  const earliest = nowMs + minimumMs;
  return minimumMs + ((((phaseMs - earliest) % windowMs) + windowMs) % windowMs);
}
