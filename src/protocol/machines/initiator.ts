/**
 * The tunnel initiator (client) state machine, patent Fig. 11:
 * idle → tcp-open → send-relay → connect → response-wait → authorized →
 * close → dying → dead, with reconnect on key expiry. Pure: `handle(event,
 * nowMs)` returns actions and never throws; an event not allowed in the
 * current state closes with PROTOCOL_ERROR. docs/PROTOCOL.md has the diagram.
 *
 * Closing rules (PROTOCOL.md "Who may end a session"): only a close the
 * server authenticated — a refusal inside its RESPONSE, or a SEALED_CLOSE —
 * with a non-retryable code, or our own app's request, ends the session for
 * good (`final`, no reconnect). Everything else — a plain CLOSE of any code,
 * a framing, integrity or handshake failure, a timeout, a lost connection —
 * could be an attacker's or the network's doing, and we reconnect with
 * backoff.
 *
 * Every REQUEST carries mac1 (keyed by the server's public key) and, while
 * we hold a cookie from this server, mac2. A server under load answers a
 * REQUEST without a valid mac2 with a COOKIE: we open it (it is sealed to
 * our REQUEST's mac1, so a forged or misdirected one fails) and send the
 * same REQUEST again with mac2, once per connection. The cookie is kept for
 * the next connections while it is fresh.
 */
import { decodeLease } from '../frames/lease-codec.js';
import { CloseCode, closeCodeName, isRetryable } from '../frames/close-codes.js';
import { ProtocolError } from '../frames/errors.js';
import { FrameType, frameType } from '../frames/header.js';
import { parseClose } from '../frames/close.js';
import { encodeRelay } from '../frames/relay.js';
import { FLAG_IN_BAND_REKEY, encodeRequest, encodeRequestBody } from '../frames/request.js';
import { FLAG_OFFLOAD, parseRefusal, parseResponse, parseResponseBody } from '../frames/response.js';
import { encodeCapabilities } from '../frames/capabilities.js';
import { parseCookie } from '../frames/cookie.js';
import type { CookieGenerator, HandshakeInitiator, ProtocolCrypto, StaticKeyPair, SuiteName } from '../../crypto/port.js';
import { handshakePrologue } from '../prologue.js';
import { TunnelSession, type KeyLifetime } from '../session.js';
import { DEFAULT_TIMING, type Action, type Side, type TickEvent, type Timing } from './actions.js';
import { illegal } from './base.js';
import { EndpointMachine } from './endpoint.js';
import { Established } from './established.js';
import { reconnectBackoff, type Backoff } from '../../util/backoff.js';

export type InitiatorState = 'idle' | 'tcp-open' | 'send-relay' | 'connect' | 'response-wait' | 'authorized' | 'reconnect' | 'close' | 'dying' | 'dead';

export type InitiatorEvent =
  | { type: 'start' }
  | { type: 'tcpOpened' }
  /** A control frame (DATA goes through the data plane); an endpoint has one connection, so `from` is informational. */
  | { type: 'frame'; frame: Uint8Array; from?: Side }
  | TickEvent
  | { type: 'closeRequested'; code?: number; reason?: string }
  | { type: 'tcpClosed'; error?: Error; side?: Side; midFrame?: boolean }
  /** The stream could not be decoded, or a DATA frame did not open: close with its code. */
  | { type: 'decodeError'; error: ProtocolError; side?: Side };

export interface InitiatorOptions {
  crypto: ProtocolCrypto;
  local: StaticKeyPair;
  /** The server's pinned static public key. */
  serverPublicKey: Uint8Array;
  /** The name the server authorizes; it travels only inside the encrypted REQUEST. */
  name: string;
  /**
   * The RELAY origin for each connection: an opaque value, never the name
   * (RELAY is in clear on every hop). Default: 16 random hex digits per
   * connection, which relays and the server may log to tie hops together.
   */
  connectionId?: () => string;
  /** host:port of each hop; the last is the server. */
  path: string[];
  /** The server's name in REQUEST; defaults to the last hop. */
  destination?: string;
  /** Offered suites in preference order; defaults to crypto.suites. */
  suites?: readonly SuiteName[];
  /** Offer in-band rekeying (default true). */
  inBandRekey?: boolean;
  /** Offer OFFLOAD (DATA with TCP super-frames, capabilities.ts); default false. Ignored when clientData is given. */
  offload?: boolean;
  clientData?: Uint8Array;
  lifetime?: Partial<KeyLifetime>;
  timing?: Partial<Timing>;
  /** Backoff for reconnecting after a retryable close (src/util/backoff.ts, decorrelated jitter); false: never emit reconnect. */
  reconnect?: { minDelayMs: number; maxDelayMs: number; random?: () => number } | false;
}

