/**
 * An in-memory tunnel path for the machine tests: initiator → relays →
 * server, each machine run by the real MachineDriver (src/io/driver.ts) over
 * in-memory byte streams whose deliveries go through one FIFO the test
 * drains synchronously, with a clock the test sets. `tamper` sees every
 * frame in flight (decoded per direction) and may rewrite or drop it.
 */
import { MachineDriver } from '../../../src/io/driver.js';
import type { DialOutcome } from '../../../src/io/byte-stream.js';
import { memoryStreamPair } from '../../../src/io/memory-stream.js';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import type { Action } from '../../../src/protocol/machines/actions.js';
import type { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';
import type { RelayMachine } from '../../../src/protocol/machines/relay.js';
import type { ServerMachine } from '../../../src/protocol/machines/server.js';

import type { GsoInfo } from '../../../src/wire/gso.js';

type Node = InitiatorMachine | RelayMachine | ServerMachine;

export class Pipe {
  readonly drivers: MachineDriver[];
  readonly actions: Action[][];
  readonly delivered: { etherType: number; datagram: Uint8Array; gso?: GsoInfo }[][];
  nowMs = 0;
  /** Rewrites bytes on the wire: (link, towardRight, frame) → frame to deliver (or undefined to drop). */
  tamper: ((link: number, towardRight: boolean, frame: Uint8Array) => Uint8Array | undefined) | undefined;
  private readonly queue: (() => void)[] = [];

  constructor(readonly nodes: Node[]) {
    this.actions = nodes.map(() => []);
    this.delivered = nodes.map(() => []);
    this.drivers = nodes.map(
      (node, i) =>
        new MachineDriver(node, {
          now: () => this.nowMs,
          dial: (_address, done) => this.queue.push(() => this.connect(i, done)),
          onDatagram: (etherType, datagram, gso) => this.delivered[i]!.push({ etherType, datagram: datagram.slice(), ...(gso ? { gso: { ...gso } } : {}) }),
          trace: (action) => this.actions[i]!.push(action),
        }),
    );
  }

  get client(): InitiatorMachine {
    return this.nodes[0] as InitiatorMachine;
  }

  get server(): ServerMachine {
    return this.nodes[this.nodes.length - 1] as ServerMachine;
  }

  /** Sends an event to node `i` and runs everything that follows until the wire is quiet. */
  event(i: number, event: { type: string; [key: string]: unknown }): void {
    this.drivers[i]!.handle(event);
    this.run();
  }

  run(limit = 100_000): void {
    for (let n = 0; this.queue.length > 0; n++) {
      if (n > limit) throw new Error('pipe did not settle');
      this.queue.shift()!();
    }
  }

  /** Node i sends a datagram through the data plane; 1 when sealed and sent, 0 when dropped. */
  sendDatagram(i: number, etherType: number, datagram: Uint8Array, gso?: GsoInfo): number {
    const sent = this.drivers[i]!.sendDatagram(etherType, datagram, gso);
    this.drivers[i]!.flush();
    this.run();
    return sent ? 1 : 0;
  }

  /** Advances the clock and ticks every node. */
  tick(toMs: number): void {
    this.nowMs = toMs;
    for (const driver of this.drivers) driver.tick();
    this.run();
  }

  closes(i: number): Extract<Action, { type: 'close' }>[] {
    return this.actions[i]!.filter((a): a is Extract<Action, { type: 'close' }> => a.type === 'close');
  }

  /** Node i's dial: a stream pair to node i + 1, accepted there first, as a listener would. */
  private connect(i: number, done: (outcome: DialOutcome) => void): void {
    const decoders = [new FrameDecoder(), new FrameDecoder()] as const;
    const [near, far] = memoryStreamPair({
      schedule: (task) => this.queue.push(task),
      intercept: (from, chunk) => this.intercept(i, from === 0, decoders[from], chunk),
    });
    this.drivers[i + 1]!.accept(far);
    done({ ok: true, stream: near });
  }

  private intercept(link: number, towardRight: boolean, decoder: FrameDecoder, chunk: Buffer): Buffer | undefined {
    const out: Uint8Array[] = [];
    try {
      decoder.push(chunk, (frame) => {
        const passed = this.tamper ? this.tamper(link, towardRight, frame.slice()) : frame;
        if (passed) out.push(passed);
      });
    } catch {
      return chunk; // not frames: let the receiver's decoder say so
    }
    return out.length > 0 ? Buffer.concat(out) : undefined;
  }
}
