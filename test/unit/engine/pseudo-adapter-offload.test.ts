/**
 * The pseudo adapter over a scripted device with offload (as the TAP opened
 * with IFF_VNET_HDR): a TCP super-frame from the host goes to the tunnel whole
 * with its descriptor (offsets moved from the Ethernet frame to the datagram),
 * judged against the MTU by its segments; one from the tunnel is written whole
 * with its metadata row, or cut into MTU-sized segments for a device without
 * offload; a descriptor that lies is dropped and counted; emulator replies go
 * out as plain frames (a zero row).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFLOAD_META_STRIDE, type FrameDevice } from '../../../adapter/device.js';
import { DhcpServerEmulator } from '../../../emulators/dhcp.js';
import { PseudoAdapter } from '../../../src/engine/pseudo-adapter.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { emitEthernetHeader, EtherType } from '../../../src/wire/ethernet.js';
import { macToBytes } from '../../../src/wire/addr.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { writeU16, writeU32 } from '../../../src/wire/bytes.js';
import { GsoType, type GsoInfo } from '../../../src/wire/gso.js';
import { arpRequestFrame, HOST_MAC } from './frames.js';
import { TEST_LEASE } from '../../support/lease.js';

const lease: Lease = { ...TEST_LEASE }; // MTU 1400

class OffloadDevice implements FrameDevice {
  readonly name = 'offload0';
  readonly mtu = 1400;
  readonly written: Array<{ frame: Uint8Array; meta: number[] | undefined }> = [];
  #handler: ((frames: readonly Uint8Array[], meta?: Uint16Array) => void) | undefined;
  constructor(readonly offload: boolean) {}
  onFrames(handler: (frames: readonly Uint8Array[], meta?: Uint16Array) => void): void {
    this.#handler = handler;
  }
  writeFrames(frames: readonly Uint8Array[], meta?: Uint16Array): number {
    frames.forEach((frame, i) => this.written.push({ frame: frame.slice(), meta: meta ? [...meta.subarray(i * OFFLOAD_META_STRIDE, (i + 1) * OFFLOAD_META_STRIDE)] : undefined }));
    return frames.length;
  }
  async close(): Promise<void> {}
  hostWrites(frame: Uint8Array, row: number[]): void {
    this.#handler!([frame.slice()], Uint16Array.from(row));
  }
}

/** An IPv4 TCP datagram of `payload` bytes from the lease to 172.31.99.10, headers for the whole (as TSO hands it over). */
function tcpDatagram(payload: number): Uint8Array {
  const d = new Uint8Array(40 + payload);
  d[0] = 0x45;
  writeU16(d, 2, d.length);
  writeU16(d, 6, 0x4000);
  d[8] = 64;
  d[9] = 6;
  d.set([10, 77, 0, 2, 172, 31, 99, 10], 12);
  writeU16(d, 10, internetChecksum(d.subarray(0, 20)));
  writeU32(d, 24, 1000);
  d[32] = 5 << 4;
  d[33] = 0x10;
  for (let i = 40; i < d.length; i++) d[i] = i & 0xff;
  return d;
}

function framed(datagram: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + datagram.length);
  emitEthernetHeader(macToBytes(DEFAULT_GATEWAY_MAC), macToBytes(HOST_MAC), EtherType.IPV4, frame, 0);
  frame.set(datagram, 14);
  return frame;
}

function setup(offload: boolean) {
  const device = new OffloadDevice(offload);
  const sent: Array<{ length: number; gso: GsoInfo | undefined }> = [];
  const adapter = new PseudoAdapter({ device, lease, dhcp: new DhcpServerEmulator(lease), onDatagram: (d, _t, gso) => sent.push({ length: d.length, gso: gso ? { ...gso } : undefined }) });
  adapter.setHostMac(HOST_MAC);
  return { device, adapter, sent };
}

// flags NEEDS_CSUM, TCPV4, hdr_len (the kernel's linear-part hint), gso_size, csum_start, csum_offset — offsets in the frame.
const ROW = (gsoSize: number, hdrLen = 200): number[] => [1, GsoType.TCPV4, hdrLen, gsoSize, 14 + 20, 16];

test('a super-frame from the host goes to the tunnel whole, its descriptor relative to the datagram and hdrLen recomputed', () => {
  const { device, sent, adapter } = setup(true);
  device.hostWrites(framed(tcpDatagram(20_000)), ROW(1360));
  assert.deepEqual(sent, [{ length: 20_040, gso: { flags: 1, gsoType: GsoType.TCPV4, hdrLen: 40, gsoSize: 1360, csumStart: 20, csumOffset: 16 } }]);
  assert.equal(adapter.counters.get('rx:super-frames'), 1);
});

test('the MTU applies to the segments: a gso size over MTU - headers is too big', () => {
  const { device, sent, adapter } = setup(true);
  device.hostWrites(framed(tcpDatagram(20_000)), ROW(1361));
  assert.deepEqual(sent, []);
  assert.equal(adapter.counters.get('rx:drop:too-big'), 1);
});

test('a super-frame whose descriptor lies is dropped, not handed on', () => {
  const { device, sent, adapter } = setup(true);
  device.hostWrites(framed(tcpDatagram(5000)), [1, GsoType.TCPV6, 0, 1000, 34, 16]);
  assert.deepEqual(sent, []);
  assert.equal(adapter.counters.get('rx:drop:bad-gso'), 1);
});

test('a super-frame from the tunnel is written whole with its metadata row on an offload device', async () => {
  const { device, adapter } = setup(true);
  const datagram = tcpDatagram(9000);
  adapter.deliverSoon(datagram, { flags: 1, gsoType: GsoType.TCPV4, hdrLen: 40, gsoSize: 1360, csumStart: 20, csumOffset: 16 });
  adapter.deliverSoon(tcpDatagram(100));
  await Promise.resolve();
  assert.equal(device.written.length, 2);
  assert.deepEqual(device.written[0]!.frame.subarray(14), datagram);
  assert.deepEqual(device.written[0]!.meta, [1, GsoType.TCPV4, 14 + 40, 1360, 14 + 20, 16]);
  assert.deepEqual(device.written[1]!.meta, [0, 0, 0, 0, 0, 0], 'a plain frame gets a zero row');
});

test('for a device without offload it is cut into MTU-sized segments', async () => {
  const { device, adapter } = setup(false);
  adapter.deliverSoon(tcpDatagram(4000), { flags: 1, gsoType: GsoType.TCPV4, hdrLen: 40, gsoSize: 1360, csumStart: 20, csumOffset: 16 });
  await Promise.resolve();
  assert.deepEqual(device.written.map((w) => [w.frame.length, w.meta]), [[14 + 1400, undefined], [14 + 1400, undefined], [14 + 40 + 1280, undefined]]);
  assert.equal(adapter.counters.get('deliver:segmented'), 1);
});

test('a lying descriptor from the tunnel is dropped and counted', async () => {
  const { device, adapter } = setup(true);
  adapter.deliverSoon(tcpDatagram(4000), { flags: 1, gsoType: GsoType.TCPV4, hdrLen: 40, gsoSize: 1360, csumStart: 24, csumOffset: 16 });
  await Promise.resolve();
  assert.equal(device.written.length, 0);
  assert.equal(adapter.counters.get('deliver:drop:bad-gso'), 1);
});

test('emulator replies leave as plain frames (no metadata for them)', () => {
  const { device } = setup(true);
  device.hostWrites(arpRequestFrame('10.77.0.2', '10.77.0.1'), [0, 0, 0, 0, 0, 0]);
  assert.equal(device.written.length, 1);
  assert.equal(device.written[0]!.meta, undefined);
});
