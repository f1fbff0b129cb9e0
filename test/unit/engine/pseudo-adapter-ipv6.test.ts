/**
 * The pseudo adapter's IPv6 over the in-memory adapter pair: NDP answered
 * locally (RA for SLAAC, NA with the reserved MAC, DAD never), IPv6 tunnel
 * datagrams handed over with EtherType 0x86DD, IPv6 from the tunnel framed
 * for the host, and Packet Too Big for what the tunnel cannot carry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import type { DhcpResponder, DhcpVerdict } from '../../../emulators/dhcp.js';
import { PseudoAdapter } from '../../../src/engine/pseudo-adapter.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { bytesToMac, macToBytes } from '../../../src/wire/addr.js';
import { bytesToIpv6, ipv6ToBytes } from '../../../src/wire/addr6.js';
import { EtherType, parseEthernet } from '../../../src/wire/ethernet.js';
import { parseIpv6 } from '../../../src/wire/ipv6.js';
import { emitIcmpv6Header, Icmpv6Type, parseIcmpv6 } from '../../../src/wire/icmpv6.js';
import { parseNdp, type NdpMessage } from '../../../src/wire/ndp.js';
import { HOST_MAC } from './frames.js';
import { echo6Frame, ndpFrame } from './frames6.js';
import { toHex } from '../wire/fixtures.js';
import { DAD_NS_FRAME, RS_FRAME } from '../wire/fixtures6.js';
import { TEST_LEASE, TEST_LEASE6 } from '../../support/lease.js';
import { seeded } from '../../support/seeded.js';

const GW = DEFAULT_GATEWAY_MAC;
const HOST = 'fd74:7670:6e00:2:0:5eff:fe10:1';
const noDhcp: DhcpResponder = { hostMac: undefined, setLease() {}, handle: (): DhcpVerdict => ({ kind: 'ignored', reason: 'not-for-us' }) };

function setup(lease: Lease = TEST_LEASE6) {
  const [adapterSide, hostSide] = createMemoryPair();
  const toHost: Uint8Array[] = [];
  hostSide.onFrames((frames) => frames.forEach((f) => toHost.push(f.slice())));
  const datagrams: Array<{ etherType: number; datagram: Uint8Array }> = [];
  let now = 1_000;
  const adapter = new PseudoAdapter({
    device: adapterSide,
    lease,
    dhcp: noDhcp,
    nowMs: () => now,
    fragNeededPerSecond: 1,
    onDatagram: (d, etherType) => datagrams.push({ etherType, datagram: d.slice() }),
  });
  return { hostSide, adapter, toHost, datagrams, advance: (ms: number) => (now += ms) };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A frame the adapter wrote, read the way the host's kernel would: Ethernet, IPv6, verified ICMPv6. */
function read(frame: Uint8Array) {
  const ethernet = parseEthernet(frame);
  assert.equal(ethernet.etherType, EtherType.IPV6);
  const ip = parseIpv6(ethernet.payload);
  const icmp = parseIcmpv6(ip.payload, ip.source, ip.destination);
  return { ethernet, ip, icmp };
}

test('the captured RS gets a router advertisement the host can use: from the reserved MAC and the gateway link-local, hop limit 255', async () => {
  const { hostSide, toHost, adapter } = setup();
  hostSide.writeFrames([RS_FRAME]);
  await settle();
  assert.equal(toHost.length, 1);
  const { ethernet, ip, icmp } = read(toHost[0]!);
  assert.deepEqual([bytesToMac(ethernet.destination), bytesToMac(ethernet.source)], ['33:33:00:00:00:01', GW]);
  assert.deepEqual([ip.hopLimit, bytesToIpv6(ip.source), bytesToIpv6(ip.destination)], [255, 'fe80::74:76ff:fe70:6e01', 'ff02::1']);
  const ra = parseNdp(icmp);
  assert.ok(ra.kind === 'router-advertisement');
  assert.ok(ra.options.some((o) => o.kind === 'prefix-information' && o.autonomous && bytesToIpv6(o.prefix) === 'fd74:7670:6e00:2::' && o.prefixLength === 64));
  assert.equal(adapter.hostMac, HOST_MAC, 'learned from the RS');
  assert.deepEqual([adapter.counters.get('rx:local-ndp'), adapter.counters.get('ndp:reply')], [1, 1]);
});

