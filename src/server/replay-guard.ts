/**
 * REQUEST replay protection that survives a restart: the last TAI64N
 * timestamp accepted per client key lives in the lease file (LeaseStore),
 * so a REQUEST recorded before the restart is refused after it as before.
 * Same rule as crypto's TimestampGuard: strictly increasing per key.
 *
 * The server machine consults it only after `authorize` accepted the client,
 * so the table holds authorized keys only: nobody can fill it or push a real
 * client's entry out with handshakes under fresh keys (and it needs no
 * eviction). A timestamp is accepted at once and written behind; a crash in
 * between can let that one REQUEST be replayed once.
 */
import type { ReplayGuard } from '../crypto/port.js';
import { compareTai64n, TAI64N_LENGTH } from '../crypto/tai64n.js';
import type { LeaseStore } from './leases.js';

export class LeaseReplayGuard implements ReplayGuard {
  constructor(private readonly leases: LeaseStore) {}

  accept(clientPublicKey: Uint8Array, timestamp: Uint8Array): boolean {
    if (timestamp.length !== TAI64N_LENGTH) return false;
    const previous = this.leases.lastHandshake(clientPublicKey);
    if (previous && compareTai64n(timestamp, previous) <= 0) return false;
    this.leases.recordHandshake(clientPublicKey, timestamp);
    return true;
  }

  lastAccepted(clientPublicKey: Uint8Array): Uint8Array | undefined {
    return this.leases.lastHandshake(clientPublicKey);
  }
}
