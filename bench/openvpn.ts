/**
 * OpenVPN 2.6 as the benchmark's reference: a throw-away PKI made with
 * openssl (EC P-256 CA, server and client certificates), and a point-to-point
 * TLS tunnel in TAP mode over TCP between two namespaces.
 *
 * Every listener is bound to a namespace address (`--local`), the data cipher
 * is pinned on both sides (`--data-ciphers` and `--cipher`), and DCO is off
 * (ovpn-dco carries TUN only, so TAP never uses it; saying so keeps the log
 * quiet). Everything else is OpenVPN's default, as deployed.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { run } from '../src/io/command.js';

export const OPENVPN_PORT = 1194;
export const OPENVPN_DEVICE = 'tvt-ovpn0';
export const OPENVPN_SERVER_TUNNEL_ADDRESS = '10.88.0.1';
export const OPENVPN_CLIENT_TUNNEL_ADDRESS = '10.88.0.2';
const TUNNEL_NETMASK = '255.255.255.0';
const READY_TIMEOUT_MS = 20_000;
const READY_LINE = 'Initialization Sequence Completed';

/** Makes ca.crt, server.{crt,key}, client.{crt,key} in `dir`. */
export async function makePki(dir: string): Promise<void> {
  const file = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/CN=tapvpn-bench-ca']);
  for (const [name, usage] of [['server', 'serverAuth'], ['client', 'clientAuth']] as const) {
    await run('openssl', ['req', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`]);
    const ext = file(`${name}.ext`);
    await run('sh', ['-c', `printf 'extendedKeyUsage=${usage}\\nkeyUsage=digitalSignature,keyAgreement\\n' > '${ext}'`]);
    await run('openssl', ['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file(`${name}.crt`), '-days', '2', '-extfile', ext]);
  }
}

export interface OpenVpnPair {
  server: ChildProcess;
  client: ChildProcess;
}

function common(dir: string, role: 'server' | 'client', cipher: string): string[] {
  return [
    '--dev', OPENVPN_DEVICE, '--dev-type', 'tap', '--disable-dco',
    '--ca', join(dir, 'ca.crt'), '--cert', join(dir, `${role}.crt`), '--key', join(dir, `${role}.key`),
    '--data-ciphers', cipher, '--cipher', cipher,
    '--ping', '10', '--verb', '3', '--script-security', '1',
  ];
}

/** Starts the server in `serverNs` bound to `serverAddress`, then the client in `clientNs`; resolves when the client's tunnel is up. */
export async function startOpenVpn(dir: string, serverNs: string, serverAddress: string, clientNs: string, cipher: string, children: ChildProcess[]): Promise<OpenVpnPair> {
  const server = spawnIn(serverNs, [
    ...common(dir, 'server', cipher),
    '--proto', 'tcp4-server', '--local', serverAddress, '--lport', String(OPENVPN_PORT),
    '--tls-server', '--dh', 'none', '--ifconfig', OPENVPN_SERVER_TUNNEL_ADDRESS, TUNNEL_NETMASK,
  ], children);
  const serverReady = waitForLine(server, 'TCPv4_SERVER link local (bound)|Listening for incoming TCP connection', 'openvpn server');
  await serverReady;
  const client = spawnIn(clientNs, [
    ...common(dir, 'client', cipher),
    '--proto', 'tcp4-client', '--remote', serverAddress, String(OPENVPN_PORT), '--nobind',
    '--tls-client', '--remote-cert-tls', 'server', '--ifconfig', OPENVPN_CLIENT_TUNNEL_ADDRESS, TUNNEL_NETMASK,
  ], children);
  await Promise.all([waitForLine(client, READY_LINE, 'openvpn client'), waitForLine(server, READY_LINE, 'openvpn server')]);
  return { server, client };
}

function spawnIn(netns: string, args: string[], children: ChildProcess[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', netns, 'openvpn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Resolves when the child prints a line matching `pattern`; rejects with its output on exit or timeout. */
function waitForLine(child: ChildProcess, pattern: string, what: string): Promise<void> {
  const re = new RegExp(pattern);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (re.test(output)) done(undefined);
    };
    const onExit = (): void => done(new Error(`${what} exited before "${pattern}":\n${output.slice(-2000)}`));
    const timer = setTimeout(() => done(new Error(`${what}: no "${pattern}" within ${READY_TIMEOUT_MS / 1000} s:\n${output.slice(-2000)}`)), READY_TIMEOUT_MS);
    function done(error: Error | undefined): void {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}
