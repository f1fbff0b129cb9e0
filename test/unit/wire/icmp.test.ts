import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emitIcmp, emitIcmpHeader, icmpLength, IcmpType, isIcmpErrorType, nextHopMtu, parseIcmp } from '../../../src/wire/icmp.js';
import { ipv4Destination, ipv4HeaderLength, ipv4Source, parseIpv4 } from '../../../src/wire/ipv4.js';
import { WireError } from '../../../src/wire/errors.js';
import { ICMP_FRAG_NEEDED_DATAGRAM, toHex } from './fixtures.js';

const ICMP_MESSAGE = ICMP_FRAG_NEEDED_DATAGRAM.subarray(ipv4HeaderLength(ICMP_FRAG_NEEDED_DATAGRAM));

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('deconstruct: the kernel\'s "fragmentation needed" with next-hop MTU 1400 and the offending datagram\'s header in its body', () => {
  const ip = parseIpv4(ICMP_FRAG_NEEDED_DATAGRAM);
  assert.equal(ip.protocol, 1);
  const icmp = parseIcmp(ICMP_MESSAGE);
  assert.equal(icmp.type, IcmpType.DESTINATION_UNREACHABLE);
  assert.equal(icmp.code, 4);
  assert.equal(nextHopMtu(icmp), 1400);
  assert.equal(ipv4Source(icmp.body), 0xc0000202, 'the offending datagram came from 192.0.2.2');
  assert.equal(ipv4Destination(icmp.body), 0xc6336402, 'to 198.51.100.2');
  assert.equal(icmp.body.buffer, ICMP_FRAG_NEEDED_DATAGRAM.buffer, 'the body is a view');
});

test('construct/emit: reproduces the capture including checksum 0x8503', () => {
  const icmp = parseIcmp(ICMP_MESSAGE);
  const buf = new Uint8Array(icmpLength(icmp) + 3);
  assert.equal(emitIcmp(icmp, buf, 3), ICMP_MESSAGE.length);
  assert.equal(toHex(buf.subarray(3)), toHex(ICMP_MESSAGE));
  assert.equal(toHex(buf.subarray(5, 7)), '8503');
});

test('emitIcmpHeader checksums a body the caller copied in place first', () => {
  const icmp = parseIcmp(ICMP_MESSAGE);
  const buf = new Uint8Array(ICMP_MESSAGE.length);
  buf.set(icmp.body, 8);
  emitIcmpHeader({ type: 3, code: 4, rest: 1400 }, icmp.body.length, buf);
  assert.equal(toHex(buf), toHex(ICMP_MESSAGE));
});

test('parse refuses a truncated header and a corrupted message', () => {
  assertWireError(() => parseIcmp(ICMP_MESSAGE.subarray(0, 7)), 'TRUNCATED', /need 8 bytes, got 7/);
  const corrupted = ICMP_MESSAGE.slice();
  corrupted[100]! ^= 0x10;
  assertWireError(() => parseIcmp(corrupted), 'BAD_CHECKSUM', /0x8503 does not verify over 556 bytes/);
});

test('nextHopMtu only for type 3 code 4; error types are told apart from queries', () => {
  assert.equal(nextHopMtu({ type: 3, code: 3, rest: 1400, body: new Uint8Array(0) }), undefined);
  assert.equal(nextHopMtu({ type: 8, code: 0, rest: 1400, body: new Uint8Array(0) }), undefined);
  assert.deepEqual([0, 3, 4, 5, 8, 11, 12].map(isIcmpErrorType), [false, true, true, true, false, true, true]);
});

test('property: emit then parse returns the same message, whatever its fields and body (odd lengths too)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 600 }), (type, code, rest, body) => {
      const buf = new Uint8Array(icmpLength({ body }));
      emitIcmp({ type, code, rest, body }, buf);
      const parsed = parseIcmp(buf);
      assert.deepEqual([parsed.type, parsed.code, parsed.rest, toHex(parsed.body)], [type, code, rest, toHex(body)]);
    }),
  );
});
