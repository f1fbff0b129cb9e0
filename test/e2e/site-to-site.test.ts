/**
 * Site to site end to end (issue 14, the patent's Fig. 3), on real TAP
 * devices and real kernel stacks, every namespace and device `tvt-s2`-named:
 *
 *   LAN B host 10.20.0.5 ── branch (tapvpn client, forward = true, ip_forward=1)
 *     ── carrier 198.18.77.0/24 ── server (tapvpn server, ip_forward=1) ── LAN A host 172.31.98.10
 *
 * The LAN hosts only route to their gateways; everything between them is the
 * kernels' routing plus the tunnel: the server routes the branch network
 * (clients[].networks, networks6) into its adapter, the branch takes the
 * LAN A route from the lease (DHCP option 121 through dhclient; for IPv6 the
 * RA's route information, accepted although it forwards) and forwards. Ping
 * (IPv4 and IPv6) and a checked HTTP transfer go both ways; a datagram from the branch with a
 * source outside its configured networks is dropped and counted; a branch
 * client with forwarding off refuses to start; the server's route goes when
 * it stops. Root and /dev/net/tun needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/io/command.js';
import { encodeKey, generatePrivateKey, publicKeyOf } from '../../src/crypto/keys.js';
import { writePrivateKeyFile } from '../../src/io/key-file.js';
import { spawnTapvpn, stopChildren, waitForAddress, waitForAddress6 } from '../../src/demo/run.js';
import type { ServerSnapshot } from '../../src/ops/snapshot.js';
import { eventually } from '../support/eventually.js';
import { startHttpServer } from '../support/http-server.js';

const BIN = fileURLToPath(new URL('../../bin/tapvpn.js', import.meta.url));
const PREFIX = 'tvt-s2';
const NS = { lanB: `${PREFIX}lanb`, branch: `${PREFIX}br`, server: `${PREFIX}srv`, lanA: `${PREFIX}lana` };
const SERVER_ADAPTER = 'tvs2srv';
const BRANCH_ADAPTER = 'tvs2br';
const LAN_A_HOST = '172.31.98.10';
const LAN_B_HOST = '10.20.0.5';
const LAN_A_HOST6 = 'fd74:7670:98::10';
const LAN_B_HOST6 = 'fd74:7670:20::5';
/** A third network behind the branch, routed by it but not configured for it on the server. */
const UNCONFIGURED_HOST = '10.21.0.5';
const CARRIER_SERVER = '198.18.77.1';
const HTTP_PORT = 8080;
const TRANSFER_BYTES = 2 * 1024 * 1024;
const STEP_TIMEOUT_MS = 60_000;

let dir: string;
let payloadSha256: string;
const children: ChildProcess[] = [];
const created: string[] = [];
const netnsEtc = join('/etc/netns', NS.branch);
const createdNetnsRoot = !existsSync('/etc/netns');
let server: { child: ChildProcess; output: () => string };
let branch: { child: ChildProcess; output: () => string };

