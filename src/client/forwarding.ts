/**
 * A site gateway client (`forward = true`, issue 14's site-to-site) relies
 * on the kernel to forward between its LAN and the tunnel adapter. The
 * client never changes the host's sysctls: it checks that IPv4 forwarding
 * is on before it dials, and refuses to start with the command that turns
 * it on when it is off — a tunnel up with a branch LAN that cannot use it
 * would look like a routing fault somewhere else.
 */
import { readFile } from 'node:fs/promises';

export const IP_FORWARD_PATH = '/proc/sys/net/ipv4/ip_forward';

export class ForwardingError extends Error {
  override readonly name = 'ForwardingError';
  constructor(
    readonly code: 'FORWARDING_OFF' | 'FORWARDING_UNKNOWN',
    message: string,
  ) {
    super(message);
  }
}

/** Resolves when IPv4 forwarding is on; otherwise a ForwardingError saying what to do. */
export async function checkForwarding(read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8')): Promise<void> {
  let value: string;
  try {
    value = (await read(IP_FORWARD_PATH)).trim();
  } catch (error) {
    throw new ForwardingError('FORWARDING_UNKNOWN', `forward = true needs IPv4 forwarding, and ${IP_FORWARD_PATH} could not be read: ${(error as Error).message}`);
  }
  if (value === '1') return;
  throw new ForwardingError(
    'FORWARDING_OFF',
    `forward = true, but IPv4 forwarding is off on this host (${IP_FORWARD_PATH} is ${JSON.stringify(value)}): ` +
      'run `sysctl -w net.ipv4.ip_forward=1` (and keep it with a file in /etc/sysctl.d/), or set forward = false; the client does not change host settings itself',
  );
}
