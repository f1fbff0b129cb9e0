import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DhcpServerEmulator, type DhcpVerdict } from '../../../emulators/dhcp.js';
import {
  BOOTP_BROADCAST_FLAG,
  classlessStaticRoutes,
  DhcpMessageType,
  DhcpOption,
  dhcpLength,
  emitDhcp,
  encodeUint16,
  encodeUint32,
  maximumMessageSize,
  parseDhcp,
  type DhcpMessage,
} from '../../../src/wire/dhcp.js';
import { ipv4ToNumber } from '../../../src/wire/addr.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../../src/lease.js';
import { loadDhcpFixture } from '../../fixtures/dhcp/fixtures.js';

const LEASE: Lease = {
  address: '10.77.0.2',
  prefixLength: 24,
  gateway: '10.77.0.1',
  routes: [{ destination: '172.31.99.0', prefixLength: 24, gateway: '10.77.0.1' }],
  dnsServers: ['10.77.0.53'],
  searchDomain: 'vpn.example',
  mtu: 1400,
  leaseTimeSec: 600,
  gatewayMac: DEFAULT_GATEWAY_MAC,
};
const HOST_MAC = '02:00:5e:10:00:aa'; // chaddr of the captures
const BROADCAST = { ip: '255.255.255.255', mac: 'ff:ff:ff:ff:ff:ff' };
const LEASED = ipv4ToNumber(LEASE.address);
const GATEWAY = ipv4ToNumber(LEASE.gateway);
const OTHER = ipv4ToNumber('10.77.0.99');
const NOW_MS = 1_000;

const DISCOVER = loadDhcpFixture('dhclient-discover');
const INIT_REBOOT = loadDhcpFixture('dhclient-request-init-reboot');

/** The dhclient DISCOVER capture with `changes` applied; `options` replaces the options (53 set to `type`). */
function request(type: number | undefined, changes: Partial<DhcpMessage> = {}, options: Array<[number, Uint8Array]> = []): Uint8Array {
  const base = parseDhcp(DISCOVER);
  const all = new Map<number, Uint8Array>(type === undefined ? [] : [[DhcpOption.MESSAGE_TYPE, Uint8Array.of(type)]]);
  for (const [code, value] of options) all.set(code, value);
  const msg: DhcpMessage = { ...base, ...changes, options: all };
  const buf = new Uint8Array(dhcpLength(msg));
  emitDhcp(msg, buf);
  return buf;
}

const ip = (address: number): [number, Uint8Array] => [0, encodeUint32(address)];
const requested = (address: number): [number, Uint8Array] => [DhcpOption.REQUESTED_IP_ADDRESS, ip(address)[1]];
const server = (address: number): [number, Uint8Array] => [DhcpOption.SERVER_IDENTIFIER, ip(address)[1]];

function reply(verdict: DhcpVerdict): { msg: DhcpMessage; to: { ip: string; mac: string }; length: number } {
  assert.equal(verdict.kind, 'reply', verdict.kind === 'ignored' ? `ignored: ${verdict.reason}` : '');
  if (verdict.kind !== 'reply') throw new Error('unreachable');
  return { msg: parseDhcp(verdict.payload), to: verdict.to, length: verdict.payload.length };
}

function assertIgnored(verdict: DhcpVerdict, reason: string): void {
  assert.deepEqual(verdict, { kind: 'ignored', reason });
}

const typeOf = (msg: DhcpMessage) => msg.options.get(DhcpOption.MESSAGE_TYPE)?.[0];
const u32 = (msg: DhcpMessage, code: number) => {
  const v = msg.options.get(code);
  return v && ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
};

