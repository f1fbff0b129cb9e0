/**
 * Starts the system's DHCP client on the adapter so the host obtains the
 * lease from our DHCP emulator the way it would on any Ethernet: dhclient,
 * dhcpcd or udhcpc, whichever is installed (or the configured one).
 *
 * Guarantees:
 * - every client asks for classless routes (options 121 and 249), and udhcpc
 *   installs them (scripts/udhcpc-hook.sh: the stock scripts ignore them);
 * - the child dies with us even on kill -9: it runs under `setpriv
 *   --pdeathsig KILL` (util-linux) where present; its PID is recorded in the
 *   run folder either way, so the next start reaps an orphan (run-dir.ts);
 * - `release()` ends it through its own release path, so its hooks undo
 *   what they did (dhclient -r, dhcpcd -k, udhcpc SIGUSR2 then SIGTERM with
 *   -R), bounded in time, SIGKILL as the last resort.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../io/command.js';

export type DhcpClientName = 'dhclient' | 'dhcpcd' | 'udhcpc';

const SEARCH_PATH = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const RELEASE_TIMEOUT_MS = 5_000;
const EXIT_WAIT_MS = 3_000;

export function locateProgram(program: string): string | undefined {
  return SEARCH_PATH.map((dir) => join(dir, program)).find((path) => existsSync(path));
}

/** dhclient asks for classless routes (options 121 and 249) explicitly, whatever the system's dhclient.conf says. */
const DHCLIENT_CONF = `option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
option ms-classless-static-routes code 249 = array of unsigned integer 8;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, interface-mtu, rfc3442-classless-static-routes, ms-classless-static-routes;
`;

/** Options every client requests on top of its defaults: routes (121, 249), MTU (26), DNS (6) and domain (15). */
const DHCPCD_OPTIONS = ['classless_static_routes', 'ms_classless_static_routes', 'interface_mtu', 'domain_name_servers', 'domain_name'];
const UDHCPC_OPTIONS = ['staticroutes', 'msstaticroutes', 'mtu', 'dns', 'domain'];

/** scripts/udhcpc-hook.sh, found from the package root (works from source and from dist/). */
export function udhcpcHookPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'scripts', 'udhcpc-hook.sh');
  }
  throw new Error('cannot find the tapvpn package root (package.json) above src/client/');
}

/** The files a client keeps in the run folder (dhclient's config, PID file and leases). */
function dhclientFiles(runDir: string): string[] {
  return ['-cf', join(runDir, 'dhclient.conf'), '-pf', join(runDir, 'dhclient.pid'), '-lf', join(runDir, 'dhclient.leases')];
}

/** The command line of each client, foreground, on `device` only. Pure, for tests. */
export function dhcpClientArgs(name: DhcpClientName, device: string, runDir: string): string[] {
  switch (name) {
    case 'dhclient':
      return ['-d', '-v', ...dhclientFiles(runDir), device];
    case 'dhcpcd':
      return ['-B', '-4', ...DHCPCD_OPTIONS.flatMap((o) => ['-o', o]), device];
    case 'udhcpc':
      return ['-f', '-R', '-i', device, '-s', udhcpcHookPath(), ...UDHCPC_OPTIONS.flatMap((o) => ['-O', o])];
  }
}

export interface DhcpClientProcess {
  readonly name: DhcpClientName;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Releases the lease through the client's own release path (its hook restores what it changed) and waits for it to end. */
  release(): Promise<void>;
}

export async function startDhcpClient(choice: 'auto' | DhcpClientName, device: string, runDir: string): Promise<DhcpClientProcess> {
  const candidates: DhcpClientName[] = choice === 'auto' ? ['dhclient', 'dhcpcd', 'udhcpc'] : [choice];
  for (const name of candidates) {
    const path = locateProgram(name);
    if (!path) continue;
    if (name === 'dhclient') await writeFile(join(runDir, 'dhclient.conf'), DHCLIENT_CONF);
    const args = dhcpClientArgs(name, device, runDir);
    const setpriv = locateProgram('setpriv');
    // The parent-death signal survives exec: dhclient/dhcpcd/udhcpc get SIGKILL the moment we die, however we die.
    const child = setpriv
      ? spawn(setpriv, ['--pdeathsig', 'KILL', path, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`could not start ${path}: ${error.message}`);
    }
    const pid = child.pid;
    return { name, child, pid, release: () => releaseAndEnd(name, path, child, device, runDir) };
  }
  throw new Error(`no DHCP client found (looked for ${candidates.join(', ')} in ${SEARCH_PATH.join(', ')}): install isc-dhcp-client, dhcpcd-base or udhcpc, or set address_mode = "static"`);
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function releaseAndEnd(name: DhcpClientName, path: string, child: ChildProcess, device: string, runDir: string): Promise<void> {
  if (hasExited(child)) return;
  switch (name) {
    case 'dhclient': // a second dhclient -r finds the first by its PID file, stops it and releases (script: RELEASE)
      await run(path, ['-r', ...dhclientFiles(runDir), device], { timeoutMs: RELEASE_TIMEOUT_MS, allowFailure: true });
      break;
    case 'dhcpcd': // asks the running dhcpcd over its control socket to release and deconfigure (hooks: RELEASE)
      await run(path, ['-k', '-4', device], { timeoutMs: RELEASE_TIMEOUT_MS, allowFailure: true });
      break;
    case 'udhcpc': // SIGUSR2: release and deconfig (script: deconfig); then SIGTERM, which with -R releases again on exit
      child.kill('SIGUSR2');
      await waitForExit(child, 200);
      child.kill('SIGTERM');
      break;
  }
  if (await waitForExit(child, EXIT_WAIT_MS)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, EXIT_WAIT_MS)) return;
  child.kill('SIGKILL');
  await waitForExit(child, EXIT_WAIT_MS);
}
