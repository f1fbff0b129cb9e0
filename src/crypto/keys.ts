/**
 * Static X25519 key pairs for the tunnel's endpoints, and the one way keys
 * are compared: in constant time, so the comparison's duration says nothing
 * about where two keys first differ.
 */
import { timingSafeEqual } from 'node:crypto';
import { DHLEN, generateKeypair, publicKeyFromPrivate } from './noise/dh.js';

/** X25519, 32 bytes each. */
export interface StaticKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export const KEY_LENGTH = DHLEN;

/** A fresh key pair from the OS's CSPRNG. */
export function generateKeyPair(): StaticKeyPair {
  return generateKeypair();
}

/** The public key of a 32-byte X25519 private key. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return publicKeyFromPrivate(privateKey);
}

/** Constant-time equality of two byte strings (the lengths are not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
