/**
 * Handshake floods on a real loopback listener (issue 10 item 8), against a
 * ServerCore whose crypto port counts the responder's DH work:
 *   - junk REQUESTs (bad mac1) cost no DH and are each answered CLOSE;
 *   - well-formed REQUESTs under unknown keys from one source run into that
 *     source's budget (BUSY, no DH), and the ones let through seal nothing;
 *   - under load, REQUESTs without mac2 get a COOKIE and no DH, while a real
 *     client (the ClientCore, from another address) answers its COOKIE and
 *     connects in the middle of the flood.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import { ClientCore } from '../../../src/client/core.js';
import { serverConfigSchema } from '../../../src/config/schema.js';
import { CookieGenerator } from '../../../src/crypto/cookie.js';
import { realCrypto, TimestampGuard } from '../../../src/crypto/index.js';
import { encodeKey, generateKeyPair } from '../../../src/crypto/keys.js';
import type { ProtocolCrypto } from '../../../src/crypto/port.js';
import type { Dial } from '../../../src/io/byte-stream.js';
import { listenTcp, type TcpListener } from '../../../src/io/tcp.js';
import { CloseCode, FrameType, encodeRelay, encodeRequest, encodeRequestBody, parseClose } from '../../../src/protocol/frames/index.js';
import { handshakePrologue } from '../../../src/protocol/prologue.js';
import { ServerCore } from '../../../src/server/core.js';
import type { HandshakeLimits } from '../../../src/server/handshake-gate.js';
import { LeaseStore } from '../../../src/server/leases.js';
import { leasePoolOf } from '../../../src/server/policy.js';
import { eventually } from '../../support/eventually.js';

const log = pino({ level: 'silent' });
const keys = { server: generateKeyPair(), alice: generateKeyPair() };
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Work {
  reads: number;
  responses: number;
  cookies: number;
}

/** realCrypto with the server's DH work counted: readRequest (2 DH), writeResponse (1 key pair + 2 DH), COOKIE replies. */
function countingCrypto(work: Work): ProtocolCrypto {
  return {
    ...realCrypto,
    createResponder(opts) {
      const responder = realCrypto.createResponder(opts);
      return { readRequest: (m) => (work.reads++, responder.readRequest(m)), writeResponse: (p) => (work.responses++, responder.writeResponse(p)) };
    },
    createCookieChecker(local) {
      const checker = realCrypto.createCookieChecker(local);
      return { checkMac1: (f) => checker.checkMac1(f), checkMac2: (f, s, t) => checker.checkMac2(f, s, t), reply: (f, s, t) => (work.cookies++, checker.reply(f, s, t)) };
    },
  };
}

async function startServer(limits: Partial<HandshakeLimits>): Promise<{ server: ServerCore; listener: TcpListener; work: Work }> {
  const config = serverConfigSchema.parse({ private_key_file: '/unused/server.key', tunnel: { network: '10.96.0.0/24' }, clients: [{ name: 'alice', public_key: encodeKey(keys.alice.publicKey) }] });
  const listener = await listenTcp('127.0.0.1', 0, () => undefined);
  const [device] = createMemoryPair();
  const leases = await LeaseStore.open(leasePoolOf(config), undefined);
  const work: Work = { reads: 0, responses: 0, cookies: 0 };
  const server = new ServerCore({
    config, local: keys.server, crypto: countingCrypto(work), replayGuard: new TimestampGuard(), leases, device, hostMac: '02:00:00:00:00:55',
    connections: listener, log, handshakeLimits: limits,
  });
  cleanups.push(async () => (await server.stop(), await listener.close()));
  return { server, listener, work };
}

/** A RELAY and a well-formed REQUEST (right mac1) under a fresh key the server does not know. */
function unknownKeyAttempt(port: number): Uint8Array[] {
  const destination = `127.0.0.1:${port}`;
  const relay = encodeRelay({ origin: 'mallory', hops: [destination] });
  const initiator = realCrypto.createInitiator({ local: generateKeyPair(), remoteStaticPublic: keys.server.publicKey, prologue: handshakePrologue(relay, destination) });
  const request = encodeRequest({ destination, handshake: initiator.writeRequest(encodeRequestBody({ flags: 0, initiatorName: 'alice', suites: [2], clientData: new Uint8Array(0) })) });
  new CookieGenerator(keys.server.publicKey).stamp(request);
  return [relay, request];
}

