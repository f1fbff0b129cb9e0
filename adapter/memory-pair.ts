/**
 * Two FrameDevices joined back to back in memory, for integration tests that
 * need no root: a frame written on one arrives, in a batch, at the other's
 * handler on a later event-loop turn (as a TAP read would). Frames are copied
 * on write because writers may reuse their buffers.
 */
import { newDeviceCounters, type DeviceCounters, type CountingDevice } from './device.js';

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
  ) {}

  onFrames(handler: (frames: readonly Uint8Array[]) => void): void {
    this.#handler = handler;
    this.#schedule();
  }

  writeFrames(frames: readonly Uint8Array[]): number {
    if (this.#closed || this.peer.#closed) {
      this.counters.writeDrops += frames.length;
      return 0;
    }
    for (const frame of frames) this.peer.#inbox.push(frame.slice());
    this.counters.framesWritten += frames.length;
    this.peer.#schedule();
    return frames.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#inbox = [];
  }

  #schedule(): void {
    if (this.#scheduled || !this.#handler || this.#inbox.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#closed || !this.#handler) return;
      const batch = this.#inbox;
      this.#inbox = [];
      this.counters.framesRead += batch.length;
      this.counters.batchesRead++;
      this.#handler(batch);
    });
  }
}

/** Returns [a, b]: frames written to a are read from b, and the reverse. */
export function createMemoryPair(mtu = 1500): [CountingDevice, CountingDevice] {
  const a = new MemoryDevice('mem0', mtu);
  const b = new MemoryDevice('mem1', mtu);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
