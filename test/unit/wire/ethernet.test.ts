import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EtherType,
  ETHERNET_HEADER_LENGTH,
  emitEthernet,
  emitEthernetHeader,
  ethernetLength,
  isBroadcastDestination,
  isGroupDestination,
  parseEthernet,
} from '../../../src/wire/ethernet.js';
import { WireError } from '../../../src/wire/errors.js';
import { ARP_REQUEST_FRAME, hex, ICMP_ECHO_FRAME, toHex } from './fixtures.js';

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('deconstruct: the captured ARP request is a broadcast ARP frame from the host', () => {
  const repr = parseEthernet(ARP_REQUEST_FRAME);
  assert.equal(toHex(repr.destination), 'ffffffffffff');
  assert.equal(toHex(repr.source), '02005e100001');
  assert.equal(repr.etherType, EtherType.ARP);
  assert.equal(repr.payload.length, 28);
  assert.equal(repr.payload.buffer, ARP_REQUEST_FRAME.buffer, 'payload is a view, not a copy');
  assert.ok(isBroadcastDestination(ARP_REQUEST_FRAME) && isGroupDestination(ARP_REQUEST_FRAME));
  assert.ok(!isGroupDestination(ICMP_ECHO_FRAME) && !isBroadcastDestination(ICMP_ECHO_FRAME));
});

test('construct/emit: re-emitting the parsed ICMP frame reproduces the capture byte for byte', () => {
  const repr = parseEthernet(ICMP_ECHO_FRAME);
  assert.equal(repr.etherType, EtherType.IPV4);
  const buf = new Uint8Array(ethernetLength(repr) + 3);
  assert.equal(emitEthernet(repr, buf, 3), ICMP_ECHO_FRAME.length);
  assert.equal(toHex(buf.subarray(3)), toHex(ICMP_ECHO_FRAME));
});

test('emitEthernetHeader writes only the 14 header bytes', () => {
  const buf = new Uint8Array(20).fill(0xaa);
  assert.equal(emitEthernetHeader(hex('020000000001'), hex('020000000002'), 0x0800, buf, 0), 14);
  assert.equal(toHex(buf), '020000000001020000000002' + '0800' + 'aaaaaaaaaaaa');
});

test('rejects 802.3 length-typed frames, reserved type values and VLAN tags', () => {
  const frame = ICMP_ECHO_FRAME.slice();
  frame[12] = 0x00;
  frame[13] = 0x2e; // an 802.3 length of 46
  assertWireError(() => parseEthernet(frame), 'UNSUPPORTED', /802\.3 length/);
  frame[12] = 0x05;
  frame[13] = 0xff; // 1535: neither length nor EtherType
  assertWireError(() => parseEthernet(frame), 'BAD_VALUE', /0x05ff/);
  frame[12] = 0x81;
  frame[13] = 0x00;
  assertWireError(() => parseEthernet(frame), 'UNSUPPORTED', /VLAN/);
});

test('truncated header', () => {
  assertWireError(() => parseEthernet(ARP_REQUEST_FRAME.subarray(0, 13)), 'TRUNCATED', /need 14 bytes, got 13/);
  assert.equal(parseEthernet(ARP_REQUEST_FRAME.subarray(0, 14)).payload.length, 0);
});

test('emit checks the buffer, MAC lengths and EtherType', () => {
  const repr = parseEthernet(ICMP_ECHO_FRAME);
  assertWireError(() => emitEthernet(repr, new Uint8Array(ICMP_ECHO_FRAME.length - 1)), 'BUFFER_TOO_SMALL');
  assertWireError(() => emitEthernet({ ...repr, source: new Uint8Array(5) }, new Uint8Array(100)), 'BAD_VALUE', /source MAC/);
  assertWireError(() => emitEthernet({ ...repr, etherType: 0x05dc }, new Uint8Array(100)), 'BAD_VALUE');
});

test('property: emit then parse round-trips', () => {
  fc.assert(
    fc.property(mac, mac, fc.integer({ min: 0x0600, max: 0xffff }), fc.uint8Array({ maxLength: 1500 }), (dst, src, type, payload) => {
      fc.pre(type !== EtherType.VLAN && type !== EtherType.QINQ);
      const buf = new Uint8Array(ETHERNET_HEADER_LENGTH + payload.length);
      emitEthernet({ destination: dst, source: src, etherType: type, payload }, buf);
      const repr = parseEthernet(buf);
      assert.deepEqual([toHex(repr.destination), toHex(repr.source), repr.etherType, toHex(repr.payload)], [toHex(dst), toHex(src), type, toHex(payload)]);
    }),
  );
});

test('property: random bytes parse or throw WireError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        parseEthernet(bytes);
      } catch (error) {
        assert.ok(error instanceof WireError, String(error));
      }
    }),
  );
});
