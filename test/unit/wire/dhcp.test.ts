import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BootpOp,
  broadcastAddress,
  classlessStaticRoutes,
  clientIdentifier,
  decodeClasslessRoutes,
  DhcpOption,
  dhcpLength,
  domainName,
  domainNameServers,
  emitDhcp,
  encodeClasslessRoutes,
  encodeIpv4List,
  encodeText,
  encodeUint16,
  encodeUint32,
  hostName,
  interfaceMtu,
  leaseTime,
  maximumMessageSize,
  messageType,
  parameterRequestList,
  parseDhcp,
  rebindingTime,
  renewalTime,
  requestedIpAddress,
  routers,
  serverIdentifier,
  subnetMask,
  type DhcpMessage,
} from '../../../src/wire/dhcp.js';
import { bytesToMac, ipv4ToNumber } from '../../../src/wire/addr.js';
import { WireError } from '../../../src/wire/errors.js';
import { loadDhcpFixture } from '../../fixtures/dhcp/fixtures.js';

const DISCOVER = loadDhcpFixture('dhclient-discover');
const INIT_REBOOT = loadDhcpFixture('dhclient-request-init-reboot');
const DHCLIENT_PRL = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];

function assertWireError(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected WireError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

/** A valid fixed part (header + cookie) followed by `options` octets. */
function withOptions(options: number[]): Uint8Array {
  const bytes = new Uint8Array(240 + options.length);
  bytes.set(DISCOVER.subarray(0, 240));
  bytes.set(options, 240);
  return bytes;
}

test('deconstruct: dhclient DISCOVER captured on this VM', () => {
  const msg = parseDhcp(DISCOVER);
  assert.equal(msg.op, BootpOp.BOOTREQUEST);
  assert.deepEqual([msg.htype, msg.hlen, msg.hops, msg.xid, msg.secs, msg.flags], [1, 6, 0, 0x9127f668, 0, 0]);
  assert.deepEqual([msg.ciaddr, msg.yiaddr, msg.siaddr, msg.giaddr], [0, 0, 0, 0]);
  assert.equal(bytesToMac(msg.chaddr), '02:00:5e:10:00:aa');
  assert.equal(msg.chaddr.length, 16);
  assert.equal(msg.chaddr.buffer, DISCOVER.buffer, 'chaddr is a view');
  assert.equal(messageType(msg.options), 1);
  assert.equal(hostName(msg.options), 'vm');
  assert.deepEqual([...parameterRequestList(msg.options)!], DHCLIENT_PRL);
  assert.deepEqual([...msg.options.keys()], [53, 12, 55]);
  assert.equal(requestedIpAddress(msg.options), undefined);
});

test('deconstruct: dhclient INIT-REBOOT REQUEST has option 50 and no 54', () => {
  const msg = parseDhcp(INIT_REBOOT);
  assert.equal(msg.xid, 0x3d76214d);
  assert.equal(messageType(msg.options), 3);
  assert.equal(requestedIpAddress(msg.options), ipv4ToNumber('10.77.0.2'));
  assert.equal(serverIdentifier(msg.options), undefined);
  assert.equal(msg.ciaddr, 0);
});

test('emit: re-emitting the captures reproduces them byte for byte (zero padding to 300 octets)', () => {
  for (const capture of [DISCOVER, INIT_REBOOT]) {
    const msg = parseDhcp(capture);
    assert.equal(dhcpLength(msg), 300);
    const buf = new Uint8Array(304).fill(0xee);
    assert.equal(emitDhcp(msg, buf, 4), 300);
    assert.deepEqual(buf.subarray(4), capture);
  }
});

// Wireshark's sample capture dhcp.pcap: a client's DISCOVER/REQUEST and a real server's OFFER/ACK.
const WIRESHARK = {
  discover: loadDhcpFixture('wireshark-discover'),
  offer: loadDhcpFixture('wireshark-offer'),
  request: loadDhcpFixture('wireshark-request'),
  ack: loadDhcpFixture('wireshark-ack'),
};
const WS_CHADDR = '00:0b:82:01:fc:42';

test('deconstruct: Wireshark dhcp.pcap client messages (client id 61, option 50 = 0.0.0.0 in DISCOVER, SELECTING REQUEST)', () => {
  const discover = parseDhcp(WIRESHARK.discover);
  assert.deepEqual([discover.op, discover.xid, discover.flags, discover.ciaddr], [BootpOp.BOOTREQUEST, 0x3d1d, 0, 0]);
  assert.equal(bytesToMac(discover.chaddr), WS_CHADDR);
  assert.deepEqual([...discover.options.keys()], [53, 61, 50, 55]);
  assert.equal(messageType(discover.options), 1);
  assert.deepEqual([...clientIdentifier(discover.options)!], [1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]);
  assert.equal(requestedIpAddress(discover.options), 0);
  assert.deepEqual([...parameterRequestList(discover.options)!], [1, 3, 6, 42]);
  const request = parseDhcp(WIRESHARK.request);
  assert.equal(request.xid, 0x3d1e);
  assert.equal(messageType(request.options), 3);
  assert.equal(requestedIpAddress(request.options), ipv4ToNumber('192.168.0.10'));
  assert.equal(serverIdentifier(request.options), ipv4ToNumber('192.168.0.1'));
});

test('deconstruct: Wireshark dhcp.pcap server replies (OFFER with siaddr, ACK), lease times and mask', () => {
  const offer = parseDhcp(WIRESHARK.offer);
  assert.deepEqual([offer.op, offer.xid, offer.yiaddr, offer.siaddr], [BootpOp.BOOTREPLY, 0x3d1d, ipv4ToNumber('192.168.0.10'), ipv4ToNumber('192.168.0.1')]);
  assert.deepEqual([...offer.options.keys()], [53, 1, 58, 59, 51, 54]);
  assert.deepEqual(
    [messageType(offer.options), subnetMask(offer.options), renewalTime(offer.options), rebindingTime(offer.options), leaseTime(offer.options)],
    [2, 0xffffff00, 1800, 3150, 3600],
  );
  const ack = parseDhcp(WIRESHARK.ack);
  assert.deepEqual([ack.xid, ack.yiaddr, ack.siaddr], [0x3d1e, ipv4ToNumber('192.168.0.10'), 0]);
  assert.deepEqual([...ack.options.keys()], [53, 58, 59, 51, 54, 1]);
  assert.equal(serverIdentifier(ack.options), ipv4ToNumber('192.168.0.1'));
});

test('emit: re-emitting the Wireshark packets reproduces them (the 272-octet requests zero-padded to 300)', () => {
  for (const capture of Object.values(WIRESHARK)) {
    const msg = parseDhcp(capture);
    const buf = new Uint8Array(dhcpLength(msg));
    assert.equal(emitDhcp(msg, buf), Math.max(300, capture.length));
    assert.deepEqual(buf.subarray(0, capture.length), capture);
    assert.ok(buf.subarray(capture.length).every((b) => b === 0));
  }
});

// RFC 3442 §2, the table of destination descriptors (subnet number, mask → descriptor).
const RFC3442_EXAMPLES: Array<[string, number, number[]]> = [
  ['0.0.0.0', 0, [0]],
  ['10.0.0.0', 8, [8, 10]],
  ['10.0.0.0', 24, [24, 10, 0, 0]],
  ['10.17.0.0', 16, [16, 10, 17]],
  ['10.27.129.0', 24, [24, 10, 27, 129]],
  ['10.229.0.128', 25, [25, 10, 229, 0, 128]],
  ['10.198.122.47', 32, [32, 10, 198, 122, 47]],
];

test('RFC 3442 destination descriptors encode and decode as the RFC tabulates', () => {
  const router = ipv4ToNumber('192.0.2.1');
  for (const [destination, prefixLength, descriptor] of RFC3442_EXAMPLES) {
    const route = { destination: ipv4ToNumber(destination), prefixLength, router };
    const encoded = encodeClasslessRoutes([route]);
    assert.deepEqual([...encoded], [...descriptor, 192, 0, 2, 1], `${destination}/${prefixLength}`);
    assert.deepEqual(decodeClasslessRoutes(encoded), [route]);
  }
  const all = RFC3442_EXAMPLES.map(([d, p]) => ({ destination: ipv4ToNumber(d), prefixLength: p, router }));
  assert.deepEqual(decodeClasslessRoutes(encodeClasslessRoutes(all)), all);
});

test('RFC 3442: bad routes are BAD_VALUE with the octet named', () => {
  assertWireError(() => decodeClasslessRoutes(Uint8Array.of(33, 10, 0, 0, 0, 0, 1, 2, 3, 4)), 'BAD_VALUE', /prefix length 33 exceeds 32/);
  assertWireError(() => decodeClasslessRoutes(Uint8Array.of(24, 10, 0, 0, 192, 0, 2)), 'BAD_VALUE', /needs 8 octets, 7 left/);
  assertWireError(() => decodeClasslessRoutes(Uint8Array.of(8, 10, 192, 0, 2, 1, 7, 11)), 'BAD_VALUE', /route at octet 6 with prefix \/7/);
  assertWireError(() => decodeClasslessRoutes(Uint8Array.of(7, 11, 192, 0, 2, 1)), 'BAD_VALUE', /bits set beyond prefix \/7/);
  assertWireError(() => encodeClasslessRoutes([{ destination: ipv4ToNumber('10.0.0.1'), prefixLength: 24, router: 1 }]), 'BAD_VALUE');
  assertWireError(() => parseDhcp(withOptions([121, 0, 255])), 'BAD_VALUE', /option 121: expected length at least 5, got 0/);
});

test('RFC 3396: repeated instances of an option are concatenated; long values are split on emit', () => {
  // Option 121 (10.0.0.0/8 via 192.0.2.1) split across two instances with a PAD and another option between them.
  const msg = parseDhcp(withOptions([121, 4, 8, 10, 192, 0, 53, 1, 1, 0, 121, 2, 2, 1, 255]));
  assert.deepEqual(classlessStaticRoutes(msg.options), [{ destination: ipv4ToNumber('10.0.0.0'), prefixLength: 8, router: ipv4ToNumber('192.0.2.1') }]);
  assert.deepEqual([...msg.options.keys()], [121, 53]);

  const long = new Uint8Array(300).map((_, i) => i & 0xff);
  const withLong: DhcpMessage = { ...msg, options: new Map([[200, long]]) };
  const buf = new Uint8Array(dhcpLength(withLong));
  emitDhcp(withLong, buf);
  assert.deepEqual([buf[240], buf[241], buf[240 + 2 + 255], buf[240 + 2 + 255 + 1]], [200, 255, 200, 45]);
  assert.deepEqual(parseDhcp(buf).options.get(200), long);
});

test('PAD octets are skipped one at a time; octets after END are ignored', () => {
  const msg = parseDhcp(withOptions([0, 0, 0, 53, 1, 8, 0, 255, 53, 9]));
  assert.deepEqual([...msg.options.entries()].map(([c, v]) => [c, [...v]]), [[53, [8]]]);
});

test('typed accessors read what the encoders wrote', () => {
  const route = { destination: ipv4ToNumber('172.31.0.0'), prefixLength: 16, router: ipv4ToNumber('10.8.0.1') };
  const options = new Map<number, Uint8Array>([
    [DhcpOption.MESSAGE_TYPE, Uint8Array.of(5)],
    [DhcpOption.SUBNET_MASK, encodeUint32(0xffffff00)],
    [DhcpOption.ROUTER, encodeIpv4List([ipv4ToNumber('10.8.0.1')])],
    [DhcpOption.DOMAIN_NAME_SERVER, encodeIpv4List([ipv4ToNumber('9.9.9.9'), ipv4ToNumber('1.1.1.1')])],
    [DhcpOption.HOST_NAME, encodeText('host-1')],
    [DhcpOption.DOMAIN_NAME, encodeText('corp.example')],
    [DhcpOption.INTERFACE_MTU, encodeUint16(1400)],
    [DhcpOption.BROADCAST_ADDRESS, encodeUint32(ipv4ToNumber('10.8.0.255'))],
    [DhcpOption.REQUESTED_IP_ADDRESS, encodeUint32(ipv4ToNumber('10.8.0.2'))],
    [DhcpOption.IP_ADDRESS_LEASE_TIME, encodeUint32(3600)],
    [DhcpOption.SERVER_IDENTIFIER, encodeUint32(ipv4ToNumber('10.8.0.1'))],
    [DhcpOption.PARAMETER_REQUEST_LIST, Uint8Array.of(1, 3, 121)],
    [DhcpOption.MAXIMUM_MESSAGE_SIZE, encodeUint16(1500)],
    [DhcpOption.RENEWAL_TIME, encodeUint32(1800)],
    [DhcpOption.REBINDING_TIME, encodeUint32(3150)],
    [DhcpOption.CLIENT_IDENTIFIER, Uint8Array.of(1, 2, 0, 0x5e, 0x10, 0, 0xaa)],
    [DhcpOption.CLASSLESS_STATIC_ROUTE, encodeClasslessRoutes([route])],
    [DhcpOption.MS_CLASSLESS_STATIC_ROUTE, encodeClasslessRoutes([route])],
  ]);
  const msg: DhcpMessage = { ...parseDhcp(DISCOVER), op: BootpOp.BOOTREPLY, options };
  const buf = new Uint8Array(dhcpLength(msg));
  emitDhcp(msg, buf);
  const o = parseDhcp(buf).options;
  assert.equal(messageType(o), 5);
  assert.equal(subnetMask(o), 0xffffff00);
  assert.deepEqual(routers(o), [ipv4ToNumber('10.8.0.1')]);
  assert.deepEqual(domainNameServers(o), [ipv4ToNumber('9.9.9.9'), ipv4ToNumber('1.1.1.1')]);
  assert.equal(hostName(o), 'host-1');
  assert.equal(domainName(o), 'corp.example');
  assert.equal(interfaceMtu(o), 1400);
  assert.equal(broadcastAddress(o), ipv4ToNumber('10.8.0.255'));
  assert.equal(requestedIpAddress(o), ipv4ToNumber('10.8.0.2'));
  assert.equal(leaseTime(o), 3600);
  assert.equal(serverIdentifier(o), ipv4ToNumber('10.8.0.1'));
  assert.deepEqual([...parameterRequestList(o)!], [1, 3, 121]);
  assert.equal(maximumMessageSize(o), 1500);
  assert.equal(renewalTime(o), 1800);
  assert.equal(rebindingTime(o), 3150);
  assert.deepEqual([...clientIdentifier(o)!], [1, 2, 0, 0x5e, 0x10, 0, 0xaa]);
  assert.deepEqual(classlessStaticRoutes(o), [route]);
  assert.deepEqual(classlessStaticRoutes(o, 249), [route]);
});

test('parse errors: each malformation gets its code and a message naming the field', () => {
  assertWireError(() => parseDhcp(DISCOVER.subarray(0, 239)), 'TRUNCATED', /DHCP message: need 240 bytes, got 239/);
  const badOp = DISCOVER.slice();
  badOp[0] = 3;
  assertWireError(() => parseDhcp(badOp), 'BAD_VALUE', /op: expected 1 \(BOOTREQUEST\) or 2 \(BOOTREPLY\), got 3/);
  const badHlen = DISCOVER.slice();
  badHlen[2] = 17;
  assertWireError(() => parseDhcp(badHlen), 'BAD_VALUE', /hlen: expected at most 16, got 17/);
  const badCookie = DISCOVER.slice();
  badCookie[239] = 0x64;
  assertWireError(() => parseDhcp(badCookie), 'BAD_VALUE', /magic cookie: expected 0x63825363, got 0x63825364/);
  assertWireError(() => parseDhcp(withOptions([53, 1, 1])), 'TRUNCATED', /no END option/);
  assertWireError(() => parseDhcp(withOptions([53])), 'TRUNCATED', /option 53 at octet 240: no length octet/);
  assertWireError(() => parseDhcp(withOptions([12, 5, 0x76, 0x6d, 255])), 'TRUNCATED', /option 12 at octet 240: length 5 runs past the message end \(3 octets left\)/);
  assertWireError(() => parseDhcp(withOptions([53, 2, 1, 1, 255])), 'BAD_VALUE', /option 53: expected length 1, got 2/);
  assertWireError(() => parseDhcp(withOptions([3, 6, 1, 2, 3, 4, 5, 6, 255])), 'BAD_VALUE', /option 3: expected length a non-zero multiple of 4, got 6/);
  assertWireError(() => parseDhcp(withOptions([26, 2, 0, 67, 255])), 'BAD_VALUE', /interface MTU.*at least 68, got 67/);
  assertWireError(() => parseDhcp(withOptions([52, 1, 3, 255])), 'UNSUPPORTED', /option 52 \(option overload\)/);
});

test('option 57 below 576 is parsed as sent (the server clamps it)', () => {
  assert.equal(maximumMessageSize(parseDhcp(withOptions([57, 2, 1, 0, 255])).options), 256);
});

test('emit errors: codes for bad option codes, oversize fields and small buffers', () => {
  const base = parseDhcp(DISCOVER);
  const emit = (msg: DhcpMessage, size = 1500) => emitDhcp(msg, new Uint8Array(size));
  assertWireError(() => emit(base, 299), 'BUFFER_TOO_SMALL', /need 300 bytes/);
  assertWireError(() => emit({ ...base, options: new Map([[0, Uint8Array.of(1)]]) }), 'BAD_VALUE', /PAD\/END/);
  assertWireError(() => emit({ ...base, options: new Map([[255, Uint8Array.of(1)]]) }), 'BAD_VALUE', /PAD\/END/);
  assertWireError(() => emit({ ...base, options: new Map([[52, Uint8Array.of(1)]]) }), 'UNSUPPORTED');
  assertWireError(() => emit({ ...base, options: new Map([[54, Uint8Array.of(1)]]) }), 'BAD_VALUE', /option 54: expected length 4, got 1/);
  assertWireError(() => emit({ ...base, sname: new Uint8Array(65) }), 'OVERSIZED', /sname: expected at most 64 octets, got 65/);
  assertWireError(() => emit({ ...base, xid: 2 ** 32 }), 'BAD_VALUE', /xid/);
  assertWireError(() => emit({ ...base, op: 0 }), 'BAD_VALUE', /op/);
});

// ---- properties ----

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const route = fc.integer({ min: 0, max: 32 }).chain((prefixLength) =>
  fc.record({
    destination: u32.map((d) => (prefixLength === 0 ? 0 : (d & ((0xffffffff << (32 - prefixLength)) >>> 0)) >>> 0)),
    prefixLength: fc.constant(prefixLength),
    router: u32,
  }),
);
const VALIDATED_CODES = new Set([1, 3, 6, 12, 15, 26, 28, 50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 121, 249]);
/** Valid values for the options the codec validates; anything for the others. */
const optionEntry: fc.Arbitrary<[number, Uint8Array]> = fc.oneof(
  fc.tuple(fc.constantFrom(1, 28, 50, 51, 54, 58, 59), u32.map(encodeUint32)),
  fc.tuple(fc.constantFrom(3, 6), fc.array(u32, { minLength: 1, maxLength: 70 }).map(encodeIpv4List)),
  fc.tuple(fc.constant(53), fc.integer({ min: 0, max: 255 }).map((t) => Uint8Array.of(t))),
  fc.tuple(fc.constant(57), fc.integer({ min: 0, max: 0xffff }).map(encodeUint16)),
  fc.tuple(fc.constant(26), fc.integer({ min: 68, max: 0xffff }).map(encodeUint16)),
  fc.tuple(fc.constantFrom(12, 15, 55), bytes(1, 300)),
  fc.tuple(fc.constant(61), bytes(2, 40)),
  fc.tuple(fc.constantFrom(121, 249), fc.array(route, { minLength: 1, maxLength: 60 }).map(encodeClasslessRoutes)),
  fc.tuple(fc.integer({ min: 1, max: 254 }).filter((c) => !VALIDATED_CODES.has(c)), bytes(0, 600)),
);
const message: fc.Arbitrary<DhcpMessage> = fc.record({
  op: fc.constantFrom(1, 2),
  htype: fc.integer({ min: 0, max: 255 }),
  hlen: fc.integer({ min: 0, max: 16 }),
  hops: fc.integer({ min: 0, max: 255 }),
  xid: u32,
  secs: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  ciaddr: u32,
  yiaddr: u32,
  siaddr: u32,
  giaddr: u32,
  chaddr: bytes(16, 16),
  sname: bytes(64, 64),
  file: bytes(128, 128),
  options: fc.uniqueArray(optionEntry, { selector: ([code]) => code, maxLength: 12 }).map((entries) => new Map(entries)),
});

test('property: parse(emit(m)) equals m', () => {
  fc.assert(
    fc.property(message, (msg) => {
      const buf = new Uint8Array(dhcpLength(msg));
      assert.equal(emitDhcp(msg, buf), buf.length);
      const parsed = parseDhcp(buf);
      assert.deepEqual({ ...parsed, options: [...parsed.options] }, { ...msg, options: [...msg.options] });
    }),
    { numRuns: 300 },
  );
});

function onlyWireError(input: Uint8Array): void {
  try {
    parseDhcp(input);
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
  }
}

test('property: random bytes throw nothing but WireError', () => {
  fc.assert(fc.property(bytes(0, 600), onlyWireError), { numRuns: 2000 });
});

test('property: a valid header with random options throws nothing but WireError', () => {
  fc.assert(fc.property(bytes(0, 400), (options) => onlyWireError(withOptions([...options]))), { numRuns: 3000 });
});

test('property: a valid message with one octet changed or cut short throws nothing but WireError', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (msg, at, value, cut) => {
      const buf = new Uint8Array(dhcpLength(msg));
      emitDhcp(msg, buf);
      buf[at % buf.length] = value;
      onlyWireError(buf);
      onlyWireError(buf.subarray(0, cut % (buf.length + 1)));
    }),
    { numRuns: 500 },
  );
});
