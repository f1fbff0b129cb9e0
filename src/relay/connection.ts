/**
 * One relayed connection: drives a RelayMachine (patent Fig. 13) over the
 * previous node's TCP connection and, once the RELAY frame named the next
 * hop, the connection the relay opens to it. Frames are forwarded as the
 * decoder yields them (views of the socket's chunks, never copied) and the
 * machine sees each one, so a CLOSE from either side ends both.
 *
 * Limits enforced here, each refusal logged with its reason and counted:
 * the RELAY frame's size (checked from its length field, before its body is
 * buffered), the path length, the idle time once forwarding. Back-pressure:
 * when one side's send queue passes MAX_QUEUED_BYTES the other side stops
 * being read until it drains, so a slow receiver cannot make the relay buffer
 * without bound.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { FrameDecoder } from '../protocol/decoder.js';
import { CloseCode, closeCodeName } from '../protocol/frames/close-codes.js';
import { ProtocolError } from '../protocol/frames/errors.js';
import { FrameType } from '../protocol/frames/header.js';
import { readU32 } from '../wire/bytes.js';
import { parseRelay } from '../protocol/frames/relay.js';
import type { Action, Side } from '../protocol/machines/actions.js';
import { RelayMachine } from '../protocol/machines/relay.js';
import { FrameSocket, type StreamDecoder } from '../io/frame-socket.js';
import { NEXT_HOP_UNAVAILABLE, type DialResult } from './dial.js';
import type { RelayCounters } from './counters.js';

const MAX_QUEUED_BYTES = 1024 * 1024;

export interface ConnectionLimits {
  maxPathLength: number;
  maxRelayFrameBytes: number;
  idleTimeoutMs: number;
  setupTimeoutMs: number;
}

export interface ConnectionDeps {
  names: readonly string[];
  limits: ConnectionLimits;
  counters: RelayCounters;
  log: Logger;
  dialNext(name: string): Promise<DialResult>;
  /**
   * RELAY frames (hex) this relay forwarded that got no answer from the next
   * hop yet. The same frame arriving again meanwhile is a loop through a
   * name of ours the config does not list (e.g. a DNS name for our address).
   */
  inFlight: Set<string>;
  /** Called once, when both connections are gone. */
  onDone(): void;
}

/** Checks the first frame's length field as soon as it arrives, then decodes as usual. */
class FirstFrameLimit implements StreamDecoder {
  get atBoundary(): boolean {
    return this.inner.atBoundary;
  }

  private readonly inner = new FrameDecoder();
  private head = new Uint8Array(4);
  private headBytes = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    if (this.headBytes < 4) {
      const take = Math.min(4 - this.headBytes, chunk.length);
      this.head.set(chunk.subarray(0, take), this.headBytes);
      this.headBytes += take;
      if (this.headBytes === 4 && readU32(this.head, 0) > this.maxBytes) {
        throw new ProtocolError('FRAME_TOO_LARGE', `RELAY frame of ${readU32(this.head, 0)} bytes exceeds max_relay_frame_bytes ${this.maxBytes}`);
      }
    }
    this.inner.push(chunk, onFrame);
  }
}

export class RelayConnection {
  readonly machine: RelayMachine;
  private readonly sides: Partial<Record<Side, FrameSocket>> = {};
  private readonly peer: string;
  private lastActivityMs = Date.now();
  private refusal: string | undefined;
  private done = false;
  private forwarding = false;
  private inFlightKey: string | undefined;

  constructor(
    socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.machine = new RelayMachine({ names: deps.names, timing: { handshakeTimeoutMs: deps.limits.setupTimeoutMs } });
    this.attach('previous', socket, new FirstFrameLimit(deps.limits.maxRelayFrameBytes));
    this.handle({ type: 'accepted' });
  }

