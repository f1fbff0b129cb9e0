/**
 * The AEAD DATA suites, `chacha20-poly1305` (RFC 8439) and `aes-256-gcm`
 * (NIST SP 800-38D), on node:crypto (OpenSSL): nonce = 32 zero bits ‖ the
 * implicit frame counter as 64-bit little-endian (the Noise ChaChaPoly
 * layout), AAD = the frame header, 16-byte tag = the digest.
 *
 * Guarantees: a (key, nonce) pair is never used twice — each direction and
 * key generation has its own key, and the counter only grows; `open` copies
 * plaintext out only after OpenSSL accepted the tag in final() (it decrypts
 * into its own buffer first, which is zeroed on failure); a failed `open`
 * leaves the counter where it was (the connection closes anyway).
 * The per-frame work runs on one reused OpenSSL context per direction
 * (native-aead.ts) when the addon is built, and that context is the only copy
 * of the key; otherwise on a node:crypto cipher object per frame, which still measured faster than @noble/ciphers
 * (docs/CRYPTO.md). Both produce the same bytes (tested).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type CipherGCM, type DecipherGCM, type KeyObject } from 'node:crypto';
import { nativeAead } from './native-aead.js';

export const AEAD_TAG_LENGTH = 16;
const NONCE_LENGTH = 12;
const TWO_32 = 2 ** 32;

export type AeadSuite = 'chacha20-poly1305' | 'aes-256-gcm';

/**
 * The AEAD as used for a frame: ciphertext into `ciphertextOut`, the tag into
 * `tagOut`. (Exported for the RFC 8439 / GCM vectors, which need their own nonces.)
 */
export function aeadSeal(suite: AeadSuite, key: KeyObject | Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, tagOut: Uint8Array): void {
  const cipher = createCipheriv(suite as 'aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_LENGTH }) as CipherGCM;
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  ciphertextOut.set(cipher.update(plaintext)); // update() returns a new buffer, so plaintext may alias ciphertextOut
  cipher.final();
  tagOut.set(cipher.getAuthTag());
}

/** Verifies and decrypts; writes `plaintextOut` only when the tag verified. */
export function aeadOpen(suite: AeadSuite, key: KeyObject | Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, plaintextOut: Uint8Array): boolean {
  if (tag.length !== AEAD_TAG_LENGTH || plaintextOut.length < ciphertext.length) return false;
  const decipher = createDecipheriv(suite as 'aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_LENGTH }) as DecipherGCM;
  decipher.setAAD(aad, { plaintextLength: ciphertext.length });
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext); // OpenSSL's scratch: not released until final() accepted the tag
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return false;
  }
  plaintextOut.set(plaintext);
  return true;
}

/** Shared by sealer and opener: the key, the counter and the reused nonce buffer. */
abstract class AeadDirection {
  readonly digestLength = AEAD_TAG_LENGTH;
  /** The reused native context, when the addon is built; then no KeyObject copy of the key exists. */
  protected context: object | undefined;
  /** The fallback path's key, only when there is no native context. */
  protected key: KeyObject | undefined;
  protected counter = 0;
  protected bytes = 0;
  #destroyed = false;
  readonly #nonce = Buffer.alloc(NONCE_LENGTH);

  /** `cipherKey` is copied (into OpenSSL or a KeyObject); the caller may wipe it afterwards. */
  constructor(
    readonly suite: AeadSuite,
    readonly keyId: number,
    cipherKey: Uint8Array,
    encrypt: boolean,
  ) {
    this.context = nativeAead?.create(suite, cipherKey, encrypt);
    if (!this.context) this.key = createSecretKey(cipherKey);
  }

  /** Frees the key now (the native context's key schedule is cleansed); seal/open throw afterwards. */
  destroy(): void {
    if (this.context) nativeAead!.destroy?.(this.context);
    this.context = undefined;
    this.key = undefined;
    this.#destroyed = true;
  }

  /** 4 zero bytes, then the counter as u64 little-endian. */
  protected nonce(): Buffer {
    if (this.#destroyed) throw new RangeError(`${this.suite} key ${this.keyId} used after destroy()`);
    if (this.counter >= Number.MAX_SAFE_INTEGER) throw new RangeError('DATA counter exhausted: rekey long before this');
    this.#nonce.writeUInt32LE(this.counter % TWO_32, 4);
    this.#nonce.writeUInt32LE(Math.floor(this.counter / TWO_32), 8);
    return this.#nonce;
  }
}

export class AeadSealer extends AeadDirection {
  constructor(suite: AeadSuite, keyId: number, cipherKey: Uint8Array) {
    super(suite, keyId, cipherKey, true);
  }

  get framesSealed(): number {
    return this.counter;
  }
  get bytesSealed(): number {
    return this.bytes;
  }

  seal(header: Uint8Array, plaintext: Uint8Array, ciphertextOut: Uint8Array, digestOut: Uint8Array): void {
    if (ciphertextOut.length < plaintext.length || digestOut.length !== AEAD_TAG_LENGTH) {
      throw new RangeError(`seal: ciphertextOut ${ciphertextOut.length} < plaintext ${plaintext.length}, or digestOut ${digestOut.length} != ${AEAD_TAG_LENGTH}`);
    }
    if (this.context) nativeAead!.seal(this.context, this.nonce(), header, plaintext, ciphertextOut, digestOut);
    else aeadSeal(this.suite, this.key!, this.nonce(), header, plaintext, ciphertextOut, digestOut);
    this.counter++;
    this.bytes += plaintext.length;
  }
}

export class AeadOpener extends AeadDirection {
  constructor(suite: AeadSuite, keyId: number, cipherKey: Uint8Array) {
    super(suite, keyId, cipherKey, false);
  }

  get framesOpened(): number {
    return this.counter;
  }

  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean {
    if (digest.length !== AEAD_TAG_LENGTH || plaintextOut.length < ciphertext.length) return false;
    const ok = this.context
      ? nativeAead!.open(this.context, this.nonce(), header, ciphertext, digest, plaintextOut)
      : aeadOpen(this.suite, this.key!, this.nonce(), header, ciphertext, digest, plaintextOut);
    if (!ok) return false;
    this.counter++;
    this.bytes += ciphertext.length;
    return true;
  }
}
