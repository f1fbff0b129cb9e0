/**
 * The pseudo adapter over a scripted FrameDevice (frames in by hand, frames
 * out recorded as copies) and a scripted DHCP responder, so each path is
 * checked on its own. The integration over the in-memory adapter pair and the
 * real DHCP emulator lives in pseudo-adapter-integration.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FrameDevice } from '../../../adapter/device.js';
import type { DhcpResponder, DhcpVerdict } from '../../../emulators/dhcp.js';
import { PseudoAdapter } from '../../../src/engine/pseudo-adapter.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { parseEthernet, EtherType } from '../../../src/wire/ethernet.js';
import { parseArp, ArpOperation } from '../../../src/wire/arp.js';
import { parseIpv4 } from '../../../src/wire/ipv4.js';
import { parseUdp } from '../../../src/wire/udp.js';
import { bytesToMac, ipv4ToNumber } from '../../../src/wire/addr.js';
import { arpRequestFrame, HOST_MAC, ipv4Frame } from './frames.js';
import { toHex } from '../wire/fixtures.js';
import { TEST_LEASE } from '../../support/lease.js';

const lease: Lease = { ...TEST_LEASE };

class ScriptedDevice implements FrameDevice {
  readonly name = 'scripted0';
  readonly mtu = 1500;
  readonly written: Uint8Array[] = [];
  acceptLimit = Infinity;
  #handler: ((frames: readonly Uint8Array[]) => void) | undefined;
  onFrames(handler: (frames: readonly Uint8Array[]) => void): void {
    this.#handler = handler;
  }
  writeFrames(frames: readonly Uint8Array[]): number {
    const accepted = Math.min(frames.length, this.acceptLimit);
    for (const frame of frames.slice(0, accepted)) this.written.push(frame.slice());
    return accepted;
  }
  async close(): Promise<void> {}
  /** The host writes frames; like a real device, the buffer is scribbled over after the call. */
  hostWrites(...frames: Uint8Array[]): void {
    const copies = frames.map((f) => f.slice());
    this.#handler!(copies);
    for (const copy of copies) copy.fill(0xee);
  }
}

class ScriptedDhcp implements DhcpResponder {
  hostMac: string | undefined;
  readonly seen: string[] = [];
  reply: DhcpVerdict = { kind: 'ignored', reason: 'not-for-us' };
  setLease(): void {}
  handle(payload: Uint8Array, nowMs: number): DhcpVerdict {
    this.seen.push(`${toHex(payload)}@${nowMs}`);
    this.hostMac = HOST_MAC;
    return this.reply;
  }
}

function setup() {
  const device = new ScriptedDevice();
  const dhcp = new ScriptedDhcp();
  const datagrams: string[] = [];
  const adapter = new PseudoAdapter({ device, lease, dhcp, nowMs: () => 1234, onDatagram: (d, type) => datagrams.push(`${type}:${toHex(d)}`) });
  return { device, dhcp, datagrams, adapter };
}

test('an ARP request for the gateway gets the reserved MAC in a unicast reply', () => {
  const { device, adapter } = setup();
  device.hostWrites(arpRequestFrame('10.77.0.2', '10.77.0.1'));
  assert.equal(device.written.length, 1);
  const ethernet = parseEthernet(device.written[0]!);
  assert.equal(bytesToMac(ethernet.destination), HOST_MAC);
  assert.equal(bytesToMac(ethernet.source), DEFAULT_GATEWAY_MAC);
  assert.equal(ethernet.etherType, EtherType.ARP);
  const arp = parseArp(ethernet.payload);
  assert.equal(arp.operation, ArpOperation.REPLY);
  assert.equal(bytesToMac(arp.senderHardwareAddress), DEFAULT_GATEWAY_MAC);
  assert.equal(arp.senderProtocolAddress, ipv4ToNumber('10.77.0.1'));
  assert.equal(adapter.hostMac, HOST_MAC);
  assert.deepEqual(adapter.counters.snapshot(), { 'arp:reply': 1, 'rx:local-arp': 1 });
});

