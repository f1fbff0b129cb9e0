/**
 * End to end on a real TAP: the pseudo adapter (with the real DHCP and ARP
 * emulators and a lease given in code) serves the ISC dhclient running in a
 * tvt- network namespace. Checks that the lease lands (address/prefix), the
 * option-121 route lands in the namespace's routing table, the gateway
 * resolves to the reserved MAC, pings become tunnel datagrams without their
 * Ethernet header (answered here through deliver(), so ping succeeds), and a
 * second dhclient run keeps the same address. Root and /dev/net/tun needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, rmdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTap } from '../../adapter/linux-tap.js';
import { DhcpServerEmulator } from '../../emulators/dhcp.js';
import { PseudoAdapter } from '../../src/engine/pseudo-adapter.js';
import { run } from '../../src/io/command.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../src/lease.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { IpProtocol, parseIpv4 } from '../../src/wire/ipv4.js';
import { bytesToIpv4 } from '../../src/wire/addr.js';

const SUFFIX = String(process.pid % 100000);
const NAMESPACE = `tvt-pad${SUFFIX}`;
const TAP_NAME = `tvt-pa${SUFFIX}`; // IFNAMSIZ: at most 15 characters
const ROUTED_HOST = '172.31.99.10';
const COMMAND_TIMEOUT_MS = 30_000;

const lease: Lease = {
  address: '10.77.0.2',
  prefixLength: 24,
  gateway: '10.77.0.1',
  routes: [{ destination: '172.31.99.0', prefixLength: 24, gateway: '10.77.0.1' }],
  dnsServers: [], // nothing for dhclient-script to write into resolv.conf
  mtu: 1400,
  leaseTimeSec: 600,
  gatewayMac: DEFAULT_GATEWAY_MAC,
};

/** Requests option 121 explicitly (RFC 3442), whatever the system dhclient.conf says. */
const DHCLIENT_CONF = `option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
request subnet-mask, broadcast-address, routers, interface-mtu, rfc3442-classless-static-routes;
`;

/** Turns an ICMP echo request datagram into its echo reply, in place (RFC 792): swap addresses, type 0, checksums. */
function echoReply(datagram: Uint8Array): Uint8Array | undefined {
  const ip = parseIpv4(datagram);
  if (ip.protocol !== IpProtocol.ICMP || ip.payload[0] !== 8) return undefined;
  const reply = datagram.slice(0, 20 + ip.options.length + ip.payload.length);
  reply.set(datagram.subarray(16, 20), 12);
  reply.set(datagram.subarray(12, 16), 16);
  reply[10] = reply[11] = 0;
  const ipChecksum = internetChecksum(reply.subarray(0, 20 + ip.options.length));
  reply[10] = ipChecksum >>> 8;
  reply[11] = ipChecksum & 0xff;
  const icmp = reply.subarray(20 + ip.options.length);
  icmp[0] = 0;
  icmp[2] = icmp[3] = 0;
  const icmpChecksum = internetChecksum(icmp);
  icmp[2] = icmpChecksum >>> 8;
  icmp[3] = icmpChecksum & 0xff;
  return reply;
}

async function ns(program: string, args: string[]): Promise<string> {
  return (await run(program, args, { netns: NAMESPACE, timeoutMs: COMMAND_TIMEOUT_MS })).stdout;
}

/** Runs dhclient once (it daemonizes after binding); returns its -v log (stderr). */
async function startDhclient(dir: string): Promise<string> {
  const args = ['-v', '-1', '-cf', join(dir, 'dhclient.conf'), '-sf', '/usr/sbin/dhclient-script', '-pf', join(dir, 'dhclient.pid'), '-lf', join(dir, 'dhclient.leases'), TAP_NAME];
  return (await run('dhclient', args, { netns: NAMESPACE, timeoutMs: COMMAND_TIMEOUT_MS })).stderr;
}

