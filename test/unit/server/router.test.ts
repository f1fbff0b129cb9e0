/**
 * The server's pure router: each verdict from hand-built datagrams, then
 * fast-check properties over random headers — a datagram whose source is
 * not the sender's address never goes anywhere; a forbidden destination
 * never goes anywhere; whatever goes to the adapter is the gateway or inside
 * one of the sender's routes; whatever goes to a client is that client's
 * address and both allow client-to-client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counters } from '../../../src/engine/counters.js';
import { ipv4ToNumber } from '../../../src/wire/addr.js';
import { emitIpv4Header, IpProtocol } from '../../../src/wire/ipv4.js';
import { inAnyNetwork, isForbiddenDestination, Router, type RouteEntry } from '../../../src/server/router.js';

const NETWORK = { network: ipv4ToNumber('10.8.0.0'), prefixLength: 24 };
const GATEWAY = ipv4ToNumber('10.8.0.1');

interface Entry extends RouteEntry {
  sent: Uint8Array[];
}

function entry(address: string, clientToClient: boolean, routes: Array<[string, number]> = [['192.168.10.0', 24]], name = address): Entry {
  const sent: Uint8Array[] = [];
  return {
    name,
    address: ipv4ToNumber(address),
    clientToClient,
    routes: routes.map(([network, prefixLength]) => ({ network: ipv4ToNumber(network), prefixLength })),
    link: { sendDatagram: (_etherType, datagram) => (sent.push(datagram.slice()), true) },
    sent,
  };
}

function datagram(source: number, destination: number, payload = 8): Uint8Array {
  const out = new Uint8Array(20 + payload);
  emitIpv4Header(
    { typeOfService: 0, identification: 7, dontFragment: true, moreFragments: false, fragmentOffsetBytes: 0, timeToLive: 64, protocol: IpProtocol.ICMP, source, destination, options: new Uint8Array(0), payload: new Uint8Array(0) },
    payload,
    out,
    0,
  );
  return out;
}

function setup() {
  const counters = new Counters();
  const delivered: Uint8Array[] = [];
  const router = new Router<Entry>(NETWORK, GATEWAY, counters);
  router.adapter = { deliverSoon: (d) => void delivered.push(d.slice()) };
  const alice = entry('10.8.0.2', true);
  const bob = entry('10.8.0.3', true);
  const carol = entry('10.8.0.4', false, [['0.0.0.0', 0]]);
  for (const e of [alice, bob, carol]) router.tunnels.set(e.address, e);
  return { router, counters, delivered, alice, bob, carol };
}

const ip = ipv4ToNumber;

describe('Router verdicts', () => {
  it('routes to the gateway, the pushed routes and allowed peers; drops the rest with a reason', () => {
    const { router, alice, bob, carol } = setup();
    const cases: Array<[Entry, string, string, string]> = [
      [alice, '10.8.0.2', '10.8.0.1', 'adapter'],
      [alice, '10.8.0.2', '192.168.10.77', 'adapter'],
      [alice, '10.8.0.2', '8.8.8.8', 'not-routed'],
      [carol, '10.8.0.4', '8.8.8.8', 'adapter'], // carol's routes include a default route
      [alice, '10.8.0.2', '10.8.0.3', 'client'],
      [alice, '10.8.0.2', '10.8.0.4', 'client-to-client-denied'],
      [carol, '10.8.0.4', '10.8.0.2', 'client-to-client-denied'],
      [alice, '10.8.0.2', '10.8.0.99', 'no-client'],
      [alice, '10.8.0.3', '10.8.0.1', 'spoofed-source'],
      [alice, '10.8.0.2', '10.8.0.255', 'forbidden-destination'],
      [alice, '10.8.0.2', '10.8.0.0', 'forbidden-destination'],
      [carol, '10.8.0.4', '255.255.255.255', 'forbidden-destination'],
      [carol, '10.8.0.4', '224.0.0.1', 'forbidden-destination'],
      [carol, '10.8.0.4', '239.255.255.250', 'forbidden-destination'],
      [carol, '10.8.0.4', '127.0.0.1', 'forbidden-destination'],
      [carol, '10.8.0.4', '169.254.169.254', 'forbidden-destination'],
      [carol, '10.8.0.4', '0.0.0.0', 'forbidden-destination'],
      [carol, '10.8.0.4', '240.1.2.3', 'forbidden-destination'],
    ];
    for (const [from, src, dst, expected] of cases) {
      assert.equal(router.routeFromClient(from, 0x0800, datagram(ip(src), ip(dst))), expected, `${src} → ${dst}`);
    }
    assert.equal(router.routeFromClient(alice, 0x0800, datagram(ip('10.8.0.2'), ip('10.8.0.3'))), 'client');
    assert.equal(router.peer, bob);
  });

  it('drops what is not valid IPv4 before reading any address', () => {
    const { router, alice } = setup();
    const good = datagram(ip('10.8.0.2'), ip('10.8.0.1'));
    const badChecksum = good.slice();
    badChecksum[10]! ^= 1;
    const truncated = good.subarray(0, 19);
    const longerThanSent = good.slice();
    longerThanSent[3] = 200; // total length past the datagram
    assert.equal(router.routeFromClient(alice, 0x86dd, good), 'not-ipv4');
    for (const bad of [badChecksum, truncated, longerThanSent]) assert.equal(router.routeFromClient(alice, 0x0800, bad), 'malformed');
  });

  it('carries verdicts out: the adapter, the peer\'s link, or a counted drop', () => {
    const { router, counters, delivered, alice, bob } = setup();
    router.fromClient(alice, 0x0800, datagram(ip('10.8.0.2'), ip('192.168.10.5')));
    router.fromClient(alice, 0x0800, datagram(ip('10.8.0.2'), ip('10.8.0.3')));
    router.fromClient(alice, 0x0800, datagram(ip('10.8.0.9'), ip('10.8.0.3')));
    router.toClient(datagram(ip('192.168.10.5'), ip('10.8.0.2')));
    router.toClient(datagram(ip('192.168.10.5'), ip('10.8.0.42')));
    assert.equal(delivered.length, 1);
    assert.equal(bob.sent.length, 1);
    assert.equal(alice.sent.length, 1);
    assert.deepEqual(counters.snapshot(), { 'route:client-to-client': 1, 'route:drop:no-client': 1, 'route:drop:spoofed-source': 1 });
  });
});

describe('Router properties (fast-check)', () => {
  const address = fc.integer({ min: 0, max: 0xffffffff });

  it('only the sender\'s own source ever leaves, never to a forbidden destination, only where policy allows', () => {
    fc.assert(
      fc.property(address, address, fc.boolean(), fc.constantFrom<'alice' | 'bob' | 'carol'>('alice', 'bob', 'carol'), (source, destination, ownSource, who) => {
        const s = setup();
        const from = s[who];
        const src = ownSource ? from.address : source;
        const verdict = s.router.routeFromClient(from, 0x0800, datagram(src, destination));
        if (verdict !== 'adapter' && verdict !== 'client') return;
        assert.equal(src, from.address, 'a forwarded datagram carries its sender\'s address');
        assert.ok(!isForbiddenDestination(destination), 'never a forbidden destination');
        if (verdict === 'adapter') assert.ok(destination === GATEWAY || inAnyNetwork(destination, from.routes), 'adapter: the gateway or a pushed route');
        if (verdict === 'client') {
          assert.equal(s.router.peer!.address, destination);
          assert.ok(from.clientToClient && s.router.peer!.clientToClient);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary bytes, and allocates no verdict object (a string each time)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 0xffff }), (bytes, etherType) => {
        const s = setup();
        const verdict = s.router.routeFromClient(s.alice, etherType, bytes);
        assert.equal(typeof verdict, 'string');
        assert.equal(typeof s.router.routeToClient(bytes), 'string');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('receiverFor: the data plane hands each verified datagram straight to the router', () => {
  it('IPv4 is routed here; IPv6 goes to the IPv6 router when there is one, and is dropped as not-ipv4 when there is none', () => {
    const counters = new Counters();
    const router = new Router<Entry>(NETWORK, GATEWAY, counters);
    const delivered: Uint8Array[] = [];
    router.adapter = { deliverSoon: (d) => void delivered.push(d.slice()) };
    const alice = entry('10.8.0.2', false);
    router.tunnels.set(alice.address, alice);
    const receive = router.receiverFor(alice);
    receive(0x0800, datagram(alice.address, GATEWAY));
    assert.equal(delivered.length, 1, 'the IPv4 datagram to the gateway reached the adapter');
    const ipv6 = new Uint8Array(40);
    ipv6[0] = 0x60;
    receive(0x86dd, ipv6);
    assert.equal(counters.get('route:drop:not-ipv4'), 1, 'no IPv6 pool: counted, not delivered');
    const seen: Array<[Entry, number]> = [];
    router.v6 = { fromClient: (from, d) => void seen.push([from, d.length]) };
    receive(0x86dd, ipv6);
    assert.deepEqual(seen, [[alice, 40]]);
    assert.equal(delivered.length, 1);
  });
});

describe('per-tunnel drops: what tapvpn status shows in the tunnel row', () => {
  it('a drop is counted on the sending tunnel as well as server-wide; other tunnels stay clean', () => {
    const counters = new Counters();
    const router = new Router<Entry & { drops: Counters }>(NETWORK, GATEWAY, counters);
    router.adapter = { deliverSoon: () => undefined };
    const alice = { ...entry('10.8.0.2', false), drops: new Counters() };
    const bob = { ...entry('10.8.0.3', false), drops: new Counters() };
    router.tunnels.set(alice.address, alice);
    router.tunnels.set(bob.address, bob);
    router.fromClient(alice, 0x0800, datagram(bob.address, GATEWAY)); // alice claims bob's address
    router.fromClient(alice, 0x0800, datagram(alice.address, ipv4ToNumber('127.0.0.1')));
    router.fromClient(bob, 0x0800, datagram(bob.address, GATEWAY)); // fine
    assert.deepEqual(alice.drops.snapshot(), { 'route:drop:forbidden-destination': 1, 'route:drop:spoofed-source': 1 });
    assert.deepEqual(bob.drops.snapshot(), {});
    assert.equal(counters.get('route:drop:spoofed-source'), 1);
  });
});

describe('site networks (site-to-site): the networks configured behind a client', () => {
  // alice and bob are branch gateways that allow client-to-client; carol has a default route and does not;
  // dave's /24 lies inside bob's /16 (the config refuses that, the router still takes the longest prefix).
  const SITES: Array<[string, string, number]> = [
    ['alice', '10.20.0.0', 24],
    ['alice', '10.20.8.0', 22],
    ['bob', '10.30.0.0', 16],
    ['dave', '10.30.7.0', 24],
    ['carol', '172.16.5.0', 24],
  ];

  function sites() {
    const counters = new Counters();
    const delivered: Uint8Array[] = [];
    const router = new Router<Entry>(NETWORK, GATEWAY, counters);
    router.adapter = { deliverSoon: (d) => void delivered.push(d.slice()) };
    router.setSites(SITES.map(([client, network, prefixLength]) => ({ client, network: ip(network), prefixLength })));
    const alice = entry('10.8.0.2', true, [['192.168.10.0', 24]], 'alice');
    const bob = entry('10.8.0.3', true, [['192.168.10.0', 24]], 'bob');
    const carol = entry('10.8.0.4', false, [['0.0.0.0', 0]], 'carol');
    const dave = entry('10.8.0.5', true, [['192.168.10.0', 24]], 'dave');
    for (const e of [alice, bob, carol, dave]) router.add(e);
    return { router, counters, delivered, alice, bob, carol, dave };
  }

  /** Which client's site holds `address`, by brute force: the longest configured prefix containing it. */
  function owner(address: number): string | undefined {
    let best: [string, number] | undefined;
    for (const [client, network, prefixLength] of SITES) {
      if (inAnyNetwork(address, [{ network: ip(network), prefixLength }]) && (!best || prefixLength > best[1])) best = [client, prefixLength];
    }
    return best?.[0];
  }

  it('accepts sources inside the sender\'s own networks only, and routes to other sites by client-to-client', () => {
    const s = sites();
    const cases: Array<[Entry, string, string, string]> = [
      [s.alice, '10.20.0.5', '192.168.10.7', 'adapter'], // a branch host reaches the server's LAN
      [s.alice, '10.20.11.200', '10.8.0.1', 'adapter'], // the second network, to the gateway
      [s.alice, '10.20.0.5', '10.30.1.1', 'client'], // branch to branch: bob's site
      [s.alice, '10.20.0.5', '10.30.7.1', 'client'], // inside bob's /16 but dave's /24: dave
      [s.bob, '10.30.0.5', '10.8.0.2', 'client'], // a branch host to a client's address
      [s.alice, '10.21.0.5', '192.168.10.7', 'spoofed-source'], // outside every site
      [s.alice, '10.30.0.5', '192.168.10.7', 'spoofed-source'], // bob's site: not alice's to claim
      [s.bob, '10.30.7.9', '192.168.10.7', 'spoofed-source'], // dave's /24 inside bob's /16 is dave's
      [s.dave, '10.30.7.9', '192.168.10.7', 'adapter'],
      [s.carol, '10.8.0.4', '10.20.0.5', 'client-to-client-denied'], // a default route does not carry around the policy
      [s.alice, '10.20.0.5', '172.16.5.1', 'client-to-client-denied'], // carol does not allow it
      [s.alice, '10.8.0.2', '10.20.0.9', 'forbidden-destination'], // its own site is on its own LAN
      [s.alice, '10.20.0.5', '10.20.0.255', 'forbidden-destination'], // a site's broadcast is the site's business, never routed back to it
      [s.dave, '10.8.0.5', '10.8.0.5', 'forbidden-destination'], // its own tunnel address: not back into its own tunnel
    ];
    for (const [from, src, dst, expected] of cases) assert.equal(s.router.routeFromClient(from, 0x0800, datagram(ip(src), ip(dst))), expected, `${from.name}: ${src} → ${dst}`);
    assert.equal(s.router.routeFromClient(s.alice, 0x0800, datagram(ip('10.20.0.5'), ip('10.30.7.1'))), 'client');
    assert.equal(s.router.peer, s.dave, 'the longest prefix wins');
  });

  it('the server\'s kernel reaches a site through its client\'s tunnel; an offline site is no-client', () => {
    const s = sites();
    assert.equal(s.router.routeToClient(datagram(ip('192.168.10.7'), ip('10.20.9.1'))), 'client');
    assert.equal(s.router.peer, s.alice);
    assert.equal(s.router.routeToClient(datagram(ip('192.168.10.7'), ip('10.30.200.1'))), 'client');
    assert.equal(s.router.peer, s.bob);
    s.router.remove(s.bob);
    assert.equal(s.router.routeToClient(datagram(ip('192.168.10.7'), ip('10.30.200.1'))), 'no-client', 'bob is gone: nobody else gets his site');
    assert.equal(s.router.routeFromClient(s.alice, 0x0800, datagram(ip('10.20.0.5'), ip('10.30.200.1'))), 'no-client');
    s.router.toClient(datagram(ip('192.168.10.7'), ip('10.20.0.5')));
    assert.equal(s.alice.sent.length, 1);
  });

  it('a replaced tunnel\'s removal leaves the newer tunnel its site', () => {
    const s = sites();
    const newer = entry('10.8.0.2', true, [['192.168.10.0', 24]], 'alice');
    assert.equal(s.router.add(newer), s.alice);
    assert.equal(s.router.remove(s.alice), false);
    assert.equal(s.router.routeToClient(datagram(ip('192.168.10.7'), ip('10.20.0.5'))), 'client');
    assert.equal(s.router.peer, newer);
  });

  it('properties: a source leaves only from its own lease or site; a site destination goes only to its owner, by longest prefix, where both allow it', () => {
    const address = fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.constantFrom(...SITES.map(([, network]) => ip(network))).chain((base) => fc.integer({ min: 0, max: 0x1ffff }).map((offset) => (base + offset) >>> 0)),
      fc.integer({ min: 0, max: 255 }).map((host) => (NETWORK.network + host) >>> 0),
    );
    fc.assert(
      fc.property(address, address, fc.constantFrom<'alice' | 'bob' | 'carol' | 'dave'>('alice', 'bob', 'carol', 'dave'), (source, destination, who) => {
        const s = sites();
        const from = s[who];
        const verdict = s.router.routeFromClient(from, 0x0800, datagram(source, destination));
        const toKernel = s.router.routeToClient(datagram(ip('192.168.10.7'), destination));
        const siteOwner = owner(destination);
        if (siteOwner && !(destination >= NETWORK.network && destination <= NETWORK.network + 255)) assert.equal(toKernel === 'client' ? s.router.peer!.name : undefined, siteOwner, 'the kernel\'s datagram goes to the site\'s owner');
        if (verdict !== 'adapter' && verdict !== 'client') return;
        assert.ok(source === from.address || owner(source) === from.name, `source ${source} is the sender's lease or in its own site`);
        assert.ok(!isForbiddenDestination(destination));
        if (verdict === 'adapter') assert.ok(destination === GATEWAY || (owner(destination) === undefined && inAnyNetwork(destination, from.routes)), 'adapter: the gateway or a pushed route outside every site');
        if (verdict === 'client') {
          const peer = s.router.peer!;
          assert.ok(peer.address === destination || owner(destination) === peer.name, 'the peer owns the destination');
          assert.ok(from.clientToClient && peer.clientToClient && peer !== from);
        }
      }),
      // No shrinking: through oneof and chain it can take minutes; the failing values are printed as found.
      { numRuns: 3000, endOnFailure: true },
    );
  });
});
