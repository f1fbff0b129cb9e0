/**
 * DATA frame sealing with the implicit frame counter (docs/PROTOCOL.md).
 * Each direction has its own keys, derived per key generation (`keyId`) from
 * that direction's Noise transport key and the handshake hash, so both ends
 * compute them alone and no two generations or directions share a key.
 *
 * Suites:
 * - `chacha20-poly1305`, `aes-256-gcm`: AEAD; nonce = 4 zero bytes ‖ counter
 *   (u64 little-endian, as Noise); AAD = the frame header; tag = the digest.
 * - `chacha20-hmac-sha256`: one ChaCha20 keystream that runs on across all
 *   frames of the generation (possible only over a reliable, ordered
 *   transport); digest = HMAC-SHA-256(digest key, header ‖ ciphertext ‖
 *   counter u64 big-endian), checked in constant time before decrypting.
 *
 * `open` releases plaintext only after the digest verified: node's AEAD
 * decipher writes into its own buffer, which is copied out only when final()
 * accepted the tag, and zeroed otherwise.
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, timingSafeEqual, type CipherGCM, type DecipherGCM, type KeyObject } from 'node:crypto';
import type { SessionKeys } from './handshake.js';

export type SuiteName = 'chacha20-poly1305' | 'aes-256-gcm' | 'chacha20-hmac-sha256';

/** In the server's default preference order (chosen by measurement: docs/CRYPTO.md). */
export const SUITES: readonly SuiteName[] = ['aes-256-gcm', 'chacha20-poly1305', 'chacha20-hmac-sha256'];
const SUITE_IDS: Record<SuiteName, number> = { 'chacha20-poly1305': 1, 'aes-256-gcm': 2, 'chacha20-hmac-sha256': 3 };

export function suiteId(name: SuiteName): number {
  return SUITE_IDS[name];
}

export function suiteFromId(id: number): SuiteName | undefined {
  return (Object.keys(SUITE_IDS) as SuiteName[]).find((name) => SUITE_IDS[name] === id);
}

export interface DataSealer {
  readonly suite: SuiteName;
  readonly keyId: number;
  readonly digestLength: number;
  readonly framesSealed: number;
  readonly bytesSealed: number;
  seal(header: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, digestOut: Uint8Array): void;
}

export interface DataOpener {
  readonly suite: SuiteName;
  readonly keyId: number;
  readonly digestLength: number;
  readonly framesOpened: number;
  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean;
}

const AEAD_TAG_LENGTH = 16;
const HMAC_DIGEST_LENGTH = 32;
const KEY_LENGTH = 32;

/** One direction's keys for one generation: HKDF-SHA-256(direction key, salt = handshake hash, info = suite ‖ generation). */
export function deriveDirectionKeys(directionKey: Uint8Array, handshakeHash: Uint8Array, suite: SuiteName, keyId: number): { cipherKey: Uint8Array; digestKey: Uint8Array } {
  const okm = new Uint8Array(hkdfSync('sha256', directionKey, handshakeHash, `tapvpn/1 data ${suite} generation ${keyId}`, 2 * KEY_LENGTH));
  return { cipherKey: okm.subarray(0, KEY_LENGTH), digestKey: okm.subarray(KEY_LENGTH) };
}

abstract class CounterState {
  protected counter = 0n;
  protected frames = 0;
  protected bytes = 0;
  protected readonly nonce = Buffer.alloc(12);

  constructor(
    readonly suite: SuiteName,
    readonly keyId: number,
    readonly digestLength: number,
  ) {}

  get framesSealed(): number {
    return this.frames;
  }
  get framesOpened(): number {
    return this.frames;
  }
  get bytesSealed(): number {
    return this.bytes;
  }

  protected nextNonce(): Buffer {
    this.nonce.writeBigUInt64LE(this.counter, 4);
    return this.nonce;
  }

  protected advance(length: number): void {
    this.counter++;
    this.frames++;
    this.bytes += length;
  }
}

type AeadAlgorithm = 'chacha20-poly1305' | 'aes-256-gcm';

