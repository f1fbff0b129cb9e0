/**
 * What the two tunnel endpoints (initiator and server) share beyond
 * MachineBase: once authorized, an Established tunnel whose session the
 * data plane (src/io/frame-socket.ts) uses to seal and open DATA directly,
 * and whose CLOSE is sealed (SEALED_CLOSE): once the tunnel is up, only an
 * endpoint can end it with a reason the other believes.
 * Relays hold no keys and do not extend this.
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

  protected override closeFrame(code: number, reason: string): Uint8Array {
    if (this.established) return this.established.session.sealClose(code, reason);
    return super.closeFrame(code, this.wireReason(code, reason));
  }

  /** What a plain (pre-authorization) CLOSE says; the server keeps detail off the wire. */
  protected wireReason(_code: number, reason: string): string {
    return reason;
  }
}
