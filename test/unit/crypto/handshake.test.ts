/**
 * The handshake halves (Noise IK): matching, direction-separated session
 * keys; the pinned server key; tampering and a rewritten prologue; short
 * messages and out-of-order calls as typed errors; the TAI64N timestamp and
 * the TimestampGuard's replay protection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateKeyPair, HandshakeError, InitiatorHandshake, ResponderHandshake, TimestampGuard } from '../../../src/crypto/handshake.js';
import { compareTai64n, nextHandshakeTimestamp, tai64nFromNs } from '../../../src/crypto/tai64n.js';

const prologue = new TextEncoder().encode('tapvpn/1 relay-fields');
const NOW_MS = 1_700_000_000_123;

function pair(opts: { pinned?: Uint8Array; responderPrologue?: Uint8Array; nowMs?: number } = {}) {
  const client = generateKeyPair();
  const server = generateKeyPair();
  const initiator = new InitiatorHandshake({ local: client, remoteStaticPublic: opts.pinned ?? server.publicKey, prologue, nowMs: () => opts.nowMs ?? NOW_MS });
  const responder = new ResponderHandshake({ local: server, prologue: opts.responderPrologue ?? prologue });
  return { client, server, initiator, responder };
}

const code = (expected: HandshakeError['code']) => (error: unknown) => error instanceof HandshakeError && error.code === expected;

test('both sides derive matching keys, one per direction, and the server learns the client key and payload', () => {
  const { client, initiator, responder } = pair();
  const request = responder.readRequest(initiator.writeRequest(new TextEncoder().encode('hello')));
  assert.deepEqual(request.remoteStaticPublic, client.publicKey);
  assert.equal(new TextDecoder().decode(request.payload), 'hello');
  const response = responder.writeResponse(new TextEncoder().encode('lease'));
  const done = initiator.readResponse(response.message);
  assert.equal(new TextDecoder().decode(done.payload), 'lease');
  assert.deepEqual(done.keys.sendKey, response.keys.receiveKey);
  assert.deepEqual(done.keys.receiveKey, response.keys.sendKey);
  assert.deepEqual(done.keys.handshakeHash, response.keys.handshakeHash);
  assert.notDeepEqual(done.keys.sendKey, done.keys.receiveKey, 'direction-separated');
  for (const key of [done.keys.sendKey, done.keys.receiveKey, done.keys.handshakeHash]) assert.equal(key.length, 32);
});

test('two handshakes between the same keys give unrelated session keys (fresh ephemerals)', () => {
  const client = generateKeyPair();
  const server = generateKeyPair();
  const run = () => {
    const initiator = new InitiatorHandshake({ local: client, remoteStaticPublic: server.publicKey, prologue });
    const responder = new ResponderHandshake({ local: server, prologue });
    responder.readRequest(initiator.writeRequest(new Uint8Array(0)));
    return initiator.readResponse(responder.writeResponse(new Uint8Array(0)).message).keys;
  };
  assert.notDeepEqual(run().sendKey, run().sendKey);
});

test('a client that pinned another server key is refused by the responder with DECRYPT_FAILED', () => {
  const { initiator, responder } = pair({ pinned: generateKeyPair().publicKey });
  assert.throws(() => responder.readRequest(initiator.writeRequest(new Uint8Array(4))), code('DECRYPT_FAILED'));
  assert.throws(() => responder.writeResponse(new Uint8Array(0)), code('BAD_STATE'), 'a failed handshake stays failed');
});

test('a different prologue (rewritten routing fields) fails the handshake', () => {
  const { initiator, responder } = pair({ responderPrologue: new TextEncoder().encode('tapvpn/1 other-fields') });
  assert.throws(() => responder.readRequest(initiator.writeRequest(new Uint8Array(0))), code('DECRYPT_FAILED'));
});

test('any flipped bit in message 1 or message 2 fails with DECRYPT_FAILED', () => {
  fc.assert(
    fc.property(fc.nat(), fc.nat(7), fc.boolean(), (at, bit, inResponse) => {
      const { initiator, responder } = pair();
      const request = initiator.writeRequest(new Uint8Array(20));
      if (!inResponse) {
        request[at % request.length]! ^= 1 << bit;
        assert.throws(() => responder.readRequest(request), code('DECRYPT_FAILED'));
        return;
      }
      responder.readRequest(request);
      const { message } = responder.writeResponse(new Uint8Array(30));
      message[at % message.length]! ^= 1 << bit;
      assert.throws(() => initiator.readResponse(message), code('DECRYPT_FAILED'));
    }),
    { numRuns: 60 },
  );
});

test('short messages are BAD_LENGTH; calls out of order are BAD_STATE', () => {
  const { initiator, responder } = pair();
  assert.throws(() => initiator.readResponse(new Uint8Array(64)), code('BAD_STATE'));
  assert.throws(() => responder.writeResponse(new Uint8Array(0)), code('BAD_STATE'));
  const request = initiator.writeRequest(new Uint8Array(0));
  assert.throws(() => initiator.writeRequest(new Uint8Array(0)), code('BAD_STATE'));
  assert.throws(() => responder.readRequest(request.subarray(0, request.length - 1)), code('BAD_LENGTH'));
  responder.readRequest(request); // the length check ran before any state changed
  assert.throws(() => responder.readRequest(request), code('BAD_STATE'));
  const { message } = responder.writeResponse(new Uint8Array(0));
  assert.throws(() => initiator.readResponse(message.subarray(0, 47)), code('BAD_LENGTH'));
  initiator.readResponse(message);
});

test('the request carries the initiator clock as TAI64N, and timestamps sort by time', () => {
  const { initiator, responder } = pair({ nowMs: 2_000_000_000_000 });
  const { timestamp } = responder.readRequest(initiator.writeRequest(new Uint8Array(0)));
  assert.equal(timestamp.length, 12);
  const seconds = Buffer.from(timestamp).readBigUInt64BE(0);
  assert.equal(seconds, 2n ** 62n + 10n + 2_000_000_000n);
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 70n }), fc.bigInt({ min: 0n, max: 2n ** 70n }), (a, b) => {
      assert.equal(Math.sign(compareTai64n(tai64nFromNs(a), tai64nFromNs(b))), a < b ? -1 : a > b ? 1 : 0);
    }),
  );
  assert.ok(compareTai64n(nextHandshakeTimestamp(NOW_MS), nextHandshakeTimestamp(NOW_MS)) < 0, 'same millisecond: still increasing');
});

test('TimestampGuard: strictly increasing per client key; equal or older refused; keys independent', () => {
  const guard = new TimestampGuard();
  const alice = generateKeyPair().publicKey;
  const bob = generateKeyPair().publicKey;
  const t = (ms: number) => tai64nFromNs(BigInt(ms) * 1_000_000n);
  assert.equal(guard.accept(alice, t(1000)), true);
  assert.equal(guard.accept(alice, t(1000)), false, 'equal (a replay)');
  assert.equal(guard.accept(alice, t(999)), false, 'older');
  assert.equal(guard.accept(bob, t(5)), true, 'another client has its own clock');
  assert.equal(guard.accept(alice, t(1001)), true);
  assert.equal(guard.accept(alice, t(1000)), false);
  assert.equal(guard.accept(alice, new Uint8Array(11)), false, 'wrong length');
});

test('a responder with a guard refuses a replayed request with REPLAYED', () => {
  const guard = new TimestampGuard();
  const client = generateKeyPair();
  const server = generateKeyPair();
  const request = new InitiatorHandshake({ local: client, remoteStaticPublic: server.publicKey, prologue }).writeRequest(new Uint8Array(0));
  new ResponderHandshake({ local: server, prologue, guard }).readRequest(request);
  assert.throws(() => new ResponderHandshake({ local: server, prologue, guard }).readRequest(request), code('REPLAYED'));
  const later = new InitiatorHandshake({ local: client, remoteStaticPublic: server.publicKey, prologue }).writeRequest(new Uint8Array(0));
  new ResponderHandshake({ local: server, prologue, guard }).readRequest(later);
});

test('TimestampGuard is bounded: beyond maxClients the least recently accepted key is forgotten', () => {
  const guard = new TimestampGuard({ maxClients: 2 });
  const keys = [generateKeyPair().publicKey, generateKeyPair().publicKey, generateKeyPair().publicKey];
  const ts = tai64nFromNs(5n);
  for (const key of keys) assert.equal(guard.accept(key, ts), true);
  assert.equal(guard.size, 2);
  assert.equal(guard.accept(keys[2]!, ts), false);
});
