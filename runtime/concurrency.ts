// Bounded concurrency for fan-out writes: a controller that writes one object per cluster keeps
// a few requests in flight rather than one (slow at fleet scale) or all (a burst the API server
// would throttle).

/**
 * Runs `task` on every item with at most `limit` in flight, in item order; resolves when all
 * have settled. A task that throws does not stop the others: its error is returned in its slot.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<unknown[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be an integer >= 1, got ${limit}`);
  const errors: unknown[] = new Array<unknown>(items.length).fill(undefined);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        await task(items[index]!, index);
      } catch (error) {
        errors[index] = error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}
