/**
 * The product end to end, on real TAP devices and real kernel stacks: a
 * tunnel server, road-warrior clients and a LAN host in tvt- namespaces
 * (src/demo/topology.ts), the real ISC dhclient taking the lease from our
 * DHCP emulator, ping and curl as the traffic. A proxy on the server side
 * (test/support/tcp-proxy.ts) plays the hostile network: it cuts
 * connections and flips bits. The server runs as nobody (`user`): it
 * configures its TAP and binds its port as root, then serves every step
 * below with no capability left — leases through the clients' DHCP, the
 * reconnects after cuts, and its lease file (leases and the replay guard's
 * handshake timestamps) written atomically in a directory nobody owns and
 * read back after a restart. Root and /dev/net/tun needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/io/command.js';
import { HTTP_PORT, spawnTapvpn, stopChildren, waitForAddress, waitForAddress6, writeDemoConfigs } from '../../src/demo/run.js';
import { buildTopology, LAN_HOST_ADDRESS, LAN_HOST_ADDRESS6, TUNNEL_GATEWAY, type Topology } from '../../src/demo/topology.js';
import { assertDropped, idsOf, type UserIds } from '../support/dropped.js';
import { eventually } from '../support/eventually.js';
import { startHttpServer } from '../support/http-server.js';

const PROXY_PORT = 6000;
const PROXY_SCRIPT = fileURLToPath(new URL('../support/tcp-proxy.ts', import.meta.url));
const TRANSFER_BYTES = 3 * 1024 * 1024;
const STEP_TIMEOUT_MS = 60_000;
const HTTP_PORT6 = 8086;
/** The user the server drops to, and the directory it owns (its key and lease file). */
const SERVER_USER = 'nobody';

interface Tapvpn {
  child: ChildProcess;
  output: () => string;
}

let topology: Topology;
let dir: string;
let configs: { server: string; clients: string[] };
let transferSha256: string;
let serverDir: string;
let serverIds: UserIds;
const children: ChildProcess[] = [];
let server: Tapvpn;
let proxy: ChildProcess;
let proxyOutput = '';
const clients: Tapvpn[] = [];

