/**
 * How many REKEY frames a direction may carry: a token bucket of
 * `REKEY_BURST` tokens refilled one per `REKEY_INTERVAL_MS`. A legitimate
 * sender rekeys once per key lifetime (minutes, or a GiB), far below it; a
 * peer that sends more is closed (the receiver's bucket holds a little
 * more than the sender's, for the half round trip between the two sides
 * starting their sessions). Pure: time is injected.
 */

/** REKEYs allowed at once (e.g. after a quiet spell). */
export const REKEY_BURST = 16;
/** One more REKEY allowed per this many milliseconds: at most 10 per second sustained. */
export const REKEY_INTERVAL_MS = 100;
/** Extra tokens on the receiving side, so a sender that keeps to its own bucket is never closed. */
export const REKEY_RECEIVE_SLACK = 2;

export class RekeyBudget {
  private tokens: number;
  private lastMs: number;

  constructor(
    nowMs: number,
    private readonly burst = REKEY_BURST,
    private readonly intervalMs = REKEY_INTERVAL_MS,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one; false (and nothing taken) otherwise. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private refill(nowMs: number): void {
    if (nowMs <= this.lastMs) return; // time never runs backwards for the bucket
    this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.lastMs) / this.intervalMs);
    this.lastMs = nowMs;
  }
}
