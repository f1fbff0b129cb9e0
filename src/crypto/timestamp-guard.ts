/**
 * REQUEST replay protection (as WireGuard's handshake initiation): per
 * client public key, a handshake's TAI64N timestamp is accepted only if it
 * is strictly greater than the last one accepted for that key, so a recorded
 * REQUEST replayed later is refused.
 *
 * Call accept() only for clients that are authorized: the table holds at most
 * `maxClients` keys and forgets the least recently accepted one beyond that,
 * which would re-open replay for that client. Lookup is by the key's hex;
 * the stored key is then compared in constant time.
 */
import { keysEqual } from './keys.js';
import { compareTai64n, TAI64N_LENGTH } from './tai64n.js';

export const DEFAULT_MAX_CLIENTS = 65_536;

interface Entry {
  publicKey: Uint8Array;
  timestamp: Uint8Array;
}

export class TimestampGuard {
  readonly #latest = new Map<string, Entry>();
  readonly #maxClients: number;

  constructor(opts: { maxClients?: number } = {}) {
    this.#maxClients = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  }

  /** True (and remembered) when `timestamp` is later than the last accepted for this client. */
  accept(clientPublicKey: Uint8Array, timestamp: Uint8Array): boolean {
    if (timestamp.length !== TAI64N_LENGTH) return false;
    const id = Buffer.from(clientPublicKey).toString('hex');
    const previous = this.#latest.get(id);
    if (previous && keysEqual(previous.publicKey, clientPublicKey) && compareTai64n(timestamp, previous.timestamp) <= 0) return false;
    this.#latest.delete(id); // re-insert: Map order is then least recently accepted first
    this.#latest.set(id, { publicKey: clientPublicKey.slice(), timestamp: timestamp.slice() });
    if (this.#latest.size > this.#maxClients) this.#latest.delete(this.#latest.keys().next().value!);
    return true;
  }

  lastAccepted(clientPublicKey: Uint8Array): Uint8Array | undefined {
    const entry = this.#latest.get(Buffer.from(clientPublicKey).toString('hex'));
    return entry && keysEqual(entry.publicKey, clientPublicKey) ? entry.timestamp.slice() : undefined;
  }

  get size(): number {
    return this.#latest.size;
  }
}
