/**
 * A client whose wall clock steps back an hour while it runs (NTP fixing a
 * fast clock, a VM resumed from a snapshot), over a real loopback listener
 * against a ServerCore whose replay guard is the production one (the last
 * accepted TAI64N per client, LeaseReplayGuard). The tunnel is cut; the next
 * REQUEST is made at the stepped-back clock. The guard refuses any REQUEST
 * not newer than the last it accepted, so the client's handshake timestamps
 * must stay increasing across the step (tai64n.ts: nextHandshakeTimestamp
 * never issues one below the last this process issued): the client is not
 * refused, reconnects on its first attempt and keeps its adapter and address.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, it, mock } from 'node:test';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import { ClientCore } from '../../../src/client/core.js';
import { serverConfigSchema } from '../../../src/config/schema.js';
import { realCrypto } from '../../../src/crypto/index.js';
import { encodeKey, generateKeyPair } from '../../../src/crypto/keys.js';
import { compareTai64n } from '../../../src/crypto/tai64n.js';
import type { Dial } from '../../../src/io/byte-stream.js';
import { listenTcp, type TcpListener } from '../../../src/io/tcp.js';
import { ServerCore } from '../../../src/server/core.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { leasePoolOf } from '../../../src/server/policy.js';
import { LeaseReplayGuard } from '../../../src/server/replay-guard.js';
import { eventually } from '../../support/eventually.js';

const log = pino({ level: 'silent' });
const STEP_BACK_MS = 3_600_000;
const keys = { server: generateKeyPair(), alice: generateKeyPair() };

/** Like support/eventually, but bounded by the monotonic clock: Date is mocked (frozen) once the clock has stepped. */
async function within(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out after ${timeoutMs / 1000} s waiting for: ${what}`);
}

let server: ServerCore;
let listener: TcpListener;
let leases: LeaseStore;
let client: ClientCore | undefined;
const sockets: Socket[] = [];

before(async () => {
  const config = serverConfigSchema.parse({
    private_key_file: '/unused/server.key',
    tunnel: { network: '10.97.0.0/24' },
    clients: [{ name: 'alice', public_key: encodeKey(keys.alice.publicKey) }],
  });
  listener = await listenTcp('127.0.0.1', 0, () => undefined);
  const [device] = createMemoryPair();
  leases = await LeaseStore.open(leasePoolOf(config), undefined);
  server = new ServerCore({ config, local: keys.server, crypto: realCrypto, replayGuard: new LeaseReplayGuard(leases), leases, device, hostMac: '02:00:00:00:00:53', connections: listener, log });
});

after(async () => {
  mock.timers.reset();
  await client?.stop();
  await server.stop();
  await listener.close();
});

it('a running client whose clock stepped back an hour between connections is not refused as a replay: it reconnects with its adapter and address', async () => {
  const dial: Dial = (_address, done) => {
    const socket = connect({ host: '127.0.0.1', port: listener.port });
    sockets.push(socket);
    socket.once('connect', () => done({ ok: true, stream: socket }));
    socket.once('error', (error) => done({ ok: false, reason: error.message }));
  };
  const [clientDevice] = createMemoryPair();
  let devicesOpened = 0;
  client = new ClientCore({
    machine: { crypto: realCrypto, local: keys.alice, serverPublicKey: keys.server.publicKey, name: 'alice', path: [`127.0.0.1:${listener.port}`], reconnect: { minDelayMs: 50, maxDelayMs: 200 } },
    openDevice: async () => {
      devicesOpened++;
      return { device: clientDevice, start: async () => undefined, close: () => clientDevice.close() };
    },
    dial,
    log,
  });
  await eventually('alice authorized', () => server.activeTunnels === 1 && client!.pseudoAdapter !== undefined, 10_000);
  const address = client.lease!.address;
  const firstStamp = Uint8Array.from(leases.lastHandshake(keys.alice.publicKey)!);

  // The wall clock (Date, which the handshake reads) steps back an hour; timers keep running.
  mock.timers.enable({ apis: ['Date'], now: Date.now() - STEP_BACK_MS });
  sockets.at(-1)!.destroy();
  await within('alice to reconnect', () => sockets.length >= 2 && server.activeTunnels === 1 && client!.monitor.snapshot({}).state === 'up', 10_000);

  const secondStamp = leases.lastHandshake(keys.alice.publicKey)!;
  assert.ok(compareTai64n(secondStamp, firstStamp) > 0, 'the server accepted a newer REQUEST timestamp despite the clock step');
  const snapshot = client.monitor.snapshot({});
  assert.notEqual(snapshot.lastClose?.code, undefined, 'the cut was seen');
  assert.equal(snapshot.lastClose?.by, 'network', `the only close was the cut, not a refusal: ${JSON.stringify(snapshot.lastClose)}`);
  assert.equal(sockets.length, 2, 'reconnected on the first attempt: no refused handshake in between');
  assert.equal(client.lease!.address, address, 'the same address');
  assert.equal(devicesOpened, 1, 'the adapter was kept, not reopened');
});
