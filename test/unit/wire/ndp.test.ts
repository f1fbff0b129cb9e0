import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emitNdp, ndpLength, parseNdp, type NdpMessage } from '../../../src/wire/ndp.js';
import type { NdpOption } from '../../../src/wire/ndp-options.js';
import { parseIcmpv6 } from '../../../src/wire/icmpv6.js';
import { parseIpv6 } from '../../../src/wire/ipv6.js';
import { bytesToIpv6, ipv6ToBytes } from '../../../src/wire/addr6.js';
import { bytesToMac } from '../../../src/wire/addr.js';
import { WireError } from '../../../src/wire/errors.js';
import { toHex } from './fixtures.js';
import { DAD_NS_FRAME, NA_FRAME, NS_FRAME, RA_FRAME, RS_FRAME } from './fixtures6.js';

function decode(frame: Uint8Array): { message: NdpMessage; source: Uint8Array; destination: Uint8Array; icmp: Uint8Array } {
  const ip = parseIpv6(frame.subarray(14));
  return { message: parseNdp(parseIcmpv6(ip.payload, ip.source, ip.destination)), source: ip.source, destination: ip.destination, icmp: ip.payload };
}

function reemit(frame: Uint8Array): { original: string; emitted: string } {
  const { message, source, destination, icmp } = decode(frame);
  const buf = new Uint8Array(ndpLength(message));
  assert.equal(emitNdp(message, buf, 0, source, destination), buf.length);
  return { original: toHex(icmp), emitted: toHex(buf) };
}

