import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bytesToIpv6,
  canonicalIpv6,
  ipv6Network,
  ipv6ToBytes,
  linkLocalFromMac,
  multicastMac,
  samePrefix6,
  solicitedNodeAddress,
} from '../../../src/wire/addr6.js';
import { macToBytes, bytesToMac } from '../../../src/wire/addr.js';
import { WireError } from '../../../src/wire/errors.js';
import { toHex } from './fixtures.js';

test('RFC 4291 §2.2 text forms parse to the same bytes', () => {
  const full = toHex(ipv6ToBytes('2001:DB8:0:0:8:800:200C:417A'));
  assert.equal(full, '20010db80000000000080800200c417a');
  assert.equal(toHex(ipv6ToBytes('2001:DB8::8:800:200C:417A')), full);
  assert.equal(toHex(ipv6ToBytes('::')), '0'.repeat(32));
  assert.equal(toHex(ipv6ToBytes('::1')), '0'.repeat(31) + '1');
  assert.equal(toHex(ipv6ToBytes('ff01::101')), 'ff010000000000000000000000000101');
  assert.equal(toHex(ipv6ToBytes('::FFFF:129.144.52.38')), '00000000000000000000ffff81903426');
  assert.equal(toHex(ipv6ToBytes('0:0:0:0:0:0:13.1.68.3')), '0000000000000000000000000d014403');
});

test('RFC 5952 §4 canonical output: lower case, no leading zeros, longest zero run compressed, first on a tie, never one group', () => {
  assert.equal(canonicalIpv6('2001:0db8::0001'), '2001:db8::1'); // §4.1
  assert.equal(canonicalIpv6('2001:db8:0:0:0:0:2:1'), '2001:db8::2:1'); // §4.2.1
  assert.equal(canonicalIpv6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // §4.2.2
  assert.equal(canonicalIpv6('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // §4.2.3 longest
  assert.equal(canonicalIpv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // §4.2.3 first on a tie
  assert.equal(canonicalIpv6('2001:DB8::AAAA'), '2001:db8::aaaa'); // §4.3
  assert.equal(canonicalIpv6('0:0:0:0:0:0:0:0'), '::');
  assert.equal(canonicalIpv6('fe80:0:0:0:0:0:0:0'), 'fe80::');
});

test('malformed text is BAD_VALUE with the reason', () => {
  for (const [text, why] of [
    ['1::2::3', /more than once/],
    ['1:2:3:4:5:6:7', /7 groups/],
    ['1:2:3:4:5:6:7:8:9', /9 groups/],
    ['1:2:3:4::5:6:7:8', /nothing to compress/],
    ['12345::', /not 1-4 hex/],
    ['fe80::1%eth0', /not 1-4 hex/],
    ['::1.2.3.256', /out of range/],
    ['', /0 groups/],
  ] as const) {
    assert.throws(() => ipv6ToBytes(text), (e: unknown) => e instanceof WireError && e.code === 'BAD_VALUE' && why.test(e.message), text);
  }
});

test('property: bytes → text → bytes round-trips and the text is canonical', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = bytesToIpv6(bytes);
      assert.equal(toHex(ipv6ToBytes(text)), toHex(bytes));
      assert.equal(canonicalIpv6(text), text);
    }),
  );
});

test('prefixes: network, comparison at bit granularity', () => {
  const a = ipv6ToBytes('fd74:7670:6e00:1::5');
  assert.equal(bytesToIpv6(ipv6Network(a, 64)), 'fd74:7670:6e00:1::');
  assert.equal(bytesToIpv6(ipv6Network(a, 47)), 'fd74:7670:6e00::');
  assert.ok(samePrefix6(a, 0, ipv6ToBytes('fd74:7670:6e00:1:ffff::'), 0, 64));
  assert.ok(!samePrefix6(a, 0, ipv6ToBytes('fd74:7670:6e00:2::5'), 0, 64));
  assert.ok(samePrefix6(a, 0, ipv6ToBytes('fd74:7670:6e00:2::5'), 0, 62));
  assert.ok(!samePrefix6(a, 0, ipv6ToBytes('fd74:7670:6e00:2::5'), 0, 63));
  assert.ok(samePrefix6(a, 0, ipv6ToBytes('::'), 0, 0));
});

test('derived addresses match the captures: EUI-64 link-local, solicited-node group and its MAC', () => {
  // The capture's host 02:00:5e:10:00:01 used fe80::5eff:fe10:1 and resolved 2001:db8:1::1 via ff02::1:ff00:1 / 33:33:ff:00:00:01.
  assert.equal(bytesToIpv6(linkLocalFromMac(macToBytes('02:00:5e:10:00:01'))), 'fe80::5eff:fe10:1');
  assert.equal(bytesToIpv6(linkLocalFromMac(macToBytes('02:74:76:70:6e:01'))), 'fe80::74:76ff:fe70:6e01');
  const group = solicitedNodeAddress(ipv6ToBytes('2001:db8:1::1'));
  assert.equal(bytesToIpv6(group), 'ff02::1:ff00:1');
  assert.equal(bytesToMac(multicastMac(group)), '33:33:ff:00:00:01');
});
