/**
 * Lease codec (RESPONSE client data): the hand-written fixture, round-trips
 * over random valid leases, skipped unknown TLVs, rejected malformed ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Lease } from '../../../src/lease.js';
import { ProtocolError, decodeLease, encodeLease } from '../../../src/protocol/frames/index.js';
import { numberToIpv4 } from '../../../src/wire/addr.js';
import { isDomainName } from '../../../src/protocol/frames/names.js';
import { fixture, hex } from './fixtures.js';

const LEASE: Lease = {
  address: '10.8.0.2',
  prefixLength: 24,
  gateway: '10.8.0.1',
  routes: [{ destination: '192.168.10.0', prefixLength: 24, gateway: '10.8.0.1' }],
  dnsServers: ['10.8.0.1'],
  searchDomain: 'corp.example',
  mtu: 1400,
  leaseTimeSec: 3600,
  gatewayMac: '02:74:76:70:6e:01',
};

/** Valid domain names: 1..4 labels of a letter or digit, then up to 9 of [a-z0-9-] ending in a letter or digit; an optional final dot. */
const domainName = fc
  .tuple(fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([labels, dot]) => labels.join('.') + (dot ? '.' : ''));

/** The LEASE fixture with its SEARCH_DOMAIN TLV (type 6) carrying `value` instead, as a hostile server could send it. */
function withSearchDomainBytes(value: Uint8Array): Uint8Array {
  const f = fixture('lease.hex');
  const out: number[] = [f[0]!];
  for (let at = 1; at < f.length; at += 2 + f[at + 1]!) {
    const [type, length] = [f[at]!, f[at + 1]!];
    if (type === 6) out.push(6, value.length, ...value);
    else out.push(type, length, ...f.subarray(at + 2, at + 2 + length));
  }
  return Uint8Array.from(out);
}

function throwsProtocol(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && e.code === code);
}