/** How long a cookie is used: a little less than the 2 minutes its server secret surely lasts (src/crypto/cookie.ts). */
export const COOKIE_REUSE_MS = 115_000;

export const DEFAULT_RECONNECT: { minDelayMs: number; maxDelayMs: number; random?: () => number } = { minDelayMs: 1_000, maxDelayMs: 60_000 };

/**
 * How long we wait after the server closed our current tunnel with a sealed
 * REPLACED. Our own reconnects and renewals never see it on the connection
 * they use (the old connection is dead or no longer ours), so a sealed
 * REPLACED means another connection holding our key took over — usually a
 * second device given the same key. Reconnecting after the ordinary backoff
 * would knock that one off in turn, and the two would flap every second.
 */
export const REPLACED_HOLD_OFF_MS = 30_000;

/** Where the next connection goes: the server's pinned key and the path to it (failover changes it). */
export interface InitiatorTarget {
  serverPublicKey: Uint8Array;
  path: string[];
  destination?: string;
}

export class InitiatorMachine extends EndpointMachine<InitiatorState, InitiatorEvent> {
  private readonly timing: Timing;
  private relayFrame: Uint8Array = new Uint8Array(0);
  private destination: string;
  private serverPublicKey: Uint8Array;
  private path: string[];
  private handshake: HandshakeInitiator | undefined;
  private phaseSinceMs = 0;
  private readonly backoff: Backoff | undefined;
  /** The last attempt was refused as STALE_TIMESTAMP (cleared once authorized): a second one in a row backs off. */
  private staleBefore = false;
  private retryAtOnce = false;
  /** The server closed our tunnel with a sealed REPLACED: the next reconnect waits at least REPLACED_HOLD_OFF_MS. */
  private replacedBySealedClose = false;
  /** This connection's REQUEST as first sent (its mac1 is what a COOKIE is sealed to). */
  private request: { frame: Uint8Array; mac1: Uint8Array; cookieAnswered: boolean } | undefined;
  private cookies: CookieGenerator | undefined;
  /** The last cookie the server gave us, for later REQUESTs while it is fresh. */
  private cookie: { value: Uint8Array; receivedMs: number } | undefined;

  constructor(private readonly opts: InitiatorOptions) {
    super('idle');
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.serverPublicKey = opts.serverPublicKey;
    this.path = opts.path;
    this.destination = opts.destination ?? opts.path[opts.path.length - 1]!;
    const reconnect = opts.reconnect ?? DEFAULT_RECONNECT;
    this.backoff = reconnect === false ? undefined : reconnectBackoff({ minMs: reconnect.minDelayMs, maxMs: reconnect.maxDelayMs, random: reconnect.random });
  }

  /** Points the next connection at another server (failover between servers); a connection under way is not affected. */
  retarget(target: InitiatorTarget): void {
    this.serverPublicKey = target.serverPublicKey;
    this.cookies = undefined; // keyed by the server's key
    this.cookie = undefined;
    this.path = target.path;
    this.destination = target.destination ?? target.path[target.path.length - 1]!;
  }

  protected dispatch(event: InitiatorEvent, nowMs: number, actions: Action[]): void {
    const state = this.stateValue;
    if (state === 'dying' || state === 'dead') return this.whileClosed(event, nowMs, actions);
    switch (event.type) {
      case 'tick':
        return this.onTick(event, nowMs, actions);
      case 'closeRequested': {
        const code = event.code ?? CloseCode.NORMAL;
        this.closeIsFinal = !isRetryable(code); // our own app decided
        return void this.closeLocal(actions, code, event.reason ?? 'session ended by the user', nowMs, 'closeRequested');
      }
      case 'tcpClosed':
        // The connection is already gone: nothing to wait for in dying.
        this.closedBy(actions, 'network', CloseCode.ROUTING_FAILURE, event.error ? `connection lost: ${event.error.message}` : 'connection lost', nowMs, 'tcpClosed', 'dying');
        return this.die('tcpClosed', actions);
      case 'decodeError':
        return void this.closeLocal(actions, event.error.closeCode, event.error.message, nowMs, 'decodeError');
      case 'start':
        if (state === 'idle') return this.start(nowMs, actions);
        break;
      case 'tcpOpened':
        if (state === 'tcp-open') return this.sendRelayAndRequest(nowMs, actions);
        break;
      case 'frame':
        if (state === 'response-wait') return this.onResponseWaitFrame(event.frame, nowMs, actions);
        if (state === 'authorized') return this.onAuthorizedFrame(event.frame, nowMs, actions);
        break;
    }
    const { code, reason } = illegal(event.type, state);
    this.closeLocal(actions, code, reason, nowMs, event.type);
  }

