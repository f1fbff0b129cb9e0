/**
 * Loads the native TAP addon (adapter/native/tap.c) with node-gyp-build from
 * adapter/native/: its source build (build/Release, made by `npm install` in
 * a checkout) or the prebuilt binary an installed package ships
 * (prebuilds/linux-x64, made by prebuildify at `npm pack`). The folder is
 * found from the package root, so this works from source (tsx) and from dist/.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's functions (see tap.c); errno failures throw Errors with `code` (ENOENT ...) and `syscall`. */
export interface TapBinding {
  /** Opens /dev/net/tun and attaches a TAP named `name` ("" or "x%d": the kernel numbers it). */
  open(name: string, vnetHdr?: boolean): { fd: number; name: string };
  /** The device's MAC (SIOCGIFHWADDR on the TAP fd; works whatever namespace the link is in). */
  getMac(fd: number): Uint8Array;
  /** Starts event-loop reads: each wake-up fills `slab` back to back and calls `callback` once. */
  startReading(
    fd: number,
    slab: Uint8Array,
    lengths: Uint32Array,
    maxFrame: number,
    callback: (count: number, error: NodeJS.ErrnoException | undefined) => void,
    /** With a device opened with vnetHdr: 6 u16 per lengths entry, the virtio_net_hdr of each GSO frame (zeros for a plain one). */
    meta?: Uint16Array,
  ): object;
  /** Pauses (false) or resumes (true) the reads of a started handle; while paused the kernel queues up to txqueuelen frames, then drops. */
  setReading(handle: object, on: boolean): void;
  /** Sets a TCP carrier option Node does not expose on a socket fd (a closed list of names). */
  setSocketOption(fd: number, name: CarrierSocketOption, value: number): void;
  /** Reads one back (SO_SNDBUF and SO_RCVBUF come back doubled: the kernel's bookkeeping, socket(7)). */
  getSocketOption(fd: number, name: CarrierSocketOption): number;
  /** Stops the poll (idempotent); must precede close(fd). */
  stopReading(handle: object): void;
  /** write()s each frame (with vnetHdr: writev of the header from `meta`, zeros without); returns how many the kernel took whole. */
  writeFrames(fd: number, frames: readonly Uint8Array[], vnetHdr?: boolean, meta?: Uint16Array): number;
  close(fd: number): void;
  /** A TCP socket bound to an IP literal and port (0: any), not listening; startAccepting (or net.Server.listen({ fd })) listens on it. */
  bindTcp(address: string, port: number): { fd: number; port: number };
  /** listen()s on a bound socket and accepts on the event loop: `callback` gets each connection's fd (non-blocking, close-on-exec; the callee owns it), or -1 and an error (EMFILE ...). */
  startAccepting(fd: number, backlog: number, callback: (fd: number, error: NodeJS.ErrnoException | undefined) => void): object;
  /** Pauses (false: connections wait in the backlog) or resumes accepting. */
  setAccepting(handle: object, on: boolean): void;
  /** Stops accepting and closes the listening fd (idempotent). */
  stopAccepting(handle: object): void;
  /** Calling thread: no_new_privs, and the bounding set emptied (false without CAP_SETPCAP). Before setuid. */
  dropBoundingSet(): boolean;
  /** Calling thread: the ambient, effective, permitted and inheritable sets emptied. After setuid (or without one). */
  clearCapabilities(): void;
}

export type CarrierSocketOption = 'TCP_NOTSENT_LOWAT' | 'SO_SNDBUF' | 'SO_RCVBUF';

const ADDON_DIR = join('adapter', 'native');
const MAX_PARENT_DEPTH = 6; // adapter/ or dist/adapter/ sit at most two levels down; six leaves slack

/** Thrown when no build of the addon loads here; linux-tap turns it into a TapOpenError. */
export class AddonMissingError extends Error {
  override readonly name = 'AddonMissingError';
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < MAX_PARENT_DEPTH; depth++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new AddonMissingError('cannot find the tapvpn package root (package.json) above adapter/');
}

let binding: TapBinding | undefined;

export function loadTapBinding(): TapBinding {
  if (binding) return binding;
  const dir = join(packageRoot(), ADDON_DIR);
  const require = createRequire(import.meta.url);
  try {
    binding = (require('node-gyp-build') as (dir: string) => unknown)(dir) as TapBinding;
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0];
    throw new AddonMissingError(`the TAP addon in ${dir} did not load (${detail}) — in a checkout run \`npm install\`; for an installed package let its install script build it from source: \`npm rebuild -g --allow-scripts=tapvpn tapvpn\` (needs make, g++ and python3)`);
  }
  return binding;
}