test('DISCOVER (dhclient capture) → OFFER of the lease, unicast to yiaddr/chaddr, table 3 fields, options in the PRL order', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  assert.equal(emulator.hostMac, undefined);
  const { msg, to } = reply(emulator.handle(DISCOVER, NOW_MS));
  assert.equal(emulator.hostMac, HOST_MAC);
  assert.deepEqual(to, { ip: LEASE.address, mac: HOST_MAC });
  assert.equal(typeOf(msg), DhcpMessageType.OFFER);
  assert.deepEqual([msg.op, msg.htype, msg.hlen, msg.hops, msg.xid, msg.secs, msg.flags], [2, 1, 6, 0, 0x9127f668, 0, 0]);
  assert.deepEqual([msg.ciaddr, msg.yiaddr, msg.siaddr, msg.giaddr], [0, LEASED, 0, 0]);
  assert.deepEqual(msg.chaddr, parseDhcp(DISCOVER).chaddr);
  assert.ok(msg.sname.every((b) => b === 0) && msg.file.every((b) => b === 0));
  // dhclient asks for 1 28 2 3 15 6 119 12 44 47 26 121 42: we have 1 28 3 15 6 26 121 of those, sent in that order after 53 54 51; T1/T2 unasked last.
  assert.deepEqual([...msg.options.keys()], [53, 54, 51, 1, 28, 3, 15, 6, 26, 121, 58, 59]);
  assert.equal(u32(msg, DhcpOption.SERVER_IDENTIFIER), GATEWAY);
  assert.equal(u32(msg, DhcpOption.IP_ADDRESS_LEASE_TIME), 600);
  assert.equal(u32(msg, DhcpOption.SUBNET_MASK), 0xffffff00);
  assert.equal(u32(msg, DhcpOption.BROADCAST_ADDRESS), ipv4ToNumber('10.77.0.255'));
  assert.equal(u32(msg, DhcpOption.ROUTER), GATEWAY);
  assert.equal(u32(msg, DhcpOption.DOMAIN_NAME_SERVER), ipv4ToNumber('10.77.0.53'));
  assert.equal(new TextDecoder().decode(msg.options.get(DhcpOption.DOMAIN_NAME)), 'vpn.example');
  assert.deepEqual([...msg.options.get(DhcpOption.INTERFACE_MTU)!], [0x05, 0x78]);
  assert.deepEqual(classlessStaticRoutes(msg.options), [{ destination: ipv4ToNumber('172.31.99.0'), prefixLength: 24, router: GATEWAY }]);
});

test('without a parameter request list every option is sent: T1 = 0.5 and T2 = 0.875 of the lease, 121 and 249', () => {
  const { msg } = reply(new DhcpServerEmulator(LEASE).handle(request(DhcpMessageType.DISCOVER), NOW_MS));
  assert.deepEqual([...msg.options.keys()], [53, 54, 51, 1, 3, 6, 15, 26, 28, 58, 59, 121, 249]);
  assert.equal(u32(msg, DhcpOption.RENEWAL_TIME), 300);
  assert.equal(u32(msg, DhcpOption.REBINDING_TIME), 525);
  assert.deepEqual(msg.options.get(249), msg.options.get(121));
});

test('lease overrides of T1/T2 are used; no routes, DNS or domain → no 121, 249, 6, 15', () => {
  const lease: Lease = { ...LEASE, routes: [], dnsServers: [], searchDomain: undefined, renewalTimeSec: 100, rebindingTimeSec: 200 };
  const { msg } = reply(new DhcpServerEmulator(lease).handle(request(DhcpMessageType.DISCOVER), NOW_MS));
  assert.deepEqual([...msg.options.keys()], [53, 54, 51, 1, 3, 26, 28, 58, 59]);
  assert.equal(u32(msg, DhcpOption.RENEWAL_TIME), 100);
  assert.equal(u32(msg, DhcpOption.REBINDING_TIME), 200);
});

test('broadcast flag → OFFER broadcast; flags and giaddr copied, hops zeroed', () => {
  const bytes = request(DhcpMessageType.DISCOVER, { flags: BOOTP_BROADCAST_FLAG, hops: 3, giaddr: ipv4ToNumber('192.0.2.9') });
  const { msg, to } = reply(new DhcpServerEmulator(LEASE).handle(bytes, NOW_MS));
  assert.deepEqual(to, BROADCAST);
  assert.deepEqual([msg.flags, msg.hops, msg.giaddr], [BOOTP_BROADCAST_FLAG, 0, ipv4ToNumber('192.0.2.9')]);
});

test('REQUEST in SELECTING: our server id and the lease address → ACK; another address or none → NAK; another server → ignored', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  const ack = reply(emulator.handle(request(DhcpMessageType.REQUEST, {}, [server(GATEWAY), requested(LEASED)]), NOW_MS));
  assert.equal(typeOf(ack.msg), DhcpMessageType.ACK);
  assert.equal(ack.msg.yiaddr, LEASED);
  assert.deepEqual(ack.to, { ip: LEASE.address, mac: HOST_MAC });

  for (const options of [[server(GATEWAY), requested(OTHER)], [server(GATEWAY)]]) {
    const nak = reply(emulator.handle(request(DhcpMessageType.REQUEST, {}, options), NOW_MS));
    assert.equal(typeOf(nak.msg), DhcpMessageType.NAK);
    assert.deepEqual(nak.to, BROADCAST, 'RFC 2131 §4.1: NAKs are broadcast');
    assert.deepEqual([nak.msg.yiaddr, nak.msg.ciaddr], [0, 0]);
    assert.deepEqual([...nak.msg.options.keys()], [53, 54, 56], 'no lease time or configuration in a NAK');
  }
  assertIgnored(emulator.handle(request(DhcpMessageType.REQUEST, {}, [server(OTHER), requested(LEASED)]), NOW_MS), 'other-server');
});

