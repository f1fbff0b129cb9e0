/**
 * The tunnel server state machine for one accepted connection, patent
 * Fig. 12: accept-wait → receive-relay → connect-wait → authorize →
 * authorized → close → dying → dead. Pure: `handle(event, nowMs)` returns
 * actions and never throws. The server answers only after the Noise message
 * decrypted (the client proved its static key), the injected `authorize`
 * accepted the (name, key) pair and its timestamp is fresh; a known client
 * it refuses gets the refusal inside its RESPONSE (authenticated, readable
 * only by that client), anyone else a plain CLOSE whose reason is just the
 * code's name — policy detail goes to the log only.
 *
 * Before any Diffie-Hellman a REQUEST must pass two cheap gates (issue 10
 * item 8, docs/SECURITY.md "Handshake floods"): its mac1 (a keyed hash under
 * our public key: junk and REQUESTs for another server stop here), then the
 * server-wide `admit` — a per-source budget and, under load, a valid mac2,
 * which a client without one earns by a COOKIE on this same connection
 * (once). A client key we do not know is refused with a plain CLOSE, with no
 * RESPONSE to seal: no second DH for an attacker's made-up key, and the same
 * answer whether the name exists or not.
 */
import type { Lease } from '../../lease.js';
import { CloseCode, closeCodeName } from '../frames/close-codes.js';
import { parseClose } from '../frames/close.js';
import { ProtocolError } from '../frames/errors.js';
import { FrameType, frameType } from '../frames/header.js';
import { canonicalHop } from '../frames/names.js';
import { encodeLease } from '../frames/lease-codec.js';
import { parseRelay, type RelayRepr } from '../frames/relay.js';
import { FLAG_IN_BAND_REKEY, parseRequest, parseRequestBody } from '../frames/request.js';
import { FLAG_OFFLOAD, encodeRefusalBody, encodeResponse, encodeResponseBody, type RefusalRepr } from '../frames/response.js';
import { decodeCapabilities } from '../frames/capabilities.js';
import { encodeCookie } from '../frames/cookie.js';
import type { CookieChecker, HandshakeResponder, ProtocolCrypto, ReplayGuard, StaticKeyPair, SuiteName } from '../../crypto/port.js';
import { handshakePrologue } from '../prologue.js';
import { TunnelSession, type KeyLifetime } from '../session.js';
import { DEFAULT_TIMING, type Action, type Refusal, type Side, type TickEvent, type Timing } from './actions.js';
import { illegal } from './base.js';
import { EndpointMachine } from './endpoint.js';
import { Established } from './established.js';

export type ServerState = 'accept-wait' | 'receive-relay' | 'connect-wait' | 'authorize' | 'authorized' | 'close' | 'dying' | 'dead';

export type ServerEvent =
  | { type: 'accepted' }
  /** A control frame (DATA goes through the data plane); `from` is informational. */
  | { type: 'frame'; frame: Uint8Array; from?: Side }
  | TickEvent
  /** `refusal`: the app turns the connection away (connection limits) before it carried a tunnel. */
  | { type: 'closeRequested'; code?: number; reason?: string; refusal?: Refusal }
  | { type: 'tcpClosed'; error?: Error; side?: Side; midFrame?: boolean }
  /** The stream could not be decoded, or a DATA frame did not open: close with its code. */
  | { type: 'decodeError'; error: ProtocolError; side?: Side };

export interface AuthorizeRequest {
  /** The initiator name from the (decrypted) REQUEST. */
  name: string;
  /** The static key the client proved in the handshake. */
  publicKey: Uint8Array;
  destination: string;
  path: RelayRepr;
  clientData: Uint8Array;
}

export type AuthorizeResult =
  | { ok: true; lease: Lease; suites?: readonly SuiteName[]; inBandRekey?: boolean; policy?: unknown }
  /**
   * e.g. AUTHENTICATION_FAILURE for an unknown (name, key), POLICY for a
   * disabled client. `reason` goes to the client, sealed in the RESPONSE
   * (keep it free of policy detail); `detail` only to the server's log.
   */
  | { ok: false; code: number; reason?: string; detail?: string };

