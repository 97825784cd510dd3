// Jitter spreads out timers that many processes (or many keys) would otherwise fire in step.

/**
 * A duration between `ms` and `ms * (1 + factor)`, uniformly distributed (the semantics of
 * Kubernetes' wait.Jitter). Every periodic timer should go through this.
 */
export function jittered(ms: number, factor: number, random: () => number = Math.random): number {
  if (!Number.isFinite(ms) || ms < 0)
    throw new RangeError(`duration must be a finite number >= 0, got ${ms}`);
  if (!Number.isFinite(factor) || factor < 0)
    throw new RangeError(`jitter factor must be a finite number >= 0, got ${factor}`);
  return ms + ms * factor * random();
}