test('REQUEST in INIT-REBOOT (dhclient capture): option 50 = lease → ACK; another address → NAK', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  const ack = reply(emulator.handle(INIT_REBOOT, NOW_MS));
  assert.equal(typeOf(ack.msg), DhcpMessageType.ACK);
  assert.equal(ack.msg.xid, 0x3d76214d);
  assert.equal(ack.msg.yiaddr, LEASED);
  assert.equal(u32(ack.msg, DhcpOption.IP_ADDRESS_LEASE_TIME), 600);
  const nak = reply(emulator.handle(request(DhcpMessageType.REQUEST, {}, [requested(OTHER)]), NOW_MS));
  assert.equal(typeOf(nak.msg), DhcpMessageType.NAK);
});

test('REQUEST in RENEWING/REBINDING: ciaddr = lease → ACK unicast to ciaddr with ciaddr copied; another ciaddr → NAK', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  const ack = reply(emulator.handle(request(DhcpMessageType.REQUEST, { ciaddr: LEASED, flags: BOOTP_BROADCAST_FLAG }), NOW_MS));
  assert.equal(typeOf(ack.msg), DhcpMessageType.ACK);
  assert.deepEqual(ack.to, { ip: LEASE.address, mac: HOST_MAC }, 'ciaddr wins over the broadcast flag');
  assert.deepEqual([ack.msg.ciaddr, ack.msg.yiaddr], [LEASED, LEASED]);
  const nak = reply(emulator.handle(request(DhcpMessageType.REQUEST, { ciaddr: OTHER }), NOW_MS));
  assert.equal(typeOf(nak.msg), DhcpMessageType.NAK);
  assert.deepEqual(nak.to, BROADCAST);
  assertIgnored(emulator.handle(request(DhcpMessageType.REQUEST), NOW_MS), 'request-without-address');
});

test('INFORM → ACK with configuration but no lease times, yiaddr 0, unicast to ciaddr', () => {
  const { msg, to } = reply(new DhcpServerEmulator(LEASE).handle(request(DhcpMessageType.INFORM, { ciaddr: LEASED }), NOW_MS));
  assert.equal(typeOf(msg), DhcpMessageType.ACK);
  assert.deepEqual([msg.yiaddr, msg.ciaddr], [0, LEASED]);
  assert.deepEqual(to, { ip: LEASE.address, mac: HOST_MAC });
  assert.deepEqual([...msg.options.keys()], [53, 54, 1, 3, 6, 15, 26, 28, 121, 249]);
});

test('RELEASE, DECLINE and server-to-client types get no reply, each with its reason', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  assertIgnored(emulator.handle(request(DhcpMessageType.RELEASE, { ciaddr: LEASED }, [server(GATEWAY)]), NOW_MS), 'release');
  assertIgnored(emulator.handle(request(DhcpMessageType.DECLINE, {}, [server(GATEWAY), requested(LEASED)]), NOW_MS), 'decline-address-conflict');
  for (const type of [DhcpMessageType.OFFER, DhcpMessageType.ACK, DhcpMessageType.NAK, 9, 0]) {
    assertIgnored(emulator.handle(request(type), NOW_MS), 'unexpected-message-type');
  }
});

test('BOOTREPLY, non-Ethernet hardware, BOOTP without option 53 and malformed messages are ignored with reasons', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  assertIgnored(emulator.handle(request(DhcpMessageType.DISCOVER, { op: 2 }), NOW_MS), 'not-request');
  assertIgnored(emulator.handle(request(DhcpMessageType.DISCOVER, { htype: 6 }), NOW_MS), 'not-ethernet');
  assertIgnored(emulator.handle(request(DhcpMessageType.DISCOVER, { hlen: 16 }), NOW_MS), 'not-ethernet');
  assertIgnored(emulator.handle(request(undefined), NOW_MS), 'no-message-type');
  assertIgnored(emulator.handle(DISCOVER.subarray(0, 100), NOW_MS), 'malformed:TRUNCATED');
  const badCookie = DISCOVER.slice();
  badCookie[236] = 0;
  assertIgnored(emulator.handle(badCookie, NOW_MS), 'malformed:BAD_VALUE');
  assertIgnored(emulator.handle(request(DhcpMessageType.DISCOVER).fill(0, 243), NOW_MS), 'malformed:TRUNCATED');
  assert.equal(emulator.hostMac, undefined, 'nothing learned from messages that are not Ethernet DHCP requests');
});

