import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emitUdp, emitUdpHeader, parseUdp, udpLength } from '../../../src/wire/udp.js';
import { WireError } from '../../../src/wire/errors.js';
import { toHex, UDP_DNS_FRAME } from './fixtures.js';

const UDP_DATAGRAM = UDP_DNS_FRAME.subarray(34);
const SOURCE = 0xc0000201; // 192.0.2.1
const DESTINATION = 0xc0000202; // 192.0.2.2

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('deconstruct: captured DNS query 53000 → 53 with a kernel-computed checksum', () => {
  const repr = parseUdp(UDP_DATAGRAM, SOURCE, DESTINATION);
  assert.equal(repr.sourcePort, 53000);
  assert.equal(repr.destinationPort, 53);
  assert.equal(repr.payload.length, 29);
  assert.equal(toHex(repr.payload.subarray(0, 2)), '1234', 'DNS id');
  assert.equal(repr.payload.buffer, UDP_DNS_FRAME.buffer, 'payload is a view');
});

test('construct/emit: reproduces the capture including checksum 0xcac0', () => {
  const repr = parseUdp(UDP_DATAGRAM, SOURCE, DESTINATION);
  const buf = new Uint8Array(udpLength(repr) + 2);
  assert.equal(emitUdp(repr, buf, 2, SOURCE, DESTINATION), 37);
  assert.equal(toHex(buf.subarray(2)), toHex(UDP_DATAGRAM));
});

test('the pseudo-header matters: other addresses fail the checksum', () => {
  assertWireError(() => parseUdp(UDP_DATAGRAM, SOURCE, 0xc0000203), 'BAD_CHECKSUM', /0xcac0 does not verify/);
});

test('zero checksum means none and is accepted even with wrong addresses', () => {
  const bytes = UDP_DATAGRAM.slice();
  bytes[6] = 0;
  bytes[7] = 0;
  assert.equal(parseUdp(bytes, 1, 2).destinationPort, 53);
});

test('a computed checksum of zero is sent as 0xffff (RFC 768)', () => {
  // Search a payload word that makes the checksum come out as 0; emit must send 0xffff, and it must verify.
  const buf = new Uint8Array(10);
  for (let word = 0; word <= 0xffff; word++) {
    buf[8] = word >>> 8;
    buf[9] = word & 0xff;
    emitUdpHeader(1, 2, 2, buf, 0, 0, 0);
    if (buf[6] === 0xff && buf[7] === 0xff) {
      assert.equal(parseUdp(buf, 0, 0).payload.length, 2);
      return;
    }
  }
  assert.fail('no payload word produced a zero checksum');
});

test('length field: too small, longer than the buffer, shorter than the buffer', () => {
  const small = UDP_DATAGRAM.slice();
  small[5] = 7;
  assertWireError(() => parseUdp(small, SOURCE, DESTINATION), 'BAD_VALUE', /length: expected at least 8, got 7/);
  assertWireError(() => parseUdp(UDP_DATAGRAM.subarray(0, 36), SOURCE, DESTINATION), 'TRUNCATED', /says 37 bytes, got 36/);
  assertWireError(() => parseUdp(UDP_DATAGRAM.subarray(0, 7), SOURCE, DESTINATION), 'TRUNCATED', /need 8 bytes, got 7/);
  const longer = new Uint8Array(40);
  longer.set(UDP_DATAGRAM);
  assert.equal(parseUdp(longer, SOURCE, DESTINATION).payload.length, 29, 'trailing bytes past the length field are not payload');
});

test('emit rejects oversized payloads, bad ports and small buffers', () => {
  assertWireError(() => emitUdpHeader(1, 2, 65528, new Uint8Array(8), 0, 0, 0), 'OVERSIZED');
  assertWireError(() => emitUdp({ sourcePort: 70000, destinationPort: 1, payload: new Uint8Array(0) }, new Uint8Array(8), 0, 0, 0), 'BAD_VALUE', /source port/);
  assertWireError(() => emitUdp({ sourcePort: 1, destinationPort: 1, payload: new Uint8Array(4) }, new Uint8Array(11), 0, 0, 0), 'BUFFER_TOO_SMALL');
});

test('property: emit then parse round-trips and always carries a verifying checksum', () => {
  const address = fc.nat(0xffffffff);
  fc.assert(
    fc.property(fc.nat(0xffff), fc.nat(0xffff), fc.uint8Array({ maxLength: 1500 }), address, address, (sp, dp, payload, src, dst) => {
      const buf = new Uint8Array(8 + payload.length);
      emitUdp({ sourcePort: sp, destinationPort: dp, payload }, buf, 0, src, dst);
      assert.notEqual((buf[6]! << 8) | buf[7]!, 0);
      const repr = parseUdp(buf, src, dst);
      assert.deepEqual([repr.sourcePort, repr.destinationPort, toHex(repr.payload)], [sp, dp, toHex(payload)]);
    }),
  );
});

test('property: random bytes parse or throw WireError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(0xffffffff), fc.nat(0xffffffff), (bytes, src, dst) => {
      try {
        parseUdp(bytes, src, dst);
      } catch (error) {
        assert.ok(error instanceof WireError, String(error));
      }
    }),
  );
});
