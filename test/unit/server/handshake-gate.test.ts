/**
 * The handshake gate (src/server/handshake-gate.ts) with injected time: a
 * source's burst then its rate, load from pending handshakes or from the
 * server-wide DH rate, relays' larger budget, IPv6 by /64, and a bounded
 * table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sourceKey } from '../../../src/engine/source-budget.js';
import { HandshakeGate } from '../../../src/server/handshake-gate.js';

const calm = { loadRate: 1_000_000, loadHandshakes: 1_000_000 };

describe('HandshakeGate', () => {
  it('a source gets its burst, then its rate; another source is untouched', () => {
    const gate = new HandshakeGate({ ...calm, perSourceBurst: 4, perSourceRate: 2 });
    const verdicts = Array.from({ length: 6 }, () => gate.admit('192.0.2.1', false, 1, 0));
    assert.deepEqual(verdicts, ['proceed', 'proceed', 'proceed', 'proceed', 'busy', 'busy']);
    assert.equal(gate.admit('192.0.2.2', false, 1, 0), 'proceed');
    assert.equal(gate.admit('192.0.2.1', false, 1, 499), 'busy', 'half a second: not yet a token at 2/s');
    assert.equal(gate.admit('192.0.2.1', false, 1, 500), 'proceed');
    assert.equal(gate.admit('192.0.2.1', false, 1, 500), 'busy');
  });

  it('under load (too many pending handshakes) a REQUEST without mac2 gets a cookie, with one proceeds (within its budget)', () => {
    const gate = new HandshakeGate({ perSourceBurst: 1, perSourceRate: 1, loadHandshakes: 10, loadRate: 1000 });
    assert.equal(gate.admit('192.0.2.1', false, 11, 0), 'cookie');
    assert.equal(gate.admit('192.0.2.1', true, 11, 0), 'proceed');
    assert.equal(gate.admit('192.0.2.1', true, 11, 0), 'busy', 'a cookie does not lift the source budget');
    assert.equal(gate.admit('192.0.2.9', false, 10, 0), 'proceed', 'at the threshold: not under load');
  });

  it('under load (the server-wide DH rate spent) until the meter refills', () => {
    const gate = new HandshakeGate({ perSourceBurst: 100, perSourceRate: 100, loadRate: 3, loadHandshakes: 1000 });
    for (let i = 0; i < 3; i++) assert.equal(gate.admit(`192.0.2.${i}`, false, 1, 0), 'proceed');
    assert.ok(gate.underLoad(1, 0));
    assert.equal(gate.admit('192.0.2.50', false, 1, 0), 'cookie');
    assert.equal(gate.admit('192.0.2.50', false, 1, 400), 'proceed', 'a token back after 1/3 s');
  });

  it('relays get their own, larger budget', () => {
    const gate = new HandshakeGate({ ...calm, perSourceBurst: 2, relaySources: ['198.51.100.1'], relayBurst: 5, relayRate: 1 });
    const relay = Array.from({ length: 6 }, () => gate.admit('::ffff:198.51.100.1', false, 1, 0));
    assert.deepEqual(relay, ['proceed', 'proceed', 'proceed', 'proceed', 'proceed', 'busy']);
  });

  it('an IPv6 /64 is one source', () => {
    assert.equal(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:2:ffff::9'));
    assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'));
    assert.equal(sourceKey('::ffff:192.0.2.1'), '192.0.2.1');
    const gate = new HandshakeGate({ ...calm, perSourceBurst: 1 });
    assert.equal(gate.admit('2001:db8:1:2::1', false, 1, 0), 'proceed');
    assert.equal(gate.admit('2001:db8:1:2::abcd', false, 1, 0), 'busy');
  });

  it('holds at most maxSources buckets, forgetting the least recently used', () => {
    const gate = new HandshakeGate({ ...calm, perSourceBurst: 1, maxSources: 100 });
    for (let i = 0; i < 1000; i++) gate.admit(`10.0.${i >> 8}.${i & 255}`, false, 1, 0);
    assert.equal(gate.sources, 100);
    assert.equal(gate.admit('10.0.3.231', false, 1, 0), 'busy', 'the most recent source is still remembered');
    assert.equal(gate.admit('10.0.0.0', false, 1, 0), 'proceed', 'the oldest was forgotten');
  });
});
