/**
 * DATA frame sealing with the implicit frame counter (docs/PROTOCOL.md,
 * docs/CRYPTO.md): the suites, their wire ids, and the per-direction
 * sealer/opener for a key generation.
 *
 * - `chacha20-poly1305`, `aes-256-gcm` (data-aead.ts): AEAD, nonce = 32 zero
 *   bits ‖ counter u64 little-endian, AAD = header, 16-byte tag = digest.
 * - `chacha20-hmac-sha256` (data-stream-hmac.ts): a running ChaCha20
 *   keystream, digest = HMAC-SHA-256 over header ‖ ciphertext ‖ counter
 *   u64 big-endian, 32 bytes, checked in constant time before decrypting.
 *
 * Keys (data-keys.ts): each direction's own Split() key, ratcheted one way
 * per generation, suite and generation in the label. Counters start at 0 for
 * every generation; a key is never used with the same counter twice.
 */
import { AeadOpener, AeadSealer } from './data-aead.js';
import { deriveDirectionKeys } from './data-keys.js';
import { StreamHmacOpener, StreamHmacSealer } from './data-stream-hmac.js';
import type { SessionKeys } from './handshake.js';

export type SuiteName = 'chacha20-poly1305' | 'aes-256-gcm' | 'chacha20-hmac-sha256';

/**
 * Every suite, the server's default preference first, ordered by
 * measurement (bench/crypto-bench.ts, docs/CRYPTO.md): AES-256-GCM led the
 * interleaved seal+open rounds at 1400 B and 64 KiB on the target machine
 * (AES-NI); ChaCha20-Poly1305 was within a few percent and is the better
 * choice on CPUs without AES instructions; the keystream suite is last.
 */
export const SUITES: readonly SuiteName[] = ['aes-256-gcm', 'chacha20-poly1305', 'chacha20-hmac-sha256'];
export const DEFAULT_SUITE: SuiteName = SUITES[0]!;

const SUITE_IDS: Readonly<Record<SuiteName, number>> = { 'chacha20-poly1305': 1, 'aes-256-gcm': 2, 'chacha20-hmac-sha256': 3 };

export function suiteId(name: SuiteName): number {
  return SUITE_IDS[name];
}

export function suiteFromId(id: number): SuiteName | undefined {
  return SUITES.find((name) => SUITE_IDS[name] === id);
}

export interface DataSealer {
  readonly suite: SuiteName;
  readonly keyId: number;
  readonly digestLength: number;
  readonly framesSealed: number;
  readonly bytesSealed: number;
  /** Encrypts `plaintext` into `ciphertextOut` (same length; may be the same memory) and writes the digest (keyed over header ‖ ciphertext ‖ implicit counter) into `digestOut`; advances the counter. */
  seal(header: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, digestOut: Uint8Array): void;
}

export interface DataOpener {
  readonly suite: SuiteName;
  readonly keyId: number;
  readonly digestLength: number;
  readonly framesOpened: number;
  /** Verifies the digest with its own counter BEFORE releasing plaintext; on success writes plaintext into `plaintextOut` and returns true; on failure returns false and plaintextOut must not be used. */
  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean;
}

/** Per-direction cipher state for key generation `keyId` (0 after the handshake; in-band rekey moves both sides to keyId+1 with keys derived one-way from the previous ones). */
export function createDataCiphers(suite: SuiteName, keys: SessionKeys, keyId: number): { sealer: DataSealer; opener: DataOpener } {
  if (!(suite in SUITE_IDS)) throw new RangeError(`unknown DATA suite ${JSON.stringify(suite)}`);
  const send = deriveDirectionKeys(keys.sendKey, keys.handshakeHash, suite, keyId);
  const receive = deriveDirectionKeys(keys.receiveKey, keys.handshakeHash, suite, keyId);
  if (suite === 'chacha20-hmac-sha256') {
    return { sealer: new StreamHmacSealer(keyId, send), opener: new StreamHmacOpener(keyId, receive) };
  }
  return { sealer: new AeadSealer(suite, keyId, send.cipherKey), opener: new AeadOpener(suite, keyId, receive.cipherKey) };
}
