/**
 * The road-warrior client as a host lives with it, end to end on real TAP
 * devices in tvt- namespaces (src/demo/topology.ts): each of dhclient,
 * dhcpcd and udhcpc takes the lease and installs the option-121 route, MTU
 * and DNS, renews it (60 s lease, the least the config allows) and keeps
 * address, route and MTU, and reconnects on the same adapter with the same
 * address after its TCP connection is cut; SIGTERM releases the lease and the namespace's resolv.conf
 * (/etc/netns/NAME/resolv.conf, never the host's) is as it was; kill -9
 * leaves no DHCP client running and the next start gets the same address; a
 * second client on the same adapter is refused while the first keeps
 * working; a foreign TAP of the adapter's name is refused, a leftover of
 * ours cleared. Root and /dev/net/tun needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/io/command.js';
import { spawnTapvpn, stopChildren, waitForAddress, writeDemoConfigs } from '../../src/demo/run.js';
import { buildTopology, LAN_HOST_ADDRESS, TUNNEL_GATEWAY, type Topology } from '../../src/demo/topology.js';
import { eventually } from '../support/eventually.js';
import { uniqueName } from '../support/netns.js';
import type { ClientSnapshot } from '../../src/ops/snapshot.js';

const STEP_TIMEOUT_MS = 90_000;
const BIN = fileURLToPath(new URL('../../bin/tapvpn.js', import.meta.url));
/** The least the server config accepts: the DHCP emulator then offers T1 = 30 s, so every DHCP client renews within a test. */
const LEASE_TIME_SEC = 60;
const PUSHED_DNS = '10.77.0.53';
const PUSHED_DOMAIN = 'corp.example';
const HOST_RESOLV_CONF = 'nameserver 192.0.2.53\nsearch home.example\n';
const DHCP_CLIENTS = ['dhclient', 'dhcpcd', 'udhcpc'] as const;
const CLIENT_NAMES = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];

