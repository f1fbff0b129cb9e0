/**
 * The Linux TAP device: a FrameDevice over /dev/net/tun (IFF_TAP | IFF_NO_PI).
 * Reads are driven by the event loop; every wake-up delivers all ready
 * frames as one batch of views into a reused slab (no allocation per frame).
 */
import { newDeviceCounters, type DeviceCounters, type CountingDevice } from './device.js';
import { loadTapBinding, type TapBinding } from './native-binding.js';
import { readLinkMac, setLinkMtu } from './link.js';

export type TapOpenErrorCode = 'NO_TUN_DEVICE' | 'PERMISSION_DENIED' | 'NAME_IN_USE' | 'BAD_NAME' | 'OPEN_FAILED';

export class TapOpenError extends Error {
  override readonly name = 'TapOpenError';
  constructor(
    readonly code: TapOpenErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface TapOptions {
  /** Interface name (at most 15 bytes); empty or absent lets the kernel pick tapN. */
  name?: string;
  /** Set the link MTU after opening (through `ip link`). */
  mtu?: number;
  /** Frames per read batch. */
  batchFrames?: number;
}

const DEFAULT_MTU = 1500;
const DEFAULT_BATCH_FRAMES = 64;
const ETHERNET_HEADER_LENGTH = 14;
/** Largest frame a TAP delivers: 64 KiB datagram + Ethernet header. */
const MAX_FRAME_LENGTH = 65535 + ETHERNET_HEADER_LENGTH;
const IFNAMSIZ_MAX = 15;

export async function openTap(options: TapOptions = {}): Promise<LinuxTap> {
  const name = options.name ?? '';
  if (Buffer.byteLength(name) > IFNAMSIZ_MAX || /[\s/:]/.test(name)) {
    throw new TapOpenError('BAD_NAME', `invalid TAP device name "${name}": at most ${IFNAMSIZ_MAX} bytes, no spaces, slashes or colons`);
  }
  const binding = loadTapBinding();
  let opened: { fd: number; name: string };
  try {
    opened = binding.open(name);
  } catch (error) {
    throw explainOpenError(error as NodeJS.ErrnoException, name);
  }
  const tap = new LinuxTap(binding, opened.fd, opened.name, options.mtu ?? DEFAULT_MTU, options.batchFrames ?? DEFAULT_BATCH_FRAMES);
  try {
    if (options.mtu !== undefined) await setLinkMtu(opened.name, options.mtu);
  } catch (error) {
    await tap.close();
    throw error;
  }
  return tap;
}

function explainOpenError(error: NodeJS.ErrnoException, name: string): Error {
  switch (error.code) {
    case 'ENOENT':
    case 'ENODEV':
      return new TapOpenError('NO_TUN_DEVICE', '/dev/net/tun does not exist: load the tun module (modprobe tun) or, in a container, pass the device through (--device /dev/net/tun)');
    case 'EPERM':
    case 'EACCES':
      return new TapOpenError('PERMISSION_DENIED', 'cannot open a TAP device: permission denied — run as root, or grant CAP_NET_ADMIN (setcap cap_net_admin+ep "$(command -v node)")');
    case 'EBUSY':
      return new TapOpenError('NAME_IN_USE', `cannot create TAP device "${name}": the name is in use by another device or process — pick another name or remove it (ip link del ${name})`);
    case 'EINVAL':
      return new TapOpenError('NAME_IN_USE', `cannot create TAP device "${name}": a device of another type has that name — pick another name`);
    default:
      return new TapOpenError('OPEN_FAILED', `cannot open TAP device: ${error.message}`);
  }
}

export class LinuxTap implements CountingDevice {
  readonly counters: DeviceCounters = newDeviceCounters();
  #handler: ((frames: readonly Uint8Array[]) => void) | undefined;
  #reader: object | undefined;
  #closed = false;
  readonly #slab: Uint8Array;
  readonly #lengths: Uint32Array;
  readonly #views: Uint8Array[] = [];

  constructor(
    private readonly binding: TapBinding,
    private readonly fd: number,
    readonly name: string,
    readonly mtu: number,
    batchFrames: number,
  ) {
    // Room for a full batch of MTU-sized frames, and always for one maximal frame.
    this.#slab = new Uint8Array(Math.max(batchFrames * (mtu + ETHERNET_HEADER_LENGTH), MAX_FRAME_LENGTH) + MAX_FRAME_LENGTH);
    this.#lengths = new Uint32Array(batchFrames);
  }

  /** The device's MAC address as the kernel reports it. */
  mac(netns?: string): Promise<string> {
    return readLinkMac(this.name, netns);
  }

  onFrames(handler: (frames: readonly Uint8Array[]) => void): void {
    this.#handler = handler;
    if (this.#reader || this.#closed) return;
    this.#reader = this.binding.startReading(this.fd, this.#slab, this.#lengths, MAX_FRAME_LENGTH, (count, error) => this.#onBatch(count, error));
  }

  writeFrames(frames: readonly Uint8Array[]): number {
    if (this.#closed || frames.length === 0) return 0;
    const written = this.binding.writeFrames(this.fd, frames);
    this.counters.framesWritten += written;
    this.counters.writeDrops += frames.length - written;
    return written;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reader) this.binding.stopReading(this.#reader); // the poll stops before the fd goes
    this.#reader = undefined;
    this.binding.close(this.fd);
  }

  #onBatch(count: number, error: Error | undefined): void {
    if (error || this.#closed) return; // a read error other than EAGAIN ends with the device; close() reports nothing more
    const views = this.#views;
    views.length = count;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = this.#lengths[i]!;
      views[i] = this.#slab.subarray(offset, offset + length);
      offset += length;
    }
    this.counters.framesRead += count;
    this.counters.batchesRead++;
    this.#handler?.(views);
  }
}
