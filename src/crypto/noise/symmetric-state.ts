/**
 * SymmetricState (Noise spec rev 34 §5.2): the chaining key ck, the
 * handshake hash h and a CipherState, with the spec's operations and names.
 * Split() returns the two transport CipherStates: the first for
 * initiator→responder, the second for responder→initiator.
 */
import { CipherState } from './cipher-state.js';
import { HKDF, type HashFunction } from './hash.js';

const EMPTY = new Uint8Array(0);

export class SymmetricState {
  readonly cipherState = new CipherState();
  ck: Uint8Array;
  h: Uint8Array;

  /** InitializeSymmetric(protocol_name). */
  constructor(
    readonly hashFunction: HashFunction,
    protocolName: string,
  ) {
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= hashFunction.HASHLEN) {
      this.h = new Uint8Array(hashFunction.HASHLEN); // the name, zero-padded to HASHLEN
      this.h.set(name);
    } else {
      this.h = hashFunction.hash(name);
    }
    this.ck = this.h;
    this.cipherState.initializeKey(undefined);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = HKDF(this.hashFunction, this.ck, inputKeyMaterial, 2) as [Uint8Array, Uint8Array];
    this.ck = ck;
    this.cipherState.initializeKey(tempK); // HASHLEN = 32 = the key length: no truncation needed
  }

  mixHash(data: Uint8Array): void {
    this.h = this.hashFunction.hash(this.h, data);
  }

  /** MixKeyAndHash(input_key_material), for "psk" tokens. */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = HKDF(this.hashFunction, this.ck, inputKeyMaterial, 3) as [Uint8Array, Uint8Array, Uint8Array];
    this.ck = ck;
    this.mixHash(tempH);
    this.cipherState.initializeKey(tempK);
  }

  getHandshakeHash(): Uint8Array {
    return this.h;
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): [c1 (initiator→responder), c2 (responder→initiator)]. */
  split(): [CipherState, CipherState] {
    const [tempK1, tempK2] = HKDF(this.hashFunction, this.ck, EMPTY, 2) as [Uint8Array, Uint8Array];
    const c1 = new CipherState();
    const c2 = new CipherState();
    c1.initializeKey(tempK1);
    c2.initializeKey(tempK2);
    return [c1, c2];
  }
}
