/**
 * Reconnect backoff with decorrelated jitter — the one backoff helper. Each
 * delay is drawn uniformly from [minMs, min(maxMs, 3 · previous delay)], the
 * first from [minMs, min(maxMs, 3 · minMs)] (as if the previous were minMs).
 *
 * Why decorrelated jitter rather than full jitter (uniform in
 * [0, min(maxMs, minMs · 2^n)]): both spread a crowd of clients cut off
 * together (a server restart) so they do not come back in lockstep, and
 * AWS's measurements ("Exponential Backoff And Jitter", 2015) put their
 * total work within a few percent of each other; but full jitter retries
 * after ~0 ms now and then, while decorrelated jitter keeps `minMs` a true
 * floor — a client never reconnects sooner than the operator's
 * `reconnect.min_delay`, even on the first attempt, which is still spread
 * (over [1, 3] s with the defaults).
 *
 * One departure from the published formula min(cap, uniform(base, 3 · prev)):
 * the cap bounds the range *before* the draw. Capping after the draw would
 * put about two thirds of a long-failing crowd at exactly maxMs, in
 * lockstep again; drawing below the cap keeps them spread there too.
 *
 * Pure: the random source is injected, so tests need no clock and no luck.
 */

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Uniform in [0, 1); default Math.random (spreading clients needs no CSPRNG). */
  random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt; each call counts one more failed attempt. */
  next(): number;
  /** After a success: the next delay is drawn as a first one again. */
  reset(): void;
  readonly attempts: number;
}

/** Growth bound per attempt: each delay is at most this times the previous one. */
export const DECORRELATED_GROWTH = 3;

/**
 * The delay after one whose value was `previousMs` (undefined: the first
 * attempt), for a random draw in [0, 1). Always an integer in [minMs, maxMs]
 * (for integer bounds).
 */
export function decorrelatedDelay(previousMs: number | undefined, options: Pick<BackoffOptions, 'minMs' | 'maxMs'>, draw: number): number {
  const { minMs, maxMs } = options;
  const previous = Math.max(minMs, previousMs ?? minMs);
  const upper = Math.min(maxMs, previous * DECORRELATED_GROWTH);
  const delay = Math.floor(minMs + draw * (upper - minMs + 1)); // +1: every integer up to `upper` is reachable
  return Math.min(upper, Math.max(minMs, delay));
}

/**
 * A backoff sequence; throws RangeError for options it cannot honour. The
 * bounds are rounded to whole milliseconds (config seconds such as 1.1 give
 * 1100.0000000000002 ms).
 */
export function reconnectBackoff(options: BackoffOptions): Backoff {
  const minMs = Math.round(options.minMs);
  const maxMs = Math.round(options.maxMs);
  if (!Number.isSafeInteger(minMs) || minMs < 0 || !Number.isSafeInteger(maxMs) || maxMs < minMs) {
    throw new RangeError(`backoff: expected 0 <= minMs <= maxMs (finite), got minMs=${options.minMs} maxMs=${options.maxMs}`);
  }
  const bounds = { minMs, maxMs };
  const random = options.random ?? Math.random;
  let previous: number | undefined;
  let attempts = 0;
  return {
    next() {
      attempts++;
      previous = decorrelatedDelay(previous, bounds, random());
      return previous;
    },
    reset() {
      previous = undefined;
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
