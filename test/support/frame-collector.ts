/**
 * Collects copies of the frames a FrameDevice reads, so a test can wait
 * (bounded) for the first frame matching a predicate. Frames from onFrames
 * are views into a reused slab: they are copied here before being kept.
 */
import type { FrameDevice } from '../../adapter/device.js';

const DEFAULT_WAIT_MS = 5_000;

export class FrameCollector {
  readonly frames: Uint8Array[] = [];
  readonly batchSizes: number[] = [];
  #waiters: Array<() => void> = [];

  constructor(device: FrameDevice) {
    device.onFrames((batch) => {
      this.batchSizes.push(batch.length);
      for (const frame of batch) this.frames.push(frame.slice());
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Resolves with (and removes) the first collected frame matching `predicate`; rejects after `timeoutMs`. */
  async waitFor(what: string, predicate: (frame: Uint8Array) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(predicate);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.frames.length} other frame(s) read`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once `count` frames in total have been read; rejects after `timeoutMs`. */
  async waitForCount(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms: read ${this.frames.length} of ${count} frames`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
