/**
 * A client restarted while its clock is an hour behind the last REQUEST
 * timestamp the server accepted from it (its previous run had a fast clock,
 * since corrected; or a VM restored from an old snapshot). This process
 * issues its first timestamp from the wall clock, as a fresh start does, and
 * the server's replay guard (the production LeaseReplayGuard) holds a newer
 * one. The server refuses with STALE_TIMESTAMP sealed in its RESPONSE,
 * carrying the timestamp it holds; the client moves its timestamps past it
 * and connects on the next attempt, at once, and does not exit. A recorded
 * REQUEST replayed afterwards is still refused and changes nothing.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import { ClientCore } from '../../../src/client/core.js';
import { serverConfigSchema } from '../../../src/config/schema.js';
import { realCrypto } from '../../../src/crypto/index.js';
import { encodeKey, generateKeyPair } from '../../../src/crypto/keys.js';
import { compareTai64n, tai64nFromNs } from '../../../src/crypto/tai64n.js';
import type { Dial } from '../../../src/io/byte-stream.js';
import { listenTcp, type TcpListener } from '../../../src/io/tcp.js';
import { FrameType } from '../../../src/protocol/frames/header.js';
import { ServerCore } from '../../../src/server/core.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { leasePoolOf } from '../../../src/server/policy.js';
import { LeaseReplayGuard } from '../../../src/server/replay-guard.js';
import { eventually } from '../../support/eventually.js';

const log = pino({ level: 'silent' });
const AHEAD_MS = 3_600_000;
const keys = { server: generateKeyPair(), alice: generateKeyPair() };

let server: ServerCore;
let listener: TcpListener;
let leases: LeaseStore;
let client: ClientCore | undefined;
const sockets: Socket[] = [];
/** Bytes each client connection wrote, in order (the second one's start is a REQUEST the server accepted). */
const written: Buffer[][] = [];

before(async () => {
  const config = serverConfigSchema.parse({
    private_key_file: '/unused/server.key',
    tunnel: { network: '10.96.0.0/24' },
    clients: [{ name: 'alice', public_key: encodeKey(keys.alice.publicKey) }],
  });
  listener = await listenTcp('127.0.0.1', 0, () => undefined);
  const [device] = createMemoryPair();
  leases = await LeaseStore.open(leasePoolOf(config), undefined);
  // What the server kept from alice's previous run, when her clock was an hour ahead of the one she restarts with.
  leases.recordHandshake(keys.alice.publicKey, tai64nFromNs(BigInt(Date.now() + AHEAD_MS) * 1_000_000n));
  server = new ServerCore({ config, local: keys.server, crypto: realCrypto, replayGuard: new LeaseReplayGuard(leases), leases, device, hostMac: '02:00:00:00:00:53', connections: listener, log });
});

after(async () => {
  await client?.stop();
  await server.stop();
  await listener.close();
});

const recordingDial: Dial = (_address, done) => {
  const socket = connect({ host: '127.0.0.1', port: listener.port });
  const chunks: Buffer[] = [];
  written.push(chunks);
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: Uint8Array, ...rest: unknown[]) => (chunks.push(Buffer.from(chunk)), write(chunk, ...rest))) as Socket['write'];
  sockets.push(socket);
  socket.once('connect', () => done({ ok: true, stream: socket }));
  socket.once('error', (error) => done({ ok: false, reason: error.message }));
};

/** The first `count` frames of a byte stream (length u32 leads each frame). */
function firstFrames(bytes: Buffer, count: number): Buffer {
  let end = 0;
  for (let i = 0; i < count; i++) end += bytes.readUInt32BE(end);
  return bytes.subarray(0, end);
}

it('a client restarted with its clock an hour behind the stored timestamp connects after one authenticated STALE_TIMESTAMP refusal, and a replayed REQUEST is still refused', async () => {
  const stored = Uint8Array.from(leases.lastHandshake(keys.alice.publicKey)!);
  const [clientDevice] = createMemoryPair();
  client = new ClientCore({
    // A backoff far longer than the test: only an immediate retry can connect in time.
    machine: { crypto: realCrypto, local: keys.alice, serverPublicKey: keys.server.publicKey, name: 'alice', path: [`127.0.0.1:${listener.port}`], reconnect: { minDelayMs: 60_000, maxDelayMs: 120_000 } },
    openDevice: async () => ({ device: clientDevice, start: async () => undefined, close: () => clientDevice.close() }),
    dial: recordingDial,
    log,
  });
  let exited = false;
  void client.done.then(() => (exited = true));
  await eventually('alice authorized', () => server.activeTunnels === 1 && client!.monitor.snapshot({}).state === 'up', 10_000);

  const snapshot = client.monitor.snapshot({});
  assert.equal(snapshot.lastClose?.code, 'STALE_TIMESTAMP', `the one close before the tunnel: ${JSON.stringify(snapshot.lastClose)}`);
  assert.equal(snapshot.lastClose?.by, 'peer', 'the refusal came from the server, authenticated in its RESPONSE');
  assert.equal(sockets.length, 2, 'one refused attempt, then one that connected (at once: the backoff is a minute)');
  assert.equal(exited, false, 'the client did not exit');
  const accepted = leases.lastHandshake(keys.alice.publicKey)!;
  assert.ok(compareTai64n(accepted, stored) > 0, 'the server accepted a timestamp past the one it held');

  // An attacker replays the REQUEST that connected (RELAY + REQUEST as they were on the wire).
  const replay = firstFrames(Buffer.concat(written[1]!), 2);
  assert.equal(replay[4], FrameType.RELAY);
  const answer = await new Promise<Buffer>((resolve, reject) => {
    const attacker = connect({ host: '127.0.0.1', port: listener.port }, () => attacker.write(replay));
    const got: Buffer[] = [];
    attacker.on('data', (chunk) => got.push(chunk));
    attacker.once('close', () => resolve(Buffer.concat(got)));
    attacker.once('error', reject);
    attacker.setTimeout(10_000, () => reject(new Error('the server did not end the replayed connection')));
  });
  assert.equal(answer[4], FrameType.RESPONSE, 'the replay is refused inside a RESPONSE the replayer cannot open (it lacks the ephemeral key)');
  assert.deepEqual(leases.lastHandshake(keys.alice.publicKey), accepted, 'the replay moved nothing');
  assert.equal(server.activeTunnels, 1);
  assert.equal(client.monitor.snapshot({}).state, 'up', 'alice\'s tunnel is untouched');
});