test('a group address in chaddr is never learned as the host MAC', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  const chaddr = new Uint8Array(16);
  chaddr.set([0x01, 0, 0x5e, 0, 0, 1]);
  emulator.handle(request(DhcpMessageType.DISCOVER, { chaddr }), NOW_MS);
  assert.equal(emulator.hostMac, undefined);
});

test('option 55 order is honoured and unknown or unavailable codes are skipped', () => {
  const prl: [number, Uint8Array] = [DhcpOption.PARAMETER_REQUEST_LIST, Uint8Array.of(121, 42, 3, 1, 3)];
  const { msg } = reply(new DhcpServerEmulator(LEASE).handle(request(DhcpMessageType.DISCOVER, {}, [prl]), NOW_MS));
  assert.deepEqual([...msg.options.keys()], [53, 54, 51, 121, 3, 1, 58, 59]);
});

/** 60 host routes: options 121 and 249 take 9 octets per route, 540 each, so they do not fit in 576. */
const MANY_ROUTES: Lease = {
  ...LEASE,
  routes: Array.from({ length: 60 }, (_, i) => ({ destination: `172.16.0.${i + 1}`, prefixLength: 32, gateway: LEASE.gateway })),
};

test('option 57: without it replies fit 576 - 28 octets and optional options that do not fit are dropped; with 1500 they are sent', () => {
  const emulator = new DhcpServerEmulator(MANY_ROUTES);
  const small = reply(emulator.handle(request(DhcpMessageType.DISCOVER), NOW_MS));
  assert.ok(small.length <= 548, `reply of ${small.length} octets`);
  assert.deepEqual([...small.msg.options.keys()], [53, 54, 51, 1, 3, 6, 15, 26, 28, 58, 59], 'the smaller options still fit');
  for (const announced of [100, 576]) {
    const clamped = reply(emulator.handle(request(DhcpMessageType.DISCOVER, {}, [[DhcpOption.MAXIMUM_MESSAGE_SIZE, encodeUint16(announced)]]), NOW_MS));
    assert.ok(clamped.length <= 548, `57=${announced}: at least 576 assumed, no more`);
  }
  const big = reply(emulator.handle(request(DhcpMessageType.DISCOVER, {}, [[DhcpOption.MAXIMUM_MESSAGE_SIZE, encodeUint16(1500)]]), NOW_MS));
  assert.ok(big.length <= 1472);
  assert.equal(classlessStaticRoutes(big.msg.options)?.length, 60, '121 split per RFC 3396 and reassembled');
  assert.equal(classlessStaticRoutes(big.msg.options, 249)?.length, 60);
});

test('option 57: 121 fits in 1000 but 249 after it does not and is dropped', () => {
  const { msg, length } = reply(
    new DhcpServerEmulator(MANY_ROUTES).handle(request(DhcpMessageType.DISCOVER, {}, [[DhcpOption.MAXIMUM_MESSAGE_SIZE, encodeUint16(1000)]]), NOW_MS),
  );
  assert.ok(length <= 972);
  assert.ok(msg.options.has(121));
  assert.ok(!msg.options.has(249));
});

test('routes: 121 carries exactly lease.routes (split tunnel, no default added); a 0.0.0.0/0 route in the lease reaches 121; 3 is the gateway', () => {
  const split = reply(new DhcpServerEmulator(LEASE).handle(DISCOVER, NOW_MS)).msg;
  assert.deepEqual(classlessStaticRoutes(split.options), [{ destination: ipv4ToNumber('172.31.99.0'), prefixLength: 24, router: GATEWAY }]);
  assert.equal(u32(split, DhcpOption.ROUTER), GATEWAY);
  const fullLease: Lease = { ...LEASE, routes: [{ destination: '0.0.0.0', prefixLength: 0, gateway: LEASE.gateway }, ...LEASE.routes] };
  const full = reply(new DhcpServerEmulator(fullLease).handle(DISCOVER, NOW_MS)).msg;
  assert.deepEqual(full.options.get(DhcpOption.CLASSLESS_STATIC_ROUTE), Uint8Array.of(0, 10, 77, 0, 1, 24, 172, 31, 99, 10, 77, 0, 1)); // RFC 3442 §2 encoding
  assert.equal(u32(full, DhcpOption.ROUTER), GATEWAY);
});

