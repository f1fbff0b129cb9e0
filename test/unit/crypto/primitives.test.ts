/**
 * The primitives under our handshake and DATA suites, against their
 * published vectors: RFC 7748 §6.1 (X25519), RFC 7693 Appendix B (BLAKE2s),
 * RFC 8439 §2.8.2 (ChaCha20-Poly1305 as node:crypto computes it),
 * McGrew–Viega GCM test cases 13 and 14 (AES-256-GCM), RFC 4231 test case 2
 * (HMAC-SHA-256).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { dh, dhPublicKey, hash, decryptWithAd, encryptWithAd } from '../../../src/crypto/primitives.js';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('X25519: RFC 7748 §6.1', () => {
  const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  assert.equal(toHex(dhPublicKey(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(dhPublicKey(bob)), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  assert.equal(toHex(dh(alice, dhPublicKey(bob))), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
});

test('X25519 refuses a low-order peer key (all-zero shared secret)', () => {
  assert.throws(() => dh(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'), new Uint8Array(32)));
});

test('BLAKE2s-256: RFC 7693 Appendix B ("abc")', () => {
  assert.equal(toHex(hash(new TextEncoder().encode('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
});

test('ChaCha20-Poly1305: RFC 8439 §2.8.2', () => {
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const cipher = createCipheriv('chacha20-poly1305', key, hex('070000004041424344454647'), { authTagLength: 16 });
  const plaintext = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  cipher.setAAD(hex('50515253c0c1c2c3c4c5c6c7'), { plaintextLength: plaintext.length });
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  assert.equal(
    ciphertext.toString('hex'),
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
  );
  assert.equal(cipher.getAuthTag().toString('hex'), '1ae10b594f09e26a7e902ecbd0600691');
});

test('Noise ENCRYPT/DECRYPT: round trip, and any flipped bit or wrong counter is refused', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const sealed = encryptWithAd(key, 5n, hex('aabb'), hex('68656c6c6f'));
  assert.equal(toHex(decryptWithAd(key, 5n, hex('aabb'), sealed)), '68656c6c6f');
  assert.throws(() => decryptWithAd(key, 6n, hex('aabb'), sealed));
  assert.throws(() => decryptWithAd(key, 5n, hex('aabc'), sealed));
  for (let bit = 0; bit < sealed.length * 8; bit += 7) {
    const tampered = sealed.slice();
    tampered[bit >> 3]! ^= 1 << (bit & 7);
    assert.throws(() => decryptWithAd(key, 5n, hex('aabb'), tampered), `bit ${bit}`);
  }
});

test('AES-256-GCM: McGrew–Viega test cases 13 and 14', () => {
  const key = new Uint8Array(32);
  const iv = new Uint8Array(12);
  const empty = createCipheriv('aes-256-gcm', key, iv);
  empty.final();
  assert.equal(empty.getAuthTag().toString('hex'), '530f8afbc74536b9a963b4f1c4cb738b');
  const zeros = createCipheriv('aes-256-gcm', key, iv);
  assert.equal(Buffer.concat([zeros.update(new Uint8Array(16)), zeros.final()]).toString('hex'), 'cea7403d4d606b6e074ec5d3baf39d18');
  assert.equal(zeros.getAuthTag().toString('hex'), 'd0d1c8a799996bf0265b98b5d48ab919');
});

test('HMAC-SHA-256: RFC 4231 test case 2', () => {
  assert.equal(createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});
