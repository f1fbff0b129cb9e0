/**
 * The `chacha20-hmac-sha256` DATA suite: encrypt-then-MAC with one ChaCha20
 * keystream (RFC 8439 §2.4, zero nonce and initial block counter) that runs
 * on across every frame of a key generation, and
 *
 *   digest = HMAC-SHA-256(digestKey, header ‖ ciphertext ‖ counter u64 big-endian)
 *
 * in full (32 bytes: no truncation, the frame has room for it). A running
 * keystream is possible only because the transport is reliable and ordered;
 * the digest's implicit counter makes a dropped, replayed or reordered frame
 * fail, and then the connection closes.
 *
 * Guarantees: the keystream never repeats for a key (each direction and
 * generation has its own key; the stream is bounded by MAX_KEYSTREAM_BYTES);
 * `open` checks the HMAC in constant time BEFORE decrypting, so a failed
 * `open` releases nothing and does not advance the keystream or the counter.
 */
import { createCipheriv, createHmac, createSecretKey, timingSafeEqual, type Cipher, type KeyObject } from 'node:crypto';
import type { DirectionKeys } from './data-keys.js';

export const HMAC_DIGEST_LENGTH = 32;
/** 2^38 bytes = 2^32 ChaCha20 blocks: the 32-bit block counter's range. Key lifetimes are far shorter. */
export const MAX_KEYSTREAM_BYTES = 2 ** 38;
/** node's 'chacha20' IV: 4-byte little-endian block counter ‖ 12-byte nonce, all zero. */
const ZERO_IV = Buffer.alloc(16);

/**
 * A ChaCha20 keystream that keeps its position across update() calls.
 * `iv` is node's layout: block counter u32 little-endian ‖ 96-bit nonce.
 */
export function createKeystream(key: Uint8Array, iv: Uint8Array = ZERO_IV): Cipher {
  return createCipheriv('chacha20', key, iv);
}

abstract class StreamDirection {
  readonly suite = 'chacha20-hmac-sha256' as const;
  readonly digestLength = HMAC_DIGEST_LENGTH;
  protected keystream: Cipher;
  #digestKey: KeyObject | undefined;
  readonly #counterBytes = Buffer.alloc(8);
  protected counter = 0;
  protected bytes = 0;

  /** Both keys are copied (into the cipher and a KeyObject); the caller may wipe them afterwards. */
  constructor(
    readonly keyId: number,
    keys: DirectionKeys,
  ) {
    if (!keys.digestKey) throw new RangeError('chacha20-hmac-sha256 needs a digest key');
    this.keystream = createKeystream(keys.cipherKey);
    this.#digestKey = createSecretKey(keys.digestKey);
  }

  /** Ends the keystream (node frees its OpenSSL context) and drops the digest key; seal/open throw afterwards. */
  destroy(): void {
    if (!this.#digestKey) return;
    this.keystream.final();
    this.#digestKey = undefined;
  }

  protected digest(header: Uint8Array, ciphertext: Uint8Array): Buffer {
    if (!this.#digestKey) throw new RangeError(`chacha20-hmac-sha256 key ${this.keyId} used after destroy()`);
    this.#counterBytes.writeBigUInt64BE(BigInt(this.counter), 0);
    return createHmac('sha256', this.#digestKey).update(header).update(ciphertext).update(this.#counterBytes).digest();
  }

  protected roomFor(length: number): boolean {
    return this.bytes + length <= MAX_KEYSTREAM_BYTES;
  }
}

export class StreamHmacSealer extends StreamDirection {
  get framesSealed(): number {
    return this.counter;
  }
  get bytesSealed(): number {
    return this.bytes;
  }

  seal(header: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, digestOut: Uint8Array): void {
    if (ciphertextOut.length < plaintext.length || digestOut.length !== HMAC_DIGEST_LENGTH) {
      throw new RangeError(`seal: ciphertextOut ${ciphertextOut.length} < plaintext ${plaintext.length}, or digestOut ${digestOut.length} != ${HMAC_DIGEST_LENGTH}`);
    }
    if (!this.roomFor(plaintext.length)) throw new RangeError('keystream exhausted: rekey long before this');
    const ciphertext = ciphertextOut.subarray(0, plaintext.length);
    ciphertext.set(this.keystream.update(plaintext)); // a new buffer: plaintext may alias ciphertextOut
    digestOut.set(this.digest(header, ciphertext));
    this.counter++;
    this.bytes += plaintext.length;
  }
}

export class StreamHmacOpener extends StreamDirection {
  get framesOpened(): number {
    return this.counter;
  }

  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean {
    if (digest.length !== HMAC_DIGEST_LENGTH || plaintextOut.length < ciphertext.length || !this.roomFor(ciphertext.length)) return false;
    if (!timingSafeEqual(this.digest(header, ciphertext), digest)) return false; // verify first: the keystream has not moved
    plaintextOut.set(this.keystream.update(ciphertext));
    this.counter++;
    this.bytes += ciphertext.length;
    return true;
  }
}
