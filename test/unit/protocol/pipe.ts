/**
 * An in-memory tunnel path for the machine tests: initiator → relays →
 * server, each link a pair of byte streams through FrameDecoders, carried in
 * one FIFO so TCP ordering holds. Carries out the machines' actions the way
 * the I/O layer will (send, connect, close → tcpClosed on both ends).
 */
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import type { ProtocolError } from '../../../src/protocol/frames/errors.js';
import type { Action } from '../../../src/protocol/machines/actions.js';
import type { InitiatorMachine } from '../../../src/protocol/machines/initiator.js';
import type { RelayMachine } from '../../../src/protocol/machines/relay.js';
import type { ServerMachine } from '../../../src/protocol/machines/server.js';

type Node = InitiatorMachine | RelayMachine | ServerMachine;

interface Link {
  open: boolean;
  closed: boolean;
  /** decoders[0]: bytes toward the right node, [1]: toward the left node. */
  decoders: [FrameDecoder, FrameDecoder];
}

export class Pipe {
  readonly links: Link[];
  readonly actions: Action[][];
  readonly delivered: { etherType: number; datagram: Uint8Array }[][];
  nowMs = 0;
  /** Rewrites bytes on the wire: (link, towardRight, frame) → frame to deliver (or undefined to drop). */
  tamper: ((link: number, towardRight: boolean, frame: Uint8Array) => Uint8Array | undefined) | undefined;
  private readonly queue: (() => void)[] = [];

  constructor(readonly nodes: Node[]) {
    this.links = nodes.slice(1).map(() => ({ open: false, closed: false, decoders: [new FrameDecoder(), new FrameDecoder()] }));
    this.actions = nodes.map(() => []);
    this.delivered = nodes.map(() => []);
  }

  get client(): InitiatorMachine {
    return this.nodes[0] as InitiatorMachine;
  }

  get server(): ServerMachine {
    return this.nodes[this.nodes.length - 1] as ServerMachine;
  }

  /** Sends an event to node `i` and runs everything that follows until the wire is quiet. */
  event(i: number, event: Parameters<Node['handle']>[0]): void {
    this.apply(i, (this.nodes[i]!.handle as (e: unknown, n: number) => Action[])(event, this.nowMs));
    this.run();
  }

  run(limit = 100_000): void {
    for (let n = 0; this.queue.length > 0; n++) {
      if (n > limit) throw new Error('pipe did not settle');
      this.queue.shift()!();
    }
  }

  /** Node i seals a datagram and sends it, as the data path would. */
  sendDatagram(i: number, etherType: number, datagram: Uint8Array): number {
    const node = this.nodes[i] as InitiatorMachine | ServerMachine;
    const out = new Uint8Array(datagram.length + 200);
    const n = node.sealDatagram(etherType, datagram, out, 0, this.nowMs);
    if (n > 0) this.apply(i, [{ type: 'send', frame: out.subarray(0, n) }]);
    this.run();
    return n;
  }

  private isRelay(i: number): boolean {
    return i > 0 && i < this.nodes.length - 1;
  }

  private apply(i: number, actions: Action[]): void {
    for (const action of actions) {
      this.actions[i]!.push(action);
      switch (action.type) {
        case 'send': {
          const link = action.to === 'previous' || (!this.isRelay(i) && i === this.nodes.length - 1) ? i - 1 : i;
          this.transmit(link, link === i, action.frame.slice());
          break;
        }
        case 'connect':
          this.queue.push(() => this.connect(i));
          break;
        case 'deliver':
          this.delivered[i]!.push({ etherType: action.etherType, datagram: action.datagram.slice() });
          break;
        case 'close':
          for (const link of [i - 1, i]) if (link >= 0 && link < this.links.length) this.queue.push(() => this.fin(link));
          break;
        default:
          break;
      }
    }
  }

  private connect(i: number): void {
    const link = this.links[i]!;
    link.open = true;
    this.apply(i + 1, (this.nodes[i + 1]!.handle as (e: unknown, n: number) => Action[])({ type: 'accepted' }, this.nowMs));
    const opened = this.isRelay(i) ? { type: 'nextConnected' } : { type: 'tcpOpened' };
    this.apply(i, (this.nodes[i]!.handle as (e: unknown, n: number) => Action[])(opened, this.nowMs));
  }

  private transmit(linkIndex: number, towardRight: boolean, bytes: Uint8Array): void {
    this.queue.push(() => {
      const link = this.links[linkIndex];
      if (!link || !link.open || link.closed) return;
      const target = towardRight ? linkIndex + 1 : linkIndex;
      const decoder = link.decoders[towardRight ? 0 : 1];
      try {
        decoder.push(bytes, (frame) => {
          const delivered = this.tamper ? this.tamper(linkIndex, towardRight, frame) : frame;
          if (!delivered) return;
          const event = this.isRelay(target) ? { type: 'frame', from: towardRight ? 'previous' : 'next', frame: delivered } : { type: 'frame', frame: delivered };
          this.apply(target, (this.nodes[target]!.handle as (e: unknown, n: number) => Action[])(event, this.nowMs));
        });
      } catch (error) {
        const side = towardRight ? 'previous' : 'next';
        const event = this.isRelay(target) ? { type: 'decodeError', side, error: error as ProtocolError } : { type: 'decodeError', error: error as ProtocolError };
        this.apply(target, (this.nodes[target]!.handle as (e: unknown, n: number) => Action[])(event, this.nowMs));
      }
    });
  }

  private fin(linkIndex: number): void {
    const link = this.links[linkIndex]!;
    if (link.closed) return;
    link.closed = true;
    for (const [node, side] of [[linkIndex, 'next'], [linkIndex + 1, 'previous']] as const) {
      const event = this.isRelay(node) ? { type: 'tcpClosed', side } : { type: 'tcpClosed' };
      this.apply(node, (this.nodes[node]!.handle as (e: unknown, n: number) => Action[])(event, this.nowMs));
    }
  }

  /** Advances the clock and ticks every node. */
  tick(toMs: number): void {
    this.nowMs = toMs;
    this.nodes.forEach((_, i) => this.apply(i, (this.nodes[i]!.handle as (e: unknown, n: number) => Action[])({ type: 'tick' }, this.nowMs)));
    this.run();
  }

  closes(i: number): Extract<Action, { type: 'close' }>[] {
    return this.actions[i]!.filter((a): a is Extract<Action, { type: 'close' }> => a.type === 'close');
  }
}