interface Tapvpn {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let topology: Topology;
let dir: string;
let configs: { server: string; clients: string[] };
const children: ChildProcess[] = [];
const netnsEtc: string[] = [];

function start(netns: string, config: string): Tapvpn {
  const child = spawnTapvpn(netns, ['client', '--config', config], netns, children, true);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** The i-th client's control socket, as clientConfig names it. */
function socketOf(i: number, adapter: string, dhcpClient: string): string {
  return join(dir, `${CLIENT_NAMES[i]}-${adapter}-${dhcpClient}.sock`);
}

async function status(socket: string): Promise<ClientSnapshot> {
  const result = await run(process.execPath, [BIN, 'status', '--socket', socket, '--json'], { timeoutMs: 20_000, allowFailure: true });
  assert.equal(result.exitCode, 0, `tapvpn status --socket ${socket}: ${result.stderr}`);
  return JSON.parse(result.stdout) as ClientSnapshot;
}

async function ifindex(netns: string, adapter: string): Promise<number> {
  const [link] = JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', adapter], { netns })).stdout) as Array<{ ifindex: number }>;
  return link!.ifindex;
}

/** The 10.77.0.x address on the adapter and its remaining valid lifetime (what the DHCP client's script set; "forever" if it set none). */
async function tunnelAddress(netns: string, adapter: string): Promise<{ local: string; validLft: number } | undefined> {
  const [link] = JSON.parse((await run('ip', ['-j', '-4', 'addr', 'show', 'dev', adapter], { netns })).stdout) as Array<{ addr_info: Array<{ local: string; prefixlen: number; valid_life_time: number }> }>;
  const info = link?.addr_info.find((a) => a.local.startsWith('10.77.0.'));
  return info && { local: `${info.local}/${info.prefixlen}`, validLft: info.valid_life_time };
}

/** The i-th client's config with its own adapter name and DHCP client. */
async function clientConfig(i: number, adapter: string, dhcpClient: string): Promise<string> {
  const text = await readFile(configs.clients[i]!, 'utf8');
  const file = join(dir, `client-${i}-${dhcpClient}.toml`);
  await writeFile(file, `dhcp_client = "${dhcpClient}"\n${text.replace('name = "tapvpn0"', `name = "${adapter}"`).replace('.sock"', `-${adapter}-${dhcpClient}.sock"`)}`);
  return file;
}

/** /etc/netns/NAME/resolv.conf: `ip netns exec` binds it over /etc/resolv.conf, so DHCP hooks write there, not to the host's. */
async function giveNamespaceResolvConf(netns: string): Promise<string> {
  const etc = join('/etc/netns', netns);
  await mkdir(etc, { recursive: true });
  netnsEtc.push(etc);
  await writeFile(join(etc, 'resolv.conf'), HOST_RESOLV_CONF);
  return join(etc, 'resolv.conf');
}

/** PIDs of processes whose command line names `adapter` (unique per test): the DHCP clients on it (dhcpcd retitles itself "dhcpcd: NAME [ip4]"). */
async function processesOn(adapter: string): Promise<number[]> {
  const pids: number[] = [];
  const named = new RegExp(`(^|[\\s\\0])${adapter}([\\s\\0]|$)`);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (named.test(cmdline)) pids.push(Number(entry));
  }
  return pids;
}

async function routes(netns: string): Promise<string> {
  return (await run('ip', ['-4', 'route'], { netns })).stdout;
}

async function mtu(netns: string, adapter: string): Promise<number> {
  const [link] = JSON.parse((await run('ip', ['-j', 'link', 'show', 'dev', adapter], { netns })).stdout) as Array<{ mtu: number }>;
  return link!.mtu;
}

async function pingOk(netns: string, address: string): Promise<boolean> {
  return (await run('ping', ['-c', '2', '-W', '2', address], { netns, allowFailure: true })).exitCode === 0;
}

async function terminate(client: Tapvpn): Promise<number | null> {
  client.child.kill('SIGTERM');
  return client.exited;
}

describe('client on the host', { timeout: 12 * STEP_TIMEOUT_MS }, () => {
  before(async () => {
    topology = await buildTopology(`tvt-h${process.pid % 10000}`, CLIENT_NAMES.length);
    dir = await mkdtemp(join(tmpdir(), 'tapvpn-e2e-host-'));
    configs = await writeDemoConfigs(dir, topology.serverAddressFor(0), CLIENT_NAMES);
    const server = await readFile(configs.server, 'utf8');
    await writeFile(configs.server, server.replace('lease_time = 600\n', `lease_time = ${LEASE_TIME_SEC}\ndns = ["${PUSHED_DNS}"]\nsearch_domain = "${PUSHED_DOMAIN}"\n`));
    // Clients 1.. reach the server at their own veth peer (the demo routes only 198.18.0.1 for them).
    for (let i = 1; i < CLIENT_NAMES.length; i++) {
      const text = await readFile(configs.clients[i]!, 'utf8');
      await writeFile(configs.clients[i]!, text.replace(topology.serverAddressFor(0), topology.serverAddressFor(i)));
    }
    const serverProcess = spawnTapvpn(topology.server, ['server', '--config', configs.server], 'server', children, true);
    let serverOutput = '';
    serverProcess.stdout!.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
    await eventually('the server to listen', () => serverOutput.includes('tunnel server ready'), 60_000);
  });

  after(async () => {
    await stopChildren(children);
    await topology?.destroy();
    for (const etc of netnsEtc) await rm(etc, { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [i, dhcpClient] of DHCP_CLIENTS.entries()) {
    test(`${dhcpClient}: address, option-121 route, MTU and DNS; renews and keeps them; reconnects on the same adapter after a cut; SIGTERM releases and resolv.conf is as before; no DHCP client left`, { timeout: STEP_TIMEOUT_MS }, async () => {
      const netns = topology.clients[i]!;
      const adapter = uniqueName('a');
      const resolvConf = await giveNamespaceResolvConf(netns);
      const client = start(netns, await clientConfig(i, adapter, dhcpClient));
      const address = await waitForAddress(netns, adapter);
      assert.match(address, /^10\.77\.0\.\d+\/24$/);
      await eventually(`the option-121 route on ${adapter}`, async () => new RegExp(`172\\.31\\.99\\.0/24 via ${TUNNEL_GATEWAY} dev ${adapter}`).test(await routes(netns)));
      assert.doesNotMatch(await routes(netns), new RegExp(`default via ${TUNNEL_GATEWAY}`), 'RFC 3442: with option 121 the router option is ignored');
      assert.equal(await mtu(netns, adapter), 1400);
      await eventually('the pushed nameserver in resolv.conf', async () => (await readFile(resolvConf, 'utf8')).includes(`nameserver ${PUSHED_DNS}`));
      assert.ok(await pingOk(netns, LAN_HOST_ADDRESS), 'the LAN host answers through the tunnel');
      assert.ok((await processesOn(adapter)).length > 0, `${dhcpClient} runs on ${adapter}`);

      // Renewal, observed for real: the emulator answers again (dhcp:reply rises) at T1 and the address, route and MTU stay.
      const socket = socketOf(i, adapter, dhcpClient);
      const repliesAtLease = (await status(socket)).counters['dhcp:reply'] ?? 0;
      assert.ok(repliesAtLease > 0, 'the lease came from the emulator');
      const lftAtLease = (await tunnelAddress(netns, adapter))!.validLft;
      await eventually(`${dhcpClient} to renew (T1 = ${LEASE_TIME_SEC / 2} s)`, async () => ((await status(socket)).counters['dhcp:reply'] ?? 0) > repliesAtLease, (LEASE_TIME_SEC + 15) * 1000);
      const renewed = await tunnelAddress(netns, adapter);
      console.log(`# ${dhcpClient} renewed: dhcp:reply ${repliesAtLease} -> ${(await status(socket)).counters['dhcp:reply']}, valid_lft ${lftAtLease} -> ${renewed?.validLft}`);
      assert.equal(renewed?.local, address, 'the same address after renewal');
      assert.match(await routes(netns), new RegExp(`172\\.31\\.99\\.0/24 via ${TUNNEL_GATEWAY} dev ${adapter}`), 'the route after renewal');
      assert.equal(await mtu(netns, adapter), 1400, 'the MTU after renewal');

      // Reconnect: cut the tunnel's TCP connection (ss -K aborts it with a reset both ways); the client dials again on the same adapter.
      const before = await status(socket);
      const adapterIndex = await ifindex(netns, adapter);
      const killed = await run('ss', ['-K', 'state', 'established', '( dport = :5555 )'], { netns });
      assert.match(killed.stdout, /:5555\b/, `ss -K aborted the tunnel's connection (needs a kernel with CONFIG_INET_DIAG_DESTROY): ${killed.stdout}${killed.stderr}`);
      await eventually('the client to reconnect', async () => {
        const now = await status(socket);
        return now.state === 'up' && now.reconnects > before.reconnects;
      }, 30_000);
      assert.equal(await ifindex(netns, adapter), adapterIndex, 'the adapter was not recreated');
      assert.equal((await tunnelAddress(netns, adapter))?.local, address, 'the same address after reconnecting');
      await eventually('the LAN host to answer through the new connection', () => pingOk(netns, LAN_HOST_ADDRESS), 20_000);

      assert.equal(await terminate(client), 0, client.output());
      assert.equal(await readFile(resolvConf, 'utf8'), HOST_RESOLV_CONF, 'resolv.conf is as the client found it');
      await eventually('no DHCP client left on the adapter', async () => (await processesOn(adapter)).length === 0, 10_000);
      assert.match(client.output(), /lease released/);
    });
  }

  test('kill -9: the DHCP client dies with it; the next start clears what it left and gets the same address', { timeout: STEP_TIMEOUT_MS }, async () => {
    const netns = topology.clients[3]!;
    const adapter = uniqueName('k');
    const resolvConf = await giveNamespaceResolvConf(netns);
    const config = await clientConfig(3, adapter, 'dhclient');
    const first = start(netns, config);
    const address = await waitForAddress(netns, adapter);
    await eventually('the pushed nameserver in resolv.conf', async () => (await readFile(resolvConf, 'utf8')).includes(`nameserver ${PUSHED_DNS}`));
    const dhcpPids = await processesOn(adapter);
    assert.ok(dhcpPids.length > 0);
    first.child.kill('SIGKILL');
    await first.exited;
    await eventually('no DHCP client left after kill -9', async () => (await processesOn(adapter)).length === 0, 10_000);

    const second = start(netns, config);
    assert.equal(await waitForAddress(netns, adapter), address, 'the same address');
    assert.match(second.output(), /cleared what an earlier client of this adapter left/);
    assert.equal(await terminate(second), 0, second.output());
    assert.equal(await readFile(resolvConf, 'utf8'), HOST_RESOLV_CONF, 'resolv.conf is as it was before the first start');
  });

  test('a second client on the same adapter is refused, naming the first, which keeps working', { timeout: STEP_TIMEOUT_MS }, async () => {
    const netns = topology.clients[4]!;
    const adapter = uniqueName('d');
    await giveNamespaceResolvConf(netns);
    const config = await clientConfig(4, adapter, 'dhclient');
    const first = start(netns, config);
    const address = await waitForAddress(netns, adapter);
    const second = start(netns, config);
    assert.equal(await second.exited, 1);
    assert.match(second.output(), new RegExp(`already runs adapter "${adapter}" \\(PID ${first.child.pid}, client "c4"\\)`));
    assert.doesNotMatch(second.output(), /connecting/, 'refused before dialing the server');
    assert.equal(first.child.exitCode, null, 'the first client still runs');
    assert.equal(await waitForAddress(netns, adapter), address);
    assert.ok(await pingOk(netns, LAN_HOST_ADDRESS), 'the first client still carries traffic');
    assert.equal(await terminate(first), 0);
  });

  test('a foreign TAP of the adapter name is refused with what to do; a leftover of ours is cleared', { timeout: STEP_TIMEOUT_MS }, async () => {
    const netns = topology.clients[5]!;
    const adapter = uniqueName('s');
    await giveNamespaceResolvConf(netns);
    const config = await clientConfig(5, adapter, 'dhclient');
    await run('ip', ['-n', netns, 'tuntap', 'add', 'mode', 'tap', 'name', adapter]);
    await run('ip', ['-n', netns, 'addr', 'add', '192.0.2.99/24', 'dev', adapter]);
    const refused = start(netns, config);
    assert.equal(await refused.exited, 1);
    assert.match(refused.output(), new RegExp(`"${adapter}" already exists and is not a tapvpn adapter: a persistent TAP device with 192\\.0\\.2\\.99/24`));
    assert.match(refused.output(), new RegExp(`ip link del ${adapter}`));

    // The same device marked as one of ours (what a crashed, persisted adapter of ours looks like):
    await run('ip', ['-n', netns, 'link', 'set', 'dev', adapter, 'alias', 'tapvpn client c5']);
    const client = start(netns, config);
    await eventually('the leftover removed', () => /removed a leftover tapvpn adapter/.test(client.output()));
    assert.match(await waitForAddress(netns, adapter), /^10\.77\.0\.\d+\/24$/);
    const addresses = (await run('ip', ['-n', netns, '-4', 'addr', 'show', 'dev', adapter])).stdout;
    assert.doesNotMatch(addresses, /192\.0\.2\.99/, 'the old address went with the old device');
    assert.equal(await terminate(client), 0);
    const gone = await run('ip', ['-n', netns, 'link', 'show', 'dev', adapter], { allowFailure: true });
    assert.notEqual(gone.exitCode, 0, 'the adapter went with the client');
  });

  test('path MTU: with the adapter MTU raised above the lease, a too-big datagram brings ICMP fragmentation-needed with the tunnel MTU', { timeout: STEP_TIMEOUT_MS }, async () => {
    const netns = topology.clients[0]!;
    const adapter = uniqueName('m');
    await giveNamespaceResolvConf(netns);
    const client = start(netns, await clientConfig(0, adapter, 'dhclient'));
    await waitForAddress(netns, adapter);
    await eventually('the option-121 route', async () => (await routes(netns)).includes(`172.31.99.0/24 via ${TUNNEL_GATEWAY} dev ${adapter}`));
    await run('ip', ['-n', netns, 'link', 'set', 'dev', adapter, 'mtu', '1500']);
    // 1472 bytes of ICMP data + 28 of headers = 1500, over the lease's 1400; DF set (-M do).
    const ping = await run('ping', ['-M', 'do', '-s', '1472', '-c', '1', '-W', '2', LAN_HOST_ADDRESS], { netns, allowFailure: true });
    assert.match(ping.stdout + ping.stderr, /Frag needed and DF set \(mtu = 1400\)/, 'the kernel got our ICMP');
    const learned = (await run('ip', ['-4', 'route', 'get', LAN_HOST_ADDRESS], { netns })).stdout;
    assert.match(learned, /mtu 1400/, 'the host learned the path MTU');
    assert.ok((await run('ping', ['-c', '1', '-W', '2', '-s', '1372', LAN_HOST_ADDRESS], { netns, allowFailure: true })).exitCode === 0, 'a datagram at the tunnel MTU crosses');
    assert.equal(await terminate(client), 0);
    assert.match(client.output(), /"icmp:frag-needed":1/);
    assert.match(client.output(), /dropping frames from the host: datagrams larger than the tunnel MTU/);
  });

  test('servers = [...]: a server that does not answer is skipped for the next one, which leases the address', { timeout: STEP_TIMEOUT_MS }, async () => {
    const netns = topology.clients[1]!;
    const adapter = uniqueName('f');
    await giveNamespaceResolvConf(netns);
    const single = await readFile(await clientConfig(1, adapter, 'dhclient'), 'utf8');
    const key = /public_key = "([^"]+)"/.exec(single)![1]!;
    const serverAddress = topology.serverAddressFor(1);
    // The first entry is a port nobody listens on (connection refused), the second the real server.
    const list = `servers = [{ address = "${serverAddress}", port = 5999, public_key = "${key}" }, { address = "${serverAddress}", port = 5555, public_key = "${key}" }]\n`;
    const failover = join(dir, 'failover.toml');
    await writeFile(failover, single.replace(/\[server\]\naddress = .*\nport = .*\npublic_key = .*\n/, '').replace('name = "c1"\n', `name = "c1"\n${list}`));
    const client = start(netns, failover);
    assert.match(await waitForAddress(netns, adapter), /^10\.77\.0\.\d+\/24$/);
    assert.match(client.output(), /failing over to the next server/);
    assert.match(client.output(), new RegExp(`"server":"${serverAddress.replace(/\./g, '\\.')}:5555"`));
    assert.equal(await terminate(client), 0, client.output());
  });
});