function start(netns: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawnTapvpn(netns, args, netns, children, true);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

const ip = (netns: string, args: string[]) => run('ip', ['-n', netns, ...args]);
const inside = (netns: string, program: string, args: string[]) => run(program, args, { netns });

/** A veth pair between two namespaces, each end addressed and up. */
async function link(nsA: string, endA: string, addressA: string, nsB: string, endB: string, addressB: string): Promise<void> {
  await ip(nsA, ['link', 'add', endA, 'type', 'veth', 'peer', 'name', endB, 'netns', nsB]);
  await ip(nsA, ['addr', 'add', addressA, 'dev', endA]);
  await ip(nsB, ['addr', 'add', addressB, 'dev', endB]);
  await ip(nsA, ['link', 'set', endA, 'up']);
  await ip(nsB, ['link', 'set', endB, 'up']);
}

async function buildNetwork(): Promise<void> {
  for (const ns of Object.values(NS)) {
    await run('ip', ['netns', 'add', ns]);
    created.push(ns);
    await ip(ns, ['link', 'set', 'lo', 'up']);
  }
  await link(NS.lanB, 's2lb0', `${LAN_B_HOST}/24`, NS.branch, 's2lb1', '10.20.0.1/24');
  await link(NS.branch, 's2c0', '198.18.77.2/24', NS.server, 's2c1', `${CARRIER_SERVER}/24`);
  await link(NS.server, 's2la1', '172.31.98.1/24', NS.lanA, 's2la0', `${LAN_A_HOST}/24`);
  // The LAN hosts know only their gateways.
  await ip(NS.lanA, ['route', 'add', 'default', 'via', '172.31.98.1']);
  await ip(NS.lanB, ['route', 'add', 'default', 'via', '10.20.0.1']);
  // A third address behind the branch, which the branch routes but the server was never told about.
  await ip(NS.lanB, ['addr', 'add', `${UNCONFIGURED_HOST}/32`, 'dev', 'lo']);
  await ip(NS.branch, ['route', 'add', '10.21.0.0/24', 'via', LAN_B_HOST]);
  for (const ns of [NS.server, NS.branch]) await inside(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  // IPv6 on both LANs, again only to the gateways.
  await ip(NS.server, ['addr', 'add', 'fd74:7670:98::1/64', 'dev', 's2la1', 'nodad']);
  await ip(NS.lanA, ['addr', 'add', `${LAN_A_HOST6}/64`, 'dev', 's2la0', 'nodad']);
  await ip(NS.lanA, ['-6', 'route', 'add', 'default', 'via', 'fd74:7670:98::1']);
  await ip(NS.branch, ['addr', 'add', 'fd74:7670:20::1/64', 'dev', 's2lb1', 'nodad']);
  await ip(NS.lanB, ['addr', 'add', `${LAN_B_HOST6}/64`, 'dev', 's2lb0', 'nodad']);
  await ip(NS.lanB, ['-6', 'route', 'add', 'default', 'via', 'fd74:7670:20::1']);
  // ip netns exec binds this over /etc/resolv.conf: the DHCP client's hook writes there, never to the host's.
  await mkdir(netnsEtc, { recursive: true });
  await writeFile(join(netnsEtc, 'resolv.conf'), '');
}

async function writeConfigs(): Promise<{ server: string; branch: string }> {
  const keys = { server: generatePrivateKey(), branch: generatePrivateKey() };
  for (const [name, key] of Object.entries(keys)) await writePrivateKeyFile(join(dir, `${name}.key`), key);
  const server = join(dir, 'server.toml');
  await writeFile(
    server,
    `private_key_file = "${join(dir, 'server.key')}"\nlease_file = "${join(dir, 'leases.json')}"\n[listen]\naddress = "${CARRIER_SERVER}"\n` +
      `[adapter]\nname = "${SERVER_ADAPTER}"\n[tunnel]\nnetwork = "10.77.0.0/24"\nroutes = ["172.31.98.0/24"]\nnetwork6 = "fd74:7670:6e00::/48"\nroutes6 = ["fd74:7670:98::/64"]\nlease_time = 600\n[keepalive]\ninterval = 2\ntimeout = 6\n` +
      `[control]\nsocket = "${join(dir, 'server.sock')}"\n\n[[clients]]\nname = "branch"\npublic_key = "${encodeKey(publicKeyOf(keys.branch))}"\nnetworks = ["10.20.0.0/24"]\nnetworks6 = ["fd74:7670:20::/64"]\n`,
  );
  const branch = join(dir, 'branch.toml');
  await writeFile(
    branch,
    `name = "branch"\nprivate_key_file = "${join(dir, 'branch.key')}"\nforward = true\n[server]\naddress = "${CARRIER_SERVER}"\npublic_key = "${encodeKey(publicKeyOf(keys.server))}"\n` +
      `[adapter]\nname = "${BRANCH_ADAPTER}"\n[keepalive]\ninterval = 2\ntimeout = 6\n[reconnect]\nmin_delay = 0.5\nmax_delay = 2\n[control]\nsocket = "${join(dir, 'branch.sock')}"\n`,
  );
  return { server, branch };
}

async function pingOk(netns: string, address: string, extra: string[] = []): Promise<boolean> {
  return (await run('ping', ['-c', '2', '-W', '2', ...extra, address], { netns, allowFailure: true })).exitCode === 0;
}

async function downloadSha256(netns: string, host: string): Promise<string> {
  const out = join(dir, `download-${netns}`);
  await run('curl', ['-sS', '-m', '40', '-o', out, `http://${host}:${HTTP_PORT}/payload.bin`], { netns, timeoutMs: 45_000 });
  return createHash('sha256').update(await readFile(out)).digest('hex');
}

async function serverStatus(): Promise<ServerSnapshot> {
  const result = await run(process.execPath, [BIN, 'status', '--socket', join(dir, 'server.sock'), '--json'], { timeoutMs: 20_000 });
  return JSON.parse(result.stdout) as ServerSnapshot;
}

describe('site to site end to end', { timeout: 8 * STEP_TIMEOUT_MS }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tapvpn-s2s-'));
    await buildNetwork();
    const configs = await writeConfigs();
    const payload = randomBytes(TRANSFER_BYTES);
    await writeFile(join(dir, 'payload.bin'), payload);
    payloadSha256 = createHash('sha256').update(payload).digest('hex');
    await startHttpServer(NS.lanA, LAN_A_HOST, HTTP_PORT, dir, children);
    await startHttpServer(NS.lanB, LAN_B_HOST, HTTP_PORT, dir, children);
    server = start(NS.server, ['server', '--config', configs.server]);
    await eventually('the server to listen', () => server.output().includes('tunnel server ready'), 60_000);
    branch = start(NS.branch, ['client', '--config', configs.branch]);
    await waitForAddress(NS.branch, BRANCH_ADAPTER, 60_000);
  });

  after(async () => {
    await stopChildren(children);
    for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns], { allowFailure: true });
    await rm(netnsEtc, { recursive: true, force: true });
    if (createdNetnsRoot) await rmdir('/etc/netns').catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the server routes the branch network into its adapter; the branch gets the LAN A route from the lease, and not its own network', { timeout: STEP_TIMEOUT_MS }, async () => {
    const serverRoute = (await ip(NS.server, ['route', 'show', '10.20.0.0/24'])).stdout;
    assert.match(serverRoute, new RegExp(`^10\\.20\\.0\\.0/24 dev ${SERVER_ADAPTER}`, 'm'), serverRoute);
    const branchRoutes = (await ip(NS.branch, ['route'])).stdout;
    assert.match(branchRoutes, new RegExp(`172\\.31\\.98\\.0/24 via 10\\.77\\.0\\.1 dev ${BRANCH_ADAPTER}`), branchRoutes);
    assert.doesNotMatch(branchRoutes, new RegExp(`10\\.20\\.0\\.0/24 via .* dev ${BRANCH_ADAPTER}`), 'its own network stays on its LAN');
  });

  test('a LAN A host and a LAN B host ping each other through the tunnel, by the kernels\' routing', { timeout: STEP_TIMEOUT_MS }, async () => {
    await eventually('LAN A → LAN B', () => pingOk(NS.lanA, LAN_B_HOST), 20_000);
    assert.ok(await pingOk(NS.lanB, LAN_A_HOST), 'LAN B → LAN A');
    const neighbours = (await ip(NS.server, ['neigh', 'show', LAN_B_HOST, 'dev', SERVER_ADAPTER])).stdout;
    assert.match(neighbours, /lladdr 02:74:76:70:6e:02/, `the server's ARP for the branch host was answered by its adapter: ${neighbours}`);
  });

  test('IPv6: the branch takes its tunnel address and the LAN A route from the RA while forwarding, and the two LAN hosts ping -6 each other', { timeout: STEP_TIMEOUT_MS }, async () => {
    await waitForAddress6(NS.branch, BRANCH_ADAPTER);
    const serverRoute = (await ip(NS.server, ['-6', 'route', 'show', 'fd74:7670:20::/64'])).stdout;
    assert.match(serverRoute, new RegExp(`^fd74:7670:20::/64 dev ${SERVER_ADAPTER}`, 'm'), serverRoute);
    await eventually('the RFC 4191 route to LAN A on the branch', async () => /^fd74:7670:98::\/64 via fe80::/m.test((await ip(NS.branch, ['-6', 'route', 'show', 'dev', BRANCH_ADAPTER])).stdout), 20_000);
    assert.doesNotMatch((await ip(NS.branch, ['-6', 'route', 'show', 'dev', BRANCH_ADAPTER])).stdout, /fd74:7670:20::/, 'its own network stays on its LAN');
    await eventually('LAN A → LAN B over IPv6', () => pingOk(NS.lanA, LAN_B_HOST6, ['-6']), 20_000);
    assert.ok(await pingOk(NS.lanB, LAN_A_HOST6, ['-6']), 'LAN B → LAN A over IPv6');
  });

  test('a checked TCP transfer both ways: LAN A downloads from LAN B, LAN B from LAN A', { timeout: STEP_TIMEOUT_MS }, async () => {
    assert.equal(await downloadSha256(NS.lanA, LAN_B_HOST), payloadSha256, 'LAN B → LAN A bytes intact');
    assert.equal(await downloadSha256(NS.lanB, LAN_A_HOST), payloadSha256, 'LAN A → LAN B bytes intact');
  });

  test('a datagram from the branch with a source outside its configured networks is dropped and counted as spoofed', { timeout: STEP_TIMEOUT_MS }, async () => {
    const before = await serverStatus();
    const spoofedBefore = before.counters['route:drop:spoofed-source'] ?? 0;
    assert.equal(await pingOk(NS.lanB, LAN_A_HOST, ['-I', UNCONFIGURED_HOST]), false, 'no reply for a source the server was not told about');
    const after = await serverStatus();
    assert.ok((after.counters['route:drop:spoofed-source'] ?? 0) >= spoofedBefore + 2, `both echo requests dropped server-wide: ${JSON.stringify(after.counters)}`);
    const row = after.tunnels.find((t) => t.name === 'branch');
    assert.ok((row?.drops['route:drop:spoofed-source'] ?? 0) >= 2, `and in the branch tunnel's row: ${JSON.stringify(row?.drops)}`);
    assert.ok(await pingOk(NS.lanB, LAN_A_HOST), 'the configured network still passes');
  });

  test('a branch client with IPv4 forwarding off refuses to start and says what to run', { timeout: STEP_TIMEOUT_MS }, async () => {
    // LAN A's namespace does not forward: the same config there must stop before touching anything.
    const config = (await readFile(join(dir, 'branch.toml'), 'utf8')).replace(`name = "${BRANCH_ADAPTER}"`, 'name = "tvs2refused"').replace('branch.sock', 'refused.sock');
    await writeFile(join(dir, 'refused.toml'), config);
    const refused = start(NS.lanA, ['client', '--config', join(dir, 'refused.toml')]);
    const exitCode = await new Promise<number | null>((resolve) => refused.child.once('exit', (code) => resolve(code)));
    assert.notEqual(exitCode, 0);
    assert.match(refused.output(), /IPv4 forwarding is off on this host .*sysctl -w net\.ipv4\.ip_forward=1/);
    assert.equal((await run('sysctl', ['-n', 'net.ipv4.ip_forward'], { netns: NS.lanA })).stdout.trim(), '0', 'and it did not turn it on');
    assert.notEqual((await run('ip', ['-n', NS.lanA, 'link', 'show', 'tvs2refused'], { allowFailure: true })).exitCode, 0, 'no adapter');
  });

  test('the server removes its route to the branch network when it stops', { timeout: STEP_TIMEOUT_MS }, async () => {
    await stopChildren([server.child]);
    assert.match(server.output(), /tunnel server stopped/);
    assert.equal((await ip(NS.server, ['route', 'show', '10.20.0.0/24'])).stdout.trim(), '');
    assert.equal((await ip(NS.server, ['-6', 'route', 'show', 'fd74:7670:20::/64'])).stdout.trim(), '');
    assert.equal(branch.child.exitCode, null, 'the branch client keeps trying to reconnect');
  });
});