class AeadCipher extends CounterState implements DataSealer, DataOpener {
  readonly #key: KeyObject;

  constructor(suite: AeadAlgorithm, keyId: number, key: Uint8Array) {
    super(suite, keyId, AEAD_TAG_LENGTH);
    this.#key = createSecretKey(key);
  }

  seal(header: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, digestOut: Uint8Array): void {
    const cipher = createCipheriv(this.suite as 'aes-256-gcm', this.#key, this.nextNonce(), { authTagLength: AEAD_TAG_LENGTH }) as CipherGCM;
    cipher.setAAD(header, { plaintextLength: plaintext.length });
    ciphertextOut.set(cipher.update(plaintext));
    cipher.final();
    digestOut.set(cipher.getAuthTag());
    this.advance(plaintext.length);
  }

  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean {
    if (digest.length !== AEAD_TAG_LENGTH || plaintextOut.length < ciphertext.length) return false;
    const decipher = createDecipheriv(this.suite as 'aes-256-gcm', this.#key, this.nextNonce(), { authTagLength: AEAD_TAG_LENGTH }) as DecipherGCM;
    decipher.setAAD(header, { plaintextLength: ciphertext.length });
    decipher.setAuthTag(digest);
    const plaintext = decipher.update(ciphertext);
    try {
      decipher.final(); // RFC 8439 §2.8 / GCM: the tag decides before the plaintext leaves
    } catch {
      plaintext.fill(0);
      return false;
    }
    plaintextOut.set(plaintext);
    this.advance(ciphertext.length);
    return true;
  }
}

class StreamHmacCipher extends CounterState implements DataSealer, DataOpener {
  readonly #keystream;
  readonly #digestKey: KeyObject;
  readonly #counterBytes = Buffer.alloc(8);

  constructor(keyId: number, keys: { cipherKey: Uint8Array; digestKey: Uint8Array }) {
    super('chacha20-hmac-sha256', keyId, HMAC_DIGEST_LENGTH);
    // One keystream for the generation's life: a fresh key per generation and direction makes the zero IV safe.
    this.#keystream = createCipheriv('chacha20', keys.cipherKey, Buffer.alloc(16));
    this.#digestKey = createSecretKey(keys.digestKey);
  }

  #digest(header: Uint8Array, ciphertext: Uint8Array): Buffer {
    this.#counterBytes.writeBigUInt64BE(this.counter, 0);
    return createHmac('sha256', this.#digestKey).update(header).update(ciphertext).update(this.#counterBytes).digest();
  }

  seal(header: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, digestOut: Uint8Array): void {
    const ciphertext = this.#keystream.update(plaintext);
    ciphertextOut.set(ciphertext);
    digestOut.set(this.#digest(header, ciphertext));
    this.advance(plaintext.length);
  }

  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean {
    if (digest.length !== HMAC_DIGEST_LENGTH || plaintextOut.length < ciphertext.length) return false;
    if (!timingSafeEqual(this.#digest(header, ciphertext), digest)) return false; // the keystream does not advance
    plaintextOut.set(this.#keystream.update(ciphertext));
    this.advance(ciphertext.length);
    return true;
  }
}

/** Per-direction cipher state for key generation `keyId` (0 after the handshake, +1 per in-band REKEY). */
export function createDataCiphers(suite: SuiteName, keys: SessionKeys, keyId: number): { sealer: DataSealer; opener: DataOpener } {
  const send = deriveDirectionKeys(keys.sendKey, keys.handshakeHash, suite, keyId);
  const receive = deriveDirectionKeys(keys.receiveKey, keys.handshakeHash, suite, keyId);
  if (suite === 'chacha20-hmac-sha256') {
    return { sealer: new StreamHmacCipher(keyId, send), opener: new StreamHmacCipher(keyId, receive) };
  }
  return { sealer: new AeadCipher(suite, keyId, send.cipherKey), opener: new AeadCipher(suite, keyId, receive.cipherKey) };
}
