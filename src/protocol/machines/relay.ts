/**
 * The tunnel relay state machine for one incoming connection, patent
 * Fig. 13: accept-wait → receive-relay → choose-next-hop → forward-connect →
 * forward → dying → dead. The relay reads only the RELAY frame (to find its
 * own name and the next hop) and the type byte of what it forwards (to see a
 * CLOSE); it cannot read or alter REQUEST/RESPONSE/DATA without breaking the
 * end-to-end handshake or digests. Pure: `handle` returns actions, never throws.
 *
 * The RELAY checks are all here, each refusal with a typed `Refusal` on its
 * close action: not on the path, last hop, path too long, a loop (the path
 * names us twice, or the same RELAY frame comes back while we forward it),
 * setup and idle timeouts. Once forwarding, the driver passes frames straight
 * through (the data plane) and shows the machine only CLOSE frames.
 */
import { CloseCode } from '../frames/close-codes.js';
import { ProtocolError } from '../frames/errors.js';
import { FrameType, frameType } from '../frames/header.js';
import { MAX_FRAME_LENGTH, MAX_PATH_HOPS } from '../frames/limits.js';
import { canonicalHop } from '../frames/names.js';
import { parseRelay } from '../frames/relay.js';
import { readU16 } from '../../wire/bytes.js';
import { DEFAULT_TIMING, type Action, type Refusal, type Side, type TickEvent, type Timing } from './actions.js';
import { MachineBase } from './base.js';

export type RelayState = 'accept-wait' | 'receive-relay' | 'choose-next-hop' | 'forward-connect' | 'forward' | 'close' | 'dying' | 'dead';

export type RelayEvent =
  | { type: 'accepted' }
  | { type: 'frame'; from: Side; frame: Uint8Array }
  | { type: 'nextConnected' }
  /** `reason` goes to the peer (keep it generic); `refusal` defaults to next-hop-unreachable. */
  | { type: 'nextConnectFailed'; reason?: string; refusal?: Refusal }
  | TickEvent
  | { type: 'closeRequested'; code?: number; reason?: string; refusal?: Refusal }
  | { type: 'tcpClosed'; side: Side; error?: Error; midFrame?: boolean }
  | { type: 'decodeError'; side: Side; error: ProtocolError };

export interface RelayOptions {
  /** The names (host:port) this relay answers to in a RELAY path. */
  names: readonly string[];
  /** Maps the next hop's name to the address to connect to (load balancing, failover); default: the name. */
  chooseNextHop?: (name: string) => string;
  /** Bytes of frames queued from the previous node while the next connection opens. */
  maxPendingBytes?: number;
  /** Most hops a RELAY path may name (default MAX_PATH_HOPS). */
  maxPathLength?: number;
  /**
   * True when this exact RELAY frame is being forwarded by another of our
   * connections and got no answer yet: it came back to us, a loop through a
   * name of ours the config does not list (e.g. a DNS name for our address).
   */
  isInFlight?: (relayFrame: Uint8Array) => boolean;
  timing?: Partial<Timing>;
}

/** The initiator sends REQUEST right after RELAY: room for that, with margin. */
export const DEFAULT_MAX_PENDING_BYTES = 2 * MAX_FRAME_LENGTH;

export class RelayMachine extends MachineBase<RelayState, RelayEvent> {
  private readonly timing: Timing;
  /** Our names in the spelling hops are compared in (canonicalHop). */
  private readonly names: readonly string[];
  private relayFrame: Uint8Array | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private phaseSinceMs = 0;
  private nextOpen = false;
  private lastActivityMs = 0;
  /** The address chosen for the next hop (for logs). */
  nextHop: string | undefined;
  framesForwarded = 0;

  constructor(private readonly opts: RelayOptions) {
    super('accept-wait');
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.names = opts.names.map(canonicalHop);
  }