  private start(nowMs: number, actions: Action[]): void {
    this.closeIsFinal = false;
    this.go('tcp-open', 'start');
    this.phaseSinceMs = nowMs;
    actions.push({ type: 'connect', address: this.path[0]! });
  }

  private sendRelayAndRequest(nowMs: number, actions: Action[]): void {
    this.go('send-relay', 'tcpOpened');
    this.relayFrame = encodeRelay({ origin: (this.opts.connectionId ?? randomConnectionId)(), hops: this.path });
    actions.push({ type: 'send', frame: this.relayFrame });
    this.go('connect', 'sent RELAY');
    const crypto = this.opts.crypto;
    this.handshake = crypto.createInitiator({
      local: this.opts.local,
      remoteStaticPublic: this.serverPublicKey,
      prologue: handshakePrologue(this.relayFrame, this.destination),
    });
    const body = encodeRequestBody({
      flags: this.opts.inBandRekey === false ? 0 : FLAG_IN_BAND_REKEY,
      initiatorName: this.opts.name,
      suites: this.offeredSuites().map((s) => crypto.suiteId(s)),
      clientData: this.opts.clientData ?? (this.opts.offload ? encodeCapabilities({ offload: true }) : new Uint8Array(0)),
    });
    const request = encodeRequest({ destination: this.destination, handshake: this.handshake.writeRequest(body) });
    this.cookies ??= crypto.createCookieGenerator(this.serverPublicKey);
    const fresh = this.cookie && nowMs - this.cookie.receivedMs < COOKIE_REUSE_MS ? this.cookie.value : undefined;
    this.request = { frame: request, mac1: this.cookies.stamp(request, fresh), cookieAnswered: false };
    actions.push({ type: 'send', frame: request });
    this.go('response-wait', 'sent REQUEST');
    this.phaseSinceMs = nowMs;
  }

  private offeredSuites(): readonly SuiteName[] {
    return this.opts.suites ?? this.opts.crypto.suites;
  }

  private onResponseWaitFrame(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    let type: FrameType;
    try {
      type = frameType(frame);
    } catch (error) {
      return void this.closeLocalError(actions, error, nowMs, 'frame');
    }
    if (type === FrameType.CLOSE) return this.onUnauthenticatedClose(frame, nowMs, actions);
    if (type === FrameType.COOKIE) return this.onCookie(frame, nowMs, actions);
    if (type !== FrameType.RESPONSE) {
      const { code, reason } = illegal(`frame type ${type}`, this.stateValue);
      return void this.closeLocal(actions, code, reason, nowMs, 'frame');
    }
    let keys;
    let payload: Uint8Array;
    try {
      ({ payload, keys } = this.handshake!.readResponse(parseResponse(frame).handshake));
    } catch (error) {
      // Retryable: one altered byte on the way looks exactly like a wrong server key.
      const reason = error instanceof ProtocolError ? error.message : 'RESPONSE did not authenticate (altered on the way, or the server key configured here is not the server\'s)';
      return void this.closeLocal(actions, CloseCode.AUTHENTICATION_FAILURE, reason, nowMs, 'RESPONSE');
    }
    try {
      const body = parseResponseBody(payload);
      const refusal = parseRefusal(body);
      if (refusal?.status === CloseCode.STALE_TIMESTAMP) return this.onStaleTimestamp(refusal.lastTimestamp, nowMs, actions);
      if (refusal) return this.onRefusal(refusal.status, refusal.reason, nowMs, actions);
      const suite = this.opts.crypto.suiteFromId(body.suite);
      if (!suite || !this.offeredSuites().includes(suite)) throw new ProtocolError('BAD_VALUE', `server chose suite ${body.suite}, which was not offered`);
      const inBandRekey = (body.flags & FLAG_IN_BAND_REKEY) !== 0 && this.opts.inBandRekey !== false;
      const lease = decodeLease(body.clientData);
      if ((body.flags & FLAG_OFFLOAD) !== 0 && !this.opts.offload) throw new ProtocolError('BAD_VALUE', 'server turned OFFLOAD on, which was not offered');
      const offload = (body.flags & FLAG_OFFLOAD) !== 0;
      const session = new TunnelSession({ crypto: this.opts.crypto, suite, keys, nowMs, inBandRekey, offload, lifetime: this.opts.lifetime });
      this.established = new Established(session, this.timing, nowMs, 'expired');
      this.handshake = undefined;
      this.staleBefore = false;
      this.request = undefined;
      this.backoff?.reset();
      this.go('authorized', 'RESPONSE');
      // A first sealed frame at once: the server lets a new connection replace our live one only after one (a replayed
      // REQUEST cannot produce it), so a reconnect after a dead connection is not held up until the keepalive interval.
      actions.push({ type: 'send', frame: session.sealKeepalive() });
      actions.push({ type: 'authorized', info: { suite, inBandRekey, offload, lease, peerPublicKey: this.serverPublicKey } });
    } catch (error) {
      this.closeLocalError(actions, error, nowMs, 'RESPONSE');
    }
  }