/** JSON-friendly: byte arrays as hex. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v)));
}

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('deconstruct: router solicitation with a source link-layer address', () => {
  const { message } = decode(RS_FRAME);
  assert.equal(message.kind, 'router-solicitation');
  assert.deepEqual(plain(message.options), [{ kind: 'source-link-layer-address', linkLayerAddress: '02005e100001' }]);
});

test('deconstruct: DAD probe keeps the nonce option it does not know', () => {
  const { message, source } = decode(DAD_NS_FRAME);
  assert.equal(message.kind, 'neighbor-solicitation');
  if (message.kind !== 'neighbor-solicitation') return;
  assert.equal(bytesToIpv6(source), '::');
  assert.equal(bytesToIpv6(message.target), '2001:db8:1::1');
  assert.deepEqual(plain(message.options), [{ kind: 'unknown', type: 14, data: 'c2eaa664433a' }]);
});

test('deconstruct: neighbor solicitation and advertisement', () => {
  const ns = decode(NS_FRAME).message;
  assert.equal(ns.kind, 'neighbor-solicitation');
  if (ns.kind === 'neighbor-solicitation') assert.equal(bytesToIpv6(ns.target), '2001:db8:1::1');
  const na = decode(NA_FRAME).message;
  assert.deepEqual(plain(na), {
    kind: 'neighbor-advertisement',
    router: false,
    solicited: true,
    override: true,
    target: toHex(ipv6ToBytes('2001:db8:1::1')),
    options: [{ kind: 'target-link-layer-address', linkLayerAddress: '02005e100001' }],
  });
});

test('deconstruct: radvd\'s router advertisement with every option we decode', () => {
  const { message } = decode(RA_FRAME);
  assert.equal(message.kind, 'router-advertisement');
  if (message.kind !== 'router-advertisement') return;
  assert.deepEqual(
    [message.curHopLimit, message.managed, message.other, message.routerPreference, message.routerLifetimeSec, message.reachableTimeMs, message.retransTimerMs],
    [64, false, false, 'medium', 0, 0, 0],
  );
  const [pio, rio, rdnss, dnssl, mtu, slla] = message.options;
  assert.deepEqual(plain(pio), { kind: 'prefix-information', prefixLength: 64, onLink: true, autonomous: true, validLifetimeSec: 3600, preferredLifetimeSec: 1800, prefix: toHex(ipv6ToBytes('2001:db8:1::')) });
  assert.deepEqual(plain(rio), { kind: 'route-information', prefixLength: 48, preference: 'medium', routeLifetimeSec: 1800, prefix: toHex(ipv6ToBytes('2001:db8:99::')) });
  assert.ok(rdnss?.kind === 'rdnss' && rdnss.lifetimeSec === 1200 && rdnss.servers.map((s) => bytesToIpv6(s)).join() === '2001:db8:1::53');
  assert.deepEqual(plain(dnssl), { kind: 'dnssl', lifetimeSec: 1200, domains: ['tvpn.example'] });
  assert.deepEqual(plain(mtu), { kind: 'mtu', mtu: 1400 });
  assert.ok(slla?.kind === 'source-link-layer-address' && bytesToMac(slla.linkLayerAddress) === '02:00:5e:10:00:02');
});

test('construct/emit: RS, DAD, NS and NA re-emit byte for byte', () => {
  for (const frame of [RS_FRAME, DAD_NS_FRAME, NS_FRAME, NA_FRAME]) {
    const { original, emitted } = reemit(frame);
    assert.equal(emitted, original);
  }
});

test('construct/emit: the RA re-emits with the minimal route information length (2 for a /48), otherwise the same', () => {
  const { message, source, destination } = decode(RA_FRAME);
  const buf = new Uint8Array(ndpLength(message));
  emitNdp(message, buf, 0, source, destination);
  assert.equal(buf.length, decode(RA_FRAME).icmp.length - 8);
  assert.deepEqual(plain(parseNdp(parseIcmpv6(buf, source, destination))), plain(message));
  assert.equal(toHex(buf.subarray(48, 64)), '1802300000000708' + '20010db800990000');
});

test('RFC 4191 §2.3: route information lengths 1, 2 and 3 parse; a prefix that does not fit is BAD_VALUE', () => {
  const ra = (option: number[]) => ({ type: 134, code: 0, body: Uint8Array.from([64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...option]) });
  const d = parseNdp(ra([24, 1, 0, 0x08, 0, 0, 0, 60]));
  assert.deepEqual(plain(d.options), [{ kind: 'route-information', prefixLength: 0, preference: 'high', routeLifetimeSec: 60, prefix: '0'.repeat(32) }]);
  const low = parseNdp(ra([24, 3, 128, 0x18, 0, 0, 0, 1, ...new Array(16).fill(0xfd)]));
  assert.ok(low.options[0]?.kind === 'route-information' && low.options[0].preference === 'low' && low.options[0].prefixLength === 128);
  assertWireError(() => parseNdp(ra([24, 2, 65, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])), 'BAD_VALUE', /prefix length 65 needs length 3, got 2/);
  assertWireError(() => parseNdp(ra([24, 4, 0, 0, ...new Array(28).fill(0)])), 'BAD_VALUE', /length 4/);
});

test('RFC 4861 §4.6 and §7.1: zero-length options, options past the end, multicast targets, code != 0', () => {
  const ns = (target: string, options: number[] = [], code = 0) => ({ type: 135, code, body: Uint8Array.from([0, 0, 0, 0, ...ipv6ToBytes(target), ...options]) });
  assertWireError(() => parseNdp(ns('fe80::1', [1, 0, 0, 0, 0, 0, 0, 0])), 'BAD_VALUE', /length 0 is invalid/);
  assertWireError(() => parseNdp(ns('fe80::1', [1, 2, 0, 0, 0, 0, 0, 0])), 'TRUNCATED', /length says 16 bytes, 8 left/);
  assertWireError(() => parseNdp(ns('fe80::1', [1])), 'TRUNCATED', /need 2 bytes/);
  assertWireError(() => parseNdp(ns('ff02::1')), 'BAD_VALUE', /multicast/);
  assertWireError(() => parseNdp(ns('fe80::1', [], 1)), 'BAD_VALUE', /code must be 0/);
  assertWireError(() => parseNdp({ type: 135, code: 0, body: new Uint8Array(19) }), 'TRUNCATED', /need 24 bytes, got 23/);
  assertWireError(() => parseNdp({ type: 128, code: 0, body: new Uint8Array(8) }), 'UNSUPPORTED');
  assertWireError(() => parseNdp({ type: 134, code: 0, body: Uint8Array.from([...new Array(12).fill(0), 25, 2, ...new Array(14).fill(0)]) }), 'BAD_VALUE', /odd and at least 3/);
  assertWireError(() => parseNdp({ type: 134, code: 0, body: Uint8Array.from([...new Array(12).fill(0), 31, 2, 0, 0, 0, 0, 0, 1, 2, 0x61, 0x2e, 0, 0, 0, 0, 0]) }), 'BAD_VALUE', /not printable ASCII other than/);
  assertWireError(() => parseNdp({ type: 134, code: 0, body: Uint8Array.from([...new Array(12).fill(0), 31, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]) }), 'BAD_VALUE', /padding byte/);
});

test('emit refuses what the wire cannot carry', () => {
  const zero = new Uint8Array(16);
  const emit = (m: NdpMessage) => emitNdp(m, new Uint8Array(2048), 0, zero, zero);
  assertWireError(() => emit({ kind: 'neighbor-solicitation', target: ipv6ToBytes('ff02::1'), options: [] }), 'BAD_VALUE', /multicast/);
  assertWireError(() => emit({ kind: 'router-solicitation', options: [{ kind: 'dnssl', lifetimeSec: 1, domains: ['a..b'] }] }), 'BAD_VALUE', /DNSSL/);
  assertWireError(() => emit({ kind: 'router-solicitation', options: [{ kind: 'route-information', prefixLength: 0, preference: 'reserved', routeLifetimeSec: 1, prefix: zero }] }), 'BAD_VALUE', /reserved/);
  assertWireError(() => emit({ kind: 'router-solicitation', options: [{ kind: 'unknown', type: 9, data: new Uint8Array(5) }] }), 'BAD_VALUE', /whole units of 8/);
  assertWireError(() => emit({ kind: 'router-solicitation', options: [{ kind: 'mtu', mtu: -1 }] }), 'BAD_VALUE', /MTU/);
  assertWireError(() => emitNdp({ kind: 'router-solicitation', options: [] }, new Uint8Array(7), 0, zero, zero), 'BUFFER_TOO_SMALL');
});

const address = fc.uint8Array({ minLength: 16, maxLength: 16 });
const unicast = address.filter((a) => a[0] !== 0xff);
const u32 = fc.nat(0xffffffff);
const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const optionArbitrary: fc.Arbitrary<NdpOption> = fc.oneof(
  fc.record({ kind: fc.constantFrom('source-link-layer-address' as const, 'target-link-layer-address' as const), linkLayerAddress: fc.uint8Array({ minLength: 6, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('prefix-information' as const), prefixLength: fc.nat(128), onLink: fc.boolean(), autonomous: fc.boolean(), validLifetimeSec: u32, preferredLifetimeSec: u32, prefix: address }),
  fc.record({ kind: fc.constant('mtu' as const), mtu: u32 }),
  fc.record({ kind: fc.constant('route-information' as const), prefixLength: fc.nat(128), preference: fc.constantFrom('high' as const, 'medium' as const, 'low' as const), routeLifetimeSec: u32, prefix: address }).map((o) => {
    const prefix = o.prefix.slice();
    for (let bit = o.prefixLength === 0 ? 0 : o.prefixLength <= 64 ? 64 : 128; bit < 128; bit++) prefix[bit >>> 3]! &= ~(0x80 >>> (bit & 7));
    return { ...o, prefix };
  }),
  fc.record({ kind: fc.constant('rdnss' as const), lifetimeSec: u32, servers: fc.array(address, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('dnssl' as const), lifetimeSec: u32, domains: fc.array(fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('unknown' as const), type: fc.constantFrom(6, 14, 26, 200), data: fc.nat(3).chain((n) => fc.uint8Array({ minLength: 6 + 8 * n, maxLength: 6 + 8 * n })) }),
);
const options = fc.array(optionArbitrary, { maxLength: 6 });
const messageArbitrary: fc.Arbitrary<NdpMessage> = fc.oneof(
  fc.record({ kind: fc.constant('router-solicitation' as const), options }),
  fc.record({
    kind: fc.constant('router-advertisement' as const),
    curHopLimit: fc.nat(255),
    managed: fc.boolean(),
    other: fc.boolean(),
    routerPreference: fc.constantFrom('high' as const, 'medium' as const, 'low' as const),
    routerLifetimeSec: fc.nat(0xffff),
    reachableTimeMs: u32,
    retransTimerMs: u32,
    options,
  }),
  fc.record({ kind: fc.constant('neighbor-solicitation' as const), target: unicast, options }),
  fc.record({ kind: fc.constant('neighbor-advertisement' as const), router: fc.boolean(), solicited: fc.boolean(), override: fc.boolean(), target: unicast, options }),
);

test('property: emit then parse round-trips every message and option', () => {
  fc.assert(
    fc.property(messageArbitrary, address, address, (message, source, destination) => {
      const buf = new Uint8Array(ndpLength(message));
      emitNdp(message, buf, 0, source, destination);
      assert.deepEqual(plain(parseNdp(parseIcmpv6(buf, source, destination))), plain(message));
    }),
  );
});

test('property: random bodies (and mutated captures) parse or throw WireError, nothing else', () => {
  const random = fc.record({ type: fc.integer({ min: 133, max: 136 }), code: fc.constantFrom(0, 0, 0, 1), body: fc.uint8Array({ maxLength: 120 }) });
  const ra = decode(RA_FRAME).icmp.subarray(4);
  const mutated = fc.tuple(fc.nat(ra.length - 1), fc.nat(255)).map(([i, v]) => {
    const body = ra.slice();
    body[i] = v;
    return { type: 134, code: 0, body };
  });
  fc.assert(
    fc.property(fc.oneof(random, mutated), (icmp) => {
      try {
        parseNdp(icmp);
      } catch (error) {
        assert.ok(error instanceof WireError, String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