test('Wireshark dhcp.pcap: our OFFER/ACK to its client carry what its real server sent (header per table 3, same 53/54/51/1/58/59 values)', () => {
  // The lease that server granted: 192.168.0.10/24, server 192.168.0.1, 3600 s (T1 1800 and T2 3150 are our 0.5 and 0.875 defaults).
  const lease: Lease = { ...LEASE, address: '192.168.0.10', gateway: '192.168.0.1', routes: [], dnsServers: [], searchDomain: undefined, leaseTimeSec: 3600 };
  const emulator = new DhcpServerEmulator(lease);
  for (const [asked, answered] of [['wireshark-discover', 'wireshark-offer'], ['wireshark-request', 'wireshark-ack']] as const) {
    const { msg: ours, to } = reply(emulator.handle(loadDhcpFixture(asked), NOW_MS));
    const theirs = parseDhcp(loadDhcpFixture(answered));
    const header = (m: DhcpMessage) => [m.op, m.htype, m.hlen, m.hops, m.xid, m.flags, m.ciaddr, m.yiaddr, m.giaddr, [...m.chaddr]];
    assert.deepEqual(header(ours), header(theirs), answered);
    assert.equal(ours.siaddr, 0, 'no next server (theirs named itself as one in the OFFER)');
    for (const [code, value] of theirs.options) assert.deepEqual(ours.options.get(code), value, `${answered}: option ${code}`);
    assert.deepEqual(to, { ip: '192.168.0.10', mac: '00:0b:82:01:fc:42' });
  }
  assert.equal(emulator.hostMac, '00:0b:82:01:fc:42');
});

test('setLease: later answers serve the new lease', () => {
  const emulator = new DhcpServerEmulator(LEASE);
  emulator.setLease({ ...LEASE, address: '10.77.0.7' });
  assert.equal(reply(emulator.handle(DISCOVER, NOW_MS)).msg.yiaddr, ipv4ToNumber('10.77.0.7'));
  assert.equal(typeOf(reply(emulator.handle(INIT_REBOOT, NOW_MS)).msg), DhcpMessageType.NAK, 'the old address is NAKed');
});

/** The reply size a request allows: its option 57 (at least 576, at most 1500) less IP and UDP headers, else 576 - 28. */
function allowedReplyLength(payload: Uint8Array): number {
  let asked: number | undefined;
  try {
    asked = maximumMessageSize(parseDhcp(payload).options);
  } catch {
    asked = undefined;
  }
  return Math.min(Math.max(asked ?? 576, 576), 1500) - 28;
}

test('property: handle never throws; every reply parses and fits the size the request allows (576 - 28 octets without option 57)', () => {
  const emulator = new DhcpServerEmulator(MANY_ROUTES);
  const check = (payload: Uint8Array) => {
    const verdict = emulator.handle(payload, NOW_MS);
    if (verdict.kind === 'reply') {
      assert.equal(parseDhcp(verdict.payload).op, 2);
      assert.ok(verdict.payload.length <= allowedReplyLength(payload), `reply of ${verdict.payload.length} octets`);
    } else assert.equal(typeof verdict.reason, 'string');
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), check), { numRuns: 1000 });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.integer({ min: 0, max: 8 }), (options, type) => {
      const bytes = request(type === 0 ? undefined : type);
      const mutated = new Uint8Array(240 + options.length + 1);
      mutated.set(bytes.subarray(0, 240));
      mutated.set(options, 240);
      mutated[mutated.length - 1] = 255;
      check(mutated);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const bytes = INIT_REBOOT.slice();
      bytes[at % bytes.length] = value;
      check(bytes);
    }),
    { numRuns: 1000 },
  );
  // Every single-byte change of a real request, exhaustively (fast-check samples only a few of them).
  for (let at = 0; at < INIT_REBOOT.length; at++) {
    for (let value = 0; value < 256; value += 1) {
      const bytes = INIT_REBOOT.slice();
      bytes[at] = value;
      check(bytes);
    }
  }
});
