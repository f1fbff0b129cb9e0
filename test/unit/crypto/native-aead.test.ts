/**
 * The native AEAD (one reused OpenSSL context per direction) against the
 * published vectors, and byte-for-byte agreement with the node:crypto path
 * both ways; a failed open zeroes what it decrypted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nativeAead } from '../../../src/crypto/native-aead.js';
import { aeadOpen, aeadSeal, type AeadSuite } from '../../../src/crypto/data-aead.js';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const native = nativeAead!;

test('the native AEAD addon is built (npm install builds it; the suites fall back to node:crypto without it)', () => {
  assert.ok(nativeAead, 'the AEAD addon (src/crypto/native) did not load: run npm install');
});

test('RFC 8439 §2.8.2 through the native context, and the same context reused for a second message', () => {
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const plaintext = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const sealer = native.create('chacha20-poly1305', key, true);
  for (let round = 0; round < 2; round++) {
    const ciphertext = new Uint8Array(plaintext.length);
    const tag = new Uint8Array(16);
    native.seal(sealer, hex('070000004041424344454647'), hex('50515253c0c1c2c3c4c5c6c7'), plaintext, ciphertext, tag);
    assert.equal(toHex(ciphertext).slice(0, 32), 'd31a8d34648e60db7b86afbc53ef7ec2');
    assert.equal(toHex(tag), '1ae10b594f09e26a7e902ecbd0600691');
  }
});

test('AES-256-GCM McGrew–Viega test case 14 through the native context', () => {
  const sealer = native.create('aes-256-gcm', new Uint8Array(32), true);
  const ciphertext = new Uint8Array(16);
  const tag = new Uint8Array(16);
  native.seal(sealer, new Uint8Array(12), new Uint8Array(0), new Uint8Array(16), ciphertext, tag);
  assert.equal(toHex(ciphertext), 'cea7403d4d606b6e074ec5d3baf39d18');
  assert.equal(toHex(tag), 'd0d1c8a799996bf0265b98b5d48ab919');
});

for (const suite of ['aes-256-gcm', 'chacha20-poly1305'] as AeadSuite[]) {
  test(`${suite}: native and node:crypto agree both ways; a flipped bit fails the native open and zeroes its output`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 300 }), fc.nat(), (key, nonce, aad, plaintext, flip) => {
        const sealer = native.create(suite, key, true);
        const opener = native.create(suite, key, false);
        const nativeCt = new Uint8Array(plaintext.length);
        const nativeTag = new Uint8Array(16);
        native.seal(sealer, nonce, aad, plaintext, nativeCt, nativeTag);
        const nodeCt = new Uint8Array(plaintext.length);
        const nodeTag = new Uint8Array(16);
        aeadSeal(suite, key, nonce, aad, plaintext, nodeCt, nodeTag);
        assert.equal(toHex(nativeCt) + toHex(nativeTag), toHex(nodeCt) + toHex(nodeTag));
        const out = new Uint8Array(plaintext.length);
        assert.ok(aeadOpen(suite, key, nonce, aad, nativeCt, nativeTag, out));
        assert.ok(native.open(opener, nonce, aad, nodeCt, nodeTag, out));
        assert.equal(toHex(out), toHex(plaintext));
        const tampered = Uint8Array.from([...nativeCt, ...nativeTag]);
        tampered[flip % tampered.length]! ^= 1 << (flip % 8);
        const garbage = new Uint8Array(plaintext.length).fill(0xaa);
        assert.equal(native.open(opener, nonce, aad, tampered.subarray(0, plaintext.length), tampered.subarray(plaintext.length), garbage), false);
        assert.ok(garbage.every((b) => b === 0 || plaintext.length === 0), 'unverified plaintext is wiped');
      }),
      { numRuns: 200 },
    );
  });
}

test('wrong handle direction, nonce length and tag length are refused', () => {
  const sealer = native.create('aes-256-gcm', new Uint8Array(32), true);
  const opener = native.create('aes-256-gcm', new Uint8Array(32), false);
  assert.throws(() => native.seal(opener, new Uint8Array(12), new Uint8Array(0), new Uint8Array(4), new Uint8Array(4), new Uint8Array(16)));
  assert.throws(() => native.seal(sealer, new Uint8Array(11), new Uint8Array(0), new Uint8Array(4), new Uint8Array(4), new Uint8Array(16)));
  assert.equal(native.open(opener, new Uint8Array(12), new Uint8Array(0), new Uint8Array(4), new Uint8Array(15), new Uint8Array(4)), false);
  assert.throws(() => native.create('aes-256-gcm', new Uint8Array(31), true));
});
