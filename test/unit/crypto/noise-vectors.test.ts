/**
 * HandshakeState, SymmetricState and CipherState against the published
 * cacophony vectors (test/fixtures/noise/, transcribed from
 * github.com/haskell-cryptography/cacophony vectors/cacophony.txt):
 * Noise_IK_25519_ChaChaPoly_BLAKE2s (the tunnel's protocol),
 * Noise_IK_25519_ChaChaPoly_SHA256 and Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s.
 * With the vector's fixed ephemeral keys and prologue, both sides must
 * produce every handshake message byte for byte, the same handshake hash, and
 * then the transport messages through the CipherStates from Split().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { publicKeyFromPrivate } from '../../../src/crypto/noise/dh.js';
import { BLAKE2s, SHA256, type HashFunction } from '../../../src/crypto/noise/hash.js';
import { HandshakeState } from '../../../src/crypto/noise/handshake-state.js';
import { IK, IKpsk2, type HandshakePattern } from '../../../src/crypto/noise/patterns.js';

interface Vector {
  source: string; protocol_name: string; init_prologue: string; resp_prologue: string; init_static: string; init_ephemeral: string;
  init_remote_static: string; resp_static: string; resp_ephemeral: string; init_psks?: string[]; resp_psks?: string[];
  handshake_hash: string; messages: Array<{ payload: string; ciphertext: string }>;
}

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const pair = (privateHex: string) => ({ privateKey: hex(privateHex), publicKey: publicKeyFromPrivate(hex(privateHex)) });
const load = (file: string): Vector => JSON.parse(readFileSync(new URL(`../../fixtures/noise/${file}`, import.meta.url), 'utf8')) as Vector;

const CASES: Array<{ file: string; pattern: HandshakePattern; hash: HashFunction }> = [
  { file: 'ik-25519-chachapoly-blake2s.json', pattern: IK, hash: BLAKE2s },
  { file: 'ik-25519-chachapoly-sha256.json', pattern: IK, hash: SHA256 },
  { file: 'ikpsk2-25519-chachapoly-blake2s.json', pattern: IKpsk2, hash: BLAKE2s },
];

function sides(vector: Vector, pattern: HandshakePattern, hash: HashFunction) {
  const initPsk = vector.init_psks?.[0];
  const respPsk = vector.resp_psks?.[0];
  const initiator = new HandshakeState({
    pattern, hash, initiator: true, prologue: hex(vector.init_prologue), s: pair(vector.init_static), e: pair(vector.init_ephemeral),
    rs: hex(vector.init_remote_static), ...(initPsk ? { psk: hex(initPsk) } : {}),
  });
  const responder = new HandshakeState({
    pattern, hash, initiator: false, prologue: hex(vector.resp_prologue), s: pair(vector.resp_static), e: pair(vector.resp_ephemeral),
    ...(respPsk ? { psk: hex(respPsk) } : {}),
  });
  return { initiator, responder };
}

for (const { file, pattern, hash } of CASES) {
  const vector = load(file);

  test(`${vector.protocol_name}: the fixture names its source and the vector's keys are consistent`, () => {
    assert.match(vector.source, /cacophony/);
    assert.equal(vector.protocol_name, `Noise_${pattern.name}_25519_ChaChaPoly_${hash.name}`);
    assert.equal(toHex(publicKeyFromPrivate(hex(vector.resp_static))), vector.init_remote_static);
  });

  test(`${vector.protocol_name}: handshake messages, handshake hash and transport messages match the vector`, () => {
    const { initiator, responder } = sides(vector, pattern, hash);
    const [m1, m2, ...transport] = vector.messages;
    assert.ok(m1 && m2 && transport.length > 0);

    const message1 = initiator.writeMessage(hex(m1.payload));
    assert.equal(toHex(message1), m1.ciphertext, 'message 1 (-> e, es, s, ss)');
    assert.equal(toHex(responder.readMessage(message1)), m1.payload);
    assert.equal(toHex(responder.rs!), toHex(publicKeyFromPrivate(hex(vector.init_static))), 'the responder learned the initiator\'s static key');

    const message2 = responder.writeMessage(hex(m2.payload));
    assert.equal(toHex(message2), m2.ciphertext, 'message 2 (<- e, ee, se)');
    assert.equal(toHex(initiator.readMessage(message2)), m2.payload);

    const [i1, i2] = initiator.result!.cipherStates;
    const [r1, r2] = responder.result!.cipherStates;
    assert.equal(toHex(initiator.result!.handshakeHash), vector.handshake_hash);
    assert.equal(toHex(responder.result!.handshakeHash), vector.handshake_hash);

    // After an interactive pattern the messages alternate, initiator first (c1 then c2).
    transport.forEach((m, index) => {
      const [send, receive] = index % 2 === 0 ? [i1, r1] : [r2, i2];
      const ciphertext = send.encryptWithAd(new Uint8Array(0), hex(m.payload));
      assert.equal(toHex(ciphertext), m.ciphertext, `transport message ${index + 3}`);
      assert.equal(toHex(receive.decryptWithAd(new Uint8Array(0), ciphertext)), m.payload);
    });
  });

  test(`${vector.protocol_name}: a flipped bit in either handshake message fails to authenticate`, () => {
    const [m1, m2] = vector.messages as [{ payload: string; ciphertext: string }, { payload: string; ciphertext: string }];
    for (const [which, length] of [[1, m1.ciphertext.length / 2], [2, m2.ciphertext.length / 2]] as const) {
      for (let byte = 0; byte < length; byte += 5) {
        const { initiator, responder } = sides(vector, pattern, hash);
        const message1 = initiator.writeMessage(hex(m1.payload));
        if (which === 1) {
          message1[byte]! ^= 0x10;
          assert.throws(() => responder.readMessage(message1), `message 1 byte ${byte}`);
          continue;
        }
        responder.readMessage(message1);
        const message2 = responder.writeMessage(hex(m2.payload));
        message2[byte]! ^= 0x10;
        assert.throws(() => initiator.readMessage(message2), `message 2 byte ${byte}`);
      }
    }
  });
}

test('HandshakeState refuses to write or read out of turn, and truncated messages, with typed codes', () => {
  const vector = load('ik-25519-chachapoly-blake2s.json');
  const { initiator, responder } = sides(vector, IK, BLAKE2s);
  assert.throws(() => responder.writeMessage(new Uint8Array(0)), { code: 'BAD_STATE' });
  assert.throws(() => initiator.readMessage(new Uint8Array(200)), { code: 'BAD_STATE' });
  const message1 = initiator.writeMessage(new Uint8Array(0));
  assert.throws(() => responder.readMessage(message1.subarray(0, message1.length - 1)), { code: 'BAD_LENGTH' });
  assert.equal(responder.readMessage(message1).length, 0);
});
