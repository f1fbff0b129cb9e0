import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emitIpv6, emitIpv6Header, ipv6Length, Ipv6NextHeader, parseIpv6, type Ipv6Repr } from '../../../src/wire/ipv6.js';
import { bytesToIpv6 } from '../../../src/wire/addr6.js';
import { WireError } from '../../../src/wire/errors.js';
import { toHex } from './fixtures.js';
import { ECHO6_FRAME, NS_FRAME, RA_FRAME } from './fixtures6.js';

const ECHO = ECHO6_FRAME.subarray(14);

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('deconstruct: captured ICMPv6 echo request', () => {
  const repr = parseIpv6(ECHO);
  assert.equal(repr.trafficClass, 0);
  assert.equal(repr.flowLabel, 0x50475);
  assert.equal(repr.nextHeader, Ipv6NextHeader.ICMPV6);
  assert.equal(repr.hopLimit, 64);
  assert.equal(bytesToIpv6(repr.source), '2001:db8:1::2');
  assert.equal(bytesToIpv6(repr.destination), '2001:db8:1::1');
  assert.equal(repr.payload.length, 24);
  assert.equal(repr.payload.buffer, ECHO6_FRAME.buffer, 'payload is a view');
});

test('deconstruct: captured RA keeps its traffic class and flow label apart', () => {
  const repr = parseIpv6(RA_FRAME.subarray(14));
  assert.equal(repr.trafficClass, 0);
  assert.equal(repr.flowLabel, 0x335ce);
  assert.equal(repr.hopLimit, 255);
  assert.equal(bytesToIpv6(repr.destination), 'ff02::1');
});

test('construct/emit: the captures re-emit byte for byte', () => {
  for (const datagram of [ECHO, NS_FRAME.subarray(14), RA_FRAME.subarray(14)]) {
    const repr = parseIpv6(datagram);
    const buf = new Uint8Array(ipv6Length(repr));
    assert.equal(emitIpv6(repr, buf), datagram.length);
    assert.equal(toHex(buf), toHex(datagram));
  }
});

test('traffic class spans the first two bytes', () => {
  const repr: Ipv6Repr = { ...parseIpv6(ECHO), trafficClass: 0xb8, flowLabel: 0xfffff };
  const buf = new Uint8Array(ipv6Length(repr));
  emitIpv6(repr, buf);
  assert.equal(toHex(buf.subarray(0, 4)), '6b8fffff');
  assert.equal(parseIpv6(buf).trafficClass, 0xb8);
});

test('bytes past the payload length (Ethernet padding) are not payload', () => {
  const padded = new Uint8Array(ECHO.length + 10);
  padded.set(ECHO);
  assert.equal(parseIpv6(padded).payload.length, 24);
});

test('version, lengths and jumbograms each get their code and a precise message', () => {
  assertWireError(() => parseIpv6(ECHO.subarray(0, 39)), 'TRUNCATED', /need 40 bytes, got 39/);
  assertWireError(() => parseIpv6(ECHO.subarray(0, 63)), 'TRUNCATED', /payload length says 24 bytes after the header, got 23/);
  const v4 = ECHO.slice();
  v4[0] = 0x45;
  assertWireError(() => parseIpv6(v4), 'BAD_VALUE', /version: expected 6, got 4/);
  const jumbo = ECHO.slice();
  jumbo[4] = 0;
  jumbo[5] = 0;
  jumbo[6] = Ipv6NextHeader.HOP_BY_HOP;
  assertWireError(() => parseIpv6(jumbo), 'UNSUPPORTED', /jumbograms/);
});

test('emit rejects out-of-range fields, short addresses, oversize payloads and small buffers', () => {
  const repr = parseIpv6(ECHO);
  assertWireError(() => emitIpv6({ ...repr, flowLabel: 0x100000 }, new Uint8Array(100)), 'BAD_VALUE', /flow label/);
  assertWireError(() => emitIpv6({ ...repr, hopLimit: 256 }, new Uint8Array(100)), 'BAD_VALUE', /hop limit/);
  assertWireError(() => emitIpv6({ ...repr, source: new Uint8Array(4) }, new Uint8Array(100)), 'BAD_VALUE', /source: expected 16 bytes/);
  assertWireError(() => emitIpv6Header(repr, 65536, new Uint8Array(40)), 'OVERSIZED');
  assertWireError(() => emitIpv6(repr, new Uint8Array(63)), 'BUFFER_TOO_SMALL');
});

const reprArbitrary: fc.Arbitrary<Ipv6Repr> = fc.record({
  trafficClass: fc.nat(255),
  flowLabel: fc.nat(0xfffff),
  nextHeader: fc.nat(255),
  hopLimit: fc.nat(255),
  source: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  destination: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  payload: fc.uint8Array({ maxLength: 1500 }),
});

test('property: emit then parse round-trips', () => {
  fc.assert(
    fc.property(reprArbitrary, (repr) => {
      fc.pre(!(repr.payload.length === 0 && repr.nextHeader === Ipv6NextHeader.HOP_BY_HOP));
      const buf = new Uint8Array(ipv6Length(repr));
      emitIpv6(repr, buf);
      const parsed = parseIpv6(buf);
      const plain = (r: Ipv6Repr) => ({ ...r, source: toHex(r.source), destination: toHex(r.destination), payload: toHex(r.payload) });
      assert.deepEqual(plain(parsed), plain(repr));
    }),
  );
});

test('property: random and mutated bytes parse or throw WireError, nothing else', () => {
  const mutated = fc.tuple(fc.nat(ECHO.length - 1), fc.nat(255)).map(([i, v]) => {
    const bytes = ECHO.slice();
    bytes[i] = v;
    return bytes;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), mutated), (bytes) => {
      try {
        assert.ok(parseIpv6(bytes).payload.length <= bytes.length - 40);
      } catch (error) {
        assert.ok(error instanceof WireError, String(error));
      }
    }),
  );
});