test('ARP probes for the lease address are not answered', () => {
  const { device, adapter } = setup();
  device.hostWrites(arpRequestFrame('0.0.0.0', '10.77.0.2'));
  assert.equal(device.written.length, 0);
  assert.equal(adapter.counters.get('arp:ignored:probe'), 1);
});

test('a ping becomes a tunnel datagram with the Ethernet header removed, valid during the call', () => {
  const { device, datagrams, adapter } = setup();
  const frame = ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '10.77.0.2', dst: '172.31.99.10', padding: 4 });
  device.hostWrites(frame);
  assert.deepEqual(datagrams, [`2048:${toHex(frame.subarray(14, frame.length - 4))}`]);
  assert.equal(adapter.counters.get('rx:tunnel'), 1);
});

test('DHCP requests reach the emulator as the UDP payload; replies are wrapped 67→68 from the gateway', () => {
  const { device, dhcp, adapter } = setup();
  const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  dhcp.reply = { kind: 'reply', payload: Uint8Array.of(2, 1, 6, 0, 9, 9), to: { ip: '255.255.255.255', mac: 'ff:ff:ff:ff:ff:ff' } };
  device.hostWrites(ipv4Frame({ dstMac: 'ff:ff:ff:ff:ff:ff', src: '0.0.0.0', dst: '255.255.255.255', udp: { sourcePort: 68, destinationPort: 67 }, payload }));
  assert.deepEqual(dhcp.seen, [`${toHex(payload)}@1234`]);
  const ethernet = parseEthernet(device.written[0]!);
  assert.deepEqual([bytesToMac(ethernet.destination), bytesToMac(ethernet.source), ethernet.etherType], ['ff:ff:ff:ff:ff:ff', DEFAULT_GATEWAY_MAC, 0x0800]);
  const ip = parseIpv4(ethernet.payload);
  assert.deepEqual([ip.source, ip.destination, ip.protocol, ip.timeToLive], [ipv4ToNumber('10.77.0.1'), 0xffffffff, 17, 64]);
  const udp = parseUdp(ip.payload, ip.source, ip.destination); // verifies the checksum
  assert.deepEqual([udp.sourcePort, udp.destinationPort, toHex(udp.payload)], [67, 68, '020106000909']);
  assert.equal(adapter.counters.get('dhcp:reply'), 1);
});

test('a DHCP message with a bad UDP checksum is dropped before the emulator sees it', () => {
  const { device, dhcp, adapter } = setup();
  const frame = ipv4Frame({ dstMac: 'ff:ff:ff:ff:ff:ff', src: '0.0.0.0', dst: '255.255.255.255', udp: { sourcePort: 68, destinationPort: 67 } });
  frame[frame.length - 1] = frame[frame.length - 1]! ^ 0xff;
  device.hostWrites(frame);
  assert.equal(dhcp.seen.length, 0);
  assert.equal(adapter.counters.get('dhcp:malformed:BAD_CHECKSUM'), 1);
});

test('deliver before the host MAC is known drops with host-mac-unknown', () => {
  const { device, adapter } = setup();
  const datagram = ipv4Frame({ dstMac: HOST_MAC, src: '172.31.99.10', dst: '10.77.0.2' }).subarray(14);
  assert.equal(adapter.deliver([datagram, datagram]), 0);
  assert.equal(device.written.length, 0);
  assert.equal(adapter.counters.get('deliver:drop:host-mac-unknown'), 2);
});

test('deliver writes well-formed frames in batches no larger than the pool', () => {
  const device = new ScriptedDevice();
  const batches: number[] = [];
  const write = device.writeFrames.bind(device);
  device.writeFrames = (frames) => (batches.push(frames.length), write(frames));
  const adapter = new PseudoAdapter({ device, lease, dhcp: new ScriptedDhcp(), onDatagram: () => {}, deliverBatchFrames: 4 });
  device.hostWrites(arpRequestFrame('10.77.0.2', '10.77.0.1'));
  device.written.length = 0;
  batches.length = 0;
  const datagrams = Array.from({ length: 10 }, (_, i) => ipv4Frame({ dstMac: HOST_MAC, src: '172.31.99.10', dst: '10.77.0.2', payload: new Uint8Array(i * 10).fill(i) }).subarray(14));
  assert.equal(adapter.deliver(datagrams), 10);
  assert.deepEqual(batches, [4, 4, 2]);
  device.written.forEach((frame, i) => {
    const ethernet = parseEthernet(frame);
    assert.deepEqual([bytesToMac(ethernet.destination), bytesToMac(ethernet.source), ethernet.etherType], [HOST_MAC, DEFAULT_GATEWAY_MAC, 0x0800]);
    assert.equal(toHex(ethernet.payload), toHex(datagrams[i]!));
  });
  assert.equal(adapter.counters.get('deliver:frames'), 10);
});