function start(netns: string, args: string[]): Tapvpn {
  const child = spawnTapvpn(netns, args, netns, children, true);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

async function pingOk(netns: string, address: string, extra: string[] = []): Promise<boolean> {
  return (await run('ping', ['-c', '2', '-W', '2', ...extra, address], { netns, allowFailure: true })).exitCode === 0;
}

async function fetchSha256(netns: string, limitRate?: string): Promise<string> {
  const out = join(dir, `download-${netns}`);
  await run('curl', ['-sS', '-m', '40', ...(limitRate ? ['--limit-rate', limitRate] : []), '-o', out, `http://${LAN_HOST_ADDRESS}:${HTTP_PORT}/payload.bin`], { netns, timeoutMs: 45_000 });
  return createHash('sha256').update(await readFile(out)).digest('hex');
}

/**
 * The server's own files move to a directory owned by SERVER_USER (its
 * lease file is written there by an atomic rename), and it drops to that user.
 */
async function dropServerToUser(): Promise<void> {
  serverIds = await idsOf(SERVER_USER);
  await chmod(dir, 0o711); // the user passes through to its own directory; the clients' keys stay root's
  serverDir = join(dir, 'server');
  await mkdir(serverDir, { mode: 0o700 });
  await rename(join(dir, 'server.key'), join(serverDir, 'server.key'));
  for (const path of [serverDir, join(serverDir, 'server.key')]) await chown(path, serverIds.uid, serverIds.gid);
  const config = (await readFile(configs.server, 'utf8')).replace(join(dir, 'server.key'), join(serverDir, 'server.key')).replace(join(dir, 'leases.json'), join(serverDir, 'leases.json'));
  await writeFile(configs.server, `user = "${SERVER_USER}"\n${config}`);
}

function proxyCommand(command: string, ack: string): Promise<void> {
  const before = proxyOutput.split(ack).length;
  proxy.stdin!.write(`${command}\n`);
  return eventually(`proxy ${command}`, () => proxyOutput.split(ack).length > before, 30_000);
}

describe('tunnel end to end', { timeout: 10 * STEP_TIMEOUT_MS }, () => {
  before(async () => {
    topology = await buildTopology(`tvt-${process.pid % 10000}`, 3);
    dir = await mkdtemp(join(tmpdir(), 'tapvpn-e2e-'));
    configs = await writeDemoConfigs(dir, topology.serverAddressFor(0), ['alice', 'bob'], { dialPort: PROXY_PORT, unauthorized: ['mallory'] });
    await dropServerToUser();
    const payload = randomBytes(TRANSFER_BYTES);
    await writeFile(join(dir, 'payload.bin'), payload);
    transferSha256 = createHash('sha256').update(payload).digest('hex');
    await startHttpServer(topology.lan, LAN_HOST_ADDRESS, HTTP_PORT, dir, children);
    await startHttpServer(topology.lan, LAN_HOST_ADDRESS6, HTTP_PORT6, dir, children);
    // The proxy listens on every client-facing address of the server namespace and forwards to the server.
    proxy = spawn('ip', ['netns', 'exec', topology.server, process.execPath, '--import', 'tsx', PROXY_SCRIPT, '0.0.0.0', String(PROXY_PORT), '127.0.0.1', '5555'], { stdio: ['pipe', 'pipe', 'inherit'] });
    proxy.stdout!.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
    children.push(proxy);
    server = start(topology.server, ['server', '--config', configs.server]);
    await eventually('the server to listen', () => server.output().includes('tunnel server ready') && proxyOutput.includes('listening'), 60_000).catch((error: unknown) => {
      console.log(`# server output:\n${server.output()}`); // a server that exits at start (e.g. a stale native addon) says why here
      throw error;
    }); // a loaded machine takes its time to start Node twice
    await assertDropped(server.child.pid!, serverIds); // it serves every step below as its user, with no capability
  });

  after(async () => {
    await stopChildren(children);
    await topology?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a client takes its lease through dhclient and reaches the LAN host: ping and a checked TCP transfer', { timeout: STEP_TIMEOUT_MS }, async () => {
    clients[0] = start(topology.clients[0]!, ['client', '--config', configs.clients[0]!]);
    const address = await waitForAddress(topology.clients[0]!, 'tapvpn0');
    assert.match(address, /^10\.77\.0\.\d+\/24$/);
    const routes = (await run('ip', ['route'], { netns: topology.clients[0]! })).stdout;
    assert.match(routes, /172\.31\.99\.0\/24 via 10\.77\.0\.1 dev tapvpn0/, 'the option-121 route to the LAN');
    assert.ok(await pingOk(topology.clients[0]!, TUNNEL_GATEWAY), 'ping the server\'s tunnel address');
    assert.ok(await pingOk(topology.clients[0]!, LAN_HOST_ADDRESS), 'ping the LAN host through the tunnel');
    assert.equal(await fetchSha256(topology.clients[0]!), transferSha256, 'the downloaded bytes are the served bytes');
  });

  test('IPv6: the client\'s kernel autoconfigures from our RA and reaches the LAN host over IPv6 — ping -6 and a checked TCP transfer', { timeout: STEP_TIMEOUT_MS }, async () => {
    const ns = topology.clients[0]!;
    const address = await waitForAddress(ns, 'tapvpn0');
    const host = Number(address.split('/')[0]!.split('.')[3]);
    const address6 = await waitForAddress6(ns, 'tapvpn0');
    assert.ok(address6.startsWith(`fd74:7670:6e00:${host.toString(16)}:`) && address6.endsWith('/64'), `SLAAC in the /64 numbered by ${address}: ${address6}`);
    const routes = (await run('ip', ['-6', 'route', 'show', 'dev', 'tapvpn0'], { netns: ns })).stdout;
    assert.match(routes, /^fd74:7670:99::\/64 via fe80::74:76ff:fe70:6e01 proto ra /m, `the RFC 4191 route to the LAN:\n${routes}`);
    assert.ok(await pingOk(ns, LAN_HOST_ADDRESS6, ['-6']), 'ping -6 the LAN host through the tunnel');
    assert.ok(await pingOk(ns, 'fd74:7670:6e00:1::1', ['-6']), 'ping -6 the server\'s tunnel address');
    const neighbours = (await run('ip', ['-6', 'neigh', 'show', 'dev', 'tapvpn0'], { netns: ns })).stdout;
    assert.match(neighbours, /^fe80::74:76ff:fe70:6e01 lladdr 02:74:76:70:6e:01 router/m, neighbours);
    const out = join(dir, 'download6');
    await run('curl', ['-gsS', '-m', '40', '-o', out, `http://[${LAN_HOST_ADDRESS6}]:${HTTP_PORT6}/payload.bin`], { netns: ns, timeoutMs: 45_000 });
    assert.equal(createHash('sha256').update(await readFile(out)).digest('hex'), transferSha256, 'the bytes downloaded over IPv6 are the served bytes');
  });

  test('two clients get different addresses and reach each other when client-to-client is allowed', { timeout: STEP_TIMEOUT_MS }, async () => {
    clients[1] = start(topology.clients[1]!, ['client', '--config', configs.clients[1]!]);
    const [a, b] = [await waitForAddress(topology.clients[0]!, 'tapvpn0'), await waitForAddress(topology.clients[1]!, 'tapvpn0')];
    assert.notEqual(a, b);
    assert.ok(await pingOk(topology.clients[0]!, b.split('/')[0]!), `alice pings bob at ${b}`);
  });

  test('a client whose key is not authorized is refused with a clear message and gets no lease', { timeout: STEP_TIMEOUT_MS }, async () => {
    const mallory = start(topology.clients[2]!, ['client', '--config', configs.clients[2]!]);
    const exitCode = await new Promise<number | null>((resolve) => mallory.child.once('exit', (code) => resolve(code)));
    assert.equal(exitCode, 1);
    assert.match(mallory.output(), /AUTHENTICATION_FAILURE/);
    // An unknown key gets a plain CLOSE (no RESPONSE is sealed for it: no DH spent on a made-up key), so the client believes it after five in a row.
    assert.match(mallory.output(), /the handshake was refused 5 times in a row/, 'refused five times, then the client gives up');
    assert.match(mallory.output(), /\[\[clients\]\] must list name = \\?"mallory\\?" with public_key = \\?"/, 'and it says what to fix');
    const link = await run('ip', ['-n', topology.clients[2]!, 'link', 'show', 'tapvpn0'], { allowFailure: true });
    assert.notEqual(link.exitCode, 0, 'no adapter was created for a refused client');
    assert.match(server.output(), /"event":"tunnel.refused"[^\n]*"client":"mallory"/);
  });

  test('garbage and an oversized frame length sent to the server: those connections are closed, the server keeps serving', { timeout: STEP_TIMEOUT_MS }, async () => {
    // A hostile peer, from a client namespace: random bytes, then a frame header claiming 1 GiB.
    const hostile = `
import os, socket, sys
for payload in (os.urandom(4096), bytes.fromhex('40000000' + '0401')):
    s = socket.create_connection(('${topology.serverAddressFor(0)}', 5555), timeout=5)
    s.sendall(payload)
    got = b''
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            got += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    print(len(got), got[4:5].hex() if len(got) > 4 else '-')
`;
    const out = (await run('python3', ['-c', hostile], { netns: topology.clients[2]!, timeoutMs: 20_000 })).stdout.trim().split('\n');
    assert.equal(out.length, 2);
    for (const line of out) {
      const [received, type] = line.split(' ');
      assert.ok(Number(received) === 0 || type === '05', `closed, or answered with a CLOSE frame (type 5): ${line}`);
    }
    assert.ok(await pingOk(topology.clients[0]!, LAN_HOST_ADDRESS), 'the existing tunnel still works');
    assert.equal(server.child.exitCode, null, 'the server is still running');
  });

  test('a TCP connection cut mid-transfer: the client reconnects, keeps its address, the transfer completes intact', { timeout: STEP_TIMEOUT_MS }, async () => {
    const netns = topology.clients[0]!;
    const before = await waitForAddress(netns, 'tapvpn0');
    const authorizedBefore = clients[0]!.output().split('tunnel opened').length;
    // A small receive window keeps most of the 3 MiB on the far side of the tunnel when the cut comes: with
    // the kernel's default (up to 6 MiB) an offloading tunnel moved it all into curl's socket within the first
    // second, and the cut then came after the transfer had crossed.
    const rmem = (await run('sysctl', ['-n', 'net.ipv4.tcp_rmem'], { netns })).stdout.trim();
    await run('sysctl', ['-w', 'net.ipv4.tcp_rmem=4096 65536 262144'], { netns });
    try {
      const transfer = fetchSha256(netns, '1M');
      await new Promise((r) => setTimeout(r, 1000));
      await proxyCommand('cut', 'cut');
      assert.equal(await transfer, transferSha256);
    } finally {
      await run('sysctl', ['-w', `net.ipv4.tcp_rmem=${rmem.replace(/\s+/g, ' ')}`], { netns });
    }
    await eventually('the client authorized again', () => clients[0]!.output().split('tunnel opened').length > authorizedBefore, 20_000);
    assert.equal(await waitForAddress(netns, 'tapvpn0'), before, 'same address after reconnecting');
  });

  test('a bit flipped on the wire: integrity failure, CLOSE, reconnect, and traffic flows again', { timeout: STEP_TIMEOUT_MS }, async () => {
    const netns = topology.clients[0]!;
    proxy.stdin!.write('flip\n'); // armed: the next large client→server chunk gets one bit flipped
    await run('ping', ['-c', '3', '-s', '400', '-W', '1', LAN_HOST_ADDRESS], { netns, allowFailure: true });
    await eventually('the flip to be detected', () => proxyOutput.includes('flipped') && server.output().includes('INTEGRITY_FAILURE'), 20_000);
    await eventually('traffic to flow again', () => pingOk(netns, LAN_HOST_ADDRESS));
  });

  test('a flipped handshake byte on a reconnect: the client does not blame its key, reconnects and keeps its address', { timeout: STEP_TIMEOUT_MS }, async () => {
    // Both running clients dial through the proxy; the cut drops both, and whichever reconnects first gets its REQUEST altered.
    const running = [0, 1].map((i) => ({ netns: topology.clients[i]!, client: clients[i]! }));
    const before = await Promise.all(running.map((r) => waitForAddress(r.netns, 'tapvpn0')));
    const authorizedBefore = running.map((r) => r.client.output().split('tunnel opened').length);
    proxy.stdin!.write('flip-handshake\n'); // armed: the next connection's REQUEST gets one bit flipped
    await proxyCommand('cut', 'cut');
    await eventually('the altered handshake to be refused and distrusted', () => proxyOutput.includes('flipped-handshake') && running.some((r) => /not trusted yet .*corrupted or forged message/.test(r.client.output())), 30_000);
    for (const [i, r] of running.entries()) {
      await eventually(`client ${i} to authorize again`, () => r.client.output().split('tunnel opened').length > authorizedBefore[i]!, 30_000);
      assert.doesNotMatch(r.client.output(), /check this client's name and key|Fix one of/);
      assert.equal(r.client.child.exitCode, null, `client ${i} still runs`);
      assert.equal(await waitForAddress(r.netns, 'tapvpn0'), before[i], `client ${i} keeps its address`);
      await eventually(`traffic from client ${i} to flow again`, () => pingOk(r.netns, LAN_HOST_ADDRESS));
    }
    assert.match(server.output(), /REQUEST mac1 is wrong/, 'the server saw the altered REQUEST, and refused it before any DH');
  });

  test('a server restart keeps every address (persisted leases) and applies the new policy', { timeout: 2 * STEP_TIMEOUT_MS }, async () => {
    const [a, b] = [await waitForAddress(topology.clients[0]!, 'tapvpn0'), await waitForAddress(topology.clients[1]!, 'tapvpn0')];
    const leaseFile = join(serverDir, 'leases.json');
    const leases = JSON.parse(await readFile(leaseFile, 'utf8')) as { leases: Record<string, string>; handshakes?: Record<string, string> };
    assert.deepEqual(leases.leases, { alice: a.split('/')[0], bob: b.split('/')[0] });
    assert.equal(Object.keys(leases.handshakes ?? {}).length, 2, 'the replay guard\'s timestamps of both clients are persisted');
    assert.equal((await stat(leaseFile)).uid, serverIds.uid, 'written by the dropped server');
    await stopChildren([server.child]);
    assert.match(server.output(), /tunnel server stopped/);
    await writeFile(configs.server, (await readFile(configs.server, 'utf8')).replace('client_to_client = true', 'client_to_client = false'));
    server = start(topology.server, ['server', '--config', configs.server]);
    await eventually('both clients to come back', () => (server.output().match(/tunnel opened/g) ?? []).length >= 2, 30_000);
    assert.ok(await pingOk(topology.clients[0]!, LAN_HOST_ADDRESS), 'alice reaches the LAN again');
    assert.equal(await waitForAddress(topology.clients[0]!, 'tapvpn0'), a);
    assert.equal(await waitForAddress(topology.clients[1]!, 'tapvpn0'), b);
    assert.equal(await pingOk(topology.clients[0]!, b.split('/')[0]!), false, 'client-to-client is now denied by policy');
  });

  test('session renewal: with session_max_age = 3 s a ping stream keeps flowing across two fresh handshakes, on the same adapter and address', { timeout: STEP_TIMEOUT_MS }, async () => {
    const address = await waitForAddress(topology.clients[0]!, 'tapvpn0');
    await stopChildren([clients[0]!.child]);
    const renewing = join(dir, 'alice-renewing.toml');
    await writeFile(renewing, `session_max_age = 3\n${await readFile(configs.clients[0]!, 'utf8')}`); // top-level key: before any table
    clients[0] = start(topology.clients[0]!, ['client', '--config', renewing]);
    assert.equal(await waitForAddress(topology.clients[0]!, 'tapvpn0'), address);
    const opened = (): number => clients[0]!.output().split('tunnel opened').length - 1;
    const renewed = (): number => clients[0]!.output().split('tunnel renewed by a fresh handshake').length - 1;
    await eventually('the tunnel up', () => opened() === 1, 30_000);
    const ping = await run('ping', ['-c', '48', '-i', '0.25', '-W', '2', LAN_HOST_ADDRESS], { netns: topology.clients[0]!, allowFailure: true, timeoutMs: 40_000 });
    const [, sent, received] = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout) ?? [];
    console.log(`# session renewal: ${received} of ${sent} pings answered across ${renewed()} renewals`);
    assert.ok(renewed() >= 2, `at least two renewals during the stream (saw ${renewed()})`);
    assert.ok(Number(sent) - Number(received) <= 2, `at most 2 of ${sent} pings lost across the renewals (${received} received)`);
    assert.equal(opened(), 1, 'renewals are not reconnects: the tunnel was opened once');
    assert.equal(await waitForAddress(topology.clients[0]!, 'tapvpn0'), address);
  });
});
