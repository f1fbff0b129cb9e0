/**
 * Log lines for an event a peer can repeat at will (a refusal, a flood):
 * at most `burst` at once, then `perSecond`; what is held back is counted,
 * and the next line logged says how many (`suppressed`). The counters and
 * metrics still count every event: only the lines are limited. Pure: time
 * is injected.
 */
import { TokenBucket } from './token-bucket.js';

/** Refusal log lines: a flood is counted in full but logged at most this fast (a line per junk REQUEST would be the flood's own amplifier). */
export const REFUSAL_LOG_BURST = 100;
export const REFUSAL_LOG_PER_SECOND = 20;

/** The budget for a daemon's refusal lines (the server's tunnel.refused, the relay's refused connections). */
export function refusalLineBudget(): LineBudget {
  return new LineBudget(REFUSAL_LOG_PER_SECOND, REFUSAL_LOG_BURST);
}

export class LineBudget {
  readonly #lines: TokenBucket;
  #suppressed = 0;

  constructor(perSecond: number, burst: number) {
    this.#lines = new TokenBucket(perSecond, burst);
  }

  /** undefined: hold this line back (counted); otherwise log it, with how many were held back since the last one. */
  admit(nowMs: number): number | undefined {
    if (!this.#lines.take(nowMs)) {
      this.#suppressed++;
      return undefined;
    }
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    return suppressed;
  }
}
