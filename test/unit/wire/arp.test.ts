import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ARP_PACKET_LENGTH, ArpOperation, emitArp, parseArp, type ArpRepr } from '../../../src/wire/arp.js';
import { WireError } from '../../../src/wire/errors.js';
import { ARP_REQUEST_FRAME, hex, toHex } from './fixtures.js';

const ARP_REQUEST = ARP_REQUEST_FRAME.subarray(14);

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('deconstruct: captured who-has 192.0.2.3 tell 192.0.2.1', () => {
  const repr = parseArp(ARP_REQUEST);
  assert.equal(repr.operation, ArpOperation.REQUEST);
  assert.equal(toHex(repr.senderHardwareAddress), '02005e100001');
  assert.equal(repr.senderProtocolAddress, 0xc0000201);
  assert.equal(toHex(repr.targetHardwareAddress), '000000000000');
  assert.equal(repr.targetProtocolAddress, 0xc0000203);
  assert.equal(repr.senderHardwareAddress.buffer, ARP_REQUEST_FRAME.buffer, 'hardware addresses are views');
});

test('construct: emitting the same repr reproduces the capture', () => {
  const repr: ArpRepr = {
    operation: ArpOperation.REQUEST,
    senderHardwareAddress: hex('02005e100001'),
    senderProtocolAddress: 0xc0000201,
    targetHardwareAddress: hex('000000000000'),
    targetProtocolAddress: 0xc0000203,
  };
  const buf = new Uint8Array(ARP_PACKET_LENGTH);
  assert.equal(emitArp(repr, buf), 28);
  assert.equal(toHex(buf), toHex(ARP_REQUEST));
});

test('Ethernet minimum-size padding after the 28 bytes is ignored', () => {
  const padded = new Uint8Array(46);
  padded.set(ARP_REQUEST);
  padded.fill(0xee, 28);
  assert.equal(parseArp(padded).targetProtocolAddress, 0xc0000203);
});

test('wrong sizes and types are rejected with the field named', () => {
  const cases: Array<[number, number, string, RegExp]> = [
    [1, 6, 'UNSUPPORTED', /htype: expected 1 \(Ethernet\), got 6/],
    [2, 0x86, 'UNSUPPORTED', /ptype: expected 0x0800 \(IPv4\), got 0x86dd/],
    [4, 8, 'BAD_VALUE', /hlen: expected 6 for Ethernet, got 8/],
    [5, 16, 'BAD_VALUE', /plen: expected 4 for IPv4, got 16/],
    [7, 3, 'UNSUPPORTED', /oper: expected 1 \(request\) or 2 \(reply\), got 3/],
  ];
  for (const [offset, value, code, pattern] of cases) {
    const bytes = ARP_REQUEST.slice();
    bytes[offset] = value;
    if (offset === 2) bytes[3] = 0xdd;
    assertWireError(() => parseArp(bytes), code, pattern);
  }
});

test('truncated packets', () => {
  for (let length = 0; length < 28; length++) {
    assertWireError(() => parseArp(ARP_REQUEST.subarray(0, length)), 'TRUNCATED', new RegExp(`need 28 bytes, got ${length}`));
  }
});

test('emit checks buffer size, address sizes and ranges', () => {
  const repr = parseArp(ARP_REQUEST);
  assertWireError(() => emitArp(repr, new Uint8Array(27)), 'BUFFER_TOO_SMALL');
  assertWireError(() => emitArp({ ...repr, targetHardwareAddress: new Uint8Array(4) }, new Uint8Array(28)), 'BAD_VALUE', /tha/);
  assertWireError(() => emitArp({ ...repr, targetProtocolAddress: 2 ** 32 }, new Uint8Array(28)), 'BAD_VALUE', /tpa/);
});

test('property: emit then parse round-trips', () => {
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
  const address = fc.integer({ min: 0, max: 0xffffffff });
  fc.assert(
    fc.property(fc.constantFrom(1, 2), mac, address, mac, address, (operation, sha, spa, tha, tpa) => {
      const buf = new Uint8Array(28);
      emitArp({ operation: operation as ArpRepr['operation'], senderHardwareAddress: sha, senderProtocolAddress: spa, targetHardwareAddress: tha, targetProtocolAddress: tpa }, buf);
      const repr = parseArp(buf);
      assert.deepEqual(
        [repr.operation, toHex(repr.senderHardwareAddress), repr.senderProtocolAddress, toHex(repr.targetHardwareAddress), repr.targetProtocolAddress],
        [operation, toHex(sha), spa, toHex(tha), tpa],
      );
    }),
  );
});

test('property: random bytes (and mutated captures) parse or throw WireError, nothing else', () => {
  const mutated = fc.tuple(fc.nat(27), fc.nat(255)).map(([i, v]) => {
    const bytes = ARP_REQUEST.slice();
    bytes[i] = v;
    return bytes;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated), (bytes) => {
      try {
        parseArp(bytes);
      } catch (error) {
        assert.ok(error instanceof WireError, String(error));
      }
    }),
  );
});
