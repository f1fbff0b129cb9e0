/**
 * Site to site in one process, no root (issue 14, the patent's Fig. 3): a
 * branch client with a LAN behind it (`networks` on the server, `forward`
 * on the client), a road warrior and a client without client-to-client,
 * over the real ServerCore and ClientCores, real crypto, memory streams and
 * memory adapters whose far ends play the kernels. The server's host
 * reaches the branch LAN and back; the road warrior gets the branch network
 * pushed and reaches it; the branch does not get its own network pushed;
 * a source outside the branch's networks is dropped as spoofed; a client
 * without client-to-client cannot reach the branch even with a default route;
 * a reload adds and removes a branch network at once.
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
const BRANCH_HOST = '10.20.0.5';
const SERVER_HOST_MAC = '02:00:00:00:00:53';
const keys = { server: generateKeyPair(), branch: generateKeyPair(), roamer: generateKeyPair(), closed: generateKeyPair() };

function configWith(branchNetworks: string[]) {
  return serverConfigSchema.parse({
    private_key_file: '/unused/server.key',
    client_to_client: true,
    tunnel: { network: '10.99.0.0/24', routes: ['192.168.50.0/24'], routes_may_cover_networks: true },
    clients: [
      { name: 'branch', public_key: encodeKey(keys.branch.publicKey), networks: branchNetworks },
      { name: 'roamer', public_key: encodeKey(keys.roamer.publicKey) },
      { name: 'closed', public_key: encodeKey(keys.closed.publicKey), client_to_client: false, routes: ['0.0.0.0/0'] },
    ],
  });
}

describe('site to site in process', () => {
  let server: ServerCore;
  let serverHost: MemoryHost;
  let listener: MemoryListener;
  const cores: ClientCore[] = [];
  const hosts: Record<string, () => MemoryHost> = {};
  const address: Record<string, string> = {};

  function startClient(name: string, pair: StaticKeyPair, forwarding: boolean): ClientCore {
    let host: MemoryHost | undefined;
    const core = new ClientCore({
      machine: { crypto: realCrypto, local: pair, serverPublicKey: keys.server.publicKey, name, path: ['vpn.test:5555'], reconnect: { minDelayMs: 50, maxDelayMs: 200 } },
      openDevice: async (lease) => {
        const [device, hostSide] = createMemoryPair({ mtu: lease.mtu });
        host = new MemoryHost(hostSide);
        return { device, start: async () => undefined, close: () => device.close() };
      },
      dial: listener.dialFrom(`198.51.100.${cores.length + 1}`),
      log,
      autoTick: false,
      forwarding,
    });
    cores.push(core);
    hosts[name] = () => host!;
    return core;
  }

  const dropped = (reason: string): number => server.counters.get(`route:drop:${reason}`);

  before(async () => {
    const config = configWith(['10.20.0.0/24']);
    const [device, hostSide] = createMemoryPair({ mtu: config.adapter.mtu });
    serverHost = new MemoryHost(hostSide, SERVER_HOST_MAC);
    listener = new MemoryListener();
    const leases = await LeaseStore.open(leasePoolOf(config), undefined);
    server = new ServerCore({ config, local: keys.server, crypto: realCrypto, replayGuard: new TimestampGuard(), leases, device, hostMac: SERVER_HOST_MAC, connections: listener, log, autoTick: false });
    startClient('branch', keys.branch, true);
    startClient('roamer', keys.roamer, false);
    startClient('closed', keys.closed, false);
    await eventually('three authorized tunnels', () => server.activeTunnels === 3 && cores.every((c) => c.pseudoAdapter !== undefined), 10_000);
    for (const name of ['branch', 'roamer', 'closed']) address[name] = await hosts[name]!().takeLease();
  });

  after(async () => {
    await Promise.all(cores.map((c) => c.stop()));
    await server.stop();
  });

  it('pushes the branch network to the road warrior, not to the branch itself nor to a client without client-to-client', () => {
    const routes = (i: number): string[] => cores[i]!.lease!.routes.map((r) => `${r.destination}/${r.prefixLength}`);
    assert.deepEqual(routes(0), ['192.168.50.0/24']);
    assert.deepEqual(routes(1), ['192.168.50.0/24', '10.20.0.0/24']);
    assert.deepEqual(routes(2), ['0.0.0.0/0']);
  });

  it('the server\'s host reaches a branch host and the branch host answers, through the branch client\'s adapter', async () => {
    serverHost.device.writeFrames([ipv4Frame({ dstMac: DEFAULT_CLIENT_MAC, srcMac: SERVER_HOST_MAC, src: LAN_HOST, dst: BRANCH_HOST })]);
    await hosts.branch!().expect(LAN_HOST, BRANCH_HOST, 'the LAN host\'s datagram on the branch client\'s adapter (its kernel forwards it on)');
    hosts.branch!().ping(BRANCH_HOST, LAN_HOST); // the branch kernel forwarding its LAN host's reply: a source that is not the lease
    await serverHost.expect(BRANCH_HOST, LAN_HOST, 'the branch host\'s datagram on the server adapter');
  });

  it('a road warrior reaches the branch LAN, client to client', async () => {
    hosts.roamer!().ping(address.roamer!, BRANCH_HOST);
    await hosts.branch!().expect(address.roamer!, BRANCH_HOST, 'roamer → branch host');
    hosts.branch!().ping(BRANCH_HOST, address.roamer!);
    await hosts.roamer!().expect(BRANCH_HOST, address.roamer!, 'branch host → roamer');
  });

  it('a source outside the branch\'s configured networks is dropped as spoofed and counted', async () => {
    const before = dropped('spoofed-source');
    hosts.branch!().ping('10.21.0.5', LAN_HOST); // the branch adapter forwards any source: the server judges
    await eventually('the spoofed datagram counted', () => dropped('spoofed-source') === before + 1, 5_000);
    assert.equal(serverHost.has('10.21.0.5', LAN_HOST), false);
  });

  it('a client without client-to-client cannot reach the branch LAN, even with a default route', async () => {
    const before = dropped('client-to-client-denied');
    assert.ok(cores[2]!.driver.sendDatagram(0x0800, icmpDatagram(address.closed!, BRANCH_HOST)));
    await eventually('denied and counted', () => dropped('client-to-client-denied') === before + 1, 5_000);
    assert.equal(hosts.branch!().has(address.closed!, BRANCH_HOST), false);
    assert.equal(serverHost.has(address.closed!, BRANCH_HOST), false, 'not handed to the server\'s kernel either');
  });

  it('a reload that adds a network routes it to the branch at once, and one that removes it stops accepting it', async () => {
    const fromLan = (destination: string): void => void serverHost.device.writeFrames([ipv4Frame({ dstMac: DEFAULT_CLIENT_MAC, srcMac: SERVER_HOST_MAC, src: LAN_HOST, dst: destination })]);
    server.reload(configWith(['10.20.0.0/24', '10.20.1.0/24']));
    fromLan('10.20.1.7');
    await hosts.branch!().expect(LAN_HOST, '10.20.1.7', 'the added network reaches the branch (the server adapter takes it too)');
    hosts.branch!().ping('10.20.1.7', LAN_HOST);
    await serverHost.expect('10.20.1.7', LAN_HOST, 'and its hosts are accepted as sources');
    const before = dropped('spoofed-source');
    server.reload(configWith(['10.20.0.0/24']));
    hosts.branch!().ping('10.20.1.8', LAN_HOST);
    await eventually('a source in the removed network dropped as spoofed', () => dropped('spoofed-source') === before + 1, 5_000);
  });
});