  /**
   * The server is under load and wants mac2: the same REQUEST again (a copy —
   * the first may still be queued for the socket) with mac2 under the cookie.
   * A second COOKIE, or one that does not open, closes this connection
   * (PROTOCOL_ERROR: retried with backoff, as any frame that fails its checks).
   */
  private onCookie(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    const request = this.request!;
    if (request.cookieAnswered) return void this.closeLocal(actions, CloseCode.PROTOCOL_ERROR, 'a second COOKIE on one connection', nowMs, 'COOKIE');
    let cookie: Uint8Array | undefined;
    try {
      cookie = this.cookies!.openReply(parseCookie(frame).sealed, request.mac1);
    } catch (error) {
      return void this.closeLocalError(actions, error, nowMs, 'COOKIE');
    }
    if (!cookie) return void this.closeLocal(actions, CloseCode.PROTOCOL_ERROR, 'COOKIE did not authenticate (forged, altered, or not for our REQUEST)', nowMs, 'COOKIE');
    this.cookie = { value: cookie, receivedMs: nowMs };
    request.cookieAnswered = true;
    const again = request.frame.slice();
    this.cookies!.stamp(again, cookie);
    actions.push({ type: 'send', frame: again });
  }

  private onAuthorizedFrame(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    const decision = this.established!.onFrame(frame, nowMs, actions);
    if (!decision) return;
    if (decision.by === 'local') return void this.closeLocal(actions, decision.code, decision.reason, nowMs, 'frame');
    if (!decision.authenticated) return void this.closedUnauthenticated(decision.code, decision.reason, nowMs, actions);
    this.closeIsFinal = !isRetryable(decision.code);
    this.replacedBySealedClose = decision.code === CloseCode.REPLACED;
    this.closedBy(actions, 'peer', decision.code, decision.reason, nowMs, 'SEALED_CLOSE received', 'dying');
  }

  /** The server refused us inside its RESPONSE, which the handshake authenticated: final unless the code says to retry. */
  private onRefusal(code: number, reason: string, nowMs: number, actions: Action[]): void {
    this.handshake = undefined;
    this.closeIsFinal = !isRetryable(code);
    this.closedBy(actions, 'peer', code, reason, nowMs, 'RESPONSE refused', 'dying');
  }

  /**
   * The server (authenticated by this RESPONSE) holds a newer timestamp of
   * ours than the one we sent: we were restarted with the clock behind. Our
   * timestamps only need to increase, so the next REQUEST goes past the one
   * it holds, at once — unless the previous attempt ended the same way
   * (then the floor did not help, and we back off like any retry).
   */
  private onStaleTimestamp(lastTimestamp: Uint8Array | undefined, nowMs: number, actions: Action[]): void {
    const raised = lastTimestamp !== undefined && this.opts.crypto.raiseTimestampFloor(lastTimestamp);
    this.retryAtOnce = raised && !this.staleBefore;
    this.staleBefore = true;
    this.handshake = undefined;
    this.closeIsFinal = false;
    const why = raised ? 'moving our handshake timestamps past it and retrying' : 'the refusal carries no usable timestamp; retrying with backoff';
    this.closedBy(actions, 'peer', CloseCode.STALE_TIMESTAMP, `the server holds a newer handshake timestamp of ours (this host's clock is behind the last connection's): ${why}`, nowMs, 'RESPONSE refused', 'dying');
  }

