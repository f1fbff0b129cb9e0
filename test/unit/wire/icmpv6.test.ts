import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emitIcmpv6, icmpv6Length, Icmpv6Type, parseIcmpv6, checkIcmpv6 } from '../../../src/wire/icmpv6.js';
import { parseIpv6 } from '../../../src/wire/ipv6.js';
import { WireError } from '../../../src/wire/errors.js';
import { toHex } from './fixtures.js';
import { DAD_NS_FRAME, ECHO6_FRAME, NA_FRAME, NS_FRAME, RA_FRAME, RS_FRAME } from './fixtures6.js';

const CAPTURES = { RS_FRAME, DAD_NS_FRAME, NS_FRAME, NA_FRAME, ECHO6_FRAME, RA_FRAME };

test('every captured message verifies with the pseudo-header (the unspecified source of DAD included)', () => {
  for (const [name, frame] of Object.entries(CAPTURES)) {
    const ip = parseIpv6(frame.subarray(14));
    assert.equal(checkIcmpv6(ip.payload, ip.source, ip.destination), undefined, name);
  }
});

test('deconstruct: the echo request', () => {
  const ip = parseIpv6(ECHO6_FRAME.subarray(14));
  const icmp = parseIcmpv6(ip.payload, ip.source, ip.destination);
  assert.equal(icmp.type, Icmpv6Type.ECHO_REQUEST);
  assert.equal(icmp.code, 0);
  assert.equal(toHex(icmp.body.subarray(0, 4)), '27800001'); // id, seq
});

test('construct/emit: each capture re-emits with the checksum the kernel computed', () => {
  for (const [name, frame] of Object.entries(CAPTURES)) {
    const ip = parseIpv6(frame.subarray(14));
    const icmp = parseIcmpv6(ip.payload, ip.source, ip.destination);
    const buf = new Uint8Array(icmpv6Length(icmp));
    emitIcmpv6(icmp, buf, 0, ip.source, ip.destination);
    assert.equal(toHex(buf), toHex(ip.payload), name);
  }
});

test('a wrong address in the pseudo-header, or a flipped bit, fails the checksum', () => {
  const ip = parseIpv6(ECHO6_FRAME.subarray(14));
  const otherDestination = ip.destination.slice();
  otherDestination[15] = 9;
  assert.throws(() => parseIcmpv6(ip.payload, ip.source, otherDestination), (e: unknown) => e instanceof WireError && e.code === 'BAD_CHECKSUM' && /0xcf49 does not verify/.test(e.message));
  const flipped = ip.payload.slice();
  flipped[10] = flipped[10]! ^ 1;
  assert.throws(() => parseIcmpv6(flipped, ip.source, ip.destination), (e: unknown) => e instanceof WireError && e.code === 'BAD_CHECKSUM');
  assert.throws(() => parseIcmpv6(ip.payload.subarray(0, 3), ip.source, ip.destination), (e: unknown) => e instanceof WireError && e.code === 'TRUNCATED');
});

test('property: emit then parse round-trips for any type, code, body and addresses', () => {
  const address = fc.uint8Array({ minLength: 16, maxLength: 16 });
  fc.assert(
    fc.property(fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 600 }), address, address, (type, code, body, source, destination) => {
      const buf = new Uint8Array(4 + body.length);
      emitIcmpv6({ type, code, body }, buf, 0, source, destination);
      const parsed = parseIcmpv6(buf, source, destination);
      assert.deepEqual([parsed.type, parsed.code, toHex(parsed.body)], [type, code, toHex(body)]);
    }),
  );
});

test('property: random bytes parse or throw WireError, nothing else', () => {
  const zero = new Uint8Array(16);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        parseIcmpv6(bytes, zero, zero);
      } catch (error) {
        assert.ok(error instanceof WireError, String(error));
      }
    }),
  );
});
