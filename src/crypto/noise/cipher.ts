/**
 * The Noise cipher functions for "ChaChaPoly" (Noise spec rev 34 §4.2,
 * §12.4): ChaCha20-Poly1305 from RFC 8439 with the spec's nonce, 32 zero bits
 * followed by the 64-bit counter n little-endian. Runs in node:crypto
 * (OpenSSL), measured faster than @noble/ciphers at every size here.
 *
 * Guarantee: DECRYPT releases no plaintext unless the tag verified; it
 * throws CipherError instead.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export const KEYLEN = 32;
export const TAGLEN = 16;
const NONCELEN = 12;

export class CipherError extends Error {
  override readonly name = 'CipherError';
}

/** 32 bits of zeros, then n as a 64-bit little-endian integer (§12.4). */
export function chachaPolyNonce(n: bigint): Buffer {
  const nonce = Buffer.alloc(NONCELEN);
  nonce.writeBigUInt64LE(n, 4);
  return nonce;
}

/** ENCRYPT(k, n, ad, plaintext): ciphertext ‖ 16-byte tag. */
export function ENCRYPT(k: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', k, chachaPolyNonce(n), { authTagLength: TAGLEN });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const out = new Uint8Array(plaintext.length + TAGLEN);
  out.set(cipher.update(plaintext));
  cipher.final();
  out.set(cipher.getAuthTag(), plaintext.length);
  return out;
}

/** DECRYPT(k, n, ad, ciphertext): the plaintext, or CipherError if authentication fails. */
export function DECRYPT(k: Uint8Array, n: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length < TAGLEN) throw new CipherError(`ciphertext of ${ciphertext.length} bytes is shorter than its ${TAGLEN}-byte tag`);
  const bodyLength = ciphertext.length - TAGLEN;
  const decipher = createDecipheriv('chacha20-poly1305', k, chachaPolyNonce(n), { authTagLength: TAGLEN });
  decipher.setAAD(ad, { plaintextLength: bodyLength });
  decipher.setAuthTag(ciphertext.subarray(bodyLength));
  const plaintext = decipher.update(ciphertext.subarray(0, bodyLength));
  try {
    decipher.final(); // RFC 8439 §2.8: the tag decides before the plaintext leaves
  } catch {
    plaintext.fill(0);
    throw new CipherError('authentication tag mismatch');
  }
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}