describe('lease codec', () => {
  it('matches the fixture both ways', () => {
    assert.equal(hex(encodeLease(LEASE)), hex(fixture('lease.hex')));
    assert.deepEqual(decodeLease(fixture('lease.hex')), LEASE);
  });
  it('skips unknown TLVs (forward compatible)', () => {
    const extended = new Uint8Array([...fixture('lease.hex'), 200, 3, 1, 2, 3]);
    assert.deepEqual(decodeLease(extended), LEASE);
  });
  it('rejects missing, repeated, mis-sized and truncated TLVs', () => {
    const f = fixture('lease.hex');
    throwsProtocol(() => decodeLease(f.subarray(0, f.length - 8)), 'BAD_VALUE'); // no GATEWAY_MAC
    throwsProtocol(() => decodeLease(new Uint8Array([...f, 1, 4, 10, 8, 0, 3])), 'BAD_VALUE'); // ADDRESS twice
    throwsProtocol(() => decodeLease(new Uint8Array([...f, 7, 1, 5])), 'BAD_VALUE'); // MTU of 1 byte
    throwsProtocol(() => decodeLease(f.subarray(0, f.length - 1)), 'TRUNCATED');
    const v2 = Uint8Array.from(f);
    v2[0] = 2;
    throwsProtocol(() => decodeLease(v2), 'UNSUPPORTED_VERSION');
  });
  it('a search domain is letters, digits, inner hyphens and dots only: a hostile server cannot hand the host\'s DHCP scripts anything else', () => {
    const hostile = ['corp.example; rm -rf /', '$(reboot)', '`id`', 'a b', 'corp.example\nnameserver 6.6.6.6', '-x', 'a.-x', 'x-.a', 'a..b', '.', "a'b", 'a"b', 'a\\b', 'a_b', 'a/b', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}ab`];
    for (const name of hostile) {
      const bytes = Uint8Array.from(name, (c) => c.charCodeAt(0) & 255);
      throwsProtocol(() => decodeLease(withSearchDomainBytes(bytes)), 'BAD_VALUE');
      throwsProtocol(() => encodeLease({ ...LEASE, searchDomain: name }), 'BAD_VALUE');
      assert.equal(isDomainName(name), false, name);
    }
    for (const name of ['corp.example', 'CORP.Example.', 'a', 'x-1.y2', `${'a'.repeat(63)}.example`]) {
      assert.equal(decodeLease(withSearchDomainBytes(Uint8Array.from(name, (c) => c.charCodeAt(0)))).searchDomain, name);
    }
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((n) => /[^A-Za-z0-9.-]/.test(n)), (name) => !isDomainName(name)));
  });
  it('refuses to encode invalid leases', () => {
    throwsProtocol(() => encodeLease({ ...LEASE, mtu: 20 }), 'BAD_VALUE');
    throwsProtocol(() => encodeLease({ ...LEASE, address: '10.8.0' }), 'BAD_VALUE');
    throwsProtocol(() => encodeLease({ ...LEASE, routes: [{ destination: '192.168.10.1', prefixLength: 24, gateway: '10.8.0.1' }] }), 'BAD_VALUE');
  });
  it('round-trips random leases', () => {
    const ip = fc.integer({ min: 0, max: 0xffffffff }).map(numberToIpv4);
    const route = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), ip).map(([n, p, gateway]) => ({
      destination: numberToIpv4(p === 0 ? 0 : (n & ((0xffffffff << (32 - p)) >>> 0)) >>> 0),
      prefixLength: p,
      gateway,
    }));
    const lease = fc.record({
      address: ip, prefixLength: fc.integer({ min: 0, max: 32 }), gateway: ip,
      routes: fc.array(route, { maxLength: 20 }), dnsServers: fc.array(ip, { maxLength: 4 }),
      searchDomain: fc.option(domainName, { nil: undefined }),
      mtu: fc.integer({ min: 68, max: 65535 }), leaseTimeSec: fc.nat(),
      renewalTimeSec: fc.option(fc.nat(), { nil: undefined }), rebindingTimeSec: fc.option(fc.nat(), { nil: undefined }),
      gatewayMac: fc.constant('02:74:76:70:6e:01'),
    }, { requiredKeys: ['address', 'prefixLength', 'gateway', 'routes', 'dnsServers', 'mtu', 'leaseTimeSec', 'gatewayMac'] });
    fc.assert(fc.property(lease, (l) => {
      assert.deepEqual(decodeLease(encodeLease(l as Lease)), JSON.parse(JSON.stringify(l)));
    }));
  });
  it('carries the IPv6 part as TLVs 12..16 after the IPv4 ones, which stay byte for byte as before', () => {
    const ipv6 = {
      clientPrefix: { prefix: 'fd74:7670:6e00:1::', prefixLength: 64 },
      network: { prefix: 'fd74:7670:6e00::', prefixLength: 48 },
      gateway: 'fd74:7670:6e00::1',
      routes: [{ prefix: '2001:db8:99::', prefixLength: 48 }],
      dnsServers: ['fd74:7670:6e00::53'],
    };
    const encoded = encodeLease({ ...LEASE, ipv6 });
    const v4 = fixture('lease.hex');
    assert.equal(hex(encoded.subarray(0, v4.length)), hex(v4));
    assert.equal(
      hex(encoded.subarray(v4.length)),
      '0c11' + 'fd7476706e000001' + '0000000000000000' + '40' +
      '0d11' + 'fd7476706e000000' + '0000000000000000' + '30' +
      '0e10' + 'fd7476706e000000' + '0000000000000001' +
      '0f11' + '20010db800990000' + '0000000000000000' + '30' +
      '1010' + 'fd7476706e000000' + '0000000000000053',
    );
    assert.deepEqual(decodeLease(encoded), { ...LEASE, ipv6 });
    assert.equal(decodeLease(v4).ipv6, undefined, 'an IPv4-only lease has no ipv6 part');
  });
  it('rejects an IPv6 part that is incomplete or inconsistent', () => {
    const ipv6 = {
      clientPrefix: { prefix: 'fd74:7670:6e00:1::', prefixLength: 64 },
      network: { prefix: 'fd74:7670:6e00::', prefixLength: 48 },
      gateway: 'fd74:7670:6e00::1',
      routes: [],
      dnsServers: [],
    };
    const encoded = encodeLease({ ...LEASE, ipv6 });
    const withoutGateway = encoded.subarray(0, encoded.length - 18);
    assert.throws(() => decodeLease(withoutGateway), (e: unknown) => e instanceof ProtocolError && /required TLV 14 is missing/.test(e.message));
    throwsProtocol(() => encodeLease({ ...LEASE, ipv6: { ...ipv6, clientPrefix: { prefix: 'fd00:1::', prefixLength: 64 } } }), 'BAD_VALUE');
    throwsProtocol(() => encodeLease({ ...LEASE, ipv6: { ...ipv6, gateway: 'fd74:7670:6e00:1::1' } }), 'BAD_VALUE');
    throwsProtocol(() => encodeLease({ ...LEASE, ipv6: { ...ipv6, routes: [{ prefix: '2001:db8::1', prefixLength: 64 }] } }), 'BAD_VALUE');
    throwsProtocol(() => encodeLease({ ...LEASE, ipv6: { ...ipv6, network: { prefix: 'fd74:7670:6e00::', prefixLength: 129 } } }), 'BAD_VALUE');
  });
  it('never throws anything but ProtocolError on random input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }).map((b) => (b.length ? ((b[0] = 1), b) : b)), (b) => {
      try {
        decodeLease(b);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }), { numRuns: 3000 });
  });
});
