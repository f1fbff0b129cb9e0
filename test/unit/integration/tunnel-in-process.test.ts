/**
 * Client ↔ server ↔ client in one process, no root: the real ServerCore
 * and ClientCores, real crypto, over in-memory byte streams (the one driver)
 * and in-memory adapter pairs whose far ends play the hosts. Covers the
 * handshake, DHCP through the client's emulator, ping-shaped datagrams both
 * ways, client-to-client allowed and denied, a spoofed source, forbidden
 * destinations and the replacement of a tunnel by a newer connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import { ClientCore } from '../../../src/client/core.js';
import { serverConfigSchema } from '../../../src/config/schema.js';
import { realCrypto, TimestampGuard } from '../../../src/crypto/index.js';
import { encodeKey, generateKeyPair, type StaticKeyPair } from '../../../src/crypto/keys.js';
import { MemoryListener } from '../../../src/io/memory-stream.js';
import { DEFAULT_CLIENT_MAC } from '../../../src/lease.js';
import { ServerCore } from '../../../src/server/core.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { leasePoolOf } from '../../../src/server/policy.js';
import { ipv4Frame } from '../engine/frames.js';
import { eventually } from '../../support/eventually.js';
import { icmpDatagram, MemoryHost } from '../../support/memory-host.js';

const log = pino({ level: 'silent' });
const LAN_HOST = '192.168.50.10';
const SERVER_HOST_MAC = '02:00:00:00:00:53';
const keys = { server: generateKeyPair(), alice: generateKeyPair(), bob: generateKeyPair(), carol: generateKeyPair() };

interface RunningClient {
  core: ClientCore;
  host(): MemoryHost;
}

describe('client ↔ server ↔ client in process', () => {
  let server: ServerCore;
  let serverHost: MemoryHost;
  let listener: MemoryListener;
  const clients: RunningClient[] = [];
  const address: Record<string, string> = {};

  function startClient(name: string, pair: StaticKeyPair, source: string): RunningClient {
    let host: MemoryHost | undefined;
    const core = new ClientCore({
      machine: { crypto: realCrypto, local: pair, serverPublicKey: keys.server.publicKey, name, path: ['vpn.test:5555'], reconnect: { minDelayMs: 50, maxDelayMs: 200 } },
      openDevice: async (lease) => {
        const [device, hostSide] = createMemoryPair({ mtu: lease.mtu });
        host = new MemoryHost(hostSide);
        return { device, start: async () => undefined, close: () => device.close() };
      },
      dial: listener.dialFrom(source),
      log,
      autoTick: false,
    });
    const client = { core, host: () => host! };
    clients.push(client);
    return client;
  }

  const dropped = (reason: string): number => server.counters.get(`route:drop:${reason}`);

  before(async () => {
    const config = serverConfigSchema.parse({
      private_key_file: '/unused/server.key',
      client_to_client: true,
      tunnel: { network: '10.99.0.0/24', routes: ['192.168.50.0/24'] },
      clients: [
        { name: 'alice', public_key: encodeKey(keys.alice.publicKey) },
        { name: 'bob', public_key: encodeKey(keys.bob.publicKey) },
        { name: 'carol', public_key: encodeKey(keys.carol.publicKey), client_to_client: false },
      ],
    });
    const [device, hostSide] = createMemoryPair({ mtu: config.adapter.mtu });
    serverHost = new MemoryHost(hostSide, SERVER_HOST_MAC);
    listener = new MemoryListener();
    const leases = await LeaseStore.open(leasePoolOf(config), undefined);
    server = new ServerCore({ config, local: keys.server, crypto: realCrypto, replayGuard: new TimestampGuard(), leases, device, hostMac: SERVER_HOST_MAC, connections: listener, log, autoTick: false });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.core.stop()));
    await server.stop();
  });

  it('authorizes three clients; each host takes its lease from the emulator over DHCP', async () => {
    startClient('alice', keys.alice, '198.51.100.1');
    startClient('bob', keys.bob, '198.51.100.2');
    startClient('carol', keys.carol, '198.51.100.3');
    await eventually('three authorized tunnels', () => server.activeTunnels === 3 && clients.every((c) => c.core.pseudoAdapter !== undefined), 10_000);
    for (const [i, name] of ['alice', 'bob', 'carol'].entries()) {
      const client = clients[i]!;
      address[name] = await client.host().takeLease();
      assert.equal(address[name], client.core.lease?.address, `${name}: DHCP hands out the tunnel lease`);
    }
    assert.equal(new Set(Object.values(address)).size, 3);
  });

  it('a ping reaches the LAN side of the server, and the reply comes back', async () => {
    clients[0]!.host().ping(address.alice!, LAN_HOST);
    const request = await serverHost.expect(address.alice!, LAN_HOST, 'the echo request on the server adapter');
    assert.deepEqual([...request.payload.subarray(8)], new Array(56).fill(0x5a));
    serverHost.device.writeFrames([ipv4Frame({ dstMac: DEFAULT_CLIENT_MAC, srcMac: SERVER_HOST_MAC, src: LAN_HOST, dst: address.alice! })]);
    await clients[0]!.host().expect(LAN_HOST, address.alice!, 'the reply on alice\'s adapter');
  });

  it('client to client when both allow it, and not when one does not', async () => {
    clients[0]!.host().ping(address.alice!, address.bob!);
    await clients[1]!.host().expect(address.alice!, address.bob!, 'alice → bob on bob\'s adapter');
    assert.equal(server.counters.get('route:client-to-client'), 1);
    clients[2]!.host().ping(address.carol!, address.alice!);
    await eventually('carol → alice dropped as denied', () => dropped('client-to-client-denied') === 1, 5_000);
    assert.equal(clients[0]!.host().has(address.carol!, address.alice!), false);
  });

  it('a datagram with another client\'s source address is dropped (spoofing)', async () => {
    // Straight into alice's tunnel: her own adapter would refuse to send it.
    assert.ok(clients[0]!.core.driver.sendDatagram(0x0800, icmpDatagram(address.bob!, LAN_HOST)));
    await eventually('the spoofed datagram counted', () => dropped('spoofed-source') === 1, 5_000);
    assert.equal(serverHost.has(address.bob!, LAN_HOST), false);
  });

  it('broadcast, multicast, loopback, link-local, 0/8, 240/4 and unrouted destinations are dropped with their reasons', async () => {
    const forbidden = ['255.255.255.255', '10.99.0.255', '224.0.0.251', '127.0.0.1', '169.254.1.1', '0.1.2.3', '240.0.0.1'];
    for (const destination of forbidden) clients[0]!.core.driver.sendDatagram(0x0800, icmpDatagram(address.alice!, destination));
    clients[0]!.core.driver.sendDatagram(0x0800, icmpDatagram(address.alice!, '8.8.8.8'));
    await eventually('every forbidden destination counted', () => dropped('forbidden-destination') === forbidden.length && dropped('not-routed') === 1, 5_000);
    for (const destination of [...forbidden, '8.8.8.8']) assert.equal(serverHost.has(address.alice!, destination), false, destination);
  });

  it('a newer connection of the same client replaces the older one and keeps its address', async () => {
    const first = clients[0]!;
    const second = startClient('alice', keys.alice, '198.51.100.9');
    await eventually('the second alice authorized', () => second.core.pseudoAdapter !== undefined, 10_000);
    // The server closed the old tunnel with REPLACED, sealed (by: peer), after its grace for datagrams in flight.
    const lastClose = () => first.core.monitor.snapshot({}).lastClose;
    await eventually('the old tunnel closed by the server', () => lastClose()?.code === 'REPLACED', 5_000);
    assert.equal(lastClose()?.by, 'peer');
    assert.match(lastClose()?.reason ?? '', /replaced/);
    await first.core.stop();
    assert.equal(server.activeTunnels, 3);
    assert.equal(second.core.lease?.address, address.alice);
    assert.equal(await second.host().takeLease(), address.alice);
    second.host().ping(address.alice!, '192.168.50.11');
    await serverHost.expect(address.alice!, '192.168.50.11', 'a ping through the new tunnel');
  });
});
