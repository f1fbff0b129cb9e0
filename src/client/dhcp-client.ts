/**
 * Starts the system's DHCP client on the adapter so the host obtains the
 * lease from our DHCP emulator the way it would on any Ethernet: dhclient,
 * dhcpcd or udhcpc, whichever is installed (or the configured one). The
 * child runs in the foreground under our PID bookkeeping and is stopped with
 * the adapter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type DhcpClientName = 'dhclient' | 'dhcpcd' | 'udhcpc';

const SEARCH_PATH = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function locate(program: string): string | undefined {
  return SEARCH_PATH.map((dir) => join(dir, program)).find((path) => existsSync(path));
}

/** dhclient asks for classless routes (option 121) explicitly, whatever the system's dhclient.conf says. */
const DHCLIENT_CONF = `option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, interface-mtu, rfc3442-classless-static-routes;
`;

export async function startDhcpClient(choice: 'auto' | DhcpClientName, device: string, runDir: string): Promise<{ name: DhcpClientName; child: ChildProcess }> {
  const candidates: DhcpClientName[] = choice === 'auto' ? ['dhclient', 'dhcpcd', 'udhcpc'] : [choice];
  for (const name of candidates) {
    const path = locate(name);
    if (!path) continue;
    let args: string[];
    if (name === 'dhclient') {
      const conf = join(runDir, 'dhclient.conf');
      await writeFile(conf, DHCLIENT_CONF);
      args = ['-d', '-v', '-cf', conf, '-pf', join(runDir, 'dhclient.pid'), '-lf', join(runDir, 'dhclient.leases'), device];
    } else if (name === 'dhcpcd') {
      args = ['-B', '-4', device];
    } else {
      args = ['-f', '-i', device];
    }
    const child = spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return { name, child };
  }
  throw new Error(`no DHCP client found (looked for ${candidates.join(', ')}): install isc-dhcp-client, or set address_mode = "static"`);
}
