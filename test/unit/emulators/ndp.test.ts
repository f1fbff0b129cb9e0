import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { answerNdp, compileNdpConfig, NdpEmulator, type NdpInput, type NdpVerdict } from '../../../emulators/ndp.js';
import { parseNdp, emitNdp, ndpLength, type NdpMessage } from '../../../src/wire/ndp.js';
import { parseIcmpv6 } from '../../../src/wire/icmpv6.js';
import { parseIpv6 } from '../../../src/wire/ipv6.js';
import { bytesToIpv6, ipv6ToBytes } from '../../../src/wire/addr6.js';
import { bytesToMac, macToBytes } from '../../../src/wire/addr.js';
import { DEFAULT_GATEWAY_MAC } from '../../../src/lease.js';
import { TEST_LEASE, TEST_LEASE6 } from '../../support/lease.js';
import { toHex } from '../wire/fixtures.js';
import { DAD_NS_FRAME, RS_FRAME } from '../wire/fixtures6.js';

const HOST_MAC = '02:00:5e:10:00:01';
const HOST_ADDRESS = 'fd74:7670:6e00:2:0:5eff:fe10:1'; // SLAAC in the client prefix
const config = compileNdpConfig(TEST_LEASE6)!;

function fromFrame(frame: Uint8Array): NdpInput {
  const ip = parseIpv6(frame.subarray(14));
  return { hopLimit: ip.hopLimit, source: ip.source, destination: ip.destination, message: parseNdp(parseIcmpv6(ip.payload, ip.source, ip.destination)), senderMac: frame.subarray(6, 12) };
}

function solicit(target: string, source = HOST_ADDRESS, options: NdpMessage['options'] = [{ kind: 'source-link-layer-address', linkLayerAddress: macToBytes(HOST_MAC) }], hopLimit = 255): NdpInput {
  return {
    hopLimit,
    source: ipv6ToBytes(source),
    destination: ipv6ToBytes('ff02::1:ff00:1'),
    message: { kind: 'neighbor-solicitation', target: ipv6ToBytes(target), options },
    senderMac: macToBytes(HOST_MAC),
  };
}

function reasonOf(verdict: NdpVerdict): string {
  return verdict.kind === 'ignored' ? verdict.reason : 'reply';
}

/** The reply as the host's kernel would read it: emitted, then parsed back. */
function onTheWire(verdict: NdpVerdict): NdpMessage {
  assert.equal(verdict.kind, 'reply');
  if (verdict.kind !== 'reply') throw new Error('unreachable');
  const buf = new Uint8Array(ndpLength(verdict.message));
  emitNdp(verdict.message, buf, 0, verdict.source, verdict.destination);
  return parseNdp(parseIcmpv6(buf, verdict.source, verdict.destination));
}

test('the captured router solicitation gets an advertisement to all-nodes from the gateway\'s link-local address', () => {
  const verdict = answerNdp(fromFrame(RS_FRAME), config);
  assert.ok(verdict.kind === 'reply');
  assert.equal(bytesToIpv6(verdict.source), 'fe80::74:76ff:fe70:6e01');
  assert.equal(bytesToIpv6(verdict.destination), 'ff02::1');
  assert.equal(bytesToMac(verdict.destinationMac), '33:33:00:00:00:01');
  const ra = onTheWire(verdict);
  assert.ok(ra.kind === 'router-advertisement');
  assert.deepEqual([ra.curHopLimit, ra.managed, ra.other, ra.routerLifetimeSec], [64, false, false, 0], 'SLAAC, not a default router without ::/0');
  const text = ra.options.map((o) => {
    switch (o.kind) {
      case 'source-link-layer-address': return `slla ${bytesToMac(o.linkLayerAddress)}`;
      case 'mtu': return `mtu ${o.mtu}`;
      case 'prefix-information': return `pio ${bytesToIpv6(o.prefix)}/${o.prefixLength} L=${+o.onLink} A=${+o.autonomous} ${o.validLifetimeSec}/${o.preferredLifetimeSec}`;
      case 'route-information': return `rio ${bytesToIpv6(o.prefix)}/${o.prefixLength} ${o.preference} ${o.routeLifetimeSec}`;
      case 'rdnss': return `rdnss ${o.servers.map((s) => bytesToIpv6(s)).join(',')} ${o.lifetimeSec}`;
      case 'dnssl': return `dnssl ${o.domains.join(',')} ${o.lifetimeSec}`;
      default: return o.kind;
    }
  });
  assert.deepEqual(text, [
    `slla ${DEFAULT_GATEWAY_MAC}`,
    'mtu 1400',
    'pio fd74:7670:6e00:2::/64 L=1 A=1 4294967295/4294967295',
    'pio fd74:7670:6e00::/48 L=1 A=0 4294967295/4294967295',
    'rio 2001:db8:99::/48 medium 4294967295',
    'rdnss fd74:7670:6e00::53 4294967295',
    'dnssl tvpn.example 4294967295',
  ]);
});

