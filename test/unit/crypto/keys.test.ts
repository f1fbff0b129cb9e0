/**
 * Static keys (src/crypto/keys.ts): text round trips, the RFC 7748 §6.1
 * X25519 vector through publicKeyOf, strict decoding, constant-time equality.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeKey, encodeKey, generateKeyPair, generatePrivateKey, isBase64Key, KeyError, keysEqual, publicKeyOf } from '../../../src/crypto/keys.js';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

// RFC 7748 §6.1 (Diffie-Hellman): Alice's and Bob's private and public keys.
const ALICE_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_PRIVATE = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';

function keyError(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof KeyError, `expected KeyError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

test('RFC 7748 §6.1: publicKeyOf gives Alice\'s and Bob\'s public keys', () => {
  assert.equal(toHex(publicKeyOf(hex(ALICE_PRIVATE))), ALICE_PUBLIC);
  assert.equal(toHex(publicKeyOf(hex(BOB_PRIVATE))), BOB_PUBLIC);
});

test('RFC 7748 §6.1 vector through the text form (as genkey | pubkey would)', () => {
  const text = encodeKey(hex(ALICE_PRIVATE));
  assert.equal(text.length, 44);
  assert.ok(isBase64Key(text));
  assert.equal(toHex(publicKeyOf(decodeKey(`${text}\n`, 'stdin'))), ALICE_PUBLIC);
});

test('generated keys: 32 bytes, distinct, round trip through base64', () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  assert.equal(a.privateKey.length, 32);
  assert.equal(a.publicKey.length, 32);
  assert.ok(!keysEqual(a.privateKey, b.privateKey));
  assert.ok(keysEqual(publicKeyOf(a.privateKey), a.publicKey));
  assert.ok(keysEqual(decodeKey(encodeKey(a.publicKey), 'k'), a.publicKey));
});

test('property: encodeKey/decodeKey round trip any 32 bytes, and the text is canonical', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
      const text = encodeKey(bytes);
      assert.ok(isBase64Key(text), text);
      assert.deepEqual(decodeKey(text, 'k'), bytes);
    }),
  );
});

test('property: decodeKey throws only BAD_KEY, and accepts only 32-byte canonical base64', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      try {
        const key = decodeKey(text, 'fuzz');
        assert.equal(key.length, 32);
        assert.equal(encodeKey(key), text.trim());
      } catch (error) {
        assert.ok(error instanceof KeyError && error.code === 'BAD_KEY', String(error));
      }
    }),
    { numRuns: 500 },
  );
});

test('decodeKey rejects wrong lengths with the key\'s name in the message', () => {
  for (const length of [0, 16, 31, 33, 64]) {
    const text = Buffer.alloc(length, 7).toString('base64');
    assert.throws(() => decodeKey(text, 'clients[1].public_key'), keyError('BAD_KEY', /^clients\[1\]\.public_key: expected a base64 X25519 key/));
  }
});

test('decodeKey rejects a non-canonical spelling (low bits set in the last character)', () => {
  const canonical = encodeKey(new Uint8Array(32)); // "AAAA...A="
  assert.ok(isBase64Key(canonical));
  const sloppy = `${canonical.slice(0, 42)}B=`; // decodes to the same bytes in lenient decoders
  assert.throws(() => decodeKey(sloppy, 'server.public_key'), keyError('BAD_KEY', /^server\.public_key:/));
});

test('decodeKey echoes the text only when told it is not secret', () => {
  assert.throws(() => decodeKey('hunter2', 'private_key_file'), (error: unknown) => error instanceof KeyError && !error.message.includes('hunter2') && /7 characters/.test(error.message));
  assert.throws(() => decodeKey('abc', 'clients[0].public_key', { secret: false }), (error: unknown) => error instanceof KeyError && error.message.includes('"abc"'));
});

test('publicKeyOf and encodeKey refuse keys that are not 32 bytes', () => {
  assert.throws(() => publicKeyOf(new Uint8Array(31)), keyError('BAD_KEY', /32-byte private key, got 31 bytes/));
  assert.throws(() => encodeKey(new Uint8Array(33)), keyError('BAD_KEY', /32-byte key, got 33 bytes/));
});

test('keysEqual: equal, different, and different lengths', () => {
  const a = generatePrivateKey();
  const b = Uint8Array.from(a);
  assert.ok(keysEqual(a, b));
  b[31]! ^= 1;
  assert.ok(!keysEqual(a, b));
  assert.ok(!keysEqual(a, a.subarray(0, 31)));
  assert.ok(keysEqual(new Uint8Array(0), new Uint8Array(0)));
});
