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
  /** Both sides agreed to DATA carrying TCP super-frames (OFFLOAD). */
  offload?: boolean;
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
  /**
   * The handshake completed: start the data plane. From here DATA frames go
   * straight through the machine's `session` (sealed from the adapter, opened
   * to the adapter) and never become events or actions.
   */
  | { type: 'authorized'; info: AuthorizedInfo }
  /**
   * End the connection(s) after flushing earlier sends, then report tcpClosed.
   * `by`: who decided — we did (local), the peer's CLOSE (peer), or the network.
   * `refusal`: set when a connection is turned away before it carried a tunnel.
   * `final` (initiator only): no reconnect follows — the user asked, or the
   * server refused or closed with a non-retryable code in a frame it
   * authenticated. Nothing an attacker can forge ever sets it.
   */
  | { type: 'close'; code: number; reason: string; by: 'local' | 'peer' | 'network'; refusal?: Refusal; final?: boolean }
  /** After `delayMs`, call start() again (initiator only). */
  | { type: 'reconnect'; delayMs: number };

/**
 * Why a connection was turned away before it carried a tunnel: stable keys
 * for counters and logs, decided by the machine (or, for connection limits,
 * by the app's closeRequested), never parsed back out of a reason text.
 */
export type Refusal =
  | 'malformed' // the first frame did not parse, or was not the one expected
  | 'frame-too-large' // a frame over the limit of its stage (RELAY size, pre-authorization size)
  | 'truncated' // the connection ended inside a frame
  | 'closed-before-relay' // the connection ended before any frame
  | 'not-on-path' // a relay not named in the RELAY path
  | 'relay-is-last-hop' // a path that ends at a relay
  | 'path-too-long' // more hops than the relay's max_path_length
  | 'loop' // the path names this relay twice, or the RELAY frame came back to us
  | 'next-hop-unreachable' // a next hop the configuration names did not connect
  | 'next-hop-not-allowed' // a next hop the configuration does not name: not dialled
  | 'setup-timeout' // RELAY/REQUEST or the next hop did not come in time
  | 'idle-timeout' // a relayed tunnel carried nothing for too long
  | 'too-many-connections'
  | 'too-many-from-source'
  | 'too-many-handshakes'
  | 'not-this-server' // RELAY path or REQUEST destination names another server
  | 'stale-timestamp' // an authorized client's REQUEST not newer than the last accepted: a replay, or its clock is behind
  | 'bad-mac1' // REQUEST's mac1 is not for this server's key: junk, or another server's; no DH was spent
  | 'handshake-rate' // this source's handshake budget is spent (per-source token bucket); no DH was spent
  | 'cookie-required' // under load, a REQUEST without a valid mac2 after this connection had its COOKIE
  | 'authentication' // REQUEST did not decrypt, or the client is unknown
  | 'policy'; // the client is known but refused (disabled, no address, no suite)

/** A tick: time passes. `lastReceivedMs`: when a whole frame last arrived (DATA once verified); `lastSentMs`: when bytes last left (the data plane bypasses the machine). */
export interface TickEvent {
  type: 'tick';
  lastReceivedMs?: number;
  lastSentMs?: number;
}

export interface Timing {
  /** Send a KEEPALIVE when nothing was sent for this long. */
  keepaliveIntervalMs: number;
  /** Close with TIMEOUT when nothing was received for this long. */
  deadPeerTimeoutMs: number;
  /** Close with TIMEOUT when the handshake (or a relay's setup) takes longer. */
  handshakeTimeoutMs: number;
  /** Leave `dying` for `dead` if tcpClosed did not come within this time. */
  lingerTimeoutMs: number;
  /** Relay only: close a forwarding connection that carried nothing for this long (0: never). */
  idleTimeoutMs: number;
}

export const DEFAULT_TIMING: Timing = {
  keepaliveIntervalMs: 10_000,
  deadPeerTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  lingerTimeoutMs: 5_000,
  idleTimeoutMs: 0,
};

/** A state transition, kept for tests and debug logs. */
export interface Transition {
  from: string;
  to: string;
  event: string;
}