test('a pushed ::/0 makes the gateway a default router (the full tunnel), without a route information option for it', () => {
  const full = compileNdpConfig({ ...TEST_LEASE6, ipv6: { ...TEST_LEASE6.ipv6!, routes: [{ prefix: '::', prefixLength: 0 }] } })!;
  const ra = onTheWire(answerNdp(fromFrame(RS_FRAME), full));
  assert.ok(ra.kind === 'router-advertisement');
  assert.equal(ra.routerLifetimeSec, 1800, 'RFC 4861 AdvDefaultLifetime: 3 × MaxRtrAdvInterval, refreshed by the periodic advertisements');
  assert.ok(!ra.options.some((o) => o.kind === 'route-information'));
});

test('a solicitation for the server\'s tunnel address is answered with the reserved MAC, to the asker\'s link-layer address', () => {
  const verdict = answerNdp(solicit('fd74:7670:6e00::1'), config);
  assert.ok(verdict.kind === 'reply');
  assert.equal(bytesToIpv6(verdict.source), 'fd74:7670:6e00::1');
  assert.equal(bytesToIpv6(verdict.destination), HOST_ADDRESS);
  assert.equal(bytesToMac(verdict.destinationMac), HOST_MAC);
  const na = onTheWire(verdict);
  assert.ok(na.kind === 'neighbor-advertisement');
  assert.deepEqual([na.router, na.solicited, na.override, bytesToIpv6(na.target)], [true, true, true, 'fd74:7670:6e00::1']);
  assert.deepEqual(na.options.map((o) => o.kind === 'target-link-layer-address' && bytesToMac(o.linkLayerAddress)), [DEFAULT_GATEWAY_MAC]);
});

test('the gateway\'s link-local address (next hop of every route) is answered, from a link-local asker too; other link-locals are not ours', () => {
  assert.equal(reasonOf(answerNdp(solicit('fe80::74:76ff:fe70:6e01', 'fe80::5eff:fe10:1'), config)), 'reply');
  assert.equal(reasonOf(answerNdp(solicit('fe80::74:76ff:fe70:6e02'), config)), 'not-ours');
});

test('without a source link-layer address option (a unicast NUD probe) the answer goes to the Ethernet source', () => {
  const verdict = answerNdp({ ...solicit('fd74:7670:6e00::1', HOST_ADDRESS, []), senderMac: macToBytes('02:00:5e:10:00:09') }, config);
  assert.ok(verdict.kind === 'reply' && bytesToMac(verdict.destinationMac) === '02:00:5e:10:00:09');
});

const hostBits = fc.uint8Array({ minLength: 8, maxLength: 8 });

