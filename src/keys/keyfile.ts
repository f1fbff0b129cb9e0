/**
 * Static X25519 keys as base64 text (the `wg genkey`/`wg pubkey` format) and
 * private key files: created 0600 with O_EXCL (never chmod'ed afterwards, so
 * there is no moment at which they are readable by others), and refused on
 * read when group or others can read them.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';

export const KEY_LENGTH = 32;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

export class KeyError extends Error {
  override readonly name = 'KeyError';
  constructor(
    readonly code: 'BAD_KEY' | 'INSECURE_MODE' | 'EXISTS' | 'UNREADABLE',
    message: string,
  ) {
    super(message);
  }
}

export function generatePrivateKey(): Uint8Array {
  return x25519.utils.randomSecretKey();
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}

export function encodeKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

/** Parses a base64 32-byte key; `what` names it in the error ("clients[2].public_key"). */
export function decodeKey(text: string, what: string): Uint8Array {
  const trimmed = text.trim();
  if (!BASE64_KEY.test(trimmed)) {
    throw new KeyError('BAD_KEY', `${what}: expected a base64 X25519 key (44 characters ending in "="), got ${trimmed.length} characters`);
  }
  return new Uint8Array(Buffer.from(trimmed, 'base64'));
}

/** Constant-time equality of two public keys. */
export function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Writes a new private key file with mode 0600; refuses to overwrite. */
export async function writePrivateKeyFile(path: string, privateKey: Uint8Array): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyError('EXISTS', `${path} already exists: not overwriting a key file`);
    throw error;
  }
  try {
    await handle.writeFile(`${encodeKey(privateKey)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a private key file, refusing one that group or others may read. */
export async function readPrivateKeyFile(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new KeyError('INSECURE_MODE', `${path}: private key file is readable by group or others (mode ${(info.mode & 0o777).toString(8)}) — fix with: chmod 600 ${path}`);
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof KeyError) throw error;
    throw new KeyError('UNREADABLE', `${path}: cannot read private key file: ${(error as Error).message}`);
  }
  return decodeKey(text, path);
}
