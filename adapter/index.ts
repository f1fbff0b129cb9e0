/** The adapter layer's public API: the device interface, the Linux TAP, the in-memory pair, link configuration. */
export type { CountingDevice, DeviceCounters, FrameDevice } from './device.js';
export { LinuxTap, openTap, TapOpenError, type TapOpenErrorCode, type TapOptions } from './linux-tap.js';
export { createMemoryPair, type MemoryPairOptions } from './memory-pair.js';
export * from './link.js';
