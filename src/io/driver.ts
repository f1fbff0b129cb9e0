/**
 * The one driver of the protocol machines (initiator, server, relay) over
 * byte streams: it feeds a machine decoded control frames, ticks and
 * failures, carries out its actions in order, and runs the data plane beside
 * it — an endpoint's DATA is sealed and opened by FrameSocket through the
 * established session, a relay's frames are passed through once forwarding;
 * neither becomes an event or an action. Client, server, relay and the tests
 * all use this; nothing here decides protocol questions (the machines do).
 *
 * Sides: an endpoint has one connection — `previous` when accepted (server),
 * `next` when dialled (initiator); a relay has both.
 */
import type { GsoInfo } from '../wire/gso.js';
import { FrameType } from '../protocol/frames/header.js';
import { MAX_FRAME_LENGTH, MAX_PREAUTH_FRAME_LENGTH } from '../protocol/frames/limits.js';
import type { ProtocolError } from '../protocol/frames/errors.js';
import type { Action, AuthorizedInfo, Side } from '../protocol/machines/actions.js';
import { InitiatorMachine } from '../protocol/machines/initiator.js';
import { RelayMachine } from '../protocol/machines/relay.js';
import type { ServerMachine } from '../protocol/machines/server.js';
import type { ByteStream, Dial, DialOutcome } from './byte-stream.js';
import { FrameSocket, type DataCounters, type DataSink } from './frame-socket.js';

export type DrivenMachine = InitiatorMachine | ServerMachine | RelayMachine;
export type CloseAction = Extract<Action, { type: 'close' }>;
/** A verified datagram from the tunnel; `gso` for a TCP super-frame (negotiated OFFLOAD). */
export type DatagramHandler = (etherType: number, datagram: Uint8Array, gso?: GsoInfo) => void;

export interface DriverHooks {
  /** The clock for machine events (default Date.now). */
  now?: () => number;
  /** Opens the connection a `connect` action asks for (initiator, relay). */
  dial?: Dial;
  /**
   * The data plane starts. May return where this connection's verified
   * datagrams go (instead of onDatagram), so they reach it without passing
   * through anything else.
   */
  onAuthorized?(info: AuthorizedInfo): DatagramHandler | void;
  /** A verified datagram from the peer; the view is valid only during the call. */
  onDatagram?: DatagramHandler;
  /**
   * Once per connection: the first frame from the peer that the session
   * verified (KEEPALIVE, REKEY, DATA or SEALED_CLOSE). Until then an
   * authorized connection proves only that someone had a REQUEST the server
   * accepted, not that the key holder is on this connection.
   */
  onPeerProven?(): void;
  /** The connection (attempt) ended: once per close action. */
  onClose?(close: CloseAction, machine: DrivenMachine): void;
  /** Initiator: start again after `delayMs`. */
  onReconnect?(delayMs: number): void;
  /** Server and relay: the machine is dead and every stream closed; forget this driver. */
  onDone?(): void;
  /** Relay: `bytes` passed on toward `to`, once forwarding. */
  onForwarded?(to: Side, bytes: number): void;
  /** Every action, before it is carried out (tests, debug logs). */
  trace?(action: Action): void;
}

export interface DriverOptions {
  /** Bytes queued for one stream before datagrams are dropped (and a relay stops reading the other side). */
  maxQueuedBytes?: number;
  /** Largest frame before authorization (a relay: before RELAY was accepted). */
  preAuthFrameLength?: number;
}

const ignoreDatagram: DatagramHandler = () => undefined;

/** A dead connection's stream whose queued bytes never drain (a peer that stopped reading) is destroyed after this. */
export const DEAD_LINGER_MS = 5_000;

export class MachineDriver {
  private readonly sides: Partial<Record<Side, FrameSocket>> = {};
  private readonly now: () => number;
  private readonly relay: RelayMachine | undefined;
  /** An endpoint's only connection. */
  private readonly main: Side;
  private done = false;
  /** Numbers dials, so a late answer to an abandoned one is not taken for the current. */
  private dials = 0;
  private deadSinceMs: number | undefined;
  private closedUnconnected = false;
  private peerProven = false;

  constructor(
    readonly machine: DrivenMachine,
    private readonly hooks: DriverHooks = {},
    private readonly options: DriverOptions = {},
  ) {
    this.now = hooks.now ?? Date.now;
    this.relay = machine instanceof RelayMachine ? machine : undefined;
    this.main = machine instanceof InitiatorMachine ? 'next' : 'previous';
  }

  /** The endpoint's connection (undefined before the first one). */
  get socket(): FrameSocket | undefined {
    return this.sides[this.main];
  }