/**
 * What the server-wide handshake gate says of a REQUEST whose mac1 was right
 * (src/server/handshake-gate.ts): do the DH, answer with a COOKIE (under
 * load, no valid mac2), or refuse it BUSY (this source's budget is spent).
 */
export type HandshakeAdmission = 'proceed' | 'cookie' | 'busy';

export interface ServerOptions {
  crypto: ProtocolCrypto;
  local: StaticKeyPair;
  /** Shared by all connections of the server: REQUEST replay protection. */
  replayGuard: ReplayGuard;
  authorize(request: AuthorizeRequest): AuthorizeResult;
  /** Our names (host:port); when given, RELAY's last hop and REQUEST's destination must be one of them. */
  names?: readonly string[];
  /** Suite preference (the server's wins); defaults to crypto.suites. */
  suites?: readonly SuiteName[];
  /** Allow in-band rekeying (default true). */
  inBandRekey?: boolean;
  /** Accept OFFLOAD from initiators that offer it (DATA with TCP super-frames); default false. */
  offload?: boolean;
  lifetime?: Partial<KeyLifetime>;
  timing?: Partial<Timing>;
  /** mac1/mac2 checks and COOKIE replies; one per server (its secret rotates). Default: one of this machine's own. */
  cookies?: CookieChecker;
  /** The peer's address as the carrier saw it (a relay's, for relayed clients): what a cookie is bound to. */
  source?: string;
  /** Asked once mac1 is right, before any DH. Default: always proceed. */
  admit?(request: { mac2Valid: boolean }, nowMs: number): HandshakeAdmission;
  /**
   * Close a session this old with a sealed KEY_EXPIRED (retryable: the
   * client reconnects at once, with a fresh handshake). The client
   * re-handshakes before it on a second connection; this bounds a client
   * that does not. Default: no limit.
   */
  maxSessionAgeMs?: number;
  /**
   * Asked at each rekey, either direction (noticed at the next event, at
   * most a tick later): may this client keep its tunnel under the current
   * configuration? false closes it with a sealed POLICY (not retryable).
   */
  stillAllowed?(): boolean;
}

export class ServerMachine extends EndpointMachine<ServerState, ServerEvent> {
  private readonly timing: Timing;
  private relayFrame: Uint8Array | undefined;
  private path: RelayRepr | undefined;
  private phaseSinceMs = 0;
  /** Our names in the spelling hops are compared in (canonicalHop); undefined: any name. */
  private readonly names: readonly string[] | undefined;
  private readonly cookies: CookieChecker;
  /** One COOKIE per connection: a peer that does not use it is not answered twice. */
  private cookieSent = false;
  private authorizedAtMs = 0;
  /** Rekeys (sent + received) already checked against the policy. */
  private rekeysChecked = 0;

  constructor(private readonly opts: ServerOptions) {
    super('accept-wait');
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.names = opts.names?.map(canonicalHop);
    this.cookies = opts.cookies ?? opts.crypto.createCookieChecker(opts.local);
  }

  protected dispatch(event: ServerEvent, nowMs: number, actions: Action[]): void {
    const state = this.stateValue;
    if (state === 'dying') {
      if (event.type === 'tcpClosed' || (event.type === 'tick' && nowMs - this.dyingSinceMs >= this.timing.lingerTimeoutMs)) this.go('dead', event.type);
      return;
    }
    if (state === 'dead') return;
    switch (event.type) {
      case 'accepted':
        if (state !== 'accept-wait') break;
        this.go('receive-relay', 'accepted');
        this.phaseSinceMs = nowMs;
        return;
      case 'tick':
        return this.onTick(event, nowMs, actions);
      case 'closeRequested':
        return void this.closeLocal(actions, event.code ?? CloseCode.SHUTTING_DOWN, event.reason ?? 'server shutting down', nowMs, 'closeRequested', event.refusal);
      case 'tcpClosed': {
        const refusal: Refusal | undefined = state === 'authorized' ? undefined : event.midFrame ? 'truncated' : 'closed-before-relay';
        this.closedBy(actions, 'network', CloseCode.ROUTING_FAILURE, 'connection lost', nowMs, 'tcpClosed', 'dying', refusal);
        return this.go('dead', 'disconnected'); // already gone: nothing to wait for
      }
      case 'decodeError':
        return void this.closeLocal(actions, event.error.closeCode, event.error.message, nowMs, 'decodeError', this.refusalFor(event.error));
      case 'frame':
        if (state === 'accept-wait') break;
        return this.onFrame(event.frame, nowMs, actions);
    }
    const { code, reason } = illegal(event.type, state);
    this.closeLocal(actions, code, reason, nowMs, event.type);
  }

