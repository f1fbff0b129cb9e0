/**
 * The one interface between tapvpn and a virtual Ethernet adapter. Engines
 * above `adapter/` see only this: batches of whole Ethernet frames in and out.
 * Two implementations: the Linux TAP (linux-tap.ts) and an in-memory pair for
 * tests that need no root (memory-pair.ts).
 */

/** Traffic counters every device of ours keeps (monotonic, never reset). */
export interface DeviceCounters {
  /** Frames handed to the onFrames handler. */
  framesRead: number;
  /** Handler calls: framesRead / batches is the mean batch size. */
  batches: number;
  /** Frames the device accepted from writeFrames. */
  framesWritten: number;
  /** Frames the device refused (kernel queue full, device gone, closed, not a frame). */
  writeDrops: number;
}

export interface FrameDevice {
  readonly name: string;
  readonly mtu: number;
  /**
   * Registers the receiver of frame batches. Frames are views into a buffer
   * the device reuses: valid only during the call; copy what you keep.
   */
  onFrames(handler: (frames: readonly Uint8Array[]) => void): void;
  /** Writes whole Ethernet frames; returns how many were accepted (the rest are counted as drops). Never throws for a bad frame. */
  writeFrames(frames: readonly Uint8Array[]): number;
  /** Stops reading and releases the device. Safe to call twice. */
  close(): Promise<void>;
}

/** Implemented by devices that count their traffic (both of ours do). */
export interface CountingDevice extends FrameDevice {
  readonly counters: DeviceCounters;
}

export function newDeviceCounters(): DeviceCounters {
  return { framesRead: 0, batches: 0, framesWritten: 0, writeDrops: 0 };
}
