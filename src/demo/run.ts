/**
 * `tapvpn demo`: a road-warrior client, a tunnel server and a LAN host in
 * network namespaces on this machine. Generates keys and configs, starts
 * server and client, waits for the client's DHCP lease (served by our
 * emulator from the server's lease), then shows ping and an HTTP request
 * crossing the tunnel and the adapters' counters. Removes everything it
 * made, also on Ctrl-C and on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../io/command.js';
import { encodeKey, generatePrivateKey, publicKeyOf } from '../crypto/keys.js';
import { writePrivateKeyFile } from '../io/key-file.js';
import { buildTopology, LAN_HOST_ADDRESS, LAN_HOST_ADDRESS6, LAN_NETWORK, LAN_NETWORK6, TUNNEL_GATEWAY, TUNNEL_NETWORK, TUNNEL_NETWORK6, TUNNEL_PREFIX_LENGTH, type Topology } from './topology.js';

const BIN = fileURLToPath(new URL('../../bin/tapvpn.js', import.meta.url).href.replace('/dist/bin/', '/bin/'));
export const SERVER_PORT = 5555;
export const HTTP_PORT = 8080;
const LEASE_WAIT_MS = 30_000;
const POLL_MS = 250;

export interface DemoSetup {
  topology: Topology;
  dir: string;
  children: ChildProcess[];
}

function say(text: string): void {
  console.log(`\n\x1b[1m== ${text}\x1b[0m`);
}

/** Starts `tapvpn <args>` inside a namespace; its output is shown with a prefix. */
export function spawnTapvpn(netns: string, args: string[], label: string, children: ChildProcess[], quiet = false): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TAPVPN_LOG_PRETTY: !quiet && process.stdout.isTTY ? '1' : '' } });
  const show = (chunk: Buffer): void => {
    if (quiet) return;
    for (const line of chunk.toString().split('\n')) if (line.trim()) console.log(`  [${label}] ${line}`);
  };
  child.stdout!.on('data', show);
  child.stderr!.on('data', show);
  children.push(child);
  return child;
}

export interface DemoConfigOptions {
  /** Port the clients dial (a test proxy in front of the server may differ). */
  dialPort?: number;
  clientToClient?: boolean;
  /** Clients given a config but left out of the server's authorized list. */
  unauthorized?: string[];
}

export async function writeDemoConfigs(dir: string, serverAddress: string, clients: string[], options: DemoConfigOptions = {}): Promise<{ server: string; clients: string[] }> {
  const serverKey = generatePrivateKey();
  await writePrivateKeyFile(join(dir, 'server.key'), serverKey);
  const clientEntries: string[] = [];
  const clientFiles: string[] = [];
  for (const name of [...clients, ...(options.unauthorized ?? [])]) {
    const key = generatePrivateKey();
    await writePrivateKeyFile(join(dir, `${name}.key`), key);
    if (clients.includes(name)) clientEntries.push(`[[clients]]\nname = "${name}"\npublic_key = "${encodeKey(publicKeyOf(key))}"\n`);
    const file = join(dir, `${name}.toml`);
    await writeFile(
      file,
      `name = "${name}"\nprivate_key_file = "${join(dir, `${name}.key`)}"\n[server]\naddress = "${serverAddress}"\nport = ${options.dialPort ?? SERVER_PORT}\npublic_key = "${encodeKey(publicKeyOf(serverKey))}"\n[adapter]\nname = "tapvpn0"\n[keepalive]\ninterval = 2\ntimeout = 6\n[reconnect]\nmin_delay = 0.5\nmax_delay = 2\n[control]\nsocket = "${join(dir, `${name}.sock`)}"\n`,
    );
    clientFiles.push(file);
  }
  const server = join(dir, 'server.toml');
  await writeFile(
    server,
    `private_key_file = "${join(dir, 'server.key')}"\nlease_file = "${join(dir, 'leases.json')}"\nclient_to_client = ${options.clientToClient ?? true}\n[listen]\naddress = "0.0.0.0"\nport = ${SERVER_PORT}\n[adapter]\nname = "tapvpn-srv"\nmtu = 1400\n[tunnel]\nnetwork = "${TUNNEL_NETWORK}/${TUNNEL_PREFIX_LENGTH}"\ngateway = "${TUNNEL_GATEWAY}"\nroutes = ["${LAN_NETWORK}/24"]\nnetwork6 = "${TUNNEL_NETWORK6}"\nroutes6 = ["${LAN_NETWORK6}"]\nlease_time = 600\n[keepalive]\ninterval = 2\ntimeout = 6\n[control]\nsocket = "${join(dir, 'server.sock')}"\n\n${clientEntries.join('\n')}`,
  );
  return { server, clients: clientFiles };
}