async function stopDhclient(dir: string): Promise<void> {
  const pid = Number((await readFile(join(dir, 'dhclient.pid'), 'utf8').catch(() => '')).trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await rm(join(dir, 'dhclient.pid'), { force: true });
}

test('dhclient in a namespace gets the lease, the routes and the reserved gateway MAC from the pseudo adapter', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tvt-pad-'));
  const netnsEtc = `/etc/netns/${NAMESPACE}`; // ip netns exec bind-mounts this over /etc: the host's resolv.conf stays untouched
  const createdNetnsRoot = !existsSync('/etc/netns');
  await writeFile(join(dir, 'dhclient.conf'), DHCLIENT_CONF);
  await mkdir(netnsEtc, { recursive: true });
  await writeFile(join(netnsEtc, 'resolv.conf'), '');
  await run('ip', ['netns', 'add', NAMESPACE]);
  let tap: Awaited<ReturnType<typeof openTap>> | undefined;
  try {
    tap = await openTap({ name: TAP_NAME, mtu: 1500 });
    const tunnelDatagrams: Uint8Array[] = [];
    const replies: Uint8Array[] = [];
    const adapter = new PseudoAdapter({
      device: tap,
      lease,
      dhcp: new DhcpServerEmulator(lease),
      onDatagram: (datagram) => {
        tunnelDatagrams.push(datagram.slice());
        const reply = echoReply(datagram);
        if (reply) replies.push(reply);
      },
    });
    const flushReplies = setInterval(() => adapter.deliver(replies.splice(0)), 10);
    try {
      await run('ip', ['link', 'set', TAP_NAME, 'netns', NAMESPACE]);
      await ns('ip', ['link', 'set', 'lo', 'up']);
      await ns('ip', ['link', 'set', TAP_NAME, 'up']);

      await startDhclient(dir);
      const addresses = await ns('ip', ['-4', '-o', 'addr', 'show', 'dev', TAP_NAME]);
      assert.match(addresses, /inet 10\.77\.0\.2\/24 /, addresses);
      const routes = await ns('ip', ['-4', 'route', 'show']);
      assert.match(routes, /172\.31\.99\.0\/24 via 10\.77\.0\.1 dev /, routes);

      await ns('ping', ['-c', '1', '-W', '5', lease.gateway]);
      const neighbours = await ns('ip', ['neigh', 'show', lease.gateway, 'dev', TAP_NAME]);
      assert.match(neighbours, new RegExp(`lladdr ${DEFAULT_GATEWAY_MAC}`), neighbours);

      tunnelDatagrams.length = 0;
      await ns('ping', ['-c', '1', '-W', '5', ROUTED_HOST]);
      const echo = tunnelDatagrams.find((d) => d[9] === IpProtocol.ICMP && bytesToIpv4(d, 16) === ROUTED_HOST);
      assert.ok(echo, `no ICMP datagram to ${ROUTED_HOST} among ${tunnelDatagrams.length} tunnel datagrams`);
      assert.equal(echo[0], 0x45, 'the datagram starts with the IPv4 header: no Ethernet header');
      assert.equal(echo.length, parseIpv4(echo).payload.length + 20, 'exactly the datagram, no padding');
      assert.equal(bytesToIpv4(echo, 12), lease.address);

      const repliesBefore = adapter.counters.get('dhcp:reply');
      assert.ok(repliesBefore >= 2, 'OFFER and ACK');
      await stopDhclient(dir);
      await ns('ip', ['-4', 'addr', 'flush', 'dev', TAP_NAME]); // the second run must put the address back itself
      const log = await startDhclient(dir); // INIT-REBOOT: DHCPREQUEST for the remembered address
      assert.match(log, /DHCPREQUEST for 10\.77\.0\.2/, log);
      assert.match(log, /DHCPACK of 10\.77\.0\.2/, log);
      assert.doesNotMatch(log, /DHCPNAK|DHCPDISCOVER/, 'the remembered lease was confirmed, not refused and rediscovered');
      const renewed = await ns('ip', ['-4', '-o', 'addr', 'show', 'dev', TAP_NAME]);
      assert.match(renewed, /inet 10\.77\.0\.2\/24 /, renewed);
      const counters = adapter.counters.snapshot();
      assert.ok((counters['dhcp:reply'] ?? 0) > repliesBefore, `the second dhclient was answered: ${JSON.stringify(counters)}`);
      assert.equal(counters['error:internal'], undefined);
    } finally {
      clearInterval(flushReplies);
      await stopDhclient(dir);
    }
  } finally {
    await tap?.close();
    await run('ip', ['netns', 'del', NAMESPACE], { allowFailure: true });
    await rm(netnsEtc, { recursive: true, force: true });
    if (createdNetnsRoot) await rmdir('/etc/netns').catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});
