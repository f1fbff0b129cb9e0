/**
 * CipherState (Noise spec rev 34 §5.1): a key k (or empty) and a 64-bit
 * nonce n, used for the handshake payloads and, after Split(), transport
 * messages. A direct translation with the spec's names.
 *
 * Guarantees: n is never reused with the same k — it advances after every
 * successful EncryptWithAd/DecryptWithAd, a failed DecryptWithAd leaves it
 * unchanged, and n = 2^64-1 is refused (§5.1: reserved for Rekey).
 */
import { CipherError, DECRYPT, ENCRYPT, KEYLEN } from './cipher.js';

const MAX_NONCE = 2n ** 64n - 1n;
const EMPTY = new Uint8Array(0);

export class CipherState {
  k: Uint8Array | undefined;
  n = 0n;

  /** InitializeKey(key): sets k (empty when undefined) and n = 0. */
  initializeKey(key: Uint8Array | undefined): void {
    if (key && key.length !== KEYLEN) throw new CipherError(`cipher key: expected ${KEYLEN} bytes, got ${key.length}`);
    this.k = key;
    this.n = 0n;
  }

  hasKey(): boolean {
    return this.k !== undefined;
  }

  setNonce(nonce: bigint): void {
    this.n = nonce;
  }

  /** With a key: ENCRYPT(k, n++, ad, plaintext). Without one: the plaintext itself. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext;
    this.#checkNonce();
    const ciphertext = ENCRYPT(this.k, this.n, ad, plaintext);
    this.n++;
    return ciphertext;
  }

  /** With a key: DECRYPT(k, n, ad, ciphertext), and n++ only if it authenticated. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext;
    this.#checkNonce();
    const plaintext = DECRYPT(this.k, this.n, ad, ciphertext);
    this.n++;
    return plaintext;
  }

  /** Rekey() (§4.2 default REKEY): k = the first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros). */
  rekey(): void {
    if (!this.k) throw new CipherError('Rekey without a key');
    this.k = ENCRYPT(this.k, MAX_NONCE, EMPTY, new Uint8Array(KEYLEN)).slice(0, KEYLEN);
  }

  #checkNonce(): void {
    if (this.n >= MAX_NONCE) throw new CipherError('nonce exhausted: 2^64-1 is reserved');
  }
}
