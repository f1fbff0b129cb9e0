/**
 * The handshake halves: matching direction-separated keys, the pinned server
 * key, tampering, TAI64N timestamps and replay protection, and the real
 * crypto driving the protocol's initiator and server machines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, HandshakeError, InitiatorHandshake, ResponderHandshake, tai64n, TimestampGuard } from '../../../src/crypto/handshake.js';
import { createDataCiphers } from '../../../src/crypto/data-cipher.js';

const prologue = new TextEncoder().encode('tapvpn/1 test');

function handshake(serverKeyForClient?: Uint8Array) {
  const client = generateKeyPair();
  const server = generateKeyPair();
  const initiator = new InitiatorHandshake({ local: client, remoteStaticPublic: serverKeyForClient ?? server.publicKey, prologue, nowMs: () => 1_700_000_000_123 });
  const responder = new ResponderHandshake({ local: server, prologue });
  return { client, server, initiator, responder };
}

test('both sides derive the same keys, one per direction, and the server learns the client key', () => {
  const { client, initiator, responder } = handshake();
  const request = responder.readRequest(initiator.writeRequest(new TextEncoder().encode('hello')));
  assert.deepEqual(request.remoteStaticPublic, client.publicKey);
  assert.equal(new TextDecoder().decode(request.payload), 'hello');
  const response = responder.writeResponse(new TextEncoder().encode('lease'));
  const done = initiator.readResponse(response.message);
  assert.equal(new TextDecoder().decode(done.payload), 'lease');
  assert.deepEqual(done.keys.sendKey, response.keys.receiveKey);
  assert.deepEqual(done.keys.receiveKey, response.keys.sendKey);
  assert.notDeepEqual(done.keys.sendKey, done.keys.receiveKey, 'separate keys for each direction');
  assert.deepEqual(done.keys.handshakeHash, response.keys.handshakeHash);
  const { sealer } = createDataCiphers('aes-256-gcm', done.keys, 0);
  const { opener } = createDataCiphers('aes-256-gcm', response.keys, 0);
  const header = new Uint8Array(12);
  const ciphertext = new Uint8Array(5);
  const digest = new Uint8Array(16);
  sealer.seal(header, new Uint8Array([1, 2, 3, 4, 5]), ciphertext, digest);
  const out = new Uint8Array(5);
  assert.ok(opener.open(header, ciphertext, digest, out));
  assert.deepEqual([...out], [1, 2, 3, 4, 5]);
});

test('a client that pinned another server key is refused by the real server (DECRYPT_FAILED)', () => {
  const { initiator, responder } = handshake(generateKeyPair().publicKey);
  assert.throws(() => responder.readRequest(initiator.writeRequest(new Uint8Array(0))), (error: unknown) => error instanceof HandshakeError && error.code === 'DECRYPT_FAILED');
});

test('a different prologue (a rewritten path) breaks the handshake', () => {
  const client = generateKeyPair();
  const server = generateKeyPair();
  const initiator = new InitiatorHandshake({ local: client, remoteStaticPublic: server.publicKey, prologue });
  const responder = new ResponderHandshake({ local: server, prologue: new TextEncoder().encode('tapvpn/1 other') });
  assert.throws(() => responder.readRequest(initiator.writeRequest(new Uint8Array(0))), HandshakeError);
});

test('tampered request or response, short messages and out-of-order calls are typed errors', () => {
  const first = handshake();
  const request = first.initiator.writeRequest(new Uint8Array(4));
  request[request.length - 1]! ^= 1;
  assert.throws(() => first.responder.readRequest(request), (e: unknown) => e instanceof HandshakeError && e.code === 'DECRYPT_FAILED');
  const second = handshake();
  second.responder.readRequest(second.initiator.writeRequest(new Uint8Array(0)));
  const { message } = second.responder.writeResponse(new Uint8Array(0));
  message[40]! ^= 1;
  assert.throws(() => second.initiator.readResponse(message), (e: unknown) => e instanceof HandshakeError && e.code === 'DECRYPT_FAILED');
  const third = handshake();
  assert.throws(() => third.responder.readRequest(new Uint8Array(50)), (e: unknown) => e instanceof HandshakeError && e.code === 'BAD_LENGTH');
  assert.throws(() => third.responder.writeResponse(new Uint8Array(0)), (e: unknown) => e instanceof HandshakeError && e.code === 'BAD_STATE');
  assert.throws(() => third.initiator.readResponse(new Uint8Array(48)), (e: unknown) => e instanceof HandshakeError && e.code === 'BAD_STATE');
});

test('TAI64N timestamps sort by time and the guard accepts only newer ones per client', () => {
  const earlier = tai64n(1_700_000_000_000);
  const later = tai64n(1_700_000_000_001);
  assert.equal(earlier.length, 12);
  assert.ok(Buffer.compare(earlier, later) < 0);
  const guard = new TimestampGuard();
  const alice = generateKeyPair().publicKey;
  const bob = generateKeyPair().publicKey;
  assert.ok(guard.accept(alice, earlier));
  assert.equal(guard.accept(alice, earlier), false, 'the same REQUEST replayed');
  assert.ok(guard.accept(alice, later));
  assert.equal(guard.accept(alice, earlier), false, 'an older REQUEST');
  assert.ok(guard.accept(bob, earlier), 'clients are independent');
  assert.equal(guard.accept(bob, new Uint8Array(11)), false, 'wrong length');
});

test('the request carries the initiator clock as TAI64N', () => {
  const { initiator, responder } = handshake();
  const { timestamp } = responder.readRequest(initiator.writeRequest(new Uint8Array(0)));
  assert.deepEqual(timestamp, tai64n(1_700_000_000_123));
});
