/**
 * TCP super-frames: the descriptor codec, checkGso's refusals, and the
 * segmenter against the rules of the kernel's tcp_gso_segment (properties over
 * random IPv4 and IPv6 super-frames): payload preserved in order, sequence
 * numbers advanced by the payload before, FIN/PSH only on the last segment,
 * CWR only on the first, IPv4 identification counting up, and every length
 * and checksum (IPv4 header, TCP with its pseudo-header) valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { finishChecksum, internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, onesComplementSum } from '../../../src/wire/checksum.js';
import { readU16, readU32, writeU16, writeU32 } from '../../../src/wire/bytes.js';
import {
  checkGso,
  emitGsoDescriptor,
  GSO_DESCRIPTOR_LENGTH,
  GSO_FLAG_NEEDS_CSUM,
  gsoHeaderLength,
  gsoSegmentCount,
  GsoType,
  newGsoInfo,
  parseGsoDescriptor,
  segmentTcp,
  type GsoInfo,
} from '../../../src/wire/gso.js';

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const TCP_CWR = 0x80;

interface SuperFrameSpec {
  ipv6: boolean;
  payload: Uint8Array;
  tcpOptionsWords: number;
  sequence: number;
  identification: number;
  flags: number;
  gsoSize: number;
}

/** A super-frame as the host's stack hands it over: headers for the whole payload, the TCP checksum field holding the pseudo-header sum. */
function superFrame(spec: SuperFrameSpec): { datagram: Uint8Array; gso: GsoInfo } {
  const ipLength = spec.ipv6 ? 40 : 20;
  const tcpLength = 20 + spec.tcpOptionsWords * 4;
  const datagram = new Uint8Array(ipLength + tcpLength + spec.payload.length);
  if (spec.ipv6) {
    datagram[0] = 0x60;
    writeU16(datagram, 4, tcpLength + spec.payload.length);
    datagram[6] = 6;
    datagram[7] = 64;
    datagram.set([0xfd, 0x74, 0x76, 0x70, 0x6e, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 2], 8);
    datagram.set([0xfd, 0x74, 0x76, 0x70, 0x6e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 24);
  } else {
    datagram[0] = 0x45;
    writeU16(datagram, 2, datagram.length);
    writeU16(datagram, 4, spec.identification);
    writeU16(datagram, 6, 0x4000); // DF, as TCP sends
    datagram[8] = 64;
    datagram[9] = 6;
    writeU32(datagram, 12, 0x0a4d0007);
    writeU32(datagram, 16, 0x0a4d0001);
    writeU16(datagram, 10, internetChecksum(datagram.subarray(0, 20)));
  }
  const tcp = ipLength;
  writeU16(datagram, tcp, 40000);
  writeU16(datagram, tcp + 2, 5201);
  writeU32(datagram, tcp + 4, spec.sequence);
  writeU32(datagram, tcp + 8, 12345);
  datagram[tcp + 12] = (tcpLength / 4) << 4;
  datagram[tcp + 13] = spec.flags;
  writeU16(datagram, tcp + 14, 64240);
  for (let i = 0; i < spec.tcpOptionsWords * 4; i++) datagram[tcp + 20 + i] = 1; // NOPs
  datagram.set(spec.payload, ipLength + tcpLength);
  const gso = { flags: GSO_FLAG_NEEDS_CSUM, gsoType: spec.ipv6 ? GsoType.TCPV6 : GsoType.TCPV4, hdrLen: ipLength + tcpLength, gsoSize: spec.gsoSize, csumStart: ipLength, csumOffset: 16 };
  return { datagram, gso };
}

const specArbitrary = fc.record({
  ipv6: fc.boolean(),
  payload: fc.uint8Array({ minLength: 0, maxLength: 6000 }),
  tcpOptionsWords: fc.integer({ min: 0, max: 10 }),
  sequence: fc.integer({ min: 0, max: 0xffffffff }),
  identification: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xff }).map((f) => f | TCP_ACK),
  gsoSize: fc.integer({ min: 1, max: 1500 }),
});

function segmentsOf(datagram: Uint8Array, gso: GsoInfo): Uint8Array[] {
  const out: Uint8Array[] = [];
  segmentTcp(datagram, gso, new Uint8Array(65535), (segment) => out.push(segment.slice()));
  return out;
}

function tcpChecksumResidue(segment: Uint8Array, ipv6: boolean): number {
  const tcpAt = ipv6 ? 40 : (segment[0]! & 0x0f) * 4;
  const length = segment.length - tcpAt;
  const pseudo = ipv6 ? ipv6PseudoHeaderSum(segment, 8, segment, 24, length, 6) : ipv4PseudoHeaderSum(readU32(segment, 12), readU32(segment, 16), 6, length);
  return finishChecksum(onesComplementSum(segment, pseudo, tcpAt, segment.length));
}

