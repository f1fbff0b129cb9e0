/**
 * The Linux TAP device: a FrameDevice over /dev/net/tun (IFF_TAP | IFF_NO_PI).
 * Reads are driven by the event loop; every wake-up delivers all ready frames
 * (up to `batchFrames`) as one batch of views into a reused slab, so the read
 * path allocates nothing per frame. Writes are one write() per frame, in one
 * call into the addon per batch; refused frames are counted drops.
 * Open failures are TapOpenErrors whose message says what to do. With
 * `offload` the device carries TCP super-frames and their metadata
 * (IFF_VNET_HDR; the addon keeps the virtio-net header out of the frames).
 */
import { newDeviceCounters, OFFLOAD_META_STRIDE, type CountingDevice, type DeviceCounters } from './device.js';
import { setGsoMaxSize, setMtu, setTxQueueLength } from './link.js';
import { AddonMissingError, loadTapBinding, type TapBinding } from './native-binding.js';

export type TapOpenErrorCode = 'NO_TUN_DEVICE' | 'PERMISSION_DENIED' | 'NAME_IN_USE' | 'BAD_NAME' | 'ADDON_MISSING' | 'OPEN_FAILED';

export class TapOpenError extends Error {
  override readonly name = 'TapOpenError';
  constructor(
    readonly code: TapOpenErrorCode,
    message: string,
    /** The errno name behind it (ENOENT, EPERM ...), when there is one. */
    readonly errno?: string,
  ) {
    super(message);
  }
}

export interface TapOptions {
  /** Interface name (at most 15 bytes); empty or absent lets the kernel pick tapN, "x%d" picks xN. */
  name?: string;
  /** Set the link MTU after opening (through `ip link`); also sizes the read slab. */
  mtu?: number;
  /** Most frames per read batch (one handler call). */
  batchFrames?: number;
  /**
   * Set the link's txqueuelen: the ring of frames the kernel holds for our
   * read(). The default (1000) overflows when Node is not scheduled for a few
   * milliseconds under a flood; 4096-8192 rides that out (docs/ADAPTER.md).
   */
  txQueueLength?: number;
  /**
   * Open with IFF_VNET_HDR and TUNSETOFFLOAD (checksum, TSO4, TSO6): the host
   * hands over TCP super-frames up to 64 KiB and takes them back whole
   * (docs/ADAPTER.md "Offload"). A kernel that refuses it gets a plain TAP.
   */
  offload?: boolean;
  /** With offload: cap the super-frames the host hands over (bytes, `gso_max_size`); absent: the kernel's 64 KiB. */
  gsoMaxSize?: number;
}

const DEFAULT_MTU = 1500;
const DEFAULT_BATCH_FRAMES = 64;
const ETHERNET_HEADER_LENGTH = 14;
/** Largest frame a TAP can deliver: a 64 KiB datagram (or GSO super-frame: the kernel keeps those under 64 KiB) + Ethernet header. */
const MAX_FRAME_LENGTH = 65535 + ETHERNET_HEADER_LENGTH;
/** With offload, room for this many maximal super-frames per read batch after the MTU-sized ones. */
const OFFLOAD_SUPER_FRAMES_PER_BATCH = 4;
const IFNAMSIZ_MAX_BYTES = 15;
const MAX_BATCH_FRAMES = 1024;

export async function openTap(options: TapOptions = {}): Promise<LinuxTap> {
  const name = options.name ?? '';
  if (Buffer.byteLength(name) > IFNAMSIZ_MAX_BYTES || /[\s/:]/.test(name) || name === '.' || name === '..') {
    throw new TapOpenError('BAD_NAME', `invalid TAP device name "${name}": use at most ${IFNAMSIZ_MAX_BYTES} bytes, no spaces, slashes or colons (or leave it empty and the kernel picks tapN)`);
  }
  const batchFrames = options.batchFrames ?? DEFAULT_BATCH_FRAMES;
  if (!Number.isInteger(batchFrames) || batchFrames < 1 || batchFrames > MAX_BATCH_FRAMES) {
    throw new RangeError(`batchFrames must be an integer 1..${MAX_BATCH_FRAMES}, got ${batchFrames}`);
  }
  let binding: TapBinding;
  let opened: { fd: number; name: string; offload: boolean };
  let offload: boolean;
  try {
    binding = loadTapBinding();
    opened = openWithFallback(binding, name, options.offload === true);
    offload = opened.offload;
  } catch (error) {
    throw explainOpenError(error as NodeJS.ErrnoException, name);
  }
  const tap = new LinuxTap(binding, opened.fd, opened.name, options.mtu ?? DEFAULT_MTU, batchFrames, offload);
  try {
    if (options.mtu !== undefined) await setMtu(opened.name, options.mtu);
    if (options.txQueueLength !== undefined) await setTxQueueLength(opened.name, options.txQueueLength);
    if (offload && options.gsoMaxSize) await setGsoMaxSize(opened.name, options.gsoMaxSize);
  } catch (error) {
    await tap.close();
    throw error;
  }
  return tap;
}

