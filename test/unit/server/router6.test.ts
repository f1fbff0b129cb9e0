/**
 * Router6: the IPv6 source check and destination policy, over the IPv4
 * router's table (tunnels by IPv4 address; each client's /64 numbered by it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Router6, type Route6Entry } from '../../../src/server/router6.js';
import type { Ipv6PoolConfig } from '../../../src/server/pool6.js';
import { ipv4ToNumber } from '../../../src/wire/addr.js';
import { ipv6ToBytes, bytesToIpv6 } from '../../../src/wire/addr6.js';
import { emitIpv6, Ipv6NextHeader } from '../../../src/wire/ipv6.js';
import { Counters } from '../../../src/engine/counters.js';

const POOL: Ipv6PoolConfig = {
  network6: { prefix: 'fd74:7670:6e00::', prefixLength: 48 },
  network4: { address: '10.77.0.0', prefixLength: 24 },
  gateway4: '10.77.0.1',
  routes6: [],
  dns6: [],
};

interface Tunnel extends Route6Entry {
  name: string;
}

function tunnel(name: string, address: string, clientToClient = true, routes6: string[] = []): Tunnel {
  return { name, address: ipv4ToNumber(address), clientToClient, link: { sendDatagram: () => true }, routes6: routes6.map((r) => ({ network: ipv6ToBytes(r.split('/')[0]!), prefixLength: Number(r.split('/')[1]) })) };
}

function datagram(src: string, dst: string): Uint8Array {
  const buf = new Uint8Array(48);
  emitIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: Ipv6NextHeader.ICMPV6, hopLimit: 64, source: ipv6ToBytes(src), destination: ipv6ToBytes(dst), payload: new Uint8Array(8) }, buf);
  return buf;
}

function setup() {
  const alice = tunnel('alice', '10.77.0.7', true, ['2001:db8:99::/48']);
  const bob = tunnel('bob', '10.77.0.9');
  const carol = tunnel('carol', '10.77.0.12', false);
  const tunnels = new Map<number, Tunnel>([alice, bob, carol].map((t) => [t.address, t]));
  return { router: new Router6(POOL, tunnels, new Counters()), alice, bob, carol };
}

const ALICE = 'fd74:7670:6e00:7::5';

test('to the server\'s subnet and to pushed IPv6 routes: the adapter', () => {
  const { router, alice } = setup();
  assert.equal(router.routeFromClient(alice, datagram(ALICE, 'fd74:7670:6e00:1::1')), 'adapter');
  assert.equal(router.routeFromClient(alice, datagram(ALICE, '2001:db8:99::10')), 'adapter');
  assert.equal(router.routeFromClient(alice, datagram(ALICE, '2001:db8:98::10')), 'not-routed');
});

test('client to client by the destination /64, when both allow it', () => {
  const { router, alice, bob, carol } = setup();
  assert.equal(router.routeFromClient(alice, datagram(ALICE, 'fd74:7670:6e00:9::abcd')), 'client');
  assert.equal(router.peer, bob);
  assert.equal(router.routeFromClient(alice, datagram(ALICE, 'fd74:7670:6e00:c::1')), 'client-to-client-denied');
  assert.equal(router.peer, undefined);
  assert.equal(router.routeFromClient(carol, datagram('fd74:7670:6e00:c::1', 'fd74:7670:6e00:7::5')), 'client-to-client-denied');
  assert.equal(router.routeFromClient(alice, datagram(ALICE, 'fd74:7670:6e00:20::1')), 'no-client');
});

test('the source check: only the client\'s own /64 — another client\'s, the server\'s, a look-alike and link-local are spoofed', () => {
  const { router, alice } = setup();
  for (const src of ['fd74:7670:6e00:9::5', 'fd74:7670:6e00:1::1', 'fd74:7670:6e01:7::5', 'fd74:7671:6e00:7::5', 'fe80::5', '::']) {
    assert.equal(router.routeFromClient(alice, datagram(src, 'fd74:7670:6e00:1::1')), 'spoofed-source', src);
  }
});

test('property: any address in the client\'s /64 passes the source check; any other address in the network does not', () => {
  const { router, alice } = setup();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 0xffff }), (iid, subnet) => {
      const source = ipv6ToBytes('fd74:7670:6e00::');
      source[6] = subnet >>> 8;
      source[7] = subnet & 0xff;
      source.set(iid, 8);
      const verdict = router.routeFromClient(alice, datagram(bytesToIpv6(source), 'fd74:7670:6e00:1::1'));
      assert.equal(verdict, subnet === 7 ? 'adapter' : 'spoofed-source');
    }),
  );
});

test('forbidden destinations: multicast, link-local, loopback, unspecified, IPv4-mapped, its own /64', () => {
  const { router, alice } = setup();
  for (const dst of ['ff02::1', 'ff05::1:3', 'fe80::1', '::1', '::', '::ffff:10.77.0.1', 'fd74:7670:6e00:7::9']) {
    assert.equal(router.routeFromClient(alice, datagram(ALICE, dst)), 'forbidden-destination', dst);
  }
  assert.equal(router.routeFromClient(alice, new Uint8Array(30)), 'malformed');
});

test('from the server\'s kernel: to the tunnel owning the destination /64, or no-client', () => {
  const { router, bob } = setup();
  assert.equal(router.routeToClient(datagram('2001:db8:99::10', 'fd74:7670:6e00:9::77')), 'client');
  assert.equal(router.peer, bob);
  assert.equal(router.routeToClient(datagram('2001:db8:99::10', 'fd74:7670:6e00:a::77')), 'no-client');
  assert.equal(router.routeToClient(datagram('2001:db8:99::10', 'fd74:7670:6e01:9::77')), 'no-client');
  assert.equal(router.routeToClient(new Uint8Array(10)), 'malformed');
});

test('fromClient/toClient carry the verdicts out: the adapter, a peer\'s link with EtherType 0x86DD, or a counted drop', () => {
  const counters = new Counters();
  const sent: Array<[string, number]> = [];
  const delivered: Uint8Array[] = [];
  const make = (name: string, address: string, accept = true): Tunnel => ({ ...tunnel(name, address), link: { sendDatagram: (etherType) => (sent.push([name, etherType]), accept) } });
  const alice = make('alice', '10.77.0.7');
  const bob = make('bob', '10.77.0.9');
  const busy = make('busy', '10.77.0.10', false);
  const router = new Router6(POOL, new Map([alice, bob, busy].map((t) => [t.address, t])), counters);
  router.adapter = { deliverSoon: (d) => delivered.push(d) };
  router.fromClient(alice, datagram(ALICE, 'fd74:7670:6e00:1::1'));
  router.fromClient(alice, datagram(ALICE, 'fd74:7670:6e00:9::1'));
  router.fromClient(alice, datagram(ALICE, 'fd74:7670:6e00:a::1'));
  router.fromClient(alice, datagram('fd74:7670:6e00:9::1', 'fd74:7670:6e00:1::1'));
  router.toClient(datagram('fd74:7670:99::10', 'fd74:7670:6e00:7::5'));
  router.toClient(datagram('fd74:7670:99::10', 'fd74:7670:6e00:55::5'));
  assert.equal(delivered.length, 1);
  assert.deepEqual(sent, [['bob', 0x86dd], ['busy', 0x86dd], ['alice', 0x86dd]]);
  assert.deepEqual(counters.snapshot(), { 'route6:client-to-client': 1, 'route6:drop:congested': 1, 'route6:drop:no-client': 1, 'route6:drop:spoofed-source': 1 });
});

test('IPv6 site networks: a branch\'s own sources only, its network routed to it by longest prefix, other clients only by client-to-client', () => {
  const { alice, bob, carol } = setup();
  const tunnels = new Map<number, Tunnel>([alice, bob, carol].map((t) => [t.address, t]));
  const byName = new Map([alice, bob, carol].map((t) => [t.name, t]));
  const router = new Router6(POOL, tunnels, new Counters(), (name) => byName.get(name));
  const net = (text: string, client: string) => ({ client, network: ipv6ToBytes(text.split('/')[0]!), prefixLength: Number(text.split('/')[1]) });
  router.setSites([net('fd74:7670:20::/48', 'bob'), net('fd74:7670:20:5::/64', 'alice'), net('fd74:7670:30::/64', 'carol')]);
  const cases: Array<[Tunnel, string, string, string]> = [
    [bob, 'fd74:7670:20::5', 'fd74:7670:6e00:1::1', 'adapter'], // a branch host to the server
    [bob, 'fd74:7670:20:5::9', 'fd74:7670:6e00:1::1', 'spoofed-source'], // inside bob's /48, but alice's /64
    [alice, 'fd74:7670:20:5::9', 'fd74:7670:6e00:1::1', 'adapter'],
    [bob, 'fd74:7670:21::5', 'fd74:7670:6e00:1::1', 'spoofed-source'], // outside every site
    [alice, ALICE, 'fd74:7670:20::77', 'client'], // to bob's site
    [alice, ALICE, 'fd74:7670:30::1', 'client-to-client-denied'], // carol does not allow it
    [carol, 'fd74:7670:6e00:c::1', 'fd74:7670:20::77', 'client-to-client-denied'],
    [bob, 'fd74:7670:20::5', 'fd74:7670:20::6', 'forbidden-destination'], // its own site, on its own LAN
  ];
  for (const [from, src, dst, expected] of cases) assert.equal(router.routeFromClient(from, datagram(src, dst)), expected, `${from.name}: ${src} → ${dst}`);
  assert.equal(router.routeToClient(datagram('2001:db8:99::10', 'fd74:7670:20:5::1')), 'client');
  assert.equal(router.peer, alice, 'the longest prefix wins');
  assert.equal(router.routeToClient(datagram('2001:db8:99::10', 'fd74:7670:20:6::1')), 'client');
  assert.equal(router.peer, bob);
  byName.delete('bob');
  assert.equal(router.routeToClient(datagram('2001:db8:99::10', 'fd74:7670:20:6::1')), 'no-client');
});
