/**
 * The status exchange (src/io/status-exchange.ts): an answer verifies only with
 * the right key and the nonce it was asked with; tampered counts, replayed
 * answers and wrong keys are rejected; and a probe over loopback against a
 * real listener round-trips.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { answerStatus, probeStatus, startStatusListener, verifyStatusAnswer } from '../../../src/io/status-exchange.js';

const KEY = randomBytes(32);
const NONCE = 'ab'.repeat(32);

describe('status exchange', () => {
  it('verifies an honest answer', () => {
    const line = answerStatus(`tapvpn-status/1 ${NONCE}\n`, KEY, { activeTunnels: 7 })!;
    assert.deepEqual(verifyStatusAnswer(line.trim(), KEY, NONCE), { activeTunnels: 7 });
  });

  it('rejects a changed count, another nonce, another key, garbage', () => {
    const line = answerStatus(`tapvpn-status/1 ${NONCE}`, KEY, { activeTunnels: 7 })!;
    assert.match(verifyStatusAnswer(line.replace('"activeTunnels":7', '"activeTunnels":0'), KEY, NONCE) as string, /mac mismatch/);
    assert.match(verifyStatusAnswer(line, KEY, 'cd'.repeat(32)) as string, /nonce mismatch/);
    assert.match(verifyStatusAnswer(line, randomBytes(32), NONCE) as string, /mac mismatch/);
    assert.match(verifyStatusAnswer('not json', KEY, NONCE) as string, /not JSON/);
  });

  it('answers only well-formed requests', () => {
    assert.equal(answerStatus('tapvpn-status/1 xyz', KEY, { activeTunnels: 1 }), undefined);
    assert.equal(answerStatus('GET / HTTP/1.1', KEY, { activeTunnels: 1 }), undefined);
  });

  it('probes a listener over loopback', async () => {
    let tunnels = 3;
    const listener = await startStatusListener({ address: '127.0.0.1', port: 0, key: KEY }, () => ({ activeTunnels: tunnels }), pino({ level: 'silent' }));
    try {
      assert.deepEqual(await probeStatus('127.0.0.1', listener.port, KEY, 2000), { activeTunnels: 3 });
      tunnels = 4;
      assert.deepEqual(await probeStatus('127.0.0.1', listener.port, KEY, 2000), { activeTunnels: 4 });
      assert.match((await probeStatus('127.0.0.1', listener.port, randomBytes(32), 2000)) as string, /mac mismatch/);
    } finally {
      await listener.close();
    }
  });
});