  /** A plain CLOSE: anyone on the path can send one, so it ends this connection and we try again. */
  private onUnauthenticatedClose(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    try {
      const close = parseClose(frame);
      this.closedUnauthenticated(close.status, close.reason, nowMs, actions);
    } catch (error) {
      this.closeLocalError(actions, error, nowMs, 'CLOSE');
    }
  }

  private closedUnauthenticated(code: number, reason: string, nowMs: number, actions: Action[]): void {
    this.closeIsFinal = false;
    this.closedBy(actions, 'network', code, `unauthenticated CLOSE ${closeCodeName(code)} (not proven to be the server's; retrying): ${reason}`, nowMs, 'CLOSE received', 'dying');
  }

  private onTick(tick: TickEvent, nowMs: number, actions: Action[]): void {
    const state = this.stateValue;
    if (state === 'tcp-open' || state === 'response-wait') {
      if (nowMs - this.phaseSinceMs >= this.timing.handshakeTimeoutMs) {
        this.closeLocal(actions, CloseCode.TIMEOUT, `no ${state === 'tcp-open' ? 'connection' : 'RESPONSE'} within ${this.timing.handshakeTimeoutMs} ms`, nowMs, 'tick');
      }
      return;
    }
    if (state !== 'authorized') return;
    const decision = this.established!.onTick(tick, nowMs, actions);
    if (!decision) return;
    if (decision.code === CloseCode.KEY_EXPIRED) {
      // patent Fig. 11: the Reconnect state sends CLOSE, disconnects, then opens again (after dead)
      this.closeWith(actions, decision.code, decision.reason, nowMs, [undefined], 'key expired', 'reconnect', 'dying');
      return;
    }
    this.closeLocal(actions, decision.code, decision.reason, nowMs, 'tick');
  }

  /** dying: wait for tcpClosed (or the linger timeout) → dead, then maybe reconnect; dead: only start. */
  private whileClosed(event: InitiatorEvent, nowMs: number, actions: Action[]): void {
    if (this.stateValue === 'dying') {
      const lingerOver = event.type === 'tick' && nowMs - this.dyingSinceMs >= this.timing.lingerTimeoutMs;
      if (event.type === 'tcpClosed' || lingerOver) this.die(event.type, actions);
      return;
    }
    if (event.type === 'start') {
      this.go('idle', 'start');
      this.established = undefined;
      this.closeCode = undefined;
      this.start(nowMs, actions);
    }
    // other events in dead: ignored (nothing is connected)
  }

  private die(event: string, actions: Action[]): void {
    this.go('dead', event);
    const code = this.closeCode ?? CloseCode.NORMAL;
    if (!this.backoff || this.closeIsFinal) return;
    const atOnce = code === CloseCode.KEY_EXPIRED || this.retryAtOnce;
    this.retryAtOnce = false;
    if (atOnce) return void actions.push({ type: 'reconnect', delayMs: 0 });
    const holdOffMs = this.replacedBySealedClose ? REPLACED_HOLD_OFF_MS : 0;
    this.replacedBySealedClose = false;
    actions.push({ type: 'reconnect', delayMs: Math.max(holdOffMs, this.backoff.next()) });
  }

  protected closeOnError(actions: Action[], code: number, reason: string, nowMs: number, event: string): void {
    this.closeLocal(actions, code, reason, nowMs, event);
  }

  private closeLocal(actions: Action[], code: number, reason: string, nowMs: number, event: string): Action[] {
    const connected = this.stateValue !== 'idle' && this.stateValue !== 'tcp-open';
    if (this.stateValue === 'idle') {
      // Nothing is connected: straight to dead, reporting the error.
      this.closeCode = code;
      this.closeReason = reason;
      actions.push({ type: 'close', code, reason, by: 'local' });
      this.go('dead', event);
      return actions;
    }
    return this.closeWith(actions, code, reason, nowMs, connected ? [undefined] : [], event, 'close', 'dying');
  }

  private closeLocalError(actions: Action[], error: unknown, nowMs: number, event: string): Action[] {
    if (error instanceof ProtocolError) return this.closeLocal(actions, error.closeCode, error.message, nowMs, event);
    return this.closeLocal(actions, CloseCode.INTERNAL_ERROR, String(error), nowMs, event);
  }
}

/** 8 random bytes as hex: an opaque RELAY origin that names no one. */
function randomConnectionId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