  get counters(): DataCounters | undefined {
    return this.socket?.counters;
  }

  /** Server and relay: an accepted connection; the machine hears `accepted`. */
  accept(stream: ByteStream): void {
    this.attach('previous', stream);
    this.handle({ type: 'accepted' });
  }

  /** Feeds one event (start, closeRequested ...) and carries out what follows. */
  handle(event: { type: string; [key: string]: unknown }): void {
    if (this.done) return;
    const actions = (this.machine.handle as (e: unknown, n: number) => Action[])(event, this.now());
    for (const action of actions) this.carryOut(action);
    if (this.closedUnconnected) {
      // An initiator closed while its dial was still under way: no stream will report tcpClosed, so say it now.
      this.closedUnconnected = false;
      this.dials++; // and the late answer to that dial is dropped
      return this.handle({ type: 'tcpClosed', side: 'next' });
    }
    // A relay that accepted the RELAY frame takes frames of any size from here on.
    if (this.relay && (this.relay.state === 'forward-connect' || this.relay.state === 'forward')) this.sides.previous?.raiseFrameLimit(MAX_FRAME_LENGTH);
    this.checkDead();
  }

  /** Time passes: timeouts, keepalives, rekeys; tells the machine when bytes last moved. */
  tick(): void {
    if (this.deadSinceMs !== undefined && this.now() - this.deadSinceMs >= DEAD_LINGER_MS) return this.destroy();
    let lastReceivedMs = 0;
    let lastSentMs = 0;
    for (const socket of [this.sides.previous, this.sides.next]) {
      if (!socket?.isOpen) continue;
      lastReceivedMs = Math.max(lastReceivedMs, socket.lastReceivedMs);
      lastSentMs = Math.max(lastSentMs, socket.lastSentMs);
    }
    this.handle({ type: 'tick', lastReceivedMs, lastSentMs });
  }

  /**
   * The data plane out: seals one datagram into the current connection's
   * batch; false when dropped (counted). A field, so an adapter can be handed
   * it as its datagram handler and stay valid across reconnects.
   */
  readonly sendDatagram = (etherType: number, datagram: Uint8Array, gso?: GsoInfo): boolean => {
    const socket = this.sides[this.main];
    return socket ? socket.sendDatagram(etherType, datagram, gso) : false;
  };

  /** sendDatagram in the PseudoAdapter's onDatagram order (datagram, etherType, gso), to hand it directly. */
  readonly sendFromAdapter = (datagram: Uint8Array, etherType: number, gso?: GsoInfo): void => void this.sendDatagram(etherType, datagram, gso);

  flush(): void {
    this.sides.previous?.flush();
    this.sides.next?.flush();
  }

  /** Closes every stream now (shutdown after the grace period). */
  destroy(): void {
    this.sides.previous?.destroy();
    this.sides.next?.destroy();
  }

  private attach(side: Side, stream: ByteStream): void {
    const socket: FrameSocket = new FrameSocket(
      stream,
      {
        onControl: (frame) => this.onControl(side, socket, frame),
        onDecodeError: (error) => this.handle({ type: 'decodeError', side, error }),
        onClose: (error, midFrame) => {
          if (this.sides[side] !== socket) return; // an earlier connection of a reconnecting initiator
          this.handle({ type: 'tcpClosed', side, midFrame, ...(error ? { error } : {}) });
          this.checkDead();
        },
      },
      {
        now: this.now,
        maxFrameLength: this.options.preAuthFrameLength ?? MAX_PREAUTH_FRAME_LENGTH,
        ...(this.options.maxQueuedBytes ? { maxQueuedBytes: this.options.maxQueuedBytes } : {}),
      },
    );
    this.sides[side] = socket;
  }

  private onControl(side: Side, socket: FrameSocket, frame: Uint8Array): void {
    if (this.relay?.state === 'forward' && frame[4] !== FrameType.CLOSE && frame[4] !== FrameType.SEALED_CLOSE) return this.forward(side, socket, frame);
    this.handle({ type: 'frame', from: side, frame });
    this.checkPeerProven();
  }

  private checkPeerProven(): void {
    if (this.peerProven || !this.hooks.onPeerProven || this.relay) return;
    const session = (this.machine as InitiatorMachine | ServerMachine).session;
    if (!session || session.stats.framesReceived === 0) return;
    this.peerProven = true;
    this.hooks.onPeerProven();
  }