  private onFrame(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    if (this.stateValue === 'authorized') {
      const decision = this.established!.onFrame(frame, nowMs, actions);
      if (!decision) return this.recheckAtRekey(nowMs, actions);
      if (decision.by === 'peer') {
        const by = decision.authenticated ? 'peer' : 'network'; // a plain CLOSE once authorized proves nothing about who sent it
        this.closedBy(actions, by, decision.code, decision.authenticated ? decision.reason : `unauthenticated CLOSE: ${decision.reason}`, nowMs, 'CLOSE received', 'dying');
      }
      else this.closeLocal(actions, decision.code, decision.reason, nowMs, 'frame');
      return;
    }
    try {
      const type = frameType(frame);
      if (type === FrameType.CLOSE) {
        const close = parseClose(frame);
        return void this.closedBy(actions, 'peer', close.status, close.reason, nowMs, 'CLOSE received', 'dying');
      }
      if (this.stateValue === 'receive-relay' && type === FrameType.RELAY) return this.onRelay(frame, nowMs, actions);
      if (this.stateValue === 'connect-wait' && type === FrameType.REQUEST) return this.onRequest(frame, nowMs, actions);
      const { code, reason } = illegal(`frame type ${type}`, this.stateValue);
      this.closeLocal(actions, code, reason, nowMs, 'frame', 'malformed');
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.closeLocal(actions, error.closeCode, error.message, nowMs, 'frame', this.refusalFor(error));
    }
  }

  /** Before authorization every failure turns the connection away; after it, none is a refusal. */
  private refusalFor(error: ProtocolError): Refusal | undefined {
    if (this.stateValue === 'authorized') return undefined;
    return error.code === 'FRAME_TOO_LARGE' ? 'frame-too-large' : 'malformed';
  }

  private onRelay(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    const path = parseRelay(frame);
    const last = path.hops[path.hops.length - 1]!;
    if (this.names && !this.names.includes(canonicalHop(last))) {
      return void this.closeLocal(actions, CloseCode.ROUTING_FAILURE, `path ends at ${last}, not at this server`, nowMs, 'RELAY', 'not-this-server');
    }
    this.relayFrame = frame.slice(); // the prologue needs it after this event
    this.path = path;
    this.go('connect-wait', 'RELAY');
    this.phaseSinceMs = nowMs;
  }