test('property: every address of the tunnel network outside the client prefix is answered', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffff }), hostBits, (subnet, host) => {
      fc.pre(subnet !== 2);
      const target = ipv6ToBytes('fd74:7670:6e00::');
      target[6] = subnet >>> 8;
      target[7] = subnet & 0xff;
      target.set(host, 8);
      assert.equal(reasonOf(answerNdp(solicit(bytesToIpv6(target)), config)), 'reply');
    }),
  );
});

test('property: never for an address in the client\'s own prefix (the host\'s own addresses)', () => {
  fc.assert(
    fc.property(hostBits, (host) => {
      const target = ipv6ToBytes('fd74:7670:6e00:2::');
      target.set(host, 8);
      assert.equal(reasonOf(answerNdp(solicit(bytesToIpv6(target), 'fe80::5eff:fe10:1'), config)), 'own-prefix');
    }),
  );
});

test('never for a DAD probe (unspecified source), whatever the target; the captured probe included', () => {
  for (const target of ['fd74:7670:6e00::1', 'fe80::74:76ff:fe70:6e01', HOST_ADDRESS]) {
    assert.equal(reasonOf(answerNdp(solicit(target, '::', []), config)), 'probe');
  }
  assert.equal(reasonOf(answerNdp(fromFrame(DAD_NS_FRAME), config)), 'probe');
});

test('RFC 4861 validity: hop limit other than 255, an unspecified source with a link-layer option', () => {
  assert.equal(reasonOf(answerNdp(solicit('fd74:7670:6e00::1', HOST_ADDRESS, undefined, 254), config)), 'bad-hop-limit');
  assert.equal(reasonOf(answerNdp(solicit('fd74:7670:6e00::1', '::'), config)), 'bad-source-option');
  assert.equal(reasonOf(answerNdp({ ...fromFrame(RS_FRAME), hopLimit: 64 }, config)), 'bad-hop-limit');
});

test('addresses outside the tunnel and messages that solicit nothing are ignored', () => {
  assert.equal(reasonOf(answerNdp(solicit('2001:db8:99::7'), config)), 'not-ours', 'routed networks are reached via the router, not on-link');
  assert.equal(reasonOf(answerNdp(solicit('fd00::1'), config)), 'not-ours');
  const na: NdpInput = { ...solicit('fd74:7670:6e00::1'), message: { kind: 'neighbor-advertisement', router: false, solicited: false, override: true, target: ipv6ToBytes(HOST_ADDRESS), options: [] } };
  assert.equal(reasonOf(answerNdp(na, config)), 'not-solicitation');
});

test('NdpEmulator: learns the host MAC, ignores everything for an IPv4-only lease, re-advertises after a lease change', () => {
  const emulator = new NdpEmulator(TEST_LEASE);
  assert.equal(emulator.enabled, false);
  assert.equal(emulator.advertisement(), undefined);
  assert.equal(reasonOf(emulator.handle(fromFrame(RS_FRAME))), 'not-ours');
  assert.equal(emulator.hostMac, HOST_MAC);
  emulator.setLease(TEST_LEASE6);
  assert.equal(reasonOf(emulator.handle(fromFrame(RS_FRAME))), 'reply');
  const unsolicited = emulator.advertisement();
  assert.ok(unsolicited?.kind === 'reply' && unsolicited.message.kind === 'router-advertisement');
  assert.equal(toHex(unsolicited.destinationMac), '333300000001');
});

test('a forwarding host (the server) also has its lease\'s routes answered — a branch LAN behind a client; a client host does not', () => {
  const forwarding = compileNdpConfig(TEST_LEASE6, true)!;
  assert.equal(reasonOf(answerNdp(solicit('2001:db8:99::10'), forwarding)), 'reply'); // TEST_LEASE6 routes 2001:db8:99::/48
  assert.equal(reasonOf(answerNdp(solicit('2001:db8:98::10'), forwarding)), 'not-ours');
  assert.equal(reasonOf(answerNdp(solicit('2001:db8:99::10'), config)), 'not-ours');
});
