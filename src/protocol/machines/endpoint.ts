/**
 * What the two tunnel endpoints (initiator and server) share beyond
 * MachineBase: once authorized, an Established tunnel whose session the
 * data plane (src/io/frame-socket.ts) uses to seal and open DATA directly.
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

}
