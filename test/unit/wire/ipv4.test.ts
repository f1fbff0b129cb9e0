import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitIpv4,
  emitIpv4Header,
  IpProtocol,
  ipv4Length,
  isIpv4Fragment,
  ipv4IsFragmentBytes,
  parseIpv4,
  type Ipv4Repr,
} from '../../../src/wire/ipv4.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { WireError } from '../../../src/wire/errors.js';
import { ICMP_ECHO_FRAME, toHex, UDP_DNS_FRAME } from './fixtures.js';

const ICMP_DATAGRAM = ICMP_ECHO_FRAME.subarray(14);
const UDP_DATAGRAM = UDP_DNS_FRAME.subarray(14);

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

/** Recomputes the header checksum after a test edits a field. */
function fixChecksum(datagram: Uint8Array): Uint8Array {
  const headerLength = (datagram[0]! & 0x0f) * 4;
  datagram[10] = 0;
  datagram[11] = 0;
  const checksum = internetChecksum(datagram.subarray(0, headerLength));
  datagram[10] = checksum >>> 8;
  datagram[11] = checksum & 0xff;
  return datagram;
}

test('deconstruct: captured ICMP echo request', () => {
  const repr = parseIpv4(ICMP_DATAGRAM);
  assert.equal(repr.typeOfService, 0);
  assert.equal(repr.identification, 0x8550);
  assert.equal(repr.dontFragment, true);
  assert.equal(repr.moreFragments, false);
  assert.equal(repr.fragmentOffsetBytes, 0);
  assert.equal(repr.timeToLive, 64);
  assert.equal(repr.protocol, IpProtocol.ICMP);
  assert.equal(repr.source, 0xc0000201);
  assert.equal(repr.destination, 0xc0000202);
  assert.equal(repr.options.length, 0);
  assert.equal(toHex(repr.payload), toHex(ICMP_DATAGRAM.subarray(20)));
  assert.equal(repr.payload.buffer, ICMP_ECHO_FRAME.buffer, 'payload is a view');
  assert.equal(isIpv4Fragment(repr), false);
});

test('construct/emit: the parsed captures re-emit byte for byte (checksum recomputed)', () => {
  for (const datagram of [ICMP_DATAGRAM, UDP_DATAGRAM]) {
    const repr = parseIpv4(datagram);
    const buf = new Uint8Array(ipv4Length(repr));
    assert.equal(emitIpv4(repr, buf), datagram.length);
    assert.equal(toHex(buf), toHex(datagram));
  }
});

test('emitIpv4Header leaves the payload area alone and sets total length from payloadLength', () => {
  const repr = parseIpv4(UDP_DATAGRAM);
  const buf = UDP_DATAGRAM.slice();
  buf.fill(0, 0, 20);
  assert.equal(emitIpv4Header(repr, UDP_DATAGRAM.length - 20, buf), 20);
  assert.equal(toHex(buf), toHex(UDP_DATAGRAM));
});

test('bytes past total length (Ethernet padding) are not payload', () => {
  const padded = new Uint8Array(ICMP_DATAGRAM.length + 6);
  padded.set(ICMP_DATAGRAM);
  assert.equal(parseIpv4(padded).payload.length, ICMP_DATAGRAM.length - 20);
});

test('options via IHL: a header with a 4-byte option (NOP NOP NOP EOL) parses and round-trips', () => {
  const repr: Ipv4Repr = { ...parseIpv4(ICMP_DATAGRAM), options: Uint8Array.of(1, 1, 1, 0) };
  const buf = new Uint8Array(ipv4Length(repr));
  emitIpv4(repr, buf);
  assert.equal(buf[0], 0x46);
  const parsed = parseIpv4(buf);
  assert.equal(toHex(parsed.options), '01010100');
  assert.equal(toHex(parsed.payload), toHex(repr.payload));
});

test('fragments are flagged, not rejected', () => {
  const more = fixChecksum(ICMP_DATAGRAM.slice());
  more[6] = 0x20; // MF, offset 0
  fixChecksum(more);
  assert.equal(parseIpv4(more).moreFragments, true);
  assert.ok(isIpv4Fragment(parseIpv4(more)) && ipv4IsFragmentBytes(more));
  const last = ICMP_DATAGRAM.slice();
  last[6] = 0x00;
  last[7] = 0xb9; // offset 185 * 8
  fixChecksum(last);
  assert.equal(parseIpv4(last).fragmentOffsetBytes, 1480);
  assert.ok(ipv4IsFragmentBytes(last));
  assert.ok(!ipv4IsFragmentBytes(ICMP_DATAGRAM), 'DF alone is not a fragment');
});

