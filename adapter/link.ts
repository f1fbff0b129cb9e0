/**
 * Link configuration through iproute2's `ip`, optionally inside a network
 * namespace (`ip -n <ns>`). Every failure is a LinkError naming the command,
 * the device and ip's own message.
 */
import { CommandError, run } from '../src/io/command.js';

export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly device: string,
    readonly commandLine: string,
    readonly detail: string,
  ) {
    super(`configuring ${device}: \`${commandLine}\` failed: ${detail || 'no error output'}`);
  }
}

const MIN_MTU = 68; // RFC 791: every IPv4 host must handle 68-byte datagrams
const MAX_MTU = 65535;

async function ip(device: string, args: readonly string[], netns?: string): Promise<string> {
  const argv = netns ? ['-n', netns, ...args] : [...args];
  try {
    return (await run('ip', argv)).stdout;
  } catch (error) {
    if (error instanceof CommandError) throw new LinkError(device, error.commandLine, error.stderr.trim());
    throw error;
  }
}

export async function setLinkUp(device: string, netns?: string): Promise<void> {
  await ip(device, ['link', 'set', 'dev', device, 'up'], netns);
}

export async function setLinkDown(device: string, netns?: string): Promise<void> {
  await ip(device, ['link', 'set', 'dev', device, 'down'], netns);
}

export async function setMtu(device: string, mtu: number, netns?: string): Promise<void> {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
    throw new LinkError(device, `ip link set dev ${device} mtu ${mtu}`, `MTU must be an integer ${MIN_MTU}..${MAX_MTU}, got ${mtu}`);
  }
  await ip(device, ['link', 'set', 'dev', device, 'mtu', String(mtu)], netns);
}

/** The device's transmit queue length; for a TAP also the size of the ring of frames waiting for our read(). */
export async function setTxQueueLength(device: string, frames: number, netns?: string): Promise<void> {
  if (!Number.isInteger(frames) || frames < 1) {
    throw new LinkError(device, `ip link set dev ${device} txqueuelen ${frames}`, `txqueuelen must be a positive integer, got ${frames}`);
  }
  await ip(device, ['link', 'set', 'dev', device, 'txqueuelen', String(frames)], netns);
}

/** The largest GSO super-frame the stack hands the device (bytes; the kernel's default is 65536). */
export async function setGsoMaxSize(device: string, bytes: number, netns?: string): Promise<void> {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 65536) {
    throw new LinkError(device, `ip link set dev ${device} gso_max_size ${bytes}`, `gso_max_size must be an integer 1..65536, got ${bytes}`);
  }
  await ip(device, ['link', 'set', 'dev', device, 'gso_max_size', String(bytes)], netns);
}

export async function setMac(device: string, mac: string, netns?: string): Promise<void> {
  await ip(device, ['link', 'set', 'dev', device, 'address', mac], netns);
}

/** Sets the link's alias (ifalias): a label `ip link` shows, used to recognise our own adapters. */
export async function setAlias(device: string, alias: string, netns?: string): Promise<void> {
  await ip(device, ['link', 'set', 'dev', device, 'alias', alias], netns);
}

/** Adds `address/prefixLength` to the device. */
export async function addAddress(device: string, address: string, prefixLength: number, netns?: string): Promise<void> {
  await ip(device, ['addr', 'add', `${address}/${prefixLength}`, 'dev', device], netns);
}

/** Adds (or replaces) the route `destination/prefixLength via gateway dev device`. */
export async function addRoute(device: string, destination: string, prefixLength: number, gateway: string, netns?: string): Promise<void> {
  await ip(device, ['route', 'replace', `${destination}/${prefixLength}`, 'via', gateway, 'dev', device], netns);
}

/** Adds (or replaces) the on-link route `destination/prefixLength dev device`: the kernel resolves each address on the device. */
export async function addDeviceRoute(device: string, destination: string, prefixLength: number, netns?: string): Promise<void> {
  await ip(device, ['route', 'replace', `${destination}/${prefixLength}`, 'dev', device], netns);
}

/** Removes the route `destination/prefixLength dev device`. */
export async function deleteDeviceRoute(device: string, destination: string, prefixLength: number, netns?: string): Promise<void> {
  await ip(device, ['route', 'del', `${destination}/${prefixLength}`, 'dev', device], netns);
}

/** A permanent neighbour entry: `address` is at `mac` on the device (no ARP needed). */
export async function addNeighbour(device: string, address: string, mac: string, netns?: string): Promise<void> {
  await ip(device, ['neigh', 'replace', address, 'lladdr', mac, 'nud', 'permanent', 'dev', device], netns);
}

/** Moves the device from `fromNetns` (default: ours) into `netns`; an open TAP fd stays valid. */
export async function moveToNamespace(device: string, netns: string, fromNetns?: string): Promise<void> {
  await ip(device, ['link', 'set', 'dev', device, 'netns', netns], fromNetns);
}

export async function deleteLink(device: string, netns?: string): Promise<void> {
  await ip(device, ['link', 'del', 'dev', device], netns);
}

export interface LinkStats {
  mtu: number;
  mac: string;
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

/** The link's MTU, MAC and kernel counters (`ip -s -j link show`). */
export async function readLinkStats(device: string, netns?: string): Promise<LinkStats> {
  const out = await ip(device, ['-s', '-j', 'link', 'show', 'dev', device], netns);
  type Counts = { packets?: number; bytes?: number; dropped?: number };
  const [link] = JSON.parse(out) as Array<{ mtu?: number; address?: string; stats64?: { rx?: Counts; tx?: Counts } }>;
  if (!link?.stats64?.rx || !link.stats64.tx) throw new LinkError(device, 'ip -s -j link show', 'no statistics reported');
  const { rx, tx } = link.stats64;
  return {
    mtu: link.mtu ?? 0,
    mac: link.address ?? '',
    rxPackets: rx.packets ?? 0,
    rxBytes: rx.bytes ?? 0,
    rxDropped: rx.dropped ?? 0,
    txPackets: tx.packets ?? 0,
    txBytes: tx.bytes ?? 0,
    txDropped: tx.dropped ?? 0,
  };
}

export async function readLinkMac(device: string, netns?: string): Promise<string> {
  const out = await ip(device, ['-j', 'link', 'show', 'dev', device], netns);
  const [link] = JSON.parse(out) as Array<{ address?: string }>;
  if (!link?.address) throw new LinkError(device, `ip -j link show dev ${device}`, 'no link-layer address reported');
  return link.address;
}
