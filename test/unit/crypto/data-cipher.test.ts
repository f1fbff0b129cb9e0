/**
 * DATA sealing with the implicit counter, for every suite: round trips,
 * tampering (any bit of header, ciphertext or digest), replay, reorder, a
 * wrong key, direction separation and key generations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDataCiphers, SUITES, suiteFromId, suiteId, type SuiteName } from '../../../src/crypto/data-cipher.js';
import type { SessionKeys } from '../../../src/crypto/handshake.js';

const HEADER_LENGTH = 12;
const fill = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);
const keysA: SessionKeys = { sendKey: fill(1), receiveKey: fill(2), handshakeHash: fill(9) };
const keysB: SessionKeys = { sendKey: fill(2), receiveKey: fill(1), handshakeHash: fill(9) }; // the peer's view

interface Sealed {
  header: Uint8Array;
  ciphertext: Uint8Array;
  digest: Uint8Array;
}

function sealOne(sealer: ReturnType<typeof createDataCiphers>['sealer'], plaintext: Uint8Array, headerByte = 7): Sealed {
  const header = new Uint8Array(HEADER_LENGTH).fill(headerByte);
  const ciphertext = new Uint8Array(plaintext.length);
  const digest = new Uint8Array(sealer.digestLength);
  sealer.seal(header, plaintext, ciphertext, digest);
  return { header, ciphertext, digest };
}

function openOne(opener: ReturnType<typeof createDataCiphers>['opener'], frame: Sealed): Uint8Array | undefined {
  const out = new Uint8Array(frame.ciphertext.length);
  return opener.open(frame.header, frame.ciphertext, frame.digest, out) ? out : undefined;
}

for (const suite of SUITES) {
  test(`${suite}: frames open in order on the peer, and the ciphertext is not the plaintext`, () => {
    const { sealer } = createDataCiphers(suite, keysA, 0);
    const { opener } = createDataCiphers(suite, keysB, 0);
    for (const size of [0, 1, 64, 1400, 65535]) {
      const plaintext = new Uint8Array(size).map((_, i) => i * 31);
      const frame = sealOne(sealer, plaintext);
      if (size >= 16) assert.notDeepEqual(frame.ciphertext, plaintext);
      assert.deepEqual(openOne(opener, frame), plaintext);
    }
    assert.equal(sealer.framesSealed, 5);
    assert.equal(opener.framesOpened, 5);
  });

  test(`${suite}: flipping any bit of header, ciphertext or digest fails the digest`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (plaintext, position) => {
        const { sealer } = createDataCiphers(suite, keysA, 0);
        const { opener } = createDataCiphers(suite, keysB, 0);
        const frame = sealOne(sealer, plaintext);
        const parts = [frame.header, frame.ciphertext, frame.digest];
        const totalBits = parts.reduce((n, p) => n + p.length * 8, 0);
        let bit = position % totalBits;
        for (const part of parts) {
          if (bit < part.length * 8) {
            part[bit >> 3]! ^= 1 << (bit & 7);
            break;
          }
          bit -= part.length * 8;
        }
        return openOne(opener, frame) === undefined;
      }),
      { numRuns: 200 },
    );
  });

  test(`${suite}: a replayed, reordered or dropped frame fails (the receiver's counter decides)`, () => {
    const { sealer } = createDataCiphers(suite, keysA, 0);
    const frames = [0, 1, 2].map((i) => sealOne(sealer, new Uint8Array(40).fill(i)));
    const reorder = createDataCiphers(suite, keysB, 0).opener;
    assert.equal(openOne(reorder, frames[1]!), undefined, 'frame 1 before frame 0');
    const replay = createDataCiphers(suite, keysB, 0).opener;
    assert.ok(openOne(replay, frames[0]!));
    assert.equal(openOne(replay, frames[0]!), undefined, 'frame 0 twice');
    const drop = createDataCiphers(suite, keysB, 0).opener;
    assert.ok(openOne(drop, frames[0]!));
    assert.equal(openOne(drop, frames[2]!), undefined, 'frame 1 lost');
  });

  test(`${suite}: a wrong key, the sender's own direction, or another generation cannot open`, () => {
    const frame = sealOne(createDataCiphers(suite, keysA, 0).sealer, new Uint8Array(100).fill(5));
    assert.equal(openOne(createDataCiphers(suite, { ...keysB, receiveKey: fill(3) }, 0).opener, frame), undefined, 'wrong key');
    assert.equal(openOne(createDataCiphers(suite, keysA, 0).opener, frame), undefined, 'own direction');
    assert.equal(openOne(createDataCiphers(suite, keysB, 1).opener, frame), undefined, 'generation 1 keys');
    const next = sealOne(createDataCiphers(suite, keysA, 1).sealer, new Uint8Array(100).fill(5));
    assert.notDeepEqual(next.ciphertext, frame.ciphertext, 'generation 1 encrypts differently');
    assert.ok(openOne(createDataCiphers(suite, keysB, 1).opener, next), 'generation 1 interoperates');
  });
}

test('chacha20-hmac-sha256: a failed frame does not advance the keystream, so the true frame still opens', () => {
  const { sealer } = createDataCiphers('chacha20-hmac-sha256', keysA, 0);
  const { opener } = createDataCiphers('chacha20-hmac-sha256', keysB, 0);
  const frame = sealOne(sealer, new Uint8Array(64).fill(1));
  const forged = { ...frame, digest: new Uint8Array(32) };
  assert.equal(openOne(opener, forged), undefined);
  assert.deepEqual(openOne(opener, frame), new Uint8Array(64).fill(1));
});

test('suite ids round-trip and unknown ids are refused', () => {
  for (const suite of SUITES) assert.equal(suiteFromId(suiteId(suite)), suite);
  assert.equal(suiteFromId(0), undefined);
  assert.equal(suiteFromId(99), undefined);
  assert.deepEqual(new Set(SUITES.map(suiteId)).size, SUITES.length);
  const names: SuiteName[] = ['chacha20-poly1305', 'aes-256-gcm', 'chacha20-hmac-sha256'];
  assert.deepEqual([...SUITES].sort(), [...names].sort());
});
