// A clock whose time moves only when a test advances it.
import type { Clock, TimerHandle } from "../../runtime/clock.ts";

interface ManualTimer {
  id: number;
  dueAt: number;
  delayMs: number;
  callback: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, ManualTimer>();
  /** Every delay passed to setTimeout, in call order (cancelled timers included). */
  readonly requestedDelays: number[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    const delay = Math.max(0, delayMs);
    this.requestedDelays.push(delayMs);
    this.#timers.set(id, { id, dueAt: this.#now + delay, delayMs, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === "number") this.#timers.delete(handle);
  }

  /** The delays of the timers that have neither fired nor been cancelled, soonest first. */
  get pendingDelays(): number[] {
    return this.#pending().map((timer) => timer.delayMs);
  }

  /** Milliseconds until the soonest pending timer is due, or undefined when none is pending. */
  get nextDueIn(): number | undefined {
    const next = this.#pending()[0];
    return next === undefined ? undefined : next.dueAt - this.#now;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (in due order,
   * with `now()` set to each one's due time), including timers those callbacks schedule.
   */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const next = this.#pending()[0];
      if (next === undefined || next.dueAt > until) break;
      this.#timers.delete(next.id);
      this.#now = next.dueAt;
      next.callback();
    }
    this.#now = until;
  }

  #pending(): ManualTimer[] {
    return [...this.#timers.values()].sort((a, b) => a.dueAt - b.dueAt || a.id - b.id);
  }
}
