/**
 * One spelling per endpoint where it matters: canonicalHop (IPv6 literals in
 * RFC 5952 form, everything else as written), hostPortName (brackets an IPv6
 * server address) and unmappedAddress (an IPv4 peer of a dual-stack listener).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalHop, hostPortName, splitHostPort } from '../../../src/protocol/frames/names.js';
import { unmappedAddress } from '../../../src/io/byte-stream.js';
import { bytesToIpv6 } from '../../../src/wire/addr6.js';

test('canonicalHop: IPv6 literals in one spelling, names and IPv4 exactly as written, junk unchanged', () => {
  assert.equal(canonicalHop('[0:0:0:0:0:0:0:1]:5555'), '[::1]:5555');
  assert.equal(canonicalHop('[FD00:0::5]:7000'), '[fd00::5]:7000');
  assert.equal(canonicalHop('Relay1.Example:7000'), 'Relay1.Example:7000');
  assert.equal(canonicalHop('10.0.1.20:5555'), '10.0.1.20:5555');
  assert.equal(canonicalHop('[not-v6]:1'), '[not-v6]:1');
  assert.equal(canonicalHop('[::1]:99999'), '[::1]:99999');
});

test('canonicalHop: every spelling of an address gives the same hop, and the hop dials that address', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 65535 }), (bytes, port) => {
      const words = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16).toUpperCase().padStart(4, '0'));
      const longHand = `[${words.join(':')}]:${port}`;
      const hop = canonicalHop(longHand);
      assert.equal(hop, canonicalHop(`[${bytesToIpv6(bytes)}]:${port}`));
      assert.equal(canonicalHop(hop), hop, 'idempotent');
      assert.deepEqual(splitHostPort(hop), { host: bytesToIpv6(bytes), port });
    }),
  );
});

test('hostPortName: a bare IPv6 server address gets its brackets; names and IPv4 do not', () => {
  assert.equal(hostPortName('::1', 5555), '[::1]:5555');
  assert.equal(hostPortName('[fd00:0::5]', 5555), '[fd00::5]:5555');
  assert.equal(hostPortName('vpn.example.net', 5555), 'vpn.example.net:5555');
  assert.equal(hostPortName('192.0.2.1', 443), '192.0.2.1:443');
});

test('unmappedAddress: ::ffff:a.b.c.d is the IPv4 source it stands for; other addresses are kept', () => {
  assert.equal(unmappedAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(unmappedAddress('::FFFF:192.0.2.7'), '192.0.2.7');
  assert.equal(unmappedAddress('::1'), '::1');
  assert.equal(unmappedAddress('192.0.2.7'), '192.0.2.7');
  assert.equal(unmappedAddress('::ffff:7f00:1'), '::ffff:7f00:1', 'the hex form is not produced by Node for a peer; left alone');
});
