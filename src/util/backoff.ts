/**
 * Exponential backoff with jitter for reconnects: the n-th delay (n from 0)
 * is min(maxMs, minMs · factor^n), then spread by ±jitter/2 of itself so a
 * crowd of clients cut off together does not come back in lockstep
 * ("equal jitter" around the nominal delay). Pure: the random source is
 * injected, so tests need no clock and no luck.
 */

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /** Fraction 0..1 of the delay that is randomized; default 0.2 (±10 %). */
  jitter?: number;
  /** Uniform in [0, 1); default Math.random. */
  random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt; each call counts one more failed attempt. */
  next(): number;
  /** Back to minMs after a success. */
  reset(): void;
  readonly attempts: number;
}

/** The delay for attempt `attempt` (0-based) with a given random draw in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, draw: number): number {
  const { minMs, maxMs } = options;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  // The exponent is capped so the power stays finite (and 0 · Infinity never makes NaN).
  const nominal = Math.min(maxMs, minMs * Math.pow(factor, Math.min(attempt, 64)));
  const spread = nominal * jitter * (draw - 0.5);
  return Math.max(0, Math.min(maxMs, Math.round(nominal + spread)));
}

export function exponentialBackoff(options: BackoffOptions): Backoff {
  if (!(options.minMs >= 0) || !(options.maxMs >= options.minMs)) {
    throw new RangeError(`backoff: expected 0 <= minMs <= maxMs, got minMs=${options.minMs} maxMs=${options.maxMs}`);
  }
  const jitter = options.jitter ?? 0.2;
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff: expected jitter in 0..1, got ${jitter}`);
  if ((options.factor ?? 2) < 1) throw new RangeError(`backoff: expected factor >= 1, got ${options.factor}`);
  const random = options.random ?? Math.random;
  let attempts = 0;
  return {
    next: () => backoffDelay(attempts++, options, random()),
    reset: () => void (attempts = 0),
    get attempts() {
      return attempts;
    },
  };
}