  private onRequest(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    this.go('authorize', 'REQUEST');
    const fail = (code: number, reason: string, refusal: Refusal): void => void this.closeLocal(actions, code, reason, nowMs, 'REQUEST', refusal);
    const request = parseRequest(frame);
    if (!this.cookies.checkMac1(frame)) {
      return fail(CloseCode.AUTHENTICATION_FAILURE, 'REQUEST mac1 is wrong (not made for this server key, or junk): refused before any DH', 'bad-mac1');
    }
    if (this.names && !this.names.includes(canonicalHop(request.destination))) {
      return fail(CloseCode.ROUTING_FAILURE, `REQUEST for ${request.destination}, not this server`, 'not-this-server');
    }
    if (!this.admitted(frame, nowMs, actions)) return;
    const responder = this.opts.crypto.createResponder({ local: this.opts.local, prologue: handshakePrologue(this.relayFrame!, request.destination) });
    let opened;
    try {
      opened = responder.readRequest(request.handshake);
    } catch {
      return fail(CloseCode.AUTHENTICATION_FAILURE, 'REQUEST did not decrypt (not for this server key, or tampered)', 'authentication');
    }
    const body = parseRequestBody(opened.payload);
    const verdict = this.opts.authorize({ name: body.initiatorName, publicKey: opened.remoteStaticPublic, destination: request.destination, path: this.path!, clientData: body.clientData });
    if (!verdict.ok) {
      const reason = verdict.reason ?? 'not authorized';
      const detail = verdict.detail ?? `client "${body.initiatorName}": ${reason}`;
      // Unknown name or key: a plain CLOSE, not a sealed RESPONSE — no DH for a made-up key, and nothing the peer could tell a name by.
      if (verdict.code === CloseCode.AUTHENTICATION_FAILURE) return fail(CloseCode.AUTHENTICATION_FAILURE, detail, 'authentication');
      return this.refuse(responder, { status: verdict.code, reason }, detail, 'policy', nowMs, actions);
    }
    // Only now, for a client we know: unknown keys never touch the replay table, so they cannot push a real client's entry out.
    if (!this.opts.replayGuard.accept(opened.remoteStaticPublic, opened.timestamp)) {
      // Sealed, with the timestamp we hold: a client restarted with its clock behind moves past it and retries at once; a replayer
      // lacks the REQUEST's ephemeral key, so it can read nothing and gains nothing (docs/CRYPTO.md "Stale timestamps").
      const lastTimestamp = this.opts.replayGuard.lastAccepted(opened.remoteStaticPublic);
      const detail = `REQUEST of "${body.initiatorName}" has a timestamp not newer than the last accepted (a replay, or the client's clock is behind)`;
      return this.refuse(responder, { status: CloseCode.STALE_TIMESTAMP, reason: 'stale timestamp', ...(lastTimestamp ? { lastTimestamp } : {}) }, detail, 'stale-timestamp', nowMs, actions);
    }
    const crypto = this.opts.crypto;
    const preference = verdict.suites ?? this.opts.suites ?? crypto.suites;
    const suite = preference.find((s) => body.suites.includes(crypto.suiteId(s)));
    if (!suite) {
      const reason = `none of the offered suites [${body.suites.join(', ')}] is allowed`;
      return this.refuse(responder, { status: CloseCode.NO_COMMON_SUITE, reason }, `client "${body.initiatorName}": ${reason}`, 'policy', nowMs, actions);
    }
    const inBandRekey = (body.flags & FLAG_IN_BAND_REKEY) !== 0 && this.opts.inBandRekey !== false && verdict.inBandRekey !== false;
    const offload = this.opts.offload === true && decodeCapabilities(body.clientData).offload;
    const flags = (inBandRekey ? FLAG_IN_BAND_REKEY : 0) | (offload ? FLAG_OFFLOAD : 0);
    const responseBody = encodeResponseBody({ flags, suite: crypto.suiteId(suite), clientData: encodeLease(verdict.lease) });
    const { message, keys } = responder.writeResponse(responseBody);
    actions.push({ type: 'send', frame: encodeResponse({ handshake: message }) });
    const session = new TunnelSession({ crypto, suite, keys, nowMs, inBandRekey, offload, lifetime: this.opts.lifetime });
    // Without in-band rekey the initiator reconnects at the soft limit; we close only at the hard one.
    this.established = new Established(session, this.timing, nowMs, 'exhausted');
    this.authorizedAtMs = nowMs;
    this.go('authorized', 'sent RESPONSE');
    actions.push({
      type: 'authorized',
      info: { suite, inBandRekey, offload, lease: verdict.lease, peerPublicKey: opened.remoteStaticPublic, peerName: body.initiatorName, path: this.path!, policy: verdict.policy },
    });
  }

  /**
   * Refuses a client whose REQUEST decrypted, inside a RESPONSE: the refusal
   * is sealed by the handshake, so the client can believe it (and stop for
   * good on a non-retryable code), and nobody else can read it. `reason`
   * goes to the client; `detail` only to our log. No CLOSE follows.
   */
  private refuse(responder: HandshakeResponder, refused: RefusalRepr, detail: string, refusal: Refusal, nowMs: number, actions: Action[]): void {
    const { message, keys } = responder.writeResponse(encodeRefusalBody(refused));
    keys.sendKey.fill(0); // no session follows
    keys.receiveKey.fill(0);
    actions.push({ type: 'send', frame: encodeResponse({ handshake: message }) });
    this.closeWith(actions, refused.status, detail, nowMs, [], 'REQUEST refused', 'close', 'dying', refusal);
  }


