/**
 * Two FrameDevices joined back to back in memory, for integration tests that
 * need no root: a frame written on one arrives at the other's handler on a
 * later event-loop turn (never inside writeFrames), in batches of at most
 * `batchFrames` like a TAP read, in write order. Frames are copied on write
 * because writers may reuse their buffers. Any bytes are delivered, even
 * runts a kernel would refuse, so tests can inject malformed frames. Like a
 * NIC queue, the inbox is bounded: past `queueFrames` pending frames, writes
 * are counted drops; after either side closes, every write is a drop.
 */
import { newDeviceCounters, type CountingDevice, type DeviceCounters } from './device.js';

export interface MemoryPairOptions {
  mtu?: number;
  /** Most frames per handler call (the TAP default). */
  batchFrames?: number;
  /** Most frames waiting for delivery on one side (a TAP's default txqueuelen). */
  queueFrames?: number;
}

const DEFAULT_MTU = 1500;
const DEFAULT_BATCH_FRAMES = 64;
const DEFAULT_QUEUE_FRAMES = 1000;

class MemoryDevice implements CountingDevice {
  readonly counters: DeviceCounters = newDeviceCounters();
  peer!: MemoryDevice;
  #handler: ((frames: readonly Uint8Array[]) => void) | undefined;
  #inbox: Uint8Array[] = [];
  #scheduled = false;
  #closed = false;

  constructor(
    readonly name: string,
    readonly mtu: number,
    private readonly batchFrames: number,
    private readonly queueFrames: number,
  ) {}

  onFrames(handler: (frames: readonly Uint8Array[]) => void): void {
    this.#handler = handler;
    this.#schedule();
  }

  writeFrames(frames: readonly Uint8Array[]): number {
    const peer = this.peer;
    let accepted = 0;
    if (!this.#closed && !peer.#closed) {
      const room = Math.max(0, this.queueFrames - peer.#inbox.length);
      accepted = Math.min(room, frames.length);
      for (let i = 0; i < accepted; i++) peer.#inbox.push(frames[i]!.slice());
      peer.#schedule();
    }
    this.counters.framesWritten += accepted;
    this.counters.writeDrops += frames.length - accepted;
    return accepted;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#inbox = [];
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed || !this.#handler || this.#inbox.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => this.#deliver());
  }

  #deliver(): void {
    this.#scheduled = false;
    if (this.#closed || !this.#handler) return;
    const batch = this.#inbox.splice(0, this.batchFrames);
    if (batch.length === 0) return;
    this.counters.framesRead += batch.length;
    this.counters.batches++;
    try {
      this.#handler(batch);
    } finally {
      this.#schedule(); // the rest, on a later turn, as the next poll wake-up would
    }
  }
}

/** Returns [a, b]: frames written to a are read from b, and the reverse. */
export function createMemoryPair(options: MemoryPairOptions = {}): [CountingDevice, CountingDevice] {
  const mtu = options.mtu ?? DEFAULT_MTU;
  const batchFrames = options.batchFrames ?? DEFAULT_BATCH_FRAMES;
  const queueFrames = options.queueFrames ?? DEFAULT_QUEUE_FRAMES;
  if (!Number.isInteger(batchFrames) || batchFrames < 1) throw new RangeError(`batchFrames must be a positive integer, got ${batchFrames}`);
  if (!Number.isInteger(queueFrames) || queueFrames < 1) throw new RangeError(`queueFrames must be a positive integer, got ${queueFrames}`);
  const a = new MemoryDevice('mem0', mtu, batchFrames, queueFrames);
  const b = new MemoryDevice('mem1', mtu, batchFrames, queueFrames);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