  /** The relay's data plane: pass the frame on; stop reading this side while the other's queue is full. */
  private forward(from: Side, source: FrameSocket, frame: Uint8Array): void {
    const to: Side = from === 'previous' ? 'next' : 'previous';
    const target = this.sides[to];
    if (!target) return;
    target.send(frame);
    this.relay!.framesForwarded++;
    this.hooks.onForwarded?.(to, frame.length);
    if (target.congested && !source.stream.isPaused()) {
      source.stream.pause();
      target.stream.once('drain', () => source.stream.resume());
    }
  }

  private carryOut(action: Action): void {
    this.hooks.trace?.(action);
    switch (action.type) {
      case 'send': {
        const to = action.to ?? this.main;
        this.sides[to]?.send(action.frame);
        if (this.relay?.state === 'forward') this.hooks.onForwarded?.(to, action.frame.length);
        return;
      }
      case 'connect':
        return this.connect(action.address);
      case 'authorized':
        return this.startDataPlane(action.info);
      case 'close':
        // CLOSE is queued before this: each stream is freed once it is out, whatever the peer does (no half-open leftovers).
        for (const socket of [this.sides.previous, this.sides.next]) {
          socket?.detachSession();
          socket?.closeSoon();
        }
        // The session is over (a SEALED_CLOSE was sealed before this action): its ciphers go and its key chains are wiped.
        if (!(this.machine instanceof RelayMachine)) this.machine.session?.destroy();
        this.hooks.onClose?.(action, this.machine);
        if (this.machine instanceof InitiatorMachine && !this.sides.next?.isOpen && this.machine.state === 'dying') this.closedUnconnected = true;
        return;
      case 'reconnect':
        return this.hooks.onReconnect?.(action.delayMs);
    }
  }

  private startDataPlane(info: AuthorizedInfo): void {
    const socket = this.sides[this.main];
    const session = this.machine instanceof RelayMachine ? undefined : this.machine.session;
    const handler = this.hooks.onAuthorized?.(info) ?? this.hooks.onDatagram ?? ignoreDatagram;
    if (!socket || !session) return;
    socket.raiseFrameLimit(MAX_FRAME_LENGTH);
    const sink: DataSink = { onDatagram: handler, onDataError: this.onDataError };
    if (!this.hooks.onPeerProven) return socket.attachSession(session, sink);
    // The first verified DATA proves the peer; then the plain sink takes over (no check per datagram after it).
    const proving: DataSink = {
      onDatagram: (etherType, datagram) => {
        socket.attachSession(session, sink);
        this.checkPeerProven();
        handler(etherType, datagram);
      },
      onDataError: this.onDataError,
    };
    socket.attachSession(session, proving);
  }

  private readonly onDataError = (error: ProtocolError): void => this.handle({ type: 'decodeError', side: this.main, error });

  private connect(address: string): void {
    const dial = this.hooks.dial;
    if (!dial) return this.connected({ ok: false, reason: 'this driver cannot dial' });
    const attempt = ++this.dials;
    dial(address, (outcome) => this.connected(outcome, attempt));
  }

  private connected(outcome: DialOutcome, attempt = this.dials): void {
    const waiting = this.relay ? this.relay.state === 'forward-connect' : this.machine.state === 'tcp-open';
    if (!waiting || this.done || attempt !== this.dials) {
      if (outcome.ok) outcome.stream.destroy(); // the machine moved on meanwhile (closed, stopped)
      return;
    }
    if (!outcome.ok) {
      const failed = { type: 'nextConnectFailed', reason: outcome.reason, ...(outcome.refusal ? { refusal: outcome.refusal } : {}) };
      return this.handle(this.relay ? failed : { type: 'tcpClosed', side: 'next', error: new Error(outcome.reason) });
    }
    this.attach('next', outcome.stream);
    if (this.relay) this.sides.next!.raiseFrameLimit(MAX_FRAME_LENGTH);
    this.handle({ type: this.relay ? 'nextConnected' : 'tcpOpened' });
  }

  /**
   * Dead: nothing more will be sent, so every stream still open is freed once
   * its queued bytes are out (or after DEAD_LINGER_MS, on tick); server and
   * relay report done once every stream is gone. An initiator stays usable:
   * `start` opens a new connection.
   */
  private checkDead(): void {
    if (this.machine.state !== 'dead' || this.done) {
      this.deadSinceMs = undefined;
      return;
    }
    this.deadSinceMs ??= this.now();
    const open = [this.sides.previous, this.sides.next].filter((s) => s?.isOpen);
    for (const socket of open) socket!.closeSoon();
    if (open.length > 0 || this.machine instanceof InitiatorMachine) return;
    this.done = true;
    this.hooks.onDone?.();
  }
}
