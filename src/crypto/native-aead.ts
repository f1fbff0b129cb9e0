/**
 * The native AEAD (src/crypto/native/aead.c): one reusable OpenSSL context
 * per direction, loaded with node-gyp-build from src/crypto/native/ (its
 * source build by `npm install` in a checkout, or the prebuilt binary of an
 * installed package). Undefined when neither loads, and then the suites use
 * node:crypto's per-frame cipher objects instead (same bytes, slower).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeAead {
  create(suite: 'aes-256-gcm' | 'chacha20-poly1305', key: Uint8Array, encrypt: boolean): object;
  seal(handle: object, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, tagOut: Uint8Array): void;
  open(handle: object, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, plaintextOut: Uint8Array): boolean;
  /** Frees the context and its key schedule now (seal/open on it throw afterwards). Absent in an addon built before it existed. */
  destroy?(handle: object): void;
}

const MAX_PARENT_DEPTH = 6;

function load(): NativeAead | undefined {
  if (process.env.TAPVPN_NO_NATIVE_AEAD === '1') return undefined; // for measuring the node:crypto path
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < MAX_PARENT_DEPTH; depth++, dir = dirname(dir)) {
    if (!existsSync(join(dir, 'package.json'))) continue; // the package root: source or dist/ layout
    const require = createRequire(import.meta.url);
    try {
      return (require('node-gyp-build') as (dir: string) => unknown)(join(dir, 'src', 'crypto', 'native')) as NativeAead;
    } catch {
      return undefined; // not built for this platform: the node:crypto path
    }
  }
  return undefined;
}

export const nativeAead: NativeAead | undefined = load();
