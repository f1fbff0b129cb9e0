/**
 * Path MTU over the in-memory adapter pair: a datagram over the tunnel MTU
 * from the host is answered with ICMP "fragmentation needed" carrying the
 * tunnel MTU (parsed back with our own codecs), rate-limited and counted;
 * and dropped host frames produce at most one warning line per reason per
 * interval.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import type { DhcpResponder, DhcpVerdict } from '../../../emulators/dhcp.js';
import { PseudoAdapter } from '../../../src/engine/pseudo-adapter.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { bytesToMac, ipv4ToNumber } from '../../../src/wire/addr.js';
import { EtherType, parseEthernet } from '../../../src/wire/ethernet.js';
import { IcmpType, nextHopMtu, parseIcmp } from '../../../src/wire/icmp.js';
import { IpProtocol, parseIpv4 } from '../../../src/wire/ipv4.js';
import { HOST_MAC, ipv4Frame } from './frames.js';
import { toHex } from '../wire/fixtures.js';
import { TEST_LEASE } from '../../support/lease.js';

const lease: Lease = { ...TEST_LEASE }; // MTU 1400
const noDhcp: DhcpResponder = { hostMac: undefined, setLease() {}, handle: (): DhcpVerdict => ({ kind: 'ignored', reason: 'not-for-us' }) };

function setup(nowMs: { value: number }) {
  const [adapterSide, hostSide] = createMemoryPair({ mtu: 1500 });
  const toHost: Uint8Array[] = [];
  hostSide.onFrames((frames) => frames.forEach((f) => toHost.push(f.slice())));
  const datagrams: Uint8Array[] = [];
  const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = { debug() {}, warn: (obj: object, msg: string) => warnings.push({ obj: obj as Record<string, unknown>, msg }) };
  const adapter = new PseudoAdapter({ device: adapterSide, lease, dhcp: noDhcp, logger, nowMs: () => nowMs.value, onDatagram: (d) => datagrams.push(d.slice()) });
  return { hostSide, adapter, toHost, datagrams, warnings };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A 1500-byte ping to the LAN: 100 bytes over the lease's 1400. */
const tooBig = (payloadLength = 1472): Uint8Array => ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '10.77.0.2', dst: '172.31.99.10', payload: new Uint8Array(payloadLength).fill(0xab) });

test('a datagram over the tunnel MTU is dropped and answered with ICMP fragmentation-needed carrying the tunnel MTU', async () => {
  const { hostSide, adapter, toHost, datagrams } = setup({ value: 0 });
  const frame = tooBig();
  hostSide.writeFrames([frame]);
  await settle();
  assert.equal(datagrams.length, 0, 'nothing goes into the tunnel');
  assert.equal(toHost.length, 1);
  const ethernet = parseEthernet(toHost[0]!);
  assert.deepEqual([bytesToMac(ethernet.destination), bytesToMac(ethernet.source), ethernet.etherType], [HOST_MAC, DEFAULT_GATEWAY_MAC, EtherType.IPV4]);
  const ip = parseIpv4(ethernet.payload);
  assert.deepEqual([ip.protocol, ip.source, ip.destination], [IpProtocol.ICMP, ipv4ToNumber('10.77.0.1'), ipv4ToNumber('10.77.0.2')]);
  assert.equal(ip.payload.length + 20, 576, 'as much of the datagram as fits in 576 bytes');
  const icmp = parseIcmp(ip.payload); // verifies the checksum
  assert.equal(icmp.type, IcmpType.DESTINATION_UNREACHABLE);
  assert.equal(nextHopMtu(icmp), 1400);
  assert.equal(toHex(icmp.body), toHex(frame.subarray(14, 14 + 548)), 'the offending datagram, quoted');
  assert.equal(adapter.counters.get('rx:drop:too-big'), 1);
  assert.equal(adapter.counters.get('icmp:frag-needed'), 1);
});

test('a datagram at exactly the tunnel MTU goes through, with no ICMP', async () => {
  const { hostSide, toHost, datagrams } = setup({ value: 0 });
  hostSide.writeFrames([tooBig(1400 - 28)]);
  await settle();
  assert.equal(datagrams.length, 1);
  assert.equal(toHost.length, 0);
});

test('replies are rate-limited (10 per second, burst 10) and the rest counted', async () => {
  const now = { value: 5_000 };
  const { hostSide, adapter, toHost } = setup(now);
  hostSide.writeFrames(Array.from({ length: 25 }, () => tooBig()));
  await settle();
  assert.equal(toHost.length, 10);
  assert.equal(adapter.counters.get('icmp:frag-needed:rate-limited'), 15);
  now.value += 500; // half a second refills five
  hostSide.writeFrames(Array.from({ length: 8 }, () => tooBig()));
  await settle();
  assert.equal(toHost.length, 15);
  assert.equal(adapter.counters.get('rx:drop:too-big'), 33);
});

test('a new lease MTU is the one written back', async () => {
  const { hostSide, adapter, toHost } = setup({ value: 0 });
  adapter.setLease({ ...lease, mtu: 1280 });
  hostSide.writeFrames([tooBig(1300)]);
  await settle();
  assert.equal(nextHopMtu(parseIcmp(parseIpv4(parseEthernet(toHost[0]!).payload).payload)), 1280);
});

test('no ICMP error answers an ICMP error (RFC 1122)', async () => {
  const { hostSide, adapter, toHost } = setup({ value: 0 });
  const frame = tooBig();
  frame[34] = IcmpType.DESTINATION_UNREACHABLE; // checksum now wrong, but the adapter never forwards it anyway
  hostSide.writeFrames([frame]);
  await settle();
  assert.equal(toHost.length, 0);
  assert.equal(adapter.counters.get('icmp:frag-needed:not-sent-for-this'), 1);
});

test('dropped host frames: one warning line per reason per interval with the count; background IPv6 never warns', async () => {
  const now = { value: 0 };
  const { hostSide, warnings } = setup(now);
  const wrongSource = (): Uint8Array => ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '192.0.2.9', dst: '172.31.99.10' });
  const ipv6 = (): Uint8Array => {
    const frame = wrongSource();
    frame[12] = 0x86;
    frame[13] = 0xdd;
    return frame;
  };
  hostSide.writeFrames([wrongSource(), wrongSource(), wrongSource(), ipv6(), tooBig()]);
  await settle();
  assert.deepEqual(warnings.map((w) => [w.obj.reason, w.obj.dropped]), [['source-not-lease', 1], ['too-big', 1]]);
  assert.match(warnings[0]!.msg, /source address that is not the leased one/);
  now.value += 59_999;
  hostSide.writeFrames([wrongSource()]);
  await settle();
  assert.equal(warnings.length, 2, 'still inside the interval');
  now.value += 1;
  hostSide.writeFrames([wrongSource()]);
  await settle();
  assert.deepEqual(warnings.slice(2).map((w) => [w.obj.reason, w.obj.dropped]), [['source-not-lease', 4]]);
});
