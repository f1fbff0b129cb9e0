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

/**
 * Offload metadata: OFFLOAD_META_STRIDE u16 per frame of a batch, struct
 * virtio_net_hdr's fields in order — flags, gsoType, hdrLen, gsoSize,
 * csumStart, csumOffset — with offsets from the start of the Ethernet frame.
 * A row of zeros (gsoType 0) is a plain frame with complete checksums.
 */
export const OFFLOAD_META_STRIDE = 6;
export const OffloadMeta = { FLAGS: 0, GSO_TYPE: 1, HDR_LEN: 2, GSO_SIZE: 3, CSUM_START: 4, CSUM_OFFSET: 5 } as const;

export interface FrameDevice {
  readonly name: string;
  readonly mtu: number;
  /**
   * True when the device reads and writes TCP super-frames (GSO, larger than
   * the MTU) described by offload metadata; false or absent: every frame is
   * plain and at most MTU-sized, and `meta` is never passed.
   */
  readonly offload?: boolean;
  /**
   * Registers the receiver of frame batches. Frames are views into a buffer
   * the device reuses: valid only during the call; copy what you keep.
   * With offload, `meta` has a row per frame (OFFLOAD_META_STRIDE); plain
   * frames arrive with complete checksums.
   */
  onFrames(handler: (frames: readonly Uint8Array[], meta?: Uint16Array) => void): void;
  /**
   * Writes whole Ethernet frames; returns how many were accepted (the rest are
   * counted as drops). Never throws for a bad frame. `meta` (a row per frame)
   * is honoured only by a device with offload; without it every frame is plain.
   */
  writeFrames(frames: readonly Uint8Array[], meta?: Uint16Array): number;
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
