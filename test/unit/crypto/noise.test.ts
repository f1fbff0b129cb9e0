/**
 * The Noise IK state machine against the published cacophony vector for
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (the closest published vector to our
 * IK: identical tokens plus the psk steps), byte for byte through both
 * handshake messages and four transport messages after split().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CipherState, IkHandshakeState } from '../../../src/crypto/noise.js';
import { dhPublicKey } from '../../../src/crypto/primitives.js';

const vector = JSON.parse(readFileSync(new URL('../../fixtures/noise/ikpsk2-25519-chachapoly-blake2s.json', import.meta.url), 'utf8')) as {
  init_prologue: string; init_psk: string; init_static: string; init_ephemeral: string; init_remote_static: string;
  resp_static: string; resp_ephemeral: string; messages: Array<{ payload: string; ciphertext: string }>;
};
const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const pair = (privateHex: string) => ({ privateKey: hex(privateHex), publicKey: dhPublicKey(hex(privateHex)) });

function handshakePair() {
  const initiator = new IkHandshakeState({ initiator: true, prologue: hex(vector.init_prologue), s: pair(vector.init_static), rs: hex(vector.init_remote_static), ephemeralPrivateKey: hex(vector.init_ephemeral), psk: hex(vector.init_psk) });
  const responder = new IkHandshakeState({ initiator: false, prologue: hex(vector.init_prologue), s: pair(vector.resp_static), ephemeralPrivateKey: hex(vector.resp_ephemeral), psk: hex(vector.init_psk) });
  return { initiator, responder };
}

test('the vector\'s static keys are consistent (init_remote_static is the responder\'s public key)', () => {
  assert.equal(toHex(dhPublicKey(hex(vector.resp_static))), vector.init_remote_static);
});

test('IKpsk2 handshake messages match the published vector byte for byte, both ways', () => {
  const { initiator, responder } = handshakePair();
  const [m0, m1] = vector.messages as [{ payload: string; ciphertext: string }, { payload: string; ciphertext: string }];
  const message1 = initiator.writeMessage1(hex(m0.payload));
  assert.equal(toHex(message1), m0.ciphertext);
  assert.equal(toHex(responder.readMessage1(message1)), m0.payload);
  assert.equal(toHex(responder.rs!), toHex(dhPublicKey(hex(vector.init_static))), 'the responder learned the initiator\'s static key');
  const message2 = responder.writeMessage2(hex(m1.payload));
  assert.equal(toHex(message2), m1.ciphertext);
  assert.equal(toHex(initiator.readMessage2(message2)), m1.payload);
  assert.equal(toHex(initiator.handshakeHash), toHex(responder.handshakeHash));
});

test('split() gives the transport keys the vector\'s transport messages were sealed with', () => {
  const { initiator, responder } = handshakePair();
  responder.readMessage1(initiator.writeMessage1(hex(vector.messages[0]!.payload)));
  initiator.readMessage2(responder.writeMessage2(hex(vector.messages[1]!.payload)));
  const [i2r, r2i] = initiator.symmetric.split();
  assert.deepEqual(responder.symmetric.split(), [i2r, r2i]);
  const send = new CipherState();
  const receive = new CipherState();
  send.initializeKey(i2r);
  receive.initializeKey(r2i);
  for (const [i, message] of vector.messages.slice(2).entries()) {
    const from = i % 2 === 0 ? send : receive; // initiator, responder, initiator, responder
    assert.equal(toHex(from.encryptWithAd(new Uint8Array(0), hex(message.payload))), message.ciphertext, `transport message ${i + 2}`);
  }
});

test('a flipped bit in message 1 fails the responder; a wrong responder key fails it too', () => {
  const { initiator } = handshakePair();
  const message1 = initiator.writeMessage1(hex(vector.messages[0]!.payload));
  for (const position of [0, 40, message1.length - 1]) {
    const { responder } = handshakePair();
    const tampered = message1.slice();
    tampered[position]! ^= 1;
    assert.throws(() => responder.readMessage1(tampered));
  }
  const impostor = new IkHandshakeState({ initiator: false, prologue: hex(vector.init_prologue), s: pair(vector.init_ephemeral), psk: hex(vector.init_psk) });
  assert.throws(() => impostor.readMessage1(message1));
});
