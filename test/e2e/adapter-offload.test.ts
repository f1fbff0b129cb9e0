/**
 * TAP offload against real kernels: two TAPs, each moved into its own tvt-
 * namespace, joined by this process as a wire (what the tunnel is, without
 * crypto). A 4 MiB TCP transfer from one namespace to the other must arrive
 * byte-exact while the sending kernel hands us super-frames (frames over the
 * MTU with a GSO metadata row):
 * - to a receiving TAP with offload, each super-frame is written whole with
 *   its row and the receiving kernel takes it (GRO's way in);
 * - to a receiving TAP without offload, segmentTcp cuts it: the transfer only
 *   completes if every segment's sequence numbers, lengths and checksums are
 *   what the receiving kernel accepts (a bad checksum is a silent drop there,
 *   and the transfer would stall into the timeout).
 * Root and /dev/net/tun needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFLOAD_META_STRIDE, OffloadMeta } from '../../adapter/device.js';
import { openTap, type LinuxTap } from '../../adapter/linux-tap.js';
import { addAddress, setLinkUp } from '../../adapter/link.js';
import { gsoHeaderLength, segmentTcp, type GsoInfo } from '../../src/wire/gso.js';
import { moveTapToNamespace, uniqueName, withNamespaces, type Namespace, type TestBed } from '../support/netns.js';

const MTU = 1400;
const ETHERNET = 14;
const PORT = 5201;
const BYTES = 4 * 1024 * 1024;
const TRANSFER_TIMEOUT_MS = 60_000;

async function tapIn(bed: TestBed, ns: Namespace, address: string, offload: boolean): Promise<LinuxTap> {
  await ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const tap = await openTap({ name: uniqueName('o'), mtu: MTU, offload });
  bed.defer(() => tap.close());
  assert.equal(tap.offload, offload, `the kernel opened ${tap.name} with offload ${offload}`);
  await moveTapToNamespace(tap.name, ns.name);
  await addAddress(tap.name, address, 24, ns.name);
  await setLinkUp(tap.name, ns.name);
  return tap;
}

/** Frames from `from` go to `to`: super-frames whole with their row, or segmented when `to` has no offload. */
function wire(from: LinuxTap, to: LinuxTap, seen: { superFrames: number; largest: number }): void {
  const scratch = new Uint8Array(65535);
  const gso: GsoInfo = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
  from.onFrames((frames, meta) => {
    frames.forEach((frame, i) => {
      const row = i * OFFLOAD_META_STRIDE;
      if (!meta || meta[row + OffloadMeta.GSO_TYPE] === 0) return void to.writeFrames([frame]);
      seen.superFrames++;
      seen.largest = Math.max(seen.largest, frame.length);
      if (to.offload) return void to.writeFrames([frame], meta.subarray(row, row + OFFLOAD_META_STRIDE));
      const datagram = frame.subarray(ETHERNET);
      gso.gsoType = meta[row + OffloadMeta.GSO_TYPE]!;
      gso.gsoSize = meta[row + OffloadMeta.GSO_SIZE]!;
      gso.csumStart = meta[row + OffloadMeta.CSUM_START]! - ETHERNET;
      gso.csumOffset = meta[row + OffloadMeta.CSUM_OFFSET]!;
      gso.hdrLen = gsoHeaderLength(datagram, gso.csumStart);
      segmentTcp(datagram, gso, scratch, (segment) => {
        const out = new Uint8Array(ETHERNET + segment.length);
        out.set(frame.subarray(0, ETHERNET));
        out.set(segment, ETHERNET);
        to.writeFrames([out]);
      });
    });
  });
}

const RECEIVER = `
const { createHash } = require('node:crypto');
const server = require('node:net').createServer((socket) => {
  const hash = createHash('sha256'); let bytes = 0;
  socket.on('data', (chunk) => { hash.update(chunk); bytes += chunk.length; });
  socket.on('end', () => { console.log(JSON.stringify({ bytes, sha256: hash.digest('hex') })); server.close(); });
});
server.listen(${PORT}, '10.98.0.2', () => console.log('listening'));`;

const SENDER = `
const data = Buffer.alloc(${BYTES}); for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
console.log(require('node:crypto').createHash('sha256').update(data).digest('hex'));
const socket = require('node:net').connect(${PORT}, '10.98.0.2', () => socket.end(data));`;

async function transfer(a: Namespace, b: Namespace): Promise<{ sent: string; received: { bytes: number; sha256: string } }> {
  const receiver = b.spawn(process.execPath, ['-e', RECEIVER]);
  let out = '';
  receiver.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const listening = Date.now();
  while (!out.includes('listening')) {
    if (Date.now() - listening > 10_000) throw new Error('receiver did not listen');
    await new Promise((r) => setTimeout(r, 50));
  }
  const sent = (await a.exec(process.execPath, ['-e', SENDER], { timeoutMs: TRANSFER_TIMEOUT_MS })).stdout.trim();
  const started = Date.now();
  while (!out.includes('sha256')) {
    if (Date.now() - started > TRANSFER_TIMEOUT_MS) throw new Error(`the transfer did not complete: receiver said ${JSON.stringify(out)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { sent, received: JSON.parse(out.split('\n').find((l) => l.includes('sha256'))!) };
}

for (const receiverOffload of [true, false]) {
  test(`a TCP transfer through offload TAPs arrives byte-exact; the sender's kernel hands over super-frames, ${receiverOffload ? 'written whole to a TAP with offload' : 'segmented for a TAP without'}`, () =>
    withNamespaces(2, async ([a, b], bed) => {
      const tapA = await tapIn(bed, a!, '10.98.0.1', true);
      const tapB = await tapIn(bed, b!, '10.98.0.2', receiverOffload);
      const seen = { superFrames: 0, largest: 0 };
      wire(tapA, tapB, seen);
      wire(tapB, tapA, { superFrames: 0, largest: 0 });
      const { sent, received } = await transfer(a!, b!);
      assert.deepEqual(received, { bytes: BYTES, sha256: sent });
      assert.ok(seen.superFrames > 0, 'the sending kernel handed over super-frames');
      assert.ok(seen.largest > ETHERNET + MTU, `a super-frame larger than the MTU (largest ${seen.largest})`);
      assert.equal(tapB.counters.writeDrops, 0, 'the receiving kernel took every frame');
    }));
}
