/**
 * IPv6 carriers on real sockets (issue 14), no root: a ServerCore (memory
 * adapter) listening on `[::]` accepts a client dialing `[::1]` and one
 * dialing `127.0.0.1` (dual-stack), and a relay listening on `[::1]`
 * forwards a third client to that server at `[::1]`, its next-hop allow-list
 * written in another spelling of the same address. The server knows each
 * peer by one form of its address: `[::1]:port`, and `127.0.0.1:port` — not
 * the `::ffff:127.0.0.1` a dual-stack socket reports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import { ClientCore } from '../../../src/client/core.js';
import { serverTarget } from '../../../src/client/server-rotation.js';
import { parseConfigText } from '../../../src/config/load.js';
import { relayConfigSchema } from '../../../src/config/relay-schema.js';
import { serverConfigSchema } from '../../../src/config/schema.js';
import { realCrypto, TimestampGuard } from '../../../src/crypto/index.js';
import { encodeKey, generateKeyPair, type StaticKeyPair } from '../../../src/crypto/keys.js';
import { listenTcp, dialTcp, type TcpListener } from '../../../src/io/tcp.js';
import { ServerCore } from '../../../src/server/core.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { leasePoolOf } from '../../../src/server/policy.js';
import { startRelay, type RelayHandle } from '../../../src/relay/run.js';
import { eventually } from '../../support/eventually.js';

const keys = { server: generateKeyPair(), six: generateKeyPair(), four: generateKeyPair(), relayed: generateKeyPair() };
const lines: string[] = [];
const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) }));
const quiet = pino({ level: 'silent' });

/** A port free on `host` now (the relay's config wants a real one). */
async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, host, () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The server's tunnel.opened events by client name: the peer it saw. */
function openedPeers(): Map<string, string> {
  const peers = new Map<string, string>();
  for (const line of lines) {
    const event = JSON.parse(line) as { event?: string; client?: string; peer?: string };
    if (event.event === 'tunnel.opened' && event.client && event.peer) peers.set(event.client, event.peer);
  }
  return peers;
}

describe('IPv6 carriers on loopback sockets', () => {
  let listener: TcpListener;
  let server: ServerCore;
  let relay: RelayHandle;
  const cores: ClientCore[] = [];

  function startClient(name: string, pair: StaticKeyPair, address: string, port: number, relays: string[] = []): ClientCore {
    const core = new ClientCore({
      machine: { crypto: realCrypto, local: pair, name, ...serverTarget({ address, port, public_key: encodeKey(keys.server.publicKey) }, relays, 'server.public_key'), reconnect: { minDelayMs: 200, maxDelayMs: 500 } },
      openDevice: async (lease) => {
        const [device] = createMemoryPair({ mtu: lease.mtu });
        return { device, start: async () => undefined, close: () => device.close() };
      },
      dial: dialTcp(2000),
      log: quiet,
    });
    cores.push(core);
    return core;
  }

  before(async () => {
    listener = await listenTcp('::', 0, () => undefined);
    const config = serverConfigSchema.parse({
      private_key_file: '/unused/server.key',
      listen: { address: '::', port: listener.port },
      tunnel: { network: '10.99.0.0/24' },
      clients: [
        { name: 'six', public_key: encodeKey(keys.six.publicKey) },
        { name: 'four', public_key: encodeKey(keys.four.publicKey) },
        { name: 'relayed', public_key: encodeKey(keys.relayed.publicKey) },
      ],
    });
    const [device] = createMemoryPair({ mtu: config.adapter.mtu });
    const leases = await LeaseStore.open(leasePoolOf(config), undefined);
    server = new ServerCore({ config, local: keys.server, crypto: realCrypto, replayGuard: new TimestampGuard(), leases, device, hostMac: '02:00:00:00:00:53', connections: listener, log });
    // The allow-list spells the server's address long-hand; the client's path has [::1].
    const relayConfig = parseConfigText(
      relayConfigSchema,
      `name = "[::1]:7000"\n[listen]\naddress = "::1"\nport = ${await freePort('::1')}\n[next_hops]\nservers = ["[0:0:0:0:0:0:0:1]:${listener.port}"]\n[control]\nenabled = false\n`,
      'relay.toml',
    );
    relay = await startRelay(relayConfig, log);
  });

  after(async () => {
    await Promise.all(cores.map((c) => c.stop()));
    await relay?.stop();
    await server?.stop();
    await listener?.close();
  });

  it('a server on [::] takes a client dialing [::1] and one dialing 127.0.0.1, each known by one form of its address', async () => {
    startClient('six', keys.six, '::1', listener.port);
    startClient('four', keys.four, '127.0.0.1', listener.port);
    await eventually('both clients authorized', () => cores.every((c) => c.lease !== undefined), 10_000);
    const peers = openedPeers();
    assert.match(peers.get('six') ?? '', /^\[::1\]:\d+$/, `the IPv6 client's peer: ${peers.get('six')}`);
    assert.match(peers.get('four') ?? '', /^127\.0\.0\.1:\d+$/, `the IPv4 client of the dual-stack listener, not ::ffff:127.0.0.1: ${peers.get('four')}`);
  });

  it('a relay on [::1] forwards to the server at [::1], its allow-list in another spelling of that address', async () => {
    // The relay's own name is [::1]:7000 but it listens on an ephemeral port: the client's path names it, the dial goes to the port.
    const core = new ClientCore({
      machine: { crypto: realCrypto, local: keys.relayed, name: 'relayed', ...serverTarget({ address: '::1', port: listener.port, public_key: encodeKey(keys.server.publicKey) }, ['[::1]:7000'], 'server.public_key'), reconnect: { minDelayMs: 200, maxDelayMs: 500 } },
      openDevice: async (lease) => {
        const [device] = createMemoryPair({ mtu: lease.mtu });
        return { device, start: async () => undefined, close: () => device.close() };
      },
      dial: (address, done) => dialTcp(2000)(address === '[::1]:7000' ? `[::1]:${relay.port}` : address, done),
      log: quiet,
    });
    cores.push(core);
    await eventually('the relayed client authorized', () => core.lease !== undefined, 10_000);
    assert.match(openedPeers().get('relayed') ?? '', /^\[::1\]:\d+$/, 'the server sees the relay at [::1]');
    const ready = lines.find((line) => line.includes('relay ready'));
    assert.match(ready ?? '', /"listen":"\[::1\]:\d+"/, `the relay names its listener with brackets: ${ready}`);
    assert.equal(relay.status().connectionsActive, 1);
  });
});
