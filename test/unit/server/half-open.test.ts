/**
 * The half-open attack on a real loopback listener (issue 10 item 3): 200
 * connections that send nothing and never close their side, plus one that
 * announces a 64 KiB frame, against a ServerCore. The server refuses what is
 * over its per-source cap at once, closes the silent rest at the handshake
 * timeout and frees every one of their sockets although the attacker never
 * closes; the announced frame is refused from its length field; a legitimate
 * client from another address connects meanwhile.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import { ClientCore } from '../../../src/client/core.js';
import { serverConfigSchema } from '../../../src/config/schema.js';
import { realCrypto, TimestampGuard } from '../../../src/crypto/index.js';
import { encodeKey, generateKeyPair } from '../../../src/crypto/keys.js';
import type { Dial } from '../../../src/io/byte-stream.js';
import { listenTcp, type TcpListener } from '../../../src/io/tcp.js';
import { ServerCore } from '../../../src/server/core.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { leasePoolOf } from '../../../src/server/policy.js';
import { eventually } from '../../support/eventually.js';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';
import { parseClose } from '../../../src/protocol/frames/close.js';
import { FrameType } from '../../../src/protocol/frames/header.js';

const log = pino({ level: 'silent' });
const SILENT = 200;
const PER_SOURCE = 32;
const HANDSHAKE_TIMEOUT_MS = 1500;
const keys = { server: generateKeyPair(), alice: generateKeyPair() };
const openFds = (): number => readdirSync('/proc/self/fd').length;

let server: ServerCore;
let listener: TcpListener;
const attackers: Socket[] = [];
let client: ClientCore | undefined;

before(async () => {
  const config = serverConfigSchema.parse({
    private_key_file: '/unused/server.key',
    tunnel: { network: '10.98.0.0/24' },
    clients: [{ name: 'alice', public_key: encodeKey(keys.alice.publicKey) }],
  });
  listener = await listenTcp('127.0.0.1', 0, () => undefined);
  const [device] = createMemoryPair();
  const leases = await LeaseStore.open(leasePoolOf(config), undefined);
  server = new ServerCore({
    config, local: keys.server, crypto: realCrypto, replayGuard: new TimestampGuard(), leases, device, hostMac: '02:00:00:00:00:53',
    connections: listener, log, limits: { maxPerSource: PER_SOURCE }, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  });
});

after(async () => {
  await client?.stop();
  for (const socket of attackers) socket.destroy();
  await server.stop();
  await listener.close();
});

it(`${SILENT} silent, never-closing connections are freed by the handshake timeout while a client still connects`, async () => {
  const fdsBefore = openFds();
  const serverClosed = { count: 0 };
  for (let i = 0; i < SILENT; i++) {
    // allowHalfOpen: the attacker's side stays open after the server's FIN, as a hostile peer's would.
    const socket = connect({ host: '127.0.0.1', port: listener.port, allowHalfOpen: true });
    socket.on('end', () => serverClosed.count++);
    socket.resume(); // read (and drop) what the server sends, so its FIN is seen
    socket.on('error', () => undefined);
    attackers.push(socket);
  }
  await eventually('the server to hold its share of the silent connections', () => server.connectionCount === PER_SOURCE, 10_000);
  const fdsUnderAttack = openFds();

  const announced = connect({ host: '127.0.0.1', port: listener.port, localAddress: '127.0.0.3' }); // under its own source's cap
  const reply: Buffer[] = [];
  announced.on('data', (chunk) => reply.push(chunk));
  announced.on('error', () => undefined);
  announced.write(Uint8Array.of(0, 0, 0xfe, 0xe8, 1, 1)); // a 65,256-byte frame announced, body never sent
  attackers.push(announced);

  const dialFromOtherAddress: Dial = (_address, done) => {
    const socket = connect({ host: '127.0.0.1', port: listener.port, localAddress: '127.0.0.2' });
    socket.once('connect', () => done({ ok: true, stream: socket }));
    socket.once('error', (error) => done({ ok: false, reason: error.message }));
  };
  const [clientDevice] = createMemoryPair();
  client = new ClientCore({
    machine: { crypto: realCrypto, local: keys.alice, serverPublicKey: keys.server.publicKey, name: 'alice', path: [`127.0.0.1:${listener.port}`], reconnect: { minDelayMs: 100, maxDelayMs: 500 } },
    openDevice: async () => ({ device: clientDevice, start: async () => undefined, close: () => clientDevice.close() }),
    dial: dialFromOtherAddress,
    log,
  });
  await eventually('alice authorized during the attack', () => server.activeTunnels === 1, 10_000);

  await eventually('every silent connection freed by the server', () => server.connectionCount === 1 && serverClosed.count === SILENT, HANDSHAKE_TIMEOUT_MS + 5_000);
  await eventually('the announced 64 KiB frame refused', () => Buffer.concat(reply).length > 0 && announced.readableEnded, 5_000);
  assert.equal(Buffer.concat(reply)[4], FrameType.CLOSE, 'the answer is a CLOSE frame');
  assert.equal(parseClose(Buffer.concat(reply)).status, CloseCode.FRAME_TOO_LARGE);
  const fdsAfter = openFds();
  // This process holds both ends: the attacker's 200 (+1) stay open on purpose; the server's must be gone.
  console.log(JSON.stringify({ fdsBefore, fdsUnderAttack, fdsAfter, serverConnections: server.connectionCount, attackerEndsStillOpen: attackers.filter((s) => !s.destroyed).length }));
  assert.ok(fdsAfter - fdsBefore <= SILENT + 1 + 2, `fds after: ${fdsAfter - fdsBefore} over the baseline, expected only the attacker's own ends and alice's`);
  assert.equal(server.activeTunnels, 1, 'alice is still connected');
});