test('an NS for the server\'s tunnel address gets an NA with the reserved MAC, to the host', async () => {
  const { hostSide, toHost } = setup();
  const ns: NdpMessage = { kind: 'neighbor-solicitation', target: ipv6ToBytes('fd74:7670:6e00::1'), options: [{ kind: 'source-link-layer-address', linkLayerAddress: macToBytes(HOST_MAC) }] };
  hostSide.writeFrames([ndpFrame(ns, HOST, 'ff02::1:ff00:1', '33:33:ff:00:00:01')]);
  await settle();
  assert.equal(toHost.length, 1);
  const { ethernet, ip, icmp } = read(toHost[0]!);
  assert.equal(bytesToMac(ethernet.destination), HOST_MAC);
  assert.deepEqual([ip.hopLimit, bytesToIpv6(ip.source), bytesToIpv6(ip.destination)], [255, 'fd74:7670:6e00::1', HOST]);
  const na = parseNdp(icmp);
  assert.ok(na.kind === 'neighbor-advertisement' && na.solicited && na.override);
  assert.deepEqual(na.options.map((o) => o.kind === 'target-link-layer-address' && bytesToMac(o.linkLayerAddress)), [GW]);
});

test('a DAD probe and an NS for the host\'s own prefix are never answered', async () => {
  const { hostSide, toHost, adapter } = setup();
  const dad: NdpMessage = { kind: 'neighbor-solicitation', target: ipv6ToBytes(HOST), options: [] };
  const own: NdpMessage = { kind: 'neighbor-solicitation', target: ipv6ToBytes('fd74:7670:6e00:2::77'), options: [] };
  hostSide.writeFrames([ndpFrame(dad, '::', 'ff02::1:ff10:1', '33:33:ff:10:00:01'), DAD_NS_FRAME, ndpFrame(own, HOST, 'ff02::1:ff00:77', '33:33:ff:00:00:77')]);
  await settle();
  assert.equal(toHost.length, 0);
  assert.deepEqual([adapter.counters.get('ndp:ignored:probe'), adapter.counters.get('ndp:ignored:own-prefix')], [2, 1]);
});

test('NDP with a bad checksum or a malformed option is counted, not answered', async () => {
  const { hostSide, toHost, adapter } = setup();
  const bad = RS_FRAME.slice();
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
  const zeroOption = ndpFrame({ kind: 'router-solicitation', options: [{ kind: 'unknown', type: 9, data: new Uint8Array(6) }] }, HOST, 'ff02::2', '33:33:00:00:00:02');
  zeroOption[54 + 8 + 1] = 0; // option length 0 (RFC 4861 §4.6: discard), under a correct checksum
  emitIcmpv6Header(Icmpv6Type.ROUTER_SOLICITATION, 0, zeroOption.length - 58, zeroOption, 54, ipv6ToBytes(HOST), ipv6ToBytes('ff02::2'));
  const fixed = ndpFrame({ kind: 'router-solicitation', options: [] }, HOST, 'ff02::2', '33:33:00:00:00:02');
  hostSide.writeFrames([bad, zeroOption, fixed.subarray(0, 57)]);
  await settle();
  assert.equal(toHost.length, 0);
  assert.deepEqual([adapter.counters.get('ndp:malformed:BAD_CHECKSUM'), adapter.counters.get('ndp:malformed:BAD_VALUE')], [1, 1]);
  assert.equal(adapter.counters.get('rx:drop:malformed:TRUNCATED'), 1);
});

test('a ping6 to the server becomes a tunnel datagram with EtherType 0x86DD and no Ethernet header', async () => {
  const { hostSide, datagrams } = setup();
  const frame = echo6Frame({ dstMac: GW, src: HOST, dst: 'fd74:7670:6e00::1', dataLength: 56 });
  hostSide.writeFrames([frame]);
  await settle();
  assert.equal(datagrams.length, 1);
  assert.equal(datagrams[0]!.etherType, EtherType.IPV6);
  assert.equal(toHex(datagrams[0]!.datagram), toHex(frame.subarray(14)));
});

test('IPv6 from the tunnel reaches the host framed with EtherType 0x86DD from the reserved MAC', async () => {
  const { hostSide, adapter, toHost } = setup();
  hostSide.writeFrames([RS_FRAME]); // the host MAC becomes known
  await settle();
  toHost.length = 0;
  const reply = echo6Frame({ dstMac: HOST_MAC, src: 'fd74:7670:6e00::1', dst: HOST }).subarray(14);
  assert.equal(adapter.deliver([reply]), 1);
  await settle();
  const ethernet = parseEthernet(toHost[0]!);
  assert.deepEqual([ethernet.etherType, bytesToMac(ethernet.destination), bytesToMac(ethernet.source)], [EtherType.IPV6, HOST_MAC, GW]);
  assert.equal(toHex(ethernet.payload), toHex(reply));
});

