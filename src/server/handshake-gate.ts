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
 * as much burst) empty. A source is an IPv4 address, or an IPv6 /64 (one
 * host usually holds a whole /64). Sources listed in `relaySources` (the
 * configured relays, behind which many clients share one address) get
 * `relayBurst`/`relayRate` instead. The table holds at most `maxSources`
 * buckets; past that the least recently used goes — by then usually full
 * again, so forgetting it gives nothing away. Pure: time is injected.
 */
import { TokenBucket } from '../engine/token-bucket.js';
import type { HandshakeAdmission } from '../protocol/machines/server.js';
import { ipv6ToBytes } from '../wire/addr6.js';

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
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #relays: ReadonlySet<string>;
  readonly #meter: TokenBucket;

  constructor(limits: Partial<HandshakeLimits> = {}) {
    this.limits = { ...DEFAULT_HANDSHAKE_LIMITS, ...limits };
    this.#relays = new Set(this.limits.relaySources.map(sourceKey));
    this.#meter = new TokenBucket(this.limits.loadRate, this.limits.loadRate);
  }

  /** `pending`: connections not yet authorized, this one included. */
  admit(source: string, mac2Valid: boolean, pending: number, nowMs: number): HandshakeAdmission {
    if (this.underLoad(pending, nowMs) && !mac2Valid) return 'cookie';
    if (!this.#bucketOf(source).take(nowMs)) return 'busy';
    this.#meter.take(nowMs);
    return 'proceed';
  }

  underLoad(pending: number, nowMs: number): boolean {
    return pending > this.limits.loadHandshakes || this.#meter.available(nowMs) < 1;
  }

  /** Buckets held now (bounded by maxSources). */
  get sources(): number {
    return this.#buckets.size;
  }

  #bucketOf(source: string): TokenBucket {
    const key = sourceKey(source);
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below: the Map's order is least recently used first
    } else {
      const relay = this.#relays.has(key);
      bucket = relay ? new TokenBucket(this.limits.relayRate, this.limits.relayBurst) : new TokenBucket(this.limits.perSourceRate, this.limits.perSourceBurst);
      if (this.#buckets.size >= this.limits.maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(key, bucket);
    return bucket;
  }
}

/** IPv4 as it is (an IPv4-mapped IPv6 address too); IPv6 by its /64; anything else (a test's label) as it is. */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  try {
    const bytes = ipv6ToBytes(address.split('%')[0]!);
    return `${Buffer.from(bytes.subarray(0, 8)).toString('hex')}/64`;
  } catch {
    return address;
  }
}
