/**
 * What the two tunnel endpoints (initiator and server) share beyond
 * MachineBase: once authorized, an Established tunnel whose session seals
 * outgoing datagrams. Relays hold no keys and do not extend this.
 */
import type { TunnelSession } from '../session.js';
import { MachineBase } from './base.js';
import type { Established } from './established.js';

export abstract class EndpointMachine<S extends string, E extends { type: string }> extends MachineBase<S, E> {
  protected established: Established | undefined;

  /** The data engine once authorized (stats, key ids). */
  get session(): TunnelSession | undefined {
    return this.established?.session;
  }

  /**
   * Seals a datagram into `out[offset..]` as a DATA frame (possibly preceded
   * by REKEY); returns bytes written, 0 when not authorized or dropped.
   * Write the bytes in this order before sealing anything else.
   */
  sealDatagram(etherType: number, datagram: Uint8Array, out: Uint8Array, offset: number, nowMs: number): number {
    if (this.stateValue !== 'authorized' || !this.established) return 0;
    return this.established.sealDatagram(etherType, datagram, out, offset, nowMs);
  }
}
