/**
 * The primitives under the handshake and the DATA suites, through the code
 * paths we use, against published vectors: RFC 7748 §6.1 (X25519),
 * RFC 7693 Appendix B (BLAKE2s-256), RFC 8439 §2.8.2 (ChaCha20-Poly1305 AEAD)
 * and §2.4.2 (ChaCha20, fed in pieces to show the keystream runs on across
 * calls), the GCM specification's test case 16 (McGrew & Viega, "The
 * Galois/Counter Mode of Operation", AES-256, 60-byte plaintext, 20-byte
 * AAD), RFC 4231 §4.3 test case 2 (HMAC-SHA-256).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { aeadOpen, aeadSeal } from '../../../src/crypto/data-aead.js';
import { createKeystream } from '../../../src/crypto/data-stream-hmac.js';
import { keysEqual, generateKeyPair, publicKeyOf } from '../../../src/crypto/keys.js';
import { chachaPolyNonce, DECRYPT, ENCRYPT } from '../../../src/crypto/noise/cipher.js';
import { DH } from '../../../src/crypto/noise/dh.js';
import { BLAKE2s } from '../../../src/crypto/noise/hash.js';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const SUNSCREEN = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");

test('X25519: RFC 7748 §6.1, both directions', () => {
  const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const alicePublic = publicKeyOf(alice);
  const bobPublic = publicKeyOf(bob);
  assert.equal(toHex(alicePublic), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(bobPublic), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(toHex(DH({ privateKey: alice, publicKey: alicePublic }, bobPublic)), shared);
  assert.equal(toHex(DH({ privateKey: bob, publicKey: bobPublic }, alicePublic)), shared);
});

test('generated key pairs are consistent and distinct', () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  assert.deepEqual(publicKeyOf(a.privateKey), a.publicKey);
  assert.ok(!keysEqual(a.privateKey, b.privateKey));
  assert.deepEqual(DH(a, b.publicKey), DH(b, a.publicKey));
});

test('X25519 refuses low-order peer keys and wrong lengths', () => {
  const pair = generateKeyPair();
  for (const low of ['00'.repeat(32), '01' + '00'.repeat(31), 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800']) {
    assert.throws(() => DH(pair, hex(low)), { name: 'DhError' }, low);
  }
  assert.throws(() => DH(pair, new Uint8Array(31)), { name: 'DhError' });
});

test('BLAKE2s-256: RFC 7693 Appendix B ("abc"), also when hashed in parts', () => {
  const want = '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982';
  assert.equal(toHex(BLAKE2s.hash(new TextEncoder().encode('abc'))), want);
  assert.equal(toHex(BLAKE2s.hash(new TextEncoder().encode('a'), new TextEncoder().encode('bc'))), want);
});

const RFC8439_AEAD = {
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: hex('070000004041424344454647'),
  aad: hex('50515253c0c1c2c3c4c5c6c7'),
  ciphertext: 'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
  tag: '1ae10b594f09e26a7e902ecbd0600691',
};

test('ChaCha20-Poly1305: RFC 8439 §2.8.2 through the DATA suite\'s seal and open', () => {
  const { key, nonce, aad } = RFC8439_AEAD;
  const ciphertext = new Uint8Array(SUNSCREEN.length);
  const tag = new Uint8Array(16);
  aeadSeal('chacha20-poly1305', key, nonce, aad, SUNSCREEN, ciphertext, tag);
  assert.equal(toHex(ciphertext), RFC8439_AEAD.ciphertext);
  assert.equal(toHex(tag), RFC8439_AEAD.tag);
  const plaintext = new Uint8Array(SUNSCREEN.length);
  assert.ok(aeadOpen('chacha20-poly1305', key, nonce, aad, ciphertext, tag, plaintext));
  assert.deepEqual(plaintext, SUNSCREEN);
  tag[0]! ^= 1;
  const untouched = new Uint8Array(SUNSCREEN.length).fill(0xee);
  assert.equal(aeadOpen('chacha20-poly1305', key, nonce, aad, ciphertext, tag, untouched), false);
  assert.ok(untouched.every((byte) => byte === 0xee), 'no plaintext released on a bad tag');
});

test('Noise ENCRYPT/DECRYPT: the nonce layout is 4 zero bytes then n little-endian; wrong n, ad or any bit is refused', () => {
  assert.equal(toHex(chachaPolyNonce(0x0102030405060708n)), '000000000807060504030201');
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const sealed = ENCRYPT(key, 5n, hex('aabb'), hex('68656c6c6f'));
  assert.equal(toHex(DECRYPT(key, 5n, hex('aabb'), sealed)), '68656c6c6f');
  assert.throws(() => DECRYPT(key, 6n, hex('aabb'), sealed), { name: 'CipherError' });
  assert.throws(() => DECRYPT(key, 5n, hex('aabc'), sealed), { name: 'CipherError' });
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const tampered = sealed.slice();
    tampered[bit >> 3]! ^= 1 << (bit & 7);
    assert.throws(() => DECRYPT(key, 5n, hex('aabb'), tampered), { name: 'CipherError' }, `bit ${bit}`);
  }
});

test('AES-256-GCM: GCM specification test case 16 through the DATA suite\'s seal and open', () => {
  const key = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
  const iv = hex('cafebabefacedbaddecaf888');
  const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const plaintext = hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39');
  const ciphertext = new Uint8Array(plaintext.length);
  const tag = new Uint8Array(16);
  aeadSeal('aes-256-gcm', key, iv, aad, plaintext, ciphertext, tag);
  assert.equal(toHex(ciphertext), '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662');
  assert.equal(toHex(tag), '76fc6ece0f4e1768cddf8853bb2d551b');
  const opened = new Uint8Array(plaintext.length);
  assert.ok(aeadOpen('aes-256-gcm', key, iv, aad, ciphertext, tag, opened));
  assert.deepEqual(opened, plaintext);
  aad[0]! ^= 0x80;
  assert.equal(aeadOpen('aes-256-gcm', key, iv, aad, ciphertext, tag, opened), false);
});

test('ChaCha20: RFC 8439 §2.4.2, the keystream runs on across update() calls of any size', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const iv = hex('01000000' + '000000000000004a00000000'); // block counter 1 (u32 LE) ‖ the RFC's nonce
  const want = '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d';
  const whole = createKeystream(key, iv).update(SUNSCREEN);
  assert.equal(toHex(whole), want);
  const stream = createKeystream(key, iv);
  const pieces = [1, 62, 1, 3, 47].reduce<{ at: number; out: string }>(({ at, out }, size) => ({ at: at + size, out: out + toHex(stream.update(SUNSCREEN.subarray(at, at + size))) }), { at: 0, out: '' });
  assert.equal(pieces.out, want);
});

test('HMAC-SHA-256: RFC 4231 §4.3 test case 2 (node:crypto, as the digest uses it)', () => {
  assert.equal(createHmac('sha256', 'Jefe').update('what do ya want ').update('for nothing?').digest('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});