/** Waits until `device` in `netns` has a global IPv6 address past DAD (SLAAC); returns it. */
export async function waitForAddress6(netns: string, device: string, timeoutMs = LEASE_WAIT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = (await run('ip', ['-6', '-o', 'addr', 'show', 'dev', device, 'scope', 'global'], { netns, allowFailure: true })).stdout;
    const match = /inet6 (\S+) /.exec(out);
    if (match && !out.includes('tentative')) return match[1]!;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no global IPv6 address on ${device} in ${netns} after ${timeoutMs / 1000} s`);
}

/** Waits until `device` in `netns` has an IPv4 address; returns it. */
export async function waitForAddress(netns: string, device: string, timeoutMs = LEASE_WAIT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = await run('ip', ['-n', netns, '-j', '-4', 'addr', 'show', 'dev', device], { allowFailure: true });
    const info = out.exitCode === 0 ? (JSON.parse(out.stdout || '[]') as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>) : [];
    const address = info[0]?.addr_info?.[0];
    if (address) return `${address.local}/${address.prefixlen}`;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`${device} in ${netns} got no address within ${timeoutMs / 1000} s`);
}

export async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => (clearTimeout(timer), resolve()));
          child.kill('SIGTERM');
        }),
    ),
  );
}

async function show(title: string, program: string, args: string[], netns: string): Promise<void> {
  say(title);
  const out = await run(program, args, { netns, allowFailure: true });
  console.log((out.stdout + out.stderr).trimEnd());
}

export async function runDemo(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('tapvpn demo: needs root for network namespaces and /dev/net/tun (sudo npm run demo)');
    return 2;
  }
  const children: ChildProcess[] = [];
  let topology: Topology | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-demo-'));
  const cleanup = async (): Promise<void> => {
    await stopChildren(children);
    await topology?.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    console.log('\ninterrupted: cleaning up');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say('building namespaces: tvd-client0 ── tvd-server ── tvd-lan');
    topology = await buildTopology('tvd-', 1);
    const configs = await writeDemoConfigs(dir, topology.serverAddressFor(0), ['roadwarrior']);
    const http = spawn('ip', ['netns', 'exec', topology.lan, 'python3', '-m', 'http.server', String(HTTP_PORT), '--bind', LAN_HOST_ADDRESS, '--directory', dir], { stdio: 'ignore' });
    children.push(http);
    say('starting the tunnel server (in tvd-server)');
    spawnTapvpn(topology.server, ['server', '--config', configs.server], 'server', children);
    await new Promise((r) => setTimeout(r, 1500));
    say('starting the road-warrior client (in tvd-client0)');
    spawnTapvpn(topology.clients[0]!, ['client', '--config', configs.clients[0]!], 'client', children);
    const address = await waitForAddress(topology.clients[0]!, 'tapvpn0');
    say(`the client's host took ${address} from our DHCP emulator`);
    await show('client routes (option 121 from the emulator)', 'ip', ['route'], topology.clients[0]!);
    await show(`ping ${LAN_HOST_ADDRESS} (LAN host behind the server) through the tunnel`, 'ping', ['-c', '3', '-i', '0.3', LAN_HOST_ADDRESS], topology.clients[0]!);
    await show('client neighbours: the gateway answers with the reserved MAC', 'ip', ['neigh', 'show', 'dev', 'tapvpn0'], topology.clients[0]!);
    await waitForAddress6(topology.clients[0]!, 'tapvpn0');
    await show('client IPv6 address (SLAAC from the NDP emulator\'s router advertisement) and routes', 'ip', ['-6', 'addr', 'show', 'dev', 'tapvpn0', 'scope', 'global'], topology.clients[0]!);
    await show(`ping -6 ${LAN_HOST_ADDRESS6} (the LAN host over IPv6) through the tunnel`, 'ping', ['-6', '-c', '3', '-i', '0.3', LAN_HOST_ADDRESS6], topology.clients[0]!);
    await show('client IPv6 neighbours: the gateway answers with the reserved MAC', 'ip', ['-6', 'neigh', 'show', 'dev', 'tapvpn0'], topology.clients[0]!);
    await show(`HTTP GET http://${LAN_HOST_ADDRESS}:${HTTP_PORT}/ through the tunnel`, 'curl', ['-sS', '-m', '10', '-o', '/dev/null', '-w', 'HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n', `http://${LAN_HOST_ADDRESS}:${HTTP_PORT}/`], topology.clients[0]!);
    await show('tunnel adapter counters on the client', 'ip', ['-s', 'link', 'show', 'tapvpn0'], topology.clients[0]!);
    await show('tunnel adapter counters on the server', 'ip', ['-s', 'link', 'show', 'tapvpn-srv'], topology.server);
    say('demo complete: cleaning up');
    return 0;
  } catch (error) {
    console.error(`tapvpn demo failed: ${(error as Error).message}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}
