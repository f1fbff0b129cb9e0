/**
 * Static X25519 keys as text: 32 bytes in standard base64 with padding, 44
 * characters, the format of `wg genkey` / `wg pubkey`. Decoding is strict
 * (canonical base64 only), so one key has exactly one spelling and a config
 * cannot carry two spellings of the same key past the uniqueness check.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { timingSafeEqual } from 'node:crypto';

export const KEY_LENGTH = 32;
/** 43 base64 characters carry 258 bits: the last one's low 2 bits must be zero (one of A, E, I, ... , w). */
const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export type KeyErrorCode = 'BAD_KEY' | 'INSECURE_MODE' | 'EXISTS' | 'UNREADABLE' | 'NOT_A_FILE';

export class KeyError extends Error {
  override readonly name = 'KeyError';
  constructor(
    readonly code: KeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface StaticKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** 32 bytes from the OS CSPRNG (X25519 clamps them when used, RFC 7748 §5). */
export function generatePrivateKey(): Uint8Array {
  return x25519.utils.randomSecretKey();
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== KEY_LENGTH) throw new KeyError('BAD_KEY', `expected a ${KEY_LENGTH}-byte private key, got ${privateKey.length} bytes`);
  return x25519.getPublicKey(privateKey);
}

export function generateKeyPair(): StaticKeyPair {
  const privateKey = generatePrivateKey();
  return { privateKey, publicKey: publicKeyOf(privateKey) };
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

/** Constant-time equality of two keys (the comparison time does not reveal where they differ). */
export function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
