/**
 * Drives one protocol state machine (initiator or server side) over one TCP
 * connection: feeds it decoded frames and ticks, carries out its actions in
 * order, and batches outgoing datagrams — every datagram sealed in one
 * event-loop turn goes out in a single buffer, one socket write, with one
 * allocation per batch instead of per frame.
 */
import type { Socket } from 'node:net';
import { FrameDecoder } from '../protocol/decoder.js';
import type { Action, AuthorizedInfo } from '../protocol/machines/actions.js';
import type { InitiatorEvent } from '../protocol/machines/initiator.js';
import type { ServerEvent } from '../protocol/machines/server.js';
import { ProtocolError } from '../protocol/frames/errors.js';
import { FrameSocket } from './frame-socket.js';

type MachineEvent = InitiatorEvent | ServerEvent;

export interface DrivenMachine {
  readonly state: string;
  handle(event: never, nowMs: number): Action[];
  sealDatagram(etherType: number, datagram: Uint8Array, out: Uint8Array, offset: number, nowMs: number): number;
}

export interface TunnelLinkHooks {
  onAuthorized(info: AuthorizedInfo): void;
  onDeliver(etherType: number, datagram: Uint8Array): void;
  /** The connection ended; `code`/`reason` say why (from our CLOSE, the peer's, or the network). */
  onClosed(code: number, reason: string, by: 'local' | 'peer' | 'network'): void;
  onReconnect?(delayMs: number): void;
  /** Initiator: open a TCP connection to `address`, then attach() it and send tcpOpened (or tcpClosed on failure). */
  onConnect?(address: string): void;
}

export interface LinkCounters {
  datagramsSent: number;
  datagramsReceived: number;
  /** Datagrams dropped before sealing because the socket's queue was full. */
  congestionDrops: number;
}

/** Room for many 1500-byte DATA frames; a batch that outgrows it is flushed early. */
const BATCH_BUFFER_BYTES = 256 * 1024;
const MAX_DATA_OVERHEAD = 12 + 64 + 255 + 64; // DATA header + digest + padding + a REKEY in front

export class TunnelLink {
  readonly counters: LinkCounters = { datagramsSent: 0, datagramsReceived: 0, congestionDrops: 0 };
  #frames: FrameSocket | undefined;
  #batch: Uint8Array | undefined;
  #batchLength = 0;
  #flushScheduled = false;
  #closedReported = false;

  constructor(
    private readonly machine: DrivenMachine,
    private readonly hooks: TunnelLinkHooks,
  ) {}

  /** The current connection (undefined before the first attach). */
  get frames(): FrameSocket | undefined {
    return this.#frames;
  }

  /** Binds a (new) TCP connection; the machine hears about it from the caller (accepted / tcpOpened). */
  attach(socket: Socket): void {
    this.#closedReported = false;
    this.#batch = undefined;
    this.#batchLength = 0;
    const frames = new FrameSocket(socket, new FrameDecoder(), {
      onFrame: (frame) => this.handle({ type: 'frame', frame }),
      onDecodeError: (error) =>
        this.handle({ type: 'decodeError', error: error instanceof ProtocolError ? error : new ProtocolError('BAD_VALUE', error.message) }),
      onClose: (_hadError, error) => {
        if (this.#frames === frames) this.handle({ type: 'tcpClosed', ...(error ? { error } : {}) });
      },
    });
    this.#frames = frames;
  }

  handle(event: MachineEvent, nowMs = Date.now()): void {
    const actions = this.machine.handle(event as never, nowMs);
    for (const action of actions) this.#carryOut(action);
  }

  /** Seals and queues one datagram; false when dropped (not authorized, or the socket is congested). */
  sendDatagram(etherType: number, datagram: Uint8Array, nowMs = Date.now()): boolean {
    if (!this.#frames || this.#frames.congested) {
      this.counters.congestionDrops++;
      return false;
    }
    const need = datagram.length + MAX_DATA_OVERHEAD;
    if (this.#batch && this.#batchLength + need > this.#batch.length) this.flush();
    if (!this.#batch) {
      this.#batch = Buffer.allocUnsafe(Math.max(BATCH_BUFFER_BYTES, need));
      this.#batchLength = 0;
    }
    const written = this.machine.sealDatagram(etherType, datagram, this.#batch, this.#batchLength, nowMs);
    if (written === 0) return false;
    this.#batchLength += written;
    this.counters.datagramsSent++;
    this.#scheduleFlush();
    return true;
  }

  /** Sends the batched frames now. */
  flush(): void {
    if (!this.#batch || this.#batchLength === 0 || !this.#frames) return;
    this.#frames.send(this.#batch.subarray(0, this.#batchLength));
    this.#batch = undefined; // the socket holds a reference until written: never reuse it
    this.#batchLength = 0;
  }

  /**
   * Flushes once the current callback is done: a TAP batch is handled in one
   * synchronous loop, so a microtask runs right after its last datagram —
   * one write per batch without waiting for another event-loop phase.
   */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  #carryOut(action: Action): void {
    switch (action.type) {
      case 'send':
        this.flush(); // keep sealed order: earlier DATA before this control frame
        this.#frames?.send(action.frame);
        return;
      case 'authorized':
        this.hooks.onAuthorized(action.info);
        return;
      case 'deliver':
        this.counters.datagramsReceived++;
        this.hooks.onDeliver(action.etherType, action.datagram);
        return;
      case 'close':
        this.flush();
        this.#frames?.end();
        this.#reportClosed(action.code, action.reason, action.by);
        return;
      case 'reconnect':
        this.hooks.onReconnect?.(action.delayMs);
        return;
      case 'connect':
        this.hooks.onConnect?.(action.address);
        return;
    }
  }

  #reportClosed(code: number, reason: string, by: 'local' | 'peer' | 'network'): void {
    if (this.#closedReported) return;
    this.#closedReported = true;
    this.hooks.onClosed(code, reason, by);
  }
}