test('bad checksum, version, IHL and lengths each get their code and a precise message', () => {
  const badChecksum = ICMP_DATAGRAM.slice();
  badChecksum[11] = badChecksum[11]! ^ 0xff;
  assertWireError(() => parseIpv4(badChecksum), 'BAD_CHECKSUM', /0x3182 does not verify/);
  const v6 = fixChecksum(ICMP_DATAGRAM.slice());
  v6[0] = 0x65;
  assertWireError(() => parseIpv4(fixChecksum(v6)), 'BAD_VALUE', /version: expected 4, got 6/);
  const smallIhl = ICMP_DATAGRAM.slice();
  smallIhl[0] = 0x44;
  assertWireError(() => parseIpv4(smallIhl), 'BAD_VALUE', /IHL: expected at least 5/);
  const bigIhl = ICMP_DATAGRAM.slice(0, 40);
  bigIhl[0] = 0x4f;
  assertWireError(() => parseIpv4(bigIhl), 'TRUNCATED', /IHL says 60 bytes, got 40/);
  const shortTotal = ICMP_DATAGRAM.slice();
  shortTotal[2] = 0;
  shortTotal[3] = 19;
  assertWireError(() => parseIpv4(fixChecksum(shortTotal)), 'BAD_VALUE', /total length: 19 is less than the header length 20/);
  assertWireError(() => parseIpv4(ICMP_DATAGRAM.subarray(0, 43)), 'TRUNCATED', /total length says 44 bytes, got 43/);
  assertWireError(() => parseIpv4(ICMP_DATAGRAM.subarray(0, 19)), 'TRUNCATED', /need 20 bytes, got 19/);
});

test('emit rejects oversized datagrams, misaligned options and out-of-range fields', () => {
  const repr = parseIpv4(ICMP_DATAGRAM);
  assertWireError(() => emitIpv4Header(repr, 65516, new Uint8Array(20)), 'OVERSIZED');
  assertWireError(() => emitIpv4({ ...repr, options: new Uint8Array(3) }, new Uint8Array(100)), 'BAD_VALUE', /options/);
  assertWireError(() => emitIpv4({ ...repr, options: new Uint8Array(44) }, new Uint8Array(200)), 'BAD_VALUE', /options/);
  assertWireError(() => emitIpv4({ ...repr, timeToLive: 256 }, new Uint8Array(100)), 'BAD_VALUE', /TTL/);
  assertWireError(() => emitIpv4({ ...repr, fragmentOffsetBytes: 12 }, new Uint8Array(100)), 'BAD_VALUE', /fragment offset/);
  assertWireError(() => emitIpv4(repr, new Uint8Array(43)), 'BUFFER_TOO_SMALL');
});

const reprArbitrary: fc.Arbitrary<Ipv4Repr> = fc.record({
  typeOfService: fc.nat(255),
  identification: fc.nat(0xffff),
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffsetBytes: fc.nat(0x1fff).map((units) => units * 8),
  timeToLive: fc.nat(255),
  protocol: fc.nat(255),
  source: fc.nat(0xffffffff),
  destination: fc.nat(0xffffffff),
  options: fc.nat(10).chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 })),
  payload: fc.uint8Array({ maxLength: 1500 }),
});

test('property: emit then parse round-trips', () => {
  fc.assert(
    fc.property(reprArbitrary, (repr) => {
      const buf = new Uint8Array(ipv4Length(repr));
      emitIpv4(repr, buf);
      const parsed = parseIpv4(buf);
      assert.deepEqual({ ...parsed, options: toHex(parsed.options), payload: toHex(parsed.payload) }, { ...repr, options: toHex(repr.options), payload: toHex(repr.payload) });
    }),
  );
});

test('property: random bytes (and mutated captures) parse or throw WireError, nothing else', () => {
  const mutated = fc.tuple(fc.nat(ICMP_DATAGRAM.length - 1), fc.nat(255), fc.boolean()).map(([i, v, fix]) => {
    const bytes = ICMP_DATAGRAM.slice();
    bytes[i] = v;
    return fix ? fixChecksum(bytes) : bytes;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), mutated), (bytes) => {
      try {
        const repr = parseIpv4(bytes);
        assert.ok(repr.payload.length <= bytes.length);
      } catch (error) {
        assert.ok(error instanceof WireError, String(error));
      }
    }),
  );
});
