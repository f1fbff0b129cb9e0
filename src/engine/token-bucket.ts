/**
 * A token bucket for rate-limiting replies the engine generates on its own
 * (ICMP errors): `take(now)` spends a token if there is one; tokens refill at
 * `perSecond` up to `burst`. Pure: time is injected.
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
    if (this.#lastMs !== undefined && nowMs > this.#lastMs) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#lastMs) * this.perSecond) / 1000);
    }
    if (this.#lastMs === undefined || nowMs > this.#lastMs) this.#lastMs = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
