/**
 * The Noise primitives for Noise_*_25519_ChaChaPoly_BLAKE2s (Noise spec rev 34
 * §4): DH = X25519 (@noble/curves), HASH = BLAKE2s and HMAC-BLAKE2s
 * (@noble/hashes), cipher = ChaCha20-Poly1305 (node:crypto, OpenSSL), with
 * the spec's nonce: 32 zero bits then the 64-bit counter little-endian.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';

export const DHLEN = 32;
export const HASHLEN = 32;
export const TAGLEN = 16;

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
}

export function generateDhKeyPair(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const privateKey = x25519.utils.randomSecretKey();
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

export function dhPublicKey(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}

// RFC 8410 DER wrappings, so node:crypto (OpenSSL, ~20x faster than pure JS here) can use raw X25519 keys.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** X25519; refuses a low-order peer key (all-zero shared secret), as WireGuard does. */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (privateKey.length !== DHLEN || publicKey.length !== DHLEN) throw new DecryptError(`X25519 keys are ${DHLEN} bytes`);
  const shared = new Uint8Array(
    diffieHellman({
      privateKey: createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: 'der', type: 'pkcs8' }),
      publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, publicKey]), format: 'der', type: 'spki' }),
    }),
  );
  if (shared.every((byte) => byte === 0)) throw new DecryptError('peer public key is a low-order point');
  return shared;
}

export function hash(data: Uint8Array): Uint8Array {
  return blake2s(data);
}

export function hmacHash(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(blake2s, key, data);
}

/** Noise HKDF (§4.3): n outputs of HASHLEN bytes. */
export function hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const tempKey = hmacHash(chainingKey, inputKeyMaterial);
  const out1 = hmacHash(tempKey, Uint8Array.of(1));
  const out2 = hmacHash(tempKey, concat(out1, Uint8Array.of(2)));
  if (outputs === 2) return [out1, out2];
  return [out1, out2, hmacHash(tempKey, concat(out2, Uint8Array.of(3)))];
}

export function noiseNonce(counter: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(counter, 4);
  return nonce;
}

export function encryptWithAd(key: Uint8Array, counter: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', key, noiseNonce(counter), { authTagLength: TAGLEN });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  return concat(body, cipher.getAuthTag());
}

export function decryptWithAd(key: Uint8Array, counter: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length < TAGLEN) throw new DecryptError(`ciphertext of ${ciphertext.length} bytes is shorter than its tag`);
  const decipher = createDecipheriv('chacha20-poly1305', key, noiseNonce(counter), { authTagLength: TAGLEN });
  decipher.setAAD(ad, { plaintextLength: ciphertext.length - TAGLEN });
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAGLEN));
  const plaintext = decipher.update(ciphertext.subarray(0, ciphertext.length - TAGLEN));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw new DecryptError('authentication tag mismatch');
  }
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length); // a plain view, not a Buffer

}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