test('over the MTU: Packet Too Big from the server\'s tunnel address with the MTU and the packet\'s start, rate-limited', async () => {
  const { hostSide, toHost, datagrams, adapter, advance } = setup();
  const big = echo6Frame({ dstMac: GW, src: HOST, dst: 'fd74:7670:6e00::1', dataLength: 1400 });
  hostSide.writeFrames([big, big]);
  await settle();
  assert.equal(datagrams.length, 0);
  assert.equal(toHost.length, 1, 'the second within the interval is rate-limited');
  const { ethernet, ip, icmp } = read(toHost[0]!);
  assert.equal(bytesToMac(ethernet.destination), HOST_MAC);
  assert.deepEqual([bytesToIpv6(ip.source), bytesToIpv6(ip.destination)], ['fd74:7670:6e00::1', HOST]);
  assert.deepEqual([icmp.type, icmp.code], [Icmpv6Type.PACKET_TOO_BIG, 0]);
  assert.equal(toHex(icmp.body.subarray(0, 4)), (1400).toString(16).padStart(8, '0'));
  assert.equal(icmp.body.length, 4 + 1280 - 48, 'as much of the packet as fits in 1280 bytes');
  assert.equal(toHex(icmp.body.subarray(4, 44)), toHex(big.subarray(14, 54)));
  assert.equal(ip.payload.length + 40, 1280);
  assert.deepEqual([adapter.counters.get('rx:drop:too-big'), adapter.counters.get('icmpv6:packet-too-big'), adapter.counters.get('icmpv6:packet-too-big:rate-limited')], [2, 1, 1]);
  advance(1000);
  hostSide.writeFrames([big]);
  await settle();
  assert.equal(toHost.length, 2);
});

test('no Packet Too Big for an oversized ICMPv6 error (RFC 4443 §2.4 (e))', async () => {
  const { hostSide, toHost, adapter } = setup();
  const error = echo6Frame({ dstMac: GW, src: HOST, dst: 'fd74:7670:6e00::1', dataLength: 1400 });
  error[54] = Icmpv6Type.DESTINATION_UNREACHABLE; // the checksum no longer matters: the size decides first
  hostSide.writeFrames([error]);
  await settle();
  assert.equal(toHost.length, 0);
  assert.equal(adapter.counters.get('icmpv6:packet-too-big:not-sent-for-this'), 1);
});

test('a lease change re-advertises at once to a known host; an IPv4-only lease answers no NDP', async () => {
  const { hostSide, toHost, adapter } = setup(TEST_LEASE);
  hostSide.writeFrames([RS_FRAME]);
  await settle();
  assert.equal(toHost.length, 0);
  assert.equal(adapter.counters.get('rx:drop:ipv6'), 1);
  adapter.setHostMac(HOST_MAC);
  adapter.setLease(TEST_LEASE6);
  await settle();
  assert.equal(toHost.length, 1);
  assert.equal(parseNdp(read(toHost[0]!).icmp).kind, 'router-advertisement');
  assert.equal(adapter.counters.get('ndp:unsolicited-ra'), 1);
});


/** The app's timer, simulated: a tick every TICK_MS of injected time, for `ms`; the frames written meanwhile with when. */
const TICK_MS = 1_000;
async function runTicks(adapter: PseudoAdapter, advance: (ms: number) => number, toHost: Uint8Array[], ms: number) {
  const sent: Array<{ atMs: number; frame: Uint8Array }> = [];
  for (let elapsed = 0; elapsed < ms; elapsed += TICK_MS) {
    const now = advance(TICK_MS);
    const before = toHost.length;
    adapter.tick();
    await new Promise((resolve) => setImmediate(resolve));
    for (const frame of toHost.slice(before)) sent.push({ atMs: now, frame });
  }
  return sent;
}

function setupPeriodic(lease: Lease = TEST_LEASE6, seed = 7) {
  const [adapterSide, hostSide] = createMemoryPair();
  const toHost: Uint8Array[] = [];
  hostSide.onFrames((frames) => frames.forEach((f) => toHost.push(f.slice())));
  let now = 1_000;
  const adapter = new PseudoAdapter({ device: adapterSide, lease, dhcp: noDhcp, nowMs: () => now, random: seeded(seed), onDatagram: () => {} });
  return { hostSide, adapter, toHost, advance: (ms: number) => (now += ms), now: () => now };
}

