/**
 * One relayed connection: a RelayMachine (patent Fig. 13) run by the one
 * machine driver over the previous node's connection and, once the RELAY
 * frame named the next hop, the connection this relay dials. Every protocol
 * decision — path checks, loops, timeouts, each refusal's typed reason — is
 * the machine's; this file wires it to the relay's dialer, its counters, its
 * log and the set of RELAY frames in flight (for loop detection).
 *
 * Limits: the RELAY frame's size (the driver's pre-authorization frame
 * limit, checked from its length field before its body is buffered), the
 * path length and idle time (the machine). Back-pressure: the driver stops
 * reading one side while the other's queue is over MAX_QUEUED_BYTES.
 */
import { peerLabel, unmappedAddress, type ByteStream, type DialOutcome } from '../io/byte-stream.js';
import { MachineDriver, type CloseAction } from '../io/driver.js';
import type { Logger } from '../log.js';
import { closeCodeName } from '../protocol/frames/close-codes.js';
import type { Refusal } from '../protocol/machines/actions.js';
import { RelayMachine } from '../protocol/machines/relay.js';
import { NEXT_HOP_UNAVAILABLE, type DialResult } from './dial.js';
import type { RelayCounters } from './counters.js';
import type { LineBudget } from '../engine/line-budget.js';

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
  /** The relay's budget for refusal log lines, shared by its connections: a flood is counted, not logged line by line. */
  refusalLines: LineBudget;
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

export class RelayConnection {
  readonly machine: RelayMachine;
  readonly driver: MachineDriver;
  private readonly peer: string;
  private relayKey: string | undefined;
  private inFlightKey: string | undefined;

  constructor(
    socket: ByteStream & { remoteAddress?: string; remotePort?: number },
    private readonly deps: ConnectionDeps,
  ) {
    this.peer = peerLabel({ address: unmappedAddress(socket.remoteAddress ?? 'unknown'), port: socket.remotePort ?? 0 });
    const { limits } = deps;
    this.machine = new RelayMachine({
      names: deps.names,
      maxPathLength: limits.maxPathLength,
      isInFlight: (frame) => deps.inFlight.has((this.relayKey = Buffer.from(frame).toString('hex'))),
      timing: { handshakeTimeoutMs: limits.setupTimeoutMs, idleTimeoutMs: limits.idleTimeoutMs },
    });
    this.driver = new MachineDriver(
      this.machine,
      {
        dial: (name, done) => void this.dial(name).then(done),
        onForwarded: (to, bytes) => {
          if (to === 'previous') this.clearInFlight(); // the next hop answered: not a loop
          deps.counters.forwarded(to, bytes);
        },
        onClose: (close) => this.logClose(close),
        onDone: () => {
          this.clearInFlight();
          deps.onDone();
        },
      },
      { preAuthFrameLength: limits.maxRelayFrameBytes, maxQueuedBytes: MAX_QUEUED_BYTES },
    );
    this.driver.accept(socket);
  }

  /** Refuses at once (connection limits): CLOSE with `code`, counted under `refusal`. */
  refuse(refusal: Refusal, code: number, text: string): void {
    this.driver.handle({ type: 'closeRequested', code, reason: text, refusal });
  }

  /** Once a second: setup and idle timeouts (in the machine). */
  tick(): void {
    this.driver.tick();
  }

  /** Relay stopping: CLOSE SHUTTING_DOWN both ways. */
  shutdown(): void {
    this.driver.handle({ type: 'closeRequested' });
  }

  destroy(): void {
    this.driver.destroy();
  }

  private async dial(name: string): Promise<DialOutcome> {
    const result = await this.deps.dialNext(name);
    if (!result.ok) {
      this.deps.log.warn({ peer: this.peer, next: name, refusal: result.refusal, detail: result.reason }, 'next hop not connected');
      return { ok: false, reason: NEXT_HOP_UNAVAILABLE, refusal: result.refusal }; // the detail stays in the log: no port-scanner oracle
    }
    if (this.machine.state === 'forward-connect' && this.relayKey) {
      this.inFlightKey = this.relayKey;
      this.deps.inFlight.add(this.relayKey);
      this.deps.counters.tunnelOpened();
      this.deps.log.info({ peer: this.peer, next: name, via: result.address }, 'forwarding');
    }
    return { ok: true, stream: result.socket, address: result.address };
  }

  private logClose(close: CloseAction): void {
    const entry = { peer: this.peer, code: closeCodeName(close.code), reason: close.reason, by: close.by };
    if (close.refusal === 'idle-timeout') {
      this.deps.counters.refused('idle-timeout');
      this.deps.log.info(entry, 'relay closed idle tunnel');
    } else if (close.refusal) {
      this.deps.counters.refused(close.refusal);
      const suppressed = this.deps.refusalLines.admit(Date.now());
      if (suppressed !== undefined) this.deps.log.warn({ ...entry, refusal: close.refusal, ...(suppressed > 0 ? { suppressed } : {}) }, `relay refused connection: ${close.refusal}`);
    } else {
      this.deps.log.info(entry, 'relayed tunnel ended');
    }
  }

  private clearInFlight(): void {
    if (this.inFlightKey) this.deps.inFlight.delete(this.inFlightKey);
    this.inFlightKey = undefined;
  }
}
