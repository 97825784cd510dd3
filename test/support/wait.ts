import { setTimeout as sleep } from "node:timers/promises";

/**
 * Retries an assertion until it passes or the deadline passes, then rethrows its last
 * failure. The deadline bounds a wait for something asynchronous; it asserts nothing about speed.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting${options.what ? ` for ${options.what}` : ""}`, { cause: lastError });
    }
    await sleep(options.intervalMs ?? 100);
  }
}