  /** Refuses at once (connection limits): CLOSE with `code`, counted under `reason`. */
  refuse(reason: string, code: number, text: string): void {
    this.refusal = reason;
    this.handle({ type: 'closeRequested', code, reason: text });
  }

  /** Once a second: setup timeout (in the machine) and idle timeout (here). */
  tick(nowMs = Date.now()): void {
    if (this.machine.state === 'forward' && nowMs - this.lastActivityMs >= this.deps.limits.idleTimeoutMs) {
      this.refusal = 'idle-timeout';
      this.handle({ type: 'closeRequested', code: CloseCode.TIMEOUT, reason: `idle for ${Math.round((nowMs - this.lastActivityMs) / 1000)} s` }, nowMs);
      return;
    }
    this.handle({ type: 'tick' }, nowMs);
  }

  /** Relay stopping: CLOSE SHUTTING_DOWN both ways. */
  shutdown(): void {
    this.handle({ type: 'closeRequested', code: CloseCode.SHUTTING_DOWN, reason: 'relay shutting down' });
  }

  destroy(): void {
    this.sides.previous?.destroy();
    this.sides.next?.destroy();
  }

  private attach(side: Side, socket: Socket, decoder: StreamDecoder & { atBoundary: boolean }): void {
    const frames: FrameSocket = new FrameSocket(socket, decoder, {
      onFrame: (frame) => this.onFrame(side, frame),
      onDecodeError: (error) => this.onDecodeError(side, error),
      onClose: (_hadError, error) => {
        if (side === 'previous' && !this.forwarding && this.refusal === undefined && this.machine.state === 'receive-relay') {
          this.refusal = decoder.atBoundary ? 'closed-before-relay' : 'truncated';
        }
        this.handle({ type: 'tcpClosed', side, ...(error ? { error } : {}) });
        this.checkDone();
      },
    }, MAX_QUEUED_BYTES);
    this.sides[side] = frames;
  }

  private onFrame(side: Side, frame: Uint8Array): void {
    this.lastActivityMs = Date.now();
    if (side === 'next') this.clearInFlight();
    if (side === 'previous' && this.machine.state === 'receive-relay' && !this.checkRelayFrame(frame)) return;
    this.handle({ type: 'frame', from: side, frame });
  }

  private onDecodeError(side: Side, error: Error): void {
    const protocolError = error instanceof ProtocolError ? error : new ProtocolError('BAD_VALUE', error.message);
    if (!this.forwarding) this.refusal = protocolError.code === 'FRAME_TOO_LARGE' ? 'frame-too-large' : 'malformed';
    this.handle({ type: 'decodeError', side, error: protocolError });
  }

  /** The path-length limit; everything else about RELAY the machine checks. False when refused. */
  private checkRelayFrame(frame: Uint8Array): boolean {
    if (frame[4] !== FrameType.RELAY) return true; // the machine refuses it
    let hops: string[];
    try {
      hops = parseRelay(frame).hops;
    } catch (error) {
      this.refusal = /twice/.test((error as Error).message) ? 'loop' : 'malformed';
      return true; // the machine refuses it with the codec's reason
    }
    const own = hops.findIndex((hop) => this.deps.names.includes(hop));
    if (hops.length > this.deps.limits.maxPathLength) {
      return this.refuse('path-too-long', CloseCode.POLICY, `path of ${hops.length} hops exceeds max_path_length ${this.deps.limits.maxPathLength}`), false;
    }
    if (own >= 0 && hops.slice(own + 1).some((hop) => this.deps.names.includes(hop))) {
      return this.refuse('loop', CloseCode.ROUTING_FAILURE, 'the path names this relay twice (a loop)'), false;
    }
    const key = Buffer.from(frame).toString('hex');
    if (this.deps.inFlight.has(key)) {
      return this.refuse('loop', CloseCode.ROUTING_FAILURE, 'this RELAY frame came back while we forward it (a loop through an unlisted name of this relay)'), false;
    }
    this.inFlightKey = key;
    return true;
  }

