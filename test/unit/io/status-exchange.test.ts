/**
 * The status exchange (src/io/status-exchange.ts): an answer verifies only
 * with the right key and the nonce it was asked with; tampered counts,
 * replayed answers and wrong keys are rejected. Against a real listener on
 * loopback, performed as attacks: an anonymous peer (no key, the old
 * unauthenticated request, a wrong MAC) gets no answer at all; a recorded
 * request replayed gets none; connections over the per-source and total
 * limits are closed at once while a relay's probe still gets through.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { answerStatus, authenticateRequest, probeStatus, startStatusListener, statusRequest, verifyStatusAnswer, type StatusListener } from '../../../src/io/status-exchange.js';

const KEY = randomBytes(32);
const NONCE = 'ab'.repeat(32);
const WAIT_MS = 5000;
const silent = pino({ level: 'silent' });

/** Sends `line` from `localAddress`; resolves with everything the listener sent before it closed (bounded). */
function exchange(port: number, line: string, localAddress = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`listener neither answered nor closed within ${WAIT_MS} ms`))), WAIT_MS);
    socket.on('connect', () => socket.write(line));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => (clearTimeout(timer), resolve(text)));
  });
}

/** A connection that sends nothing; resolves once connected. */
function silentConnection(port: number, localAddress: string): Promise<{ closed: Promise<void>; destroy(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ closed, destroy: () => socket.destroy() }));
    setTimeout(() => reject(new Error('connect timed out')), WAIT_MS).unref();
  });
}

/** `promise`, or a rejection naming `what` after WAIT_MS. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${WAIT_MS} ms`)), WAIT_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function withListener(options: { maxConnections?: number; maxPerSource?: number }, fn: (listener: StatusListener) => Promise<void>): Promise<void> {
  const listener = await startStatusListener({ address: '127.0.0.1', port: 0, key: KEY, ...options }, () => ({ activeTunnels: 3 }), silent);
  try {
    await fn(listener);
  } finally {
    await listener.close();
  }
}

describe('status exchange', () => {
  it('verifies an honest answer to an authenticated request', () => {
    const nonce = authenticateRequest(statusRequest(KEY, NONCE), KEY)!;
    assert.equal(nonce, NONCE);
    const line = answerStatus(nonce, KEY, { activeTunnels: 7 });
    assert.deepEqual(verifyStatusAnswer(line.trim(), KEY, NONCE), { activeTunnels: 7 });
  });

  it('rejects a changed count, another nonce, another key, an old version, garbage', () => {
    const line = answerStatus(NONCE, KEY, { activeTunnels: 7 });
    assert.match(verifyStatusAnswer(line.replace('"activeTunnels":7', '"activeTunnels":0'), KEY, NONCE) as string, /mac mismatch/);
    assert.match(verifyStatusAnswer(line, KEY, 'cd'.repeat(32)) as string, /nonce mismatch/);
    assert.match(verifyStatusAnswer(line, randomBytes(32), NONCE) as string, /mac mismatch/);
    assert.match(verifyStatusAnswer(line.replace('"v":2', '"v":1'), KEY, NONCE) as string, /unsupported status version 1 .*tapvpn-status\/2/);
    assert.match(verifyStatusAnswer('not json', KEY, NONCE) as string, /not JSON/);
  });

  it('authenticates requests: the old unauthenticated line, a wrong key, a bad MAC, garbage get nothing', () => {
    assert.equal(authenticateRequest(`tapvpn-status/1 ${NONCE}`, KEY), undefined);
    assert.equal(authenticateRequest(statusRequest(randomBytes(32), NONCE), KEY), undefined);
    const flipped = statusRequest(KEY, NONCE).trim().replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    assert.equal(authenticateRequest(flipped, KEY), undefined);
    assert.equal(authenticateRequest('GET / HTTP/1.1', KEY), undefined);
    assert.equal(authenticateRequest(`tapvpn-status/2 ${NONCE}`, KEY), undefined);
  });

  it('a relay\'s probe over loopback round-trips; a wrong key fails', async () => {
    let tunnels = 3;
    const listener = await startStatusListener({ address: '127.0.0.1', port: 0, key: KEY }, () => ({ activeTunnels: tunnels }), silent);
    try {
      assert.deepEqual(await probeStatus('127.0.0.1', listener.port, KEY, 2000), { activeTunnels: 3 });
      tunnels = 4;
      assert.deepEqual(await probeStatus('127.0.0.1', listener.port, KEY, 2000), { activeTunnels: 4 });
      assert.match((await probeStatus('127.0.0.1', listener.port, randomBytes(32), 2000)) as string, /closed without an answer/);
    } finally {
      await listener.close();
    }
  });

  it('attack: an anonymous peer learns nothing (no key, the old request, a wrong MAC) and is counted', async () => {
    await withListener({}, async (listener) => {
      assert.equal(await exchange(listener.port, `tapvpn-status/1 ${NONCE}\n`), '');
      assert.equal(await exchange(listener.port, statusRequest(randomBytes(32), NONCE)), '');
      assert.equal(await exchange(listener.port, `tapvpn-status/2 ${NONCE} ${'00'.repeat(32)}\n`), '');
      assert.equal(listener.refused.unauthenticated, 3);
      assert.match(await exchange(listener.port, statusRequest(KEY, randomBytes(32).toString('hex'))), /"activeTunnels":3/, 'a key holder is answered');
    });
  });

  it('attack: a recorded request replayed gets no answer', async () => {
    await withListener({}, async (listener) => {
      const recorded = statusRequest(KEY, randomBytes(32).toString('hex'));
      assert.match(await exchange(listener.port, recorded), /"activeTunnels":3/);
      assert.equal(await exchange(listener.port, recorded), '');
      assert.equal(listener.refused.unauthenticated, 1);
    });
  });

  it('attack: silent connections over the per-source and total limits are closed at once; a probe from elsewhere still works', async () => {
    await withListener({ maxConnections: 3, maxPerSource: 2 }, async (listener) => {
      const held = [await silentConnection(listener.port, '127.0.0.1'), await silentConnection(listener.port, '127.0.0.1')];
      try {
        const thirdFromSource = await silentConnection(listener.port, '127.0.0.1');
        await within(thirdFromSource.closed, 'a third connection from one source closed by the listener');
        held.push(await silentConnection(listener.port, '127.0.0.2'));
        const overTotal = await silentConnection(listener.port, '127.0.0.3');
        await within(overTotal.closed, 'a connection over the total limit closed by the listener');
        assert.equal(listener.refused.overLimit, 2);
        held.pop()!.destroy(); // one slot free again
        const deadline = Date.now() + WAIT_MS;
        let answer = '';
        while (!answer.includes('activeTunnels') && Date.now() < deadline) answer = await exchange(listener.port, statusRequest(KEY, randomBytes(32).toString('hex')), '127.0.0.4');
        assert.match(answer, /"activeTunnels":3/);
      } finally {
        for (const connection of held) connection.destroy();
      }
    });
  });
});
