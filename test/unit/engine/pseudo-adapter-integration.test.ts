/**
 * The pseudo adapter over the in-memory adapter pair: one end is the
 * adapter's device, the other plays the host (writes frames, collects what
 * the adapter writes back), with the asynchronous batched delivery a TAP has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import type { DhcpResponder, DhcpVerdict } from '../../../emulators/dhcp.js';
import { PseudoAdapter } from '../../../src/engine/pseudo-adapter.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { bytesToMac, ipv4ToNumber } from '../../../src/wire/addr.js';
import { ArpOperation, parseArp } from '../../../src/wire/arp.js';
import { EtherType, parseEthernet } from '../../../src/wire/ethernet.js';
import { parseIpv4 } from '../../../src/wire/ipv4.js';
import { arpRequestFrame, HOST_MAC, ipv4Frame } from './frames.js';
import { toHex } from '../wire/fixtures.js';
import { TEST_LEASE } from '../../support/lease.js';

const lease: Lease = { ...TEST_LEASE };

const noDhcp: DhcpResponder = { hostMac: undefined, setLease() {}, handle: (): DhcpVerdict => ({ kind: 'ignored', reason: 'not-for-us' }) };

function setup() {
  const [adapterSide, hostSide] = createMemoryPair();
  const toHost: Uint8Array[] = [];
  hostSide.onFrames((frames) => frames.forEach((f) => toHost.push(f.slice())));
  const datagrams: Uint8Array[] = [];
  const adapter = new PseudoAdapter({ device: adapterSide, lease, dhcp: noDhcp, onDatagram: (d) => datagrams.push(d.slice()) });
  return { hostSide, adapter, toHost, datagrams };
}

/** Lets the pair's setImmediate deliveries run (both directions). */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
}

test('an ARP request gets the reserved MAC', async () => {
  const { hostSide, toHost } = setup();
  hostSide.writeFrames([arpRequestFrame('10.77.0.2', '10.77.0.1')]);
  await settle();
  assert.equal(toHost.length, 1);
  const ethernet = parseEthernet(toHost[0]!);
  assert.equal(ethernet.etherType, EtherType.ARP);
  assert.equal(bytesToMac(ethernet.destination), HOST_MAC);
  const arp = parseArp(ethernet.payload);
  assert.deepEqual([arp.operation, bytesToMac(arp.senderHardwareAddress), arp.senderProtocolAddress], [ArpOperation.REPLY, DEFAULT_GATEWAY_MAC, ipv4ToNumber('10.77.0.1')]);
});

test('a ping becomes a tunnel datagram with the Ethernet header removed', async () => {
  const { hostSide, datagrams, adapter } = setup();
  const frame = ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '10.77.0.2', dst: '172.31.99.10', payload: new Uint8Array(56).fill(7) });
  hostSide.writeFrames([frame]);
  await settle();
  assert.equal(datagrams.length, 1);
  assert.equal(toHex(datagrams[0]!), toHex(frame.subarray(14)));
  assert.equal(parseIpv4(datagrams[0]!).destination, ipv4ToNumber('172.31.99.10'));
  assert.equal(adapter.counters.get('rx:tunnel'), 1);
});

test('deliver() writes well-formed frames to the host once its MAC is known', async () => {
  const { hostSide, toHost, adapter } = setup();
  hostSide.writeFrames([arpRequestFrame('10.77.0.2', '10.77.0.1')]);
  await settle();
  toHost.length = 0;
  const datagrams = [1, 2, 3].map((i) => ipv4Frame({ dstMac: HOST_MAC, src: '172.31.99.10', dst: '10.77.0.2', payload: new Uint8Array(i * 100).fill(i) }).subarray(14));
  assert.equal(adapter.deliver(datagrams), 3);
  await settle();
  assert.equal(toHost.length, 3);
  toHost.forEach((frame, i) => {
    const ethernet = parseEthernet(frame);
    assert.deepEqual([bytesToMac(ethernet.destination), bytesToMac(ethernet.source), ethernet.etherType], [HOST_MAC, DEFAULT_GATEWAY_MAC, EtherType.IPV4]);
    assert.equal(toHex(parseIpv4(ethernet.payload).payload), toHex(parseIpv4(datagrams[i]!).payload));
  });
});

test('garbage frames are dropped and counted', async () => {
  const { hostSide, toHost, datagrams, adapter } = setup();
  const ipv6 = ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '10.77.0.2', dst: '10.77.0.1' });
  ipv6[12] = 0x86;
  ipv6[13] = 0xdd;
  const badChecksum = ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '10.77.0.2', dst: '10.77.0.1' });
  badChecksum[25] = badChecksum[25]! ^ 0x10;
  hostSide.writeFrames([new Uint8Array(5), ipv6, badChecksum, ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '10.77.0.2', dst: '8.8.8.8' })]);
  await settle();
  assert.equal(toHost.length + datagrams.length, 0);
  assert.deepEqual(adapter.counters.snapshot(), {
    'rx:drop:ipv6': 1,
    'rx:drop:malformed:BAD_CHECKSUM': 1,
    'rx:drop:malformed:TRUNCATED': 1,
    'rx:drop:no-route': 1,
  });
});