/** The same with everything after the destination random: junk, with a bad mac1. */
function junkAttempt(port: number): Uint8Array[] {
  const [relay, request] = unknownKeyAttempt(port);
  globalThis.crypto.getRandomValues(request!.subarray(7 + request![6]!));
  return [relay!, request!];
}

/** Sends one attempt from `source` and returns the first frame the server answers with (bounded wait). */
function send(port: number, source: string, frames: Uint8Array[]): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: source });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no answer from the server to ${source}`))), 10_000);
    socket.once('connect', () => frames.forEach((f) => socket.write(f)));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const bytes = Buffer.concat(chunks);
      if (bytes.length < 4 || bytes.length < bytes.readUInt32BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(new Uint8Array(bytes.subarray(0, bytes.readUInt32BE(0))));
    });
    socket.on('error', (error) => (clearTimeout(timer), reject(error)));
  });
}

async function flood(port: number, source: string, count: number, make: (port: number) => Uint8Array[]): Promise<Uint8Array[]> {
  const answers: Uint8Array[] = [];
  for (let i = 0; i < count; i += 20) {
    answers.push(...(await Promise.all(Array.from({ length: Math.min(20, count - i) }, () => send(port, source, make(port))))));
  }
  return answers;
}

const closeStatus = (frame: Uint8Array): number | undefined => (frame[4] === FrameType.CLOSE ? parseClose(frame).status : undefined);

describe('handshake floods against a loopback server', () => {
  it('300 junk REQUESTs (bad mac1): each answered CLOSE AUTHENTICATION_FAILURE, no DH at all', async () => {
    const { listener, work } = await startServer({ perSourceBurst: 1000, perSourceRate: 1000, loadRate: 100_000, loadHandshakes: 10_000 });
    const answers = await flood(listener.port, '127.0.0.1', 300, junkAttempt);
    assert.ok(answers.every((a) => closeStatus(a) === CloseCode.AUTHENTICATION_FAILURE));
    assert.equal(work.reads, 0, 'no REQUEST reached the Diffie-Hellman');
  });

  it('100 unknown-key REQUESTs from one source: the budget lets 8 reach a DH, the rest are BUSY; no RESPONSE is sealed for an unknown key', async () => {
    const { listener, work } = await startServer({ perSourceBurst: 8, perSourceRate: 0.01, loadRate: 100_000, loadHandshakes: 10_000 });
    const answers = await flood(listener.port, '127.0.0.3', 100, unknownKeyAttempt);
    const statuses = answers.map(closeStatus);
    assert.equal(statuses.filter((s) => s === CloseCode.AUTHENTICATION_FAILURE).length, 8);
    assert.equal(statuses.filter((s) => s === CloseCode.BUSY).length, 92);
    assert.equal(work.reads, 8);
    assert.equal(work.responses, 0, 'no sealed refusal (no second DH) for a key the server does not know');
  });

  it('under load: the flood gets COOKIEs and no DH, while alice answers her COOKIE and connects from another address', async () => {
    const { server, listener, work } = await startServer({ loadHandshakes: 0 }); // every REQUEST is "under load"
    const attack = flood(listener.port, '127.0.0.4', 200, unknownKeyAttempt);
    const dialFromOtherAddress: Dial = (_address, done) => {
      const socket = connect({ host: '127.0.0.1', port: listener.port, localAddress: '127.0.0.2' });
      socket.once('connect', () => done({ ok: true, stream: socket }));
      socket.once('error', (error) => done({ ok: false, reason: error.message }));
    };
    const [clientDevice] = createMemoryPair();
    const client = new ClientCore({
      machine: { crypto: realCrypto, local: keys.alice, serverPublicKey: keys.server.publicKey, name: 'alice', path: [`127.0.0.1:${listener.port}`], reconnect: { minDelayMs: 100, maxDelayMs: 500 } },
      openDevice: async () => ({ device: clientDevice, start: async () => undefined, close: () => clientDevice.close() }),
      dial: dialFromOtherAddress,
      log,
    });
    cleanups.push(() => client.stop());
    await eventually('alice authorized during the flood', () => server.activeTunnels === 1, 10_000);
    const answers = await attack;
    assert.ok(answers.every((a) => a[4] === FrameType.COOKIE), 'every flood REQUEST got a COOKIE');
    assert.equal(work.reads, 1, 'one DH: alice\'s REQUEST with mac2');
    assert.ok(work.cookies >= 201, `a COOKIE each, alice's included (${work.cookies})`);
  });
});