const HOUR_MS = 3_600_000;

test('periodic RAs once the host is known: the first three within 16 s, then every 198-600 s, each the solicited answer byte for byte', async () => {
  const { hostSide, adapter, toHost, advance, now } = setupPeriodic();
  hostSide.writeFrames([RS_FRAME]);
  await settle();
  assert.equal(toHost.length, 1);
  const solicited = toHex(toHost[0]!);
  const solicitedAt = now();
  const sent = await runTicks(adapter, advance, toHost, 3 * HOUR_MS);
  assert.ok(sent.length >= 3 + Math.floor((3 * HOUR_MS - 48_000) / 600_000), `only ${sent.length} in 3 h`);
  for (const { frame } of sent) assert.equal(toHex(frame), solicited, 'the same advertisement, to all-nodes as the solicited one');
  const times = [solicitedAt, ...sent.map((s) => s.atMs)];
  const gaps = times.slice(1).map((at, i) => at - times[i]!);
  // One tick late at most: a due advertisement goes out at the first tick at or after its time.
  for (const gap of gaps.slice(0, 2)) assert.ok(gap > 0 && gap <= 16_000 + TICK_MS, `initial gap ${gap}`);
  for (const gap of gaps.slice(2)) assert.ok(gap >= 198_000 && gap <= 600_000 + TICK_MS, `gap ${gap}`);
  assert.ok(new Set(gaps.slice(2)).size > 1, 'randomised, not one fixed interval');
  assert.equal(adapter.counters.get('ndp:periodic-ra'), sent.length);
});

test('the lease refreshed before the router lifetime runs out: a full-tunnel host never goes 1800 s without an RA', async () => {
  const full: Lease = { ...TEST_LEASE6, ipv6: { ...TEST_LEASE6.ipv6!, routes: [{ prefix: '::', prefixLength: 0 }] } };
  for (const seed of [1, 2, 3]) {
    const { adapter, toHost, advance, now } = setupPeriodic(full, seed);
    adapter.setHostMac(HOST_MAC);
    const start = now();
    const sent = await runTicks(adapter, advance, toHost, 2 * HOUR_MS);
    const ra = parseNdp(read(sent[0]!.frame).icmp);
    assert.ok(ra.kind === 'router-advertisement');
    const times = [start, ...sent.map((s) => s.atMs), now()];
    const longest = Math.max(...times.slice(1).map((at, i) => at - times[i]!));
    assert.ok(longest * 3 <= ra.routerLifetimeSec * 1000 + 3 * TICK_MS, `longest gap ${longest} against lifetime ${ra.routerLifetimeSec} s`);
  }
});

test('no periodic RA without an IPv6 lease, nor before the host is known', async () => {
  const v4 = setupPeriodic(TEST_LEASE);
  v4.adapter.setHostMac(HOST_MAC);
  assert.equal((await runTicks(v4.adapter, v4.advance, v4.toHost, HOUR_MS)).length, 0, 'IPv4-only lease');
  const unknown = setupPeriodic();
  assert.equal((await runTicks(unknown.adapter, unknown.advance, unknown.toHost, HOUR_MS)).length, 0, 'host unknown');
  assert.equal(unknown.adapter.nextAdvertisementAtMs, undefined);
  unknown.adapter.setHostMac(HOST_MAC);
  assert.ok((await runTicks(unknown.adapter, unknown.advance, unknown.toHost, 20_000)).length >= 1, 'starts once the host is known');
});

test('periodic RAs stop when the adapter closes and when the lease loses IPv6', async () => {
  const closed = setupPeriodic();
  closed.adapter.setHostMac(HOST_MAC);
  assert.ok((await runTicks(closed.adapter, closed.advance, closed.toHost, HOUR_MS)).length > 3);
  closed.adapter.close();
  assert.equal(closed.adapter.nextAdvertisementAtMs, undefined);
  assert.equal((await runTicks(closed.adapter, closed.advance, closed.toHost, HOUR_MS)).length, 0, 'after close');

  const lost = setupPeriodic();
  lost.adapter.setHostMac(HOST_MAC);
  assert.ok((await runTicks(lost.adapter, lost.advance, lost.toHost, HOUR_MS)).length > 3);
  lost.adapter.setLease(TEST_LEASE);
  assert.equal(lost.adapter.nextAdvertisementAtMs, undefined);
  assert.equal((await runTicks(lost.adapter, lost.advance, lost.toHost, HOUR_MS)).length, 0, 'after the lease lost IPv6');
});
