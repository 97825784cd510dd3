// Waiting on the injected clock: delays that an abort signal cuts short, and a notifier that
// wakes whoever waits for "something changed".
import type { Clock } from "./clock.ts";

/** Node timers overflow above this many milliseconds; longer waits are made in steps. */
const maxTimerMs = 2 ** 31 - 1;

/** Resolves after `ms` on `clock`; rejects with the signal's reason when it aborts first. */
export function delay(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(abortReason(signal));
    };
    const handle = clock.setTimeout(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), maxTimerMs),
    );
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves once `clock.now()` has reached `atMs`, however far away that is. */
export async function delayUntil(clock: Clock, atMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw abortReason(signal);
  while (clock.now() < atMs) await delay(clock, atMs - clock.now(), signal);
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted", { cause: signal.reason });
}

/** Lets one side wait until another says that something changed. */
export class ChangeNotifier {
  #waiters: (() => void)[] = [];

  notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves on the next notify(), or after `timeoutMs` when given; rejects on abort. */
  wait(clock: Clock, signal: AbortSignal, timeoutMs?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      let handle: unknown;
      const finish = () => {
        if (handle !== undefined) clock.clearTimeout(handle);
        signal.removeEventListener("abort", onAbort);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== finish);
        resolve();
      };
      const onAbort = () => {
        if (handle !== undefined) clock.clearTimeout(handle);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== finish);
        reject(abortReason(signal));
      };
      if (timeoutMs !== undefined)
        handle = clock.setTimeout(finish, Math.min(Math.max(0, timeoutMs), maxTimerMs));
      this.#waiters.push(finish);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
