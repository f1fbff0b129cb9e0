/**
 * wireguard-go (Debian's package, user space, UDP) as the benchmark's second
 * yardstick: the tunnel a user would pick for latency. Two TUN devices, one
 * per namespace, keyed with `wg genkey`, configured with `wg set` through
 * wireguard-go's UAPI socket, and addressed in a /24 of their own.
 *
 * wireguard-go runs in the foreground (`-f`) so that its PID is the one we
 * read CPU time and peak RSS from. Its UAPI socket lives in /var/run/wireguard,
 * which network namespaces do not separate: device names therefore carry the
 * topology's prefix (unique per contender). The tunnel MTU is pinned to
 * tapvpn's 1400 bytes.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../src/io/command.js';

export const WIREGUARD_PORT = 51820;
export const WIREGUARD_SERVER_TUNNEL_ADDRESS = '10.99.0.1';
export const WIREGUARD_CLIENT_TUNNEL_ADDRESS = '10.99.0.2';
const TUNNEL_PREFIX_LENGTH = 24;
const TUNNEL_MTU = 1400;
const DEVICE_WAIT_MS = 10_000;
const POLL_MS = 100;

export interface WireGuardPair {
  server: ChildProcess;
  client: ChildProcess;
}

interface Side {
  netns: string;
  device: string;
  address: string;
  keyFile: string;
  publicKey: string;
}

/** Starts both ends; resolves once the client has completed a handshake (one ping through the tunnel answered). */
export async function startWireGuard(dir: string, prefix: string, serverNs: string, serverAddress: string, clientNs: string, children: ChildProcess[]): Promise<WireGuardPair> {
  const server = await makeSide(dir, serverNs, `${prefix}wgs`, WIREGUARD_SERVER_TUNNEL_ADDRESS);
  const client = await makeSide(dir, clientNs, `${prefix}wgc`, WIREGUARD_CLIENT_TUNNEL_ADDRESS);
  const serverChild = await startDevice(server, children);
  const clientChild = await startDevice(client, children);
  await run('wg', ['set', server.device, 'listen-port', String(WIREGUARD_PORT), 'private-key', server.keyFile, 'peer', client.publicKey, 'allowed-ips', `${client.address}/32`], { netns: serverNs });
  await run('wg', ['set', client.device, 'private-key', client.keyFile, 'peer', server.publicKey, 'allowed-ips', `${server.address}/32`, 'endpoint', `${serverAddress}:${WIREGUARD_PORT}`], { netns: clientNs });
  for (const side of [server, client]) {
    await run('ip', ['-n', side.netns, 'addr', 'add', `${side.address}/${TUNNEL_PREFIX_LENGTH}`, 'dev', side.device]);
    await run('ip', ['-n', side.netns, 'link', 'set', 'dev', side.device, 'mtu', String(TUNNEL_MTU), 'up']);
  }
  const ping = await run('ping', ['-c', '3', '-i', '0.2', '-W', '2', WIREGUARD_SERVER_TUNNEL_ADDRESS], { netns: clientNs, allowFailure: true });
  if (ping.exitCode !== 0) throw new Error(`wireguard-go: no ping through the tunnel after set-up:\n${ping.stdout}${ping.stderr}`);
  return { server: serverChild, client: clientChild };
}

async function makeSide(dir: string, netns: string, device: string, address: string): Promise<Side> {
  const privateKey = (await run('wg', ['genkey'])).stdout.trim();
  const keyFile = join(dir, `${device}.key`);
  await writeFile(keyFile, `${privateKey}\n`, { mode: 0o600 });
  const publicKey = (await runWithInput('wg', ['pubkey'], `${privateKey}\n`)).trim();
  return { netns, device, address, keyFile, publicKey };
}

/** `wireguard-go -f <device>` in the namespace; resolves once the TUN device exists there. */
async function startDevice(side: Side, children: ChildProcess[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', side.netns, 'wireguard-go', '-f', side.device], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'error' } });
  children.push(child);
  const deadline = Date.now() + DEVICE_WAIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wireguard-go ${side.device} exited with ${child.exitCode} (is the tun module there? /dev/net/tun)`);
    const out = await run('ip', ['-n', side.netns, 'link', 'show', 'dev', side.device], { allowFailure: true });
    if (out.exitCode === 0) return child;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`wireguard-go: device ${side.device} did not appear in ${side.netns} within ${DEVICE_WAIT_MS / 1000} s`);
}

function runWithInput(program: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${program} ${args.join(' ')} failed (exit ${code}): ${err.trim()}`))));
    child.stdin.end(input);
  });
}