  protected dispatch(event: RelayEvent, nowMs: number, actions: Action[]): void {
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
      case 'frame':
        this.lastActivityMs = nowMs;
        if (event.from === 'previous' && state === 'receive-relay') return this.onRelay(event.frame, nowMs, actions);
        if (event.from === 'previous' && state === 'forward-connect') return this.queue(event.frame, nowMs, actions);
        if (state === 'forward') return this.forward(event.from, event.frame, nowMs, actions);
        break;
      case 'nextConnected':
        if (state !== 'forward-connect') break;
        return this.startForwarding(actions);
      case 'nextConnectFailed':
        if (state !== 'forward-connect') break;
        return void this.fail(actions, CloseCode.ROUTING_FAILURE, `cannot reach ${this.nextHop}: ${event.reason ?? 'connect failed'}`, nowMs, 'nextConnectFailed', event.refusal ?? 'next-hop-unreachable');
      case 'tick':
        return this.onTick(event, nowMs, actions);
      case 'closeRequested':
        return void this.fail(actions, event.code ?? CloseCode.SHUTTING_DOWN, event.reason ?? 'relay shutting down', nowMs, 'closeRequested', event.refusal);
      case 'tcpClosed': {
        // The other side learns the path broke; the ends will reconnect.
        const other: Side = event.side === 'previous' ? 'next' : 'previous';
        const notify = other === 'previous' || this.nextOpen ? [other] : [];
        const refusal: Refusal | undefined = state === 'receive-relay' ? (event.midFrame ? 'truncated' : 'closed-before-relay') : undefined;
        this.closeWith(actions, CloseCode.ROUTING_FAILURE, `${event.side} connection lost`, nowMs, notify, `tcpClosed ${event.side}`, 'close', 'dying', refusal);
        // The previous node left before a next connection existed: nothing is left to wait for.
        if (event.side === 'previous' && !this.nextOpen) this.go('dead', 'nothing connected');
        return;
      }
      case 'decodeError': {
        const refusal: Refusal | undefined = this.nextOpen ? undefined : event.error.code === 'FRAME_TOO_LARGE' ? 'frame-too-large' : 'malformed';
        return void this.fail(actions, event.error.closeCode, `${event.side}: ${event.error.message}`, nowMs, 'decodeError', refusal);
      }
    }
    this.fail(actions, CloseCode.PROTOCOL_ERROR, `${event.type}${event.type === 'frame' ? ` from ${event.from}` : ''} not allowed in state ${state}`, nowMs, event.type, this.nextOpen ? undefined : 'malformed');
  }

  private onTick(tick: TickEvent, nowMs: number, actions: Action[]): void {
    const state = this.stateValue;
    if ((state === 'receive-relay' || state === 'forward-connect') && nowMs - this.phaseSinceMs >= this.timing.handshakeTimeoutMs) {
      return void this.fail(actions, CloseCode.TIMEOUT, `${state} took over ${this.timing.handshakeTimeoutMs} ms`, nowMs, 'tick', 'setup-timeout');
    }
    const idleMs = nowMs - Math.max(this.lastActivityMs, tick.lastReceivedMs ?? 0);
    if (state === 'forward' && this.timing.idleTimeoutMs > 0 && idleMs >= this.timing.idleTimeoutMs) {
      this.fail(actions, CloseCode.TIMEOUT, `idle for ${Math.round(idleMs / 1000)} s`, nowMs, 'tick', 'idle-timeout');
    }
  }

  private onRelay(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    let hops: string[];
    try {
      if (frameType(frame) !== FrameType.RELAY) {
        return void this.fail(actions, CloseCode.PROTOCOL_ERROR, 'the first frame must be RELAY', nowMs, 'frame', 'malformed');
      }
      hops = parseRelay(frame).hops.map(canonicalHop); // compared in one spelling; the frame is forwarded as it came
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return void this.fail(actions, error.closeCode, error.message, nowMs, 'RELAY', error.code === 'PATH_LOOP' ? 'loop' : 'malformed');
    }
    this.go('choose-next-hop', 'RELAY');
    const refusal = this.checkPath(hops, frame);
    if (refusal) return void this.fail(actions, refusal.code, refusal.reason, nowMs, refusal.refusal, refusal.refusal);
    const index = hops.findIndex((hop) => this.names.includes(hop));
    this.relayFrame = frame.slice(); // forwarded unchanged once the next connection is up
    this.nextHop = (this.opts.chooseNextHop ?? ((n: string) => n))(hops[index + 1]!);
    this.go('forward-connect', 'next hop chosen');
    this.phaseSinceMs = nowMs;
    actions.push({ type: 'connect', address: this.nextHop });
  }

  /** The path checks, in the order a reader would ask them. */
  private checkPath(hops: readonly string[], frame: Uint8Array): { code: number; reason: string; refusal: Refusal } | undefined {
    const names = this.names;
    const maxPathLength = this.opts.maxPathLength ?? MAX_PATH_HOPS;
    if (hops.length > maxPathLength) {
      return { code: CloseCode.POLICY, reason: `path of ${hops.length} hops exceeds max_path_length ${maxPathLength}`, refusal: 'path-too-long' };
    }
    const index = hops.findIndex((hop) => names.includes(hop));
    if (index < 0) return { code: CloseCode.ROUTING_FAILURE, reason: 'this relay is not on the path', refusal: 'not-on-path' };
    if (hops.slice(index + 1).some((hop) => names.includes(hop))) {
      return { code: CloseCode.ROUTING_FAILURE, reason: 'the path names this relay twice (a loop)', refusal: 'loop' };
    }
    if (index === hops.length - 1) return { code: CloseCode.ROUTING_FAILURE, reason: 'this relay is the last hop; a path must end at a server', refusal: 'relay-is-last-hop' };
    if (this.opts.isInFlight?.(frame)) {
      return { code: CloseCode.ROUTING_FAILURE, reason: 'this RELAY frame came back while we forward it (a loop through an unlisted name of this relay)', refusal: 'loop' };
    }
    return undefined;
  }

  private queue(frame: Uint8Array, nowMs: number, actions: Action[]): void {
    const limit = this.opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    if (this.pendingBytes + frame.length > limit) {
      return void this.fail(actions, CloseCode.PROTOCOL_ERROR, `more than ${limit} bytes sent before the path was up`, nowMs, 'frame', 'malformed');
    }
    this.pending.push(frame.slice());
    this.pendingBytes += frame.length;
  }

  private startForwarding(actions: Action[]): void {
    this.nextOpen = true;
    this.go('forward', 'nextConnected');
    actions.push({ type: 'send', frame: this.relayFrame!, to: 'next' });
    for (const frame of this.pending) actions.push({ type: 'send', frame, to: 'next' });
    this.pending = [];
    this.pendingBytes = 0;
  }

  private forward(from: Side, frame: Uint8Array, nowMs: number, actions: Action[]): void {
    const to: Side = from === 'previous' ? 'next' : 'previous';
    actions.push({ type: 'send', frame, to });
    this.framesForwarded++;
    if (frame[4] === FrameType.CLOSE) {
      const status = frame.length >= 8 ? readU16(frame, 6) : CloseCode.PROTOCOL_ERROR;
      this.closedBy(actions, 'peer', status, `CLOSE from ${from} forwarded`, nowMs, `CLOSE from ${from}`, 'dying');
    } else if (frame[4] === FrameType.SEALED_CLOSE) {
      // The ends' own CLOSE: its status is encrypted; the tunnel is over either way.
      this.closedBy(actions, 'peer', CloseCode.NORMAL, `SEALED_CLOSE from ${from} forwarded`, nowMs, `SEALED_CLOSE from ${from}`, 'dying');
    }
  }

  /** Closes: CLOSE to the previous node (and to the next one if connected), then end both. */
  protected closeOnError(actions: Action[], code: number, reason: string, nowMs: number, event: string): void {
    this.fail(actions, code, reason, nowMs, event);
  }

  private fail(actions: Action[], code: number, reason: string, nowMs: number, event: string, refusal?: Refusal): void {
    const notify: Side[] = [];
    if (this.stateValue !== 'accept-wait') notify.push('previous');
    if (this.nextOpen) notify.push('next');
    this.closeWith(actions, code, reason, nowMs, notify, event, 'close', 'dying', refusal);
  }
}
