/**
 * When the NDP emulator sends its unsolicited router advertisements (RFC 4861
 * §6.2.4): a router repeats its advertisement at random intervals in
 * [MinRtrAdvInterval, MaxRtrAdvInterval] so that hosts refresh the lifetimes
 * it carries (above all the router lifetime, which makes the default route);
 * the first MAX_INITIAL_RTR_ADVERTISEMENTS of them come at most
 * MAX_INITIAL_RTR_ADVERT_INTERVAL apart, so a host that missed the first
 * learns the router quickly; and every multicast advertisement (the answer to
 * a solicitation included) restarts the wait (§6.2.6).
 *
 * Pure: the caller passes the time and asks `due(nowMs)`; nothing here owns a
 * timer. The random source is injected so tests can pin the intervals.
 */

/** RFC 4861 §6.2.1 default MaxRtrAdvInterval. */
export const MAX_RTR_ADV_INTERVAL_MS = 600_000;
/** RFC 4861 §6.2.1 default MinRtrAdvInterval: 0.33 × MaxRtrAdvInterval. */
export const MIN_RTR_ADV_INTERVAL_MS = 198_000;
/** RFC 4861 §10 router constants. */
export const MAX_INITIAL_RTR_ADVERT_INTERVAL_MS = 16_000;
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;

export interface RaIntervals {
  minMs: number;
  maxMs: number;
}

export const DEFAULT_RA_INTERVALS: RaIntervals = { minMs: MIN_RTR_ADV_INTERVAL_MS, maxMs: MAX_RTR_ADV_INTERVAL_MS };

export class RouterAdvertisementSchedule {
  /** When the next unsolicited advertisement is due; undefined while not advertising. */
  #nextAtMs: number | undefined;
  /** Multicast advertisements sent since advertising (re)started, up to MAX_INITIAL_RTR_ADVERTISEMENTS. */
  #sent = 0;

  constructor(
    private readonly random: () => number = Math.random,
    private readonly intervals: RaIntervals = DEFAULT_RA_INTERVALS,
  ) {}

  get running(): boolean {
    return this.#nextAtMs !== undefined;
  }

  /** When the next unsolicited advertisement is due (undefined: stopped). */
  get nextAtMs(): number | undefined {
    return this.#nextAtMs;
  }

  /** The interface becomes an advertising one (§6.2.4): the first advertisement within the initial interval. No-op when running. */
  start(nowMs: number): void {
    if (this.#nextAtMs !== undefined) return;
    this.#sent = 0;
    this.#nextAtMs = nowMs + this.#interval();
  }

  /** No more advertising (no IPv6 lease, the host gone, the adapter closed); a later start counts as a new beginning. */
  stop(): void {
    this.#nextAtMs = undefined;
    this.#sent = 0;
  }

  /** A multicast advertisement went out at `nowMs` (solicited or not): the wait starts again from it (§6.2.6). */
  advertised(nowMs: number): void {
    if (this.#sent < MAX_INITIAL_RTR_ADVERTISEMENTS) this.#sent++;
    this.#nextAtMs = nowMs + this.#interval();
  }

  /** True when an unsolicited advertisement is due at `nowMs`; the caller sends it and reports it with `advertised`. */
  due(nowMs: number): boolean {
    return this.#nextAtMs !== undefined && nowMs >= this.#nextAtMs;
  }

  /** Uniform in [min, max], capped at the initial interval for the first few advertisements. */
  #interval(): number {
    const { minMs, maxMs } = this.intervals;
    const intervalMs = minMs + Math.floor(this.random() * (maxMs - minMs));
    return this.#sent < MAX_INITIAL_RTR_ADVERTISEMENTS ? Math.min(intervalMs, MAX_INITIAL_RTR_ADVERT_INTERVAL_MS) : intervalMs;
  }
}
