/**
 * Static X25519 keys — the one key module: the key pair type, generation,
 * the public key of a private key, the text form, and the one way keys are
 * compared (in constant time, so the comparison's duration says nothing
 * about where two keys first differ). Key files are src/io/key-file.ts.
 *
 * Text form: 32 bytes in standard base64 with padding, 44 characters, the
 * format of `wg genkey` / `wg pubkey`. Decoding is strict (canonical base64
 * only), so one key has exactly one spelling and a config cannot carry two
 * spellings of the same key past the uniqueness check.
 */
import { timingSafeEqual } from 'node:crypto';
import { DHLEN, generateKeypair, publicKeyFromPrivate } from './noise/dh.js';

export const KEY_LENGTH = DHLEN;
/** 43 base64 characters carry 258 bits: the last one's low 2 bits must be zero (one of A, E, I, ... , w). */
const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** BAD_KEY: the bytes or text are not a key; the others are about key files (src/io/key-file.ts). */
export type KeyErrorCode = 'BAD_KEY' | 'INSECURE_MODE' | 'INSECURE_OWNER' | 'INSECURE_DIRECTORY' | 'EXISTS' | 'UNREADABLE' | 'NOT_A_FILE';

export class KeyError extends Error {
  override readonly name = 'KeyError';
  constructor(
    readonly code: KeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** X25519, 32 bytes each. */
export interface StaticKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** A fresh key pair from the OS's CSPRNG (through OpenSSL). */
export function generateKeyPair(): StaticKeyPair {
  return generateKeypair();
}

/** A fresh private key (X25519 clamps it when used, RFC 7748 §5). */
export function generatePrivateKey(): Uint8Array {
  return generateKeypair().privateKey;
}

/** The public key of a 32-byte X25519 private key (RFC 7748 §6.1). */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== KEY_LENGTH) throw new KeyError('BAD_KEY', `expected a ${KEY_LENGTH}-byte private key, got ${privateKey.length} bytes`);
  return publicKeyFromPrivate(privateKey);
}

/** Constant-time equality of two keys (the lengths are not secret). */
export function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function encodeKey(key: Uint8Array): string {
  if (key.length !== KEY_LENGTH) throw new KeyError('BAD_KEY', `expected a ${KEY_LENGTH}-byte key, got ${key.length} bytes`);
  return Buffer.from(key.buffer, key.byteOffset, key.length).toString('base64');
}

/** True for the canonical base64 spelling of a 32-byte key. */
export function isBase64Key(text: string): boolean {
  return BASE64_KEY.test(text);
}

/**
 * Parses a base64 32-byte key; `what` names it in the error
 * ("clients[2].public_key"). Surrounding whitespace (a file's newline) is
 * ignored. The text is echoed in the error only when `secret` is false.
 */
export function decodeKey(text: string, what: string, options: { secret?: boolean } = {}): Uint8Array {
  const trimmed = text.trim();
  if (!BASE64_KEY.test(trimmed)) {
    const got = options.secret === false ? JSON.stringify(trimmed.length > 60 ? `${trimmed.slice(0, 60)}...` : trimmed) : `${trimmed.length} character${trimmed.length === 1 ? '' : 's'}`;
    throw new KeyError('BAD_KEY', `${what}: expected a base64 X25519 key (44 characters ending in "=", as \`tapvpn genkey\` prints), got ${got}`);
  }
  return new Uint8Array(Buffer.from(trimmed, 'base64'));
}
