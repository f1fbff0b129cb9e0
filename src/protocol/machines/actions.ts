/**
 * What the protocol state machines ask the I/O layer to do. The machines are
 * pure: every event returns a list of these, in order; the app carries them
 * out in that order (a `send` before a `close` must be flushed first).
 */
import type { Lease } from '../../lease.js';
import type { SuiteName } from '../../crypto/port.js';
import type { RelayRepr } from '../frames/relay.js';

/** Which connection of a relay a frame goes to or came from. */
export type Side = 'previous' | 'next';

export interface AuthorizedInfo {
  suite: SuiteName;
  /** Both sides agreed to switch keys with REKEY instead of reconnecting. */
  inBandRekey: boolean;
  lease: Lease;
  /** The peer's static public key (the server's on the initiator, the client's on the server). */
  peerPublicKey: Uint8Array;
  /** Server only: the authorized initiator name, its path and the policy `authorize` returned. */
  peerName?: string;
  path?: RelayRepr;
  policy?: unknown;
}

export type Action =
  /** Write `frame` to the peer (a relay says which side). Frames must be written in the order given. */
  | { type: 'send'; frame: Uint8Array; to?: Side }
  /** Open a TCP connection to `address` (host:port); answer with tcpOpened / nextConnected or a failure. */
  | { type: 'connect'; address: string }
  /** The handshake completed: start carrying datagrams (sealDatagram / deliver). */
  | { type: 'authorized'; info: AuthorizedInfo }
  /** A verified datagram for the local adapter; a view valid until the next event. */
  | { type: 'deliver'; etherType: number; datagram: Uint8Array }
  /**
   * End the connection(s) after flushing earlier sends, then report tcpClosed.
   * `by`: who decided — we did (local), the peer's CLOSE (peer), or the network.
   */
  | { type: 'close'; code: number; reason: string; by: 'local' | 'peer' | 'network' }
  /** After `delayMs`, call start() again (initiator only). */
  | { type: 'reconnect'; delayMs: number };

export interface Timing {
  /** Send a KEEPALIVE when nothing was sent for this long. */
  keepaliveIntervalMs: number;
  /** Close with TIMEOUT when nothing was received for this long. */
  deadPeerTimeoutMs: number;
  /** Close with TIMEOUT when the handshake (or a relay's setup) takes longer. */
  handshakeTimeoutMs: number;
  /** Leave `dying` for `dead` if tcpClosed did not come within this time. */
  lingerTimeoutMs: number;
}

export const DEFAULT_TIMING: Timing = {
  keepaliveIntervalMs: 10_000,
  deadPeerTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  lingerTimeoutMs: 5_000,
};

/** A state transition, kept for tests and debug logs. */
export interface Transition {
  from: string;
  to: string;
  event: string;
}
