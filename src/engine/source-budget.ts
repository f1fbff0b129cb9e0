/**
 * A token bucket per traffic source, for what one peer may start per
 * second: handshakes at the server (handshake-gate.ts), new connections at a
 * relay. A source is an IPv4 address, or an IPv6 /64 (one host usually
 * holds a whole /64). Sources given as `special` (e.g. the relays a server
 * is reached through, many clients behind one address) get their own rate
 * and burst. At most `maxSources` buckets are kept; past that the least
 * recently used goes — by then usually full again, so forgetting it gives
 * nothing away. Pure: time is injected.
 */
import { ipv6ToBytes } from '../wire/addr6.js';
import { TokenBucket } from './token-bucket.js';

export interface SourceBudgetOptions {
  /** Tokens a source may spend at once, then per second. */
  burst: number;
  rate: number;
  /** Buckets kept at most. */
  maxSources: number;
  /** Sources with their own budget. */
  special?: { sources: readonly string[]; burst: number; rate: number };
}

export class SourceBudget {
  /** Insertion order is use order: the first key is the least recently used. */
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #special: ReadonlySet<string>;

  constructor(readonly options: SourceBudgetOptions) {
    this.#special = new Set((options.special?.sources ?? []).map(sourceKey));
  }

  /** Spends one of `source`'s tokens; false when it has none left. */
  take(source: string, nowMs: number): boolean {
    return this.#bucketOf(source).take(nowMs);
  }

  /** Buckets held now (bounded by maxSources). */
  get sources(): number {
    return this.#buckets.size;
  }

  #bucketOf(source: string): TokenBucket {
    const key = sourceKey(source);
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below, as the most recently used
    } else {
      const special = this.options.special !== undefined && this.#special.has(key);
      bucket = special ? new TokenBucket(this.options.special!.rate, this.options.special!.burst) : new TokenBucket(this.options.rate, this.options.burst);
      if (this.#buckets.size >= this.options.maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
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
