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
    super(`configuring ${device}: \`${commandLine}\` failed: ${detail}`);
  }
}

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

export async function setLinkMtu(device: string, mtu: number, netns?: string): Promise<void> {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw new LinkError(device, 'ip link set mtu', `MTU must be an integer 68..65535, got ${mtu}`);
  }
  await ip(device, ['link', 'set', 'dev', device, 'mtu', String(mtu)], netns);
}

export async function setLinkMac(device: string, mac: string, netns?: string): Promise<void> {
  await ip(device, ['link', 'set', 'dev', device, 'address', mac], netns);
}

/** Adds `address/prefixLength` to the device. */
export async function addAddress(device: string, address: string, prefixLength: number, netns?: string): Promise<void> {
  await ip(device, ['addr', 'add', `${address}/${prefixLength}`, 'dev', device], netns);
}

/** Adds a route `destination/prefixLength via gateway dev device`. */
export async function addRoute(device: string, destination: string, prefixLength: number, gateway: string, netns?: string): Promise<void> {
  await ip(device, ['route', 'replace', `${destination}/${prefixLength}`, 'via', gateway, 'dev', device], netns);
}

/** Moves the device into a network namespace (an open TAP fd stays valid). */
export async function moveToNamespace(device: string, netns: string): Promise<void> {
  await ip(device, ['link', 'set', 'dev', device, 'netns', netns]);
}

export async function readLinkMac(device: string, netns?: string): Promise<string> {
  const out = await ip(device, ['-j', 'link', 'show', 'dev', device], netns);
  const [link] = JSON.parse(out) as Array<{ address?: string }>;
  if (!link?.address) throw new LinkError(device, 'ip -j link show', 'no link-layer address reported');
  return link.address;
}
