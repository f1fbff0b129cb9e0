/**
 * The server-wide handshake gate (issue 10 item 8, docs/SECURITY.md
 * "Handshake floods"): asked for each REQUEST whose mac1 was right, before
 * any Diffie-Hellman, it answers
 *
 *   cookie   the server is under load and the REQUEST has no valid mac2
 *            (the client gets a COOKIE and sends the REQUEST again with one);
 *   busy     this source has spent its handshake budget (a token bucket per
 *            source: `burst` at once, `rate` per second after);
 *   proceed  do the DH (and spend one token of the source and of the
 *            server-wide meter).
 *
 * Under load means: more connections not yet authorized than
 * `loadHandshakes`, or the server-wide DH meter (`loadRate` per second,
 * as much burst) empty. Sources are counted as src/engine/source-budget.ts
 * says (an IPv6 /64 is one source); those listed in `relaySources` (the
 * configured relays, behind which many clients share one address) get
 * `relayBurst`/`relayRate` instead. Pure: time is injected.
 */
import { SourceBudget } from '../engine/source-budget.js';
import { TokenBucket } from '../engine/token-bucket.js';
import type { HandshakeAdmission } from '../protocol/machines/server.js';

export interface HandshakeLimits {
  /** Handshakes (DHs) one source may start at once, then per second. */
  perSourceBurst: number;
  perSourceRate: number;
  /** Addresses of relays this server is reached through, and their larger budget. */
  relaySources: readonly string[];
  relayBurst: number;
  relayRate: number;
  /** Server-wide DHs per second (and burst) past which mac2 is required. */
  loadRate: number;
  /** Connections not yet authorized past which mac2 is required. */
  loadHandshakes: number;
  /** Per-source buckets kept at most. */
  maxSources: number;
}

export const DEFAULT_HANDSHAKE_LIMITS: HandshakeLimits = {
  perSourceBurst: 32,
  perSourceRate: 8,
  relaySources: [],
  relayBurst: 256,
  relayRate: 64,
  loadRate: 200,
  loadHandshakes: 64,
  maxSources: 8192,
};

export class HandshakeGate {
  readonly limits: HandshakeLimits;
  readonly #budget: SourceBudget;
  readonly #meter: TokenBucket;

  constructor(limits: Partial<HandshakeLimits> = {}) {
    this.limits = { ...DEFAULT_HANDSHAKE_LIMITS, ...limits };
    const { perSourceBurst, perSourceRate, relaySources, relayBurst, relayRate, maxSources } = this.limits;
    this.#budget = new SourceBudget({ burst: perSourceBurst, rate: perSourceRate, maxSources, special: { sources: relaySources, burst: relayBurst, rate: relayRate } });
    this.#meter = new TokenBucket(this.limits.loadRate, this.limits.loadRate);
  }

  /** `pending`: connections not yet authorized, this one included. */
  admit(source: string, mac2Valid: boolean, pending: number, nowMs: number): HandshakeAdmission {
    if (this.underLoad(pending, nowMs) && !mac2Valid) return 'cookie';
    if (!this.#budget.take(source, nowMs)) return 'busy';
    this.#meter.take(nowMs);
    return 'proceed';
  }

  underLoad(pending: number, nowMs: number): boolean {
    return pending > this.limits.loadHandshakes || this.#meter.available(nowMs) < 1;
  }

  /** Buckets held now (bounded by maxSources). */
  get sources(): number {
    return this.#budget.sources;
  }
}