/** Opens with offload when asked; a kernel that refuses the header or the offloads (EINVAL) gets a plain TAP. */
function openWithFallback(binding: TapBinding, name: string, offload: boolean): { fd: number; name: string; offload: boolean } {
  if (!offload) return { ...binding.open(name, false), offload: false };
  try {
    return { ...binding.open(name, true), offload: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    return { ...binding.open(name, false), offload: false };
  }
}

function explainOpenError(error: NodeJS.ErrnoException, name: string): Error {
  if (error instanceof AddonMissingError) return new TapOpenError('ADDON_MISSING', `cannot open a TAP device: ${error.message}`);
  const shown = name || 'tap%d';
  switch (error.code) {
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
      return new TapOpenError('NO_TUN_DEVICE', '/dev/net/tun does not exist — load the tun module: modprobe tun (in a container, pass the device through: --device /dev/net/tun --cap-add NET_ADMIN)', error.code);
    case 'EPERM':
    case 'EACCES':
      return new TapOpenError('PERMISSION_DENIED', `cannot open /dev/net/tun and create "${shown}": permission denied — run as root or grant CAP_NET_ADMIN (setcap cap_net_admin+ep $(readlink -f $(which node)))`, error.code);
    case 'EBUSY':
      return new TapOpenError('NAME_IN_USE', `cannot attach to TAP device "${shown}": another process has it open — pick another name, or stop that process`, error.code);
    case 'EINVAL':
      return new TapOpenError('NAME_IN_USE', `cannot create TAP device "${shown}": the name belongs to a device that is not a TAP (ip link show ${shown}) — pick another name`, error.code);
    default:
      return new TapOpenError('OPEN_FAILED', `cannot open TAP device "${shown}": ${error.message}`, error.code);
  }
}

export class LinuxTap implements CountingDevice {
  readonly counters: DeviceCounters = newDeviceCounters();
  #frameHandler: ((frames: readonly Uint8Array[], meta?: Uint16Array) => void) | undefined;
  #errorHandler: ((error: NodeJS.ErrnoException) => void) | undefined;
  #reader: object | undefined;
  #closed = false;
  #readError: NodeJS.ErrnoException | undefined;
  readonly #slab: Uint8Array;
  readonly #lengths: Uint32Array;
  /** With offload: the virtio_net_hdr of each frame of the batch (OFFLOAD_META_STRIDE u16 each). */
  readonly #meta: Uint16Array | undefined;
  readonly #views: Uint8Array[] = [];

  constructor(
    private readonly binding: TapBinding,
    private readonly fd: number,
    readonly name: string,
    readonly mtu: number,
    batchFrames: number,
    /** True when the fd was opened with IFF_VNET_HDR and the offloads (FrameDevice.offload). */
    readonly offload = false,
  ) {
    // Room for a full batch of MTU-sized (VLAN-tagged) frames, and always for one maximal frame (a few super-frames with offload) after them.
    const batchBytes = batchFrames * (mtu + ETHERNET_HEADER_LENGTH + 4);
    this.#slab = new Uint8Array(batchBytes + MAX_FRAME_LENGTH * (offload ? OFFLOAD_SUPER_FRAMES_PER_BATCH : 1));
    this.#lengths = new Uint32Array(batchFrames);
    this.#meta = offload ? new Uint16Array(batchFrames * OFFLOAD_META_STRIDE) : undefined;
  }

  /** The device's MAC as "02:xx:..", asked of the TAP fd (works after the link moved to another namespace). */
  mac(): string {
    if (this.#closed) throw new Error(`TAP device ${this.name} is closed`);
    return [...this.binding.getMac(this.fd)].map((octet) => octet.toString(16).padStart(2, '0')).join(':');
  }

  /** The read error that stopped reading (the device was deleted under us), if any. */
  get readError(): NodeJS.ErrnoException | undefined {
    return this.#readError;
  }

  /** Called once if reading stops on an error (e.g. the link was deleted); the device then only closes. */
  onError(handler: (error: NodeJS.ErrnoException) => void): void {
    this.#errorHandler = handler;
  }

  onFrames(handler: (frames: readonly Uint8Array[], meta?: Uint16Array) => void): void {
    this.#frameHandler = handler;
    if (this.#reader || this.#closed) return;
    this.#reader = this.binding.startReading(
      this.fd,
      this.#slab,
      this.#lengths,
      MAX_FRAME_LENGTH,
      (count, error) => (error ? this.#onReadError(error) : this.#onBatch(count)),
      this.#meta,
    );
  }

  /**
   * Pauses (false) or resumes (true) reading. While paused, frames the host
   * sends wait in the device's ring (txqueuelen frames) and the kernel drops
   * beyond it: back-pressure the host's TCP senders feel as loss, the way a
   * full NIC queue would. A no-op before onFrames, after close or a read error.
   */
  setReading(on: boolean): void {
    if (!this.#reader || this.#closed || this.#reading === on) return;
    this.binding.setReading(this.#reader, on);
    this.#reading = on;
  }

  /** False while reads are paused (setReading(false)). */
  get reading(): boolean {
    return this.#reading;
  }

  #reading = true;

  writeFrames(frames: readonly Uint8Array[], meta?: Uint16Array): number {
    if (frames.length === 0) return 0;
    const written = this.#closed ? 0 : this.binding.writeFrames(this.fd, frames, this.offload, this.offload ? meta : undefined);
    this.counters.framesWritten += written;
    this.counters.writeDrops += frames.length - written;
    return written;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reader) this.binding.stopReading(this.#reader); // out of epoll before the fd goes
    this.#reader = undefined;
    this.binding.close(this.fd);
  }

  #onBatch(count: number): void {
    if (this.#closed) return;
    const views = this.#views;
    views.length = count;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = this.#lengths[i]!;
      views[i] = this.#slab.subarray(offset, offset + length);
      offset += length;
    }
    this.counters.framesRead += count;
    this.counters.batches++;
    this.#frameHandler?.(views, this.#meta);
  }

  #onReadError(error: NodeJS.ErrnoException): void {
    if (this.#closed) return;
    this.#readError = error;
    this.#errorHandler?.(error);
  }
}
