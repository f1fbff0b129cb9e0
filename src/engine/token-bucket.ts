/**
 * A token bucket: `take(now)` spends a token if there is one; tokens refill
 * at `perSecond` up to `burst`. Used for replies the engine generates on its
 * own (ICMP errors) and for the server's handshake budgets. Pure: time is
 * injected, and a clock that steps back refills nothing.
 */
export class TokenBucket {
  #tokens: number;
  #lastMs: number | undefined;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError(`token bucket: expected perSecond > 0 and burst >= 1, got ${perSecond} and ${burst}`);
    this.#tokens = burst;
  }

  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Tokens there now (fractional), without spending any. */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  #refill(nowMs: number): void {
    if (this.#lastMs !== undefined && nowMs > this.#lastMs) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#lastMs) * this.perSecond) / 1000);
    }
    if (this.#lastMs === undefined || nowMs > this.#lastMs) this.#lastMs = nowMs;
  }
}