test('the descriptor round-trips and is 10 bytes, big-endian', () => {
  const gso = { flags: 1, gsoType: GsoType.TCPV4 | GsoType.ECN, hdrLen: 52, gsoSize: 1348, csumStart: 20, csumOffset: 16 };
  const buf = new Uint8Array(2 + GSO_DESCRIPTOR_LENGTH);
  assert.equal(emitGsoDescriptor(gso, buf, 2), 10);
  assert.deepEqual([...buf.subarray(2)], [0x01, 0x81, 0x00, 0x34, 0x05, 0x44, 0x00, 0x14, 0x00, 0x10]);
  assert.deepEqual(parseGsoDescriptor(buf, 2, newGsoInfo()), gso);
});

test('checkGso accepts what the host hands over and refuses descriptors that lie', () => {
  const { datagram, gso } = superFrame({ ipv6: false, payload: new Uint8Array(4000), tcpOptionsWords: 3, sequence: 1, identification: 7, flags: TCP_ACK, gsoSize: 1348 });
  assert.equal(checkGso(datagram, gso), undefined);
  assert.equal(gsoHeaderLength(datagram, gso.csumStart), 32 + 20);
  const lies: Array<[Partial<GsoInfo>, RegExp]> = [
    [{ gsoType: GsoType.TCPV6 }, /not IPv6/],
    [{ gsoType: GsoType.UDP }, /not TCPV4 or TCPV6/],
    [{ csumStart: 24 }, /not at the TCP header/],
    [{ csumOffset: 6 }, /not at the TCP header/],
    [{ hdrLen: 40 }, /hdrLen 40/],
    [{ gsoSize: 0 }, /size 0/],
  ];
  for (const [lie, message] of lies) assert.match(checkGso(datagram, { ...gso, ...lie }) ?? 'accepted', message);
  assert.match(checkGso(datagram.subarray(0, datagram.length - 1), gso) ?? 'accepted', /lengths disagree/);
  const udp = datagram.slice();
  udp[9] = 17;
  assert.match(checkGso(udp, gso) ?? 'accepted', /not TCP/);
});

test('a 4000-byte payload at gso size 1348 leaves as 1348 + 1348 + 1304, FIN and PSH on the last only', () => {
  const { datagram, gso } = superFrame({ ipv6: false, payload: new Uint8Array(4000).fill(0xab), tcpOptionsWords: 3, sequence: 0xfffffa00, identification: 0xfffe, flags: TCP_ACK | TCP_PSH | TCP_FIN, gsoSize: 1348 });
  const segments = segmentsOf(datagram, gso);
  assert.deepEqual(segments.map((s) => s.length), [52 + 1348, 52 + 1348, 52 + 1304]);
  assert.deepEqual(segments.map((s) => readU32(s, 24)), [0xfffffa00, 0xffffff44, 0x00000488]); // wraps at 2^32
  assert.deepEqual(segments.map((s) => readU16(s, 4)), [0xfffe, 0xffff, 0x0000]);
  assert.deepEqual(segments.map((s) => s[33]), [TCP_ACK, TCP_ACK, TCP_ACK | TCP_PSH | TCP_FIN]);
});

test('segments are what the kernel sends: payload in order, sequence, flags, IP ids, lengths and checksums', () => {
  fc.assert(
    fc.property(specArbitrary, (spec) => {
      const { datagram, gso } = superFrame(spec);
      assert.equal(checkGso(datagram, gso), undefined);
      const segments = segmentsOf(datagram, gso);
      assert.equal(segments.length, gsoSegmentCount(datagram, gso));
      assert.equal(segments.length, Math.max(1, Math.ceil(spec.payload.length / spec.gsoSize)));
      const payload: number[] = [];
      segments.forEach((segment, i) => {
        const last = i === segments.length - 1;
        const tcpAt = gso.csumStart;
        const size = segment.length - gso.hdrLen;
        assert.ok(size <= spec.gsoSize && (last || size === spec.gsoSize), `segment ${i} carries ${size}`);
        payload.push(...segment.subarray(gso.hdrLen));
        assert.equal(readU32(segment, tcpAt + 4), (spec.sequence + i * spec.gsoSize) >>> 0);
        let flags = spec.flags;
        if (!last) flags &= ~(TCP_FIN | TCP_PSH);
        if (i > 0) flags &= ~TCP_CWR;
        assert.equal(segment[tcpAt + 13], flags);
        assert.deepEqual(segment.subarray(tcpAt + 8, tcpAt + 13), datagram.subarray(tcpAt + 8, tcpAt + 13), 'ack, data offset unchanged');
        assert.deepEqual(segment.subarray(tcpAt + 20, gso.hdrLen), datagram.subarray(tcpAt + 20, gso.hdrLen), 'options copied');
        if (spec.ipv6) {
          assert.equal(readU16(segment, 4), segment.length - 40);
        } else {
          assert.equal(readU16(segment, 2), segment.length);
          assert.equal(readU16(segment, 4), (spec.identification + i) & 0xffff);
          assert.equal(internetChecksum(segment.subarray(0, 20)), 0, 'IPv4 header checksum');
        }
        assert.equal(tcpChecksumResidue(segment, spec.ipv6), 0, 'TCP checksum');
      });
      assert.deepEqual(payload, [...spec.payload]);
    }),
    { numRuns: 200 },
  );
});
