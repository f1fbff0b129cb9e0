/**
 * What the client does when a tunnel connection ends, and what it says.
 *
 * A road warrior's client never gives up on a transient fault: a lost or
 * cut connection, a corrupted or altered frame, a refusal that arrived
 * unauthenticated (anyone on the path can forge a CLOSE or flip a byte of a
 * handshake), a replaced tunnel, a server shutting down or restarting — all
 * are retried with backoff, the adapter and lease kept, and the log line
 * says what happened without blaming the user's key.
 *
 * It exits only on what a human must fix, established beyond a doubt:
 * - a refusal the server authenticated (the CLOSE travelled inside the
 *   handshake's or the session's keys, `authenticated: true`): the server
 *   itself said "unknown or disabled client", "no common suite" ...;
 * - the same refusal before authorization, repeated `refusalsToProve` times
 *   in a row per server, and only while this client has never had a tunnel
 *   up (a wrong pinned server key can never produce an authenticated answer:
 *   the server cannot read our handshake). Once a tunnel has been up, our
 *   name, key and the server's key are proven, so an unauthenticated refusal
 *   can only be corruption or an attacker on the path: it is retried forever
 *   and never ends the client.
 * The exit message says exactly what to fix. Pure: no I/O, no clock.
 */
import { CloseCode, closeCodeName } from '../protocol/frames/close-codes.js';

export interface ClosedConnection {
  code: number;
  reason: string;
  /** Who ended it: we did (a check failed), the peer sent CLOSE, or the TCP connection went. */
  by: 'local' | 'peer' | 'network';
  /** The connection had reached authorization (the tunnel was up). */
  wasAuthorized: boolean;
  /** The CLOSE was sealed with keys only the real server has (when the protocol says so). */
  authenticated?: boolean;
}

export type CloseVerdict = { kind: 'retry'; message: string } | { kind: 'exit'; message: string };

export interface ReconnectPolicyOptions {
  /** Our client name, for the exit message. */
  name: string;
  /** Our public key (base64), for the exit message. */
  publicKey: string;
  /** How many servers the client walks (failover): the proof needs that many more refusals. */
  servers?: number;
  /** Refusals in a row (per server) that prove a configuration fault. Default 5. */
  refusalsToProve?: number;
}

/** Closes the server sends when it will not take us: a human must change a config to get past them. */
const REFUSALS: ReadonlySet<number> = new Set([CloseCode.AUTHENTICATION_FAILURE, CloseCode.POLICY, CloseCode.NO_COMMON_SUITE, CloseCode.UNSUPPORTED_VERSION]);

export const DEFAULT_REFUSALS_TO_PROVE = 5;

export class ReconnectPolicy {
  #refusalsInARow = 0;
  /** A tunnel has been up since start: the configuration is proven. */
  #proven = false;
  readonly #threshold: number;

  constructor(private readonly opts: ReconnectPolicyOptions) {
    this.#threshold = (opts.refusalsToProve ?? DEFAULT_REFUSALS_TO_PROVE) * Math.max(1, opts.servers ?? 1);
  }

  /** The tunnel came up: earlier refusals proved nothing. */
  authorized(): void {
    this.#refusalsInARow = 0;
    this.#proven = true;
  }

  onClose(close: ClosedConnection): CloseVerdict {
    const refusal = !close.wasAuthorized && REFUSALS.has(close.code);
    if (!refusal) return { kind: 'retry', message: this.#transient(close) };
    if (close.authenticated) return { kind: 'exit', message: this.#fix(close, 'the server refused us') };
    if (this.#proven) return { kind: 'retry', message: `${this.#unauthenticated(close)}; this client's tunnel has been up before, so it keeps trying` };
    this.#refusalsInARow++;
    if (this.#refusalsInARow >= this.#threshold) {
      return { kind: 'exit', message: this.#fix(close, `the handshake was refused ${this.#refusalsInARow} times in a row`) };
    }
    return { kind: 'retry', message: `${this.#unauthenticated(close)} (${this.#refusalsInARow} of ${this.#threshold} before giving up)` };
  }

  #unauthenticated(close: ClosedConnection): string {
    const what = close.by === 'peer' ? `the server closed the handshake (${closeCodeName(close.code)}: ${close.reason})` : `the server's answer did not check out (${close.reason})`;
    return `${what}; not trusted yet — it was not authenticated and a corrupted or forged message looks the same — reconnecting`;
  }

  #transient(close: ClosedConnection): string {
    const kept = close.wasAuthorized ? '; the adapter keeps its address' : '';
    const code = closeCodeName(close.code);
    // BUSY: the server turned the handshake away before any work (this address's handshake budget, or its load); never a strike.
    if (close.code === CloseCode.BUSY) return `the server is busy (its handshake budget for this address is spent, or it is under load: ${close.reason}); reconnecting${kept}`;
    if (close.by === 'network') return `connection lost (${close.reason}); reconnecting${kept}`;
    if (close.by === 'local') {
      if (close.code === CloseCode.INTEGRITY_FAILURE || close.code === CloseCode.PROTOCOL_ERROR || close.code === CloseCode.FRAME_TOO_LARGE) {
        return `a frame from the server failed its checks (${code}: ${close.reason}), corrupted or altered on the way; reconnecting${kept}`;
      }
      if (close.code === CloseCode.TIMEOUT) return `the server went silent (${close.reason}); reconnecting${kept}`;
      if (close.code === CloseCode.KEY_EXPIRED) return `session keys reached their lifetime; reconnecting with fresh ones${kept}`;
      return `connection closed (${code}: ${close.reason}); reconnecting${kept}`;
    }
    if (close.code === CloseCode.STALE_TIMESTAMP) return `${close.reason}${kept}`;
    if (close.code === CloseCode.SHUTTING_DOWN) return `the server is shutting down or restarting (${close.reason}); reconnecting${kept}`;
    if (close.code === CloseCode.REPLACED && close.by === 'peer' && close.wasAuthorized) { // sealed: unauthenticated closes come "by network"
      return `another connection with this client's key took the tunnel over (${close.reason}): a second device or copy of this client using the same key — give each device its own key; reconnecting in 30 s or more, not at once, so the two do not knock each other off every second${kept}`;
    }
    return `the server closed the tunnel (${code}: ${close.reason}); reconnecting${kept} — when another copy of this client connects elsewhere, the server keeps only the newer tunnel`;
  }

  #fix(close: ClosedConnection, what: string): string {
    const code = closeCodeName(close.code);
    const name = this.opts.name;
    switch (close.code) {
      case CloseCode.AUTHENTICATION_FAILURE:
        return `${what} (${code}: ${close.reason}). Fix one of: the server's [[clients]] must list name = "${name}" with public_key = "${this.opts.publicKey}" (tapvpn pubkey < our key file); and server.public_key here must be the server's key (tapvpn pubkey < the server's key file). Then start the client again`;
      case CloseCode.POLICY:
        return `${what} (${code}: ${close.reason}). The server's policy does not admit client "${name}" (disabled, or not allowed on this path): enable it in the server's [[clients]] (enabled = true) and reload the server (SIGHUP), then start the client again`;
      case CloseCode.NO_COMMON_SUITE:
        return `${what} (${code}: ${close.reason}). No cipher suite is allowed on both sides: make this client's suites and the server's (or this client's entry's) suites share one, then start the client again`;
      default:
        return `${what} (${code}: ${close.reason}). The server speaks another protocol version: upgrade the older of the two, then start the client again`;
    }
  }
}