test('deliverSoon stages each datagram at once and writes the turn\'s datagrams together, in pool-sized batches', async () => {
  const device = new ScriptedDevice();
  const batches: number[] = [];
  const write = device.writeFrames.bind(device);
  device.writeFrames = (frames) => (batches.push(frames.length), write(frames));
  const adapter = new PseudoAdapter({ device, lease, dhcp: new ScriptedDhcp(), onDatagram: () => {}, deliverBatchFrames: 4 });
  device.hostWrites(arpRequestFrame('10.77.0.2', '10.77.0.1'));
  device.written.length = 0;
  batches.length = 0;
  const reused = new Uint8Array(60);
  const expected: string[] = [];
  for (let i = 0; i < 6; i++) {
    const datagram = ipv4Frame({ dstMac: HOST_MAC, src: '172.31.99.10', dst: '10.77.0.2', payload: new Uint8Array(12).fill(i) }).subarray(14);
    reused.set(datagram);
    adapter.deliverSoon(reused.subarray(0, datagram.length)); // the caller reuses its buffer right away
    expected.push(toHex(datagram));
  }
  assert.deepEqual(batches, [4], 'a full pool is written at once; the rest waits for the end of the turn');
  await Promise.resolve();
  assert.deepEqual(batches, [4, 2]);
  assert.deepEqual(device.written.map((frame) => toHex(parseEthernet(frame).payload)), expected);
});

test('deliver counts non-IP (a 3-byte "IPv6"), oversized and device-rejected datagrams', () => {
  const { device, adapter } = setup();
  device.hostWrites(arpRequestFrame('10.77.0.2', '10.77.0.1'));
  const good = ipv4Frame({ dstMac: HOST_MAC, src: '172.31.99.10', dst: '10.77.0.2' }).subarray(14);
  const big = new Uint8Array(1501);
  big[0] = 0x45;
  device.acceptLimit = 1;
  assert.equal(adapter.deliver([good, Uint8Array.of(0x60, 0, 0), big, good, good]), 1);
  const counters = adapter.counters.snapshot();
  assert.deepEqual(
    [counters['deliver:drop:not-ip'], counters['deliver:drop:too-big'], counters['deliver:frames'], counters['deliver:drop:write-rejected']],
    [1, 1, 1, 2],
  );
});

test('garbage frames are dropped and counted, never thrown, and nothing is written', () => {
  const { device, datagrams, adapter } = setup();
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 8 }), (frames) => {
      device.hostWrites(...frames);
    }),
  );
  const counters = adapter.counters.snapshot();
  const total = Object.entries(counters).filter(([k]) => k.startsWith('rx:')).reduce((sum, [, n]) => sum + n, 0);
  assert.ok(total > 0);
  assert.equal(counters['error:internal'], undefined);
  assert.equal(datagrams.length, counters['rx:tunnel'] ?? 0);
  assert.equal(device.written.length, (counters['arp:reply'] ?? 0) + (counters['dhcp:reply'] ?? 0));
});

test('an onDatagram that throws is counted, and later frames are still handled', () => {
  const device = new ScriptedDevice();
  let calls = 0;
  const adapter = new PseudoAdapter({ device, lease, dhcp: new ScriptedDhcp(), onDatagram: () => { calls++; throw new Error('boom'); } });
  const frame = ipv4Frame({ dstMac: DEFAULT_GATEWAY_MAC, src: '10.77.0.2', dst: '10.77.0.1' });
  device.hostWrites(frame, frame);
  assert.equal(calls, 2);
  assert.equal(adapter.counters.get('error:internal'), 2);
});