  private handle(event: Parameters<RelayMachine['handle']>[0], nowMs = Date.now()): void {
    if (this.done) return;
    const before = this.machine.state;
    for (const action of this.machine.handle(event, nowMs)) this.carryOut(action, before);
    this.checkDone();
  }

  private carryOut(action: Action, stateBefore: string): void {
    switch (action.type) {
      case 'send':
        return this.send(action.to ?? 'previous', action.frame);
      case 'connect':
        return void this.connect(action.address);
      case 'close':
        this.logClose(action.code, action.reason, action.by, stateBefore);
        this.sides.previous?.end();
        this.sides.next?.end();
        return;
      default:
        return; // authorized/deliver/reconnect are not relay actions
    }
  }

  private send(to: Side, frame: Uint8Array): void {
    const target = this.sides[to];
    if (!target) return;
    target.send(frame);
    if (this.forwarding) this.deps.counters.forwarded(to, frame.length);
    const source = this.sides[to === 'next' ? 'previous' : 'next'];
    if (source && target.congested && !source.socket.isPaused()) {
      source.socket.pause();
      target.socket.once('drain', () => source.socket.resume());
    }
  }

  private async connect(name: string): Promise<void> {
    const result = await this.deps.dialNext(name);
    if (this.machine.state !== 'forward-connect') {
      if (result.ok) result.socket.destroy(); // the previous node left meanwhile
      return;
    }
    if (!result.ok) {
      this.refusal = result.refusal;
      this.deps.log.warn({ peer: this.peer, next: name, refusal: result.refusal, detail: result.reason }, 'next hop not connected');
      this.handle({ type: 'nextConnectFailed', reason: NEXT_HOP_UNAVAILABLE }); // the detail stays in the log: no port-scanner oracle
      return;
    }
    this.attach('next', result.socket, new FrameDecoder());
    this.forwarding = true;
    if (this.inFlightKey) this.deps.inFlight.add(this.inFlightKey);
    this.deps.counters.tunnelOpened();
    this.deps.log.info({ peer: this.peer, next: name, via: result.address }, 'forwarding');
    this.handle({ type: 'nextConnected' });
  }

  private logClose(code: number, reason: string, by: string, stateBefore: string): void {
    const entry = { peer: this.peer, code: closeCodeName(code), reason, by, state: stateBefore };
    if (!this.forwarding && by === 'local') {
      const key = this.refusal ?? classify(code, reason);
      this.deps.counters.refused(key);
      this.deps.log.warn({ ...entry, refusal: key }, `relay refused connection: ${key}`);
    } else if (this.refusal === 'idle-timeout') {
      this.deps.counters.refused('idle-timeout');
      this.deps.log.info(entry, 'relay closed idle tunnel');
    } else {
      this.deps.log.info(entry, 'relayed tunnel ended');
    }
  }

  private clearInFlight(): void {
    if (this.inFlightKey) this.deps.inFlight.delete(this.inFlightKey);
    this.inFlightKey = undefined;
  }

  private checkDone(): void {
    if (this.done) return;
    const open = (side: Side): boolean => this.sides[side]?.isOpen ?? false;
    if (this.machine.state === 'dead' || ((this.machine.state === 'dying') && !open('previous') && !open('next'))) {
      this.done = true;
      this.clearInFlight();
      this.destroy();
      this.deps.onDone();
    }
  }
}

/** A refusal the machine decided: a stable counter key from its code and reason. */
function classify(code: number, reason: string): string {
  if (code === CloseCode.ROUTING_FAILURE) return /not on the path/.test(reason) ? 'not-on-path' : /last hop/.test(reason) ? 'relay-is-last-hop' : 'routing-failure';
  if (code === CloseCode.TIMEOUT) return 'setup-timeout';
  if (/twice|loop/.test(reason)) return 'loop';
  return closeCodeName(code).toLowerCase().replace(/_/g, '-');
}