  /**
   * The server-wide gate, before any DH: true to go on. Under load a REQUEST
   * without a valid mac2 gets a COOKIE and the connection waits for the
   * REQUEST again (same state, same handshake deadline); the second time it
   * is refused. Over this source's budget: BUSY.
   */
  private admitted(frame: Uint8Array, nowMs: number, actions: Action[]): boolean {
    const source = this.opts.source ?? 'unknown';
    const mac2Valid = this.cookies.checkMac2(frame, source, nowMs);
    const admission = this.opts.admit?.({ mac2Valid }, nowMs) ?? 'proceed';
    if (admission === 'proceed') return true;
    if (admission === 'busy') {
      this.closeLocal(actions, CloseCode.BUSY, `handshake budget of ${source} spent: refused before any DH`, nowMs, 'REQUEST', 'handshake-rate');
      return false;
    }
    if (this.cookieSent) {
      this.closeLocal(actions, CloseCode.BUSY, 'under load: REQUEST without a valid mac2 after its COOKIE', nowMs, 'REQUEST', 'cookie-required');
      return false;
    }
    this.cookieSent = true;
    actions.push({ type: 'send', frame: encodeCookie({ sealed: this.cookies.reply(frame, source, nowMs) }) });
    this.go('connect-wait', 'sent COOKIE'); // the handshake deadline still runs from the RELAY
    return false;
  }

  private onTick(tick: TickEvent, nowMs: number, actions: Action[]): void {
    const state = this.stateValue;
    if (state === 'receive-relay' || state === 'connect-wait') {
      if (nowMs - this.phaseSinceMs >= this.timing.handshakeTimeoutMs) {
        this.closeLocal(actions, CloseCode.TIMEOUT, `no ${state === 'receive-relay' ? 'RELAY' : 'REQUEST'} within ${this.timing.handshakeTimeoutMs} ms`, nowMs, 'tick', 'setup-timeout');
      }
      return;
    }
    if (state !== 'authorized') return;
    const maxAgeMs = this.opts.maxSessionAgeMs;
    if (maxAgeMs !== undefined && nowMs - this.authorizedAtMs >= maxAgeMs) {
      return void this.closeLocal(actions, CloseCode.KEY_EXPIRED, `session older than ${Math.round(maxAgeMs / 1000)} s: a fresh handshake is due`, nowMs, 'tick');
    }
    const decision = this.established!.onTick(tick, nowMs, actions);
    if (decision) return void this.closeLocal(actions, decision.code, decision.reason, nowMs, 'tick');
    this.recheckAtRekey(nowMs, actions); // our REKEY from this tick, or one the data plane put in front of a DATA frame
  }

  /** At each new rekey, either direction: the client must still be allowed (a REKEY is a local ratchet that authorizes nothing). */
  private recheckAtRekey(nowMs: number, actions: Action[]): void {
    const stats = this.established?.session.stats;
    if (!stats || !this.opts.stillAllowed || this.stateValue !== 'authorized') return;
    const rekeys = stats.rekeysSent + stats.rekeysReceived;
    if (rekeys === this.rekeysChecked) return;
    this.rekeysChecked = rekeys;
    if (!this.opts.stillAllowed()) this.closeLocal(actions, CloseCode.POLICY, 'client no longer authorized', nowMs, 'rekey');
  }

  /** Before authorization the peer is anonymous: a CLOSE names only its code; the detail stays in our log (the close action). */
  protected override wireReason(code: number): string {
    return closeCodeName(code).toLowerCase().replace(/_/g, ' ');
  }

  protected closeOnError(actions: Action[], code: number, reason: string, nowMs: number, event: string): void {
    this.closeLocal(actions, code, reason, nowMs, event);
  }

  private closeLocal(actions: Action[], code: number, reason: string, nowMs: number, event: string, refusal?: Refusal): Action[] {
    const connected = this.stateValue !== 'accept-wait';
    return this.closeWith(actions, code, reason, nowMs, connected ? [undefined] : [], event, 'close', 'dying', this.stateValue === 'authorized' ? undefined : refusal);
  }
}
