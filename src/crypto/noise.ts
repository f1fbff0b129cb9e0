/**
 * Noise Protocol Framework rev 34, §5, for the IK pattern only:
 *
 *   IK:
 *     <- s
 *     ...
 *     -> e, es, s, ss
 *     <- e, ee, se
 *
 * A direct translation of CipherState, SymmetricState and HandshakeState
 * with the spec's names. With a pre-shared key it runs IKpsk2 (§9: the "e"
 * token also calls MixKey(e), and message 2 ends with MixKeyAndHash(psk)),
 * WireGuard's pattern: an optional second secret against a future break of
 * X25519. Ephemeral keys can be injected (for the published
 * test vectors); normally they are fresh from the OS's CSPRNG.
 */
import { concat, decryptWithAd, dh, dhPublicKey, DHLEN, encryptWithAd, generateDhKeyPair, hash, HASHLEN, hkdf } from './primitives.js';

export const PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_BLAKE2s';
export const PROTOCOL_NAME_PSK2 = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s';
export const PSKLEN = 32;

interface KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** §5.1 */
export class CipherState {
  k: Uint8Array | undefined;
  n = 0n;

  initializeKey(key: Uint8Array | undefined): void {
    this.k = key;
    this.n = 0n;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext;
    const out = encryptWithAd(this.k, this.n, ad, plaintext);
    this.n++;
    return out;
  }

  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext;
    const out = decryptWithAd(this.k, this.n, ad, ciphertext); // n advances only on success (§5.1)
    this.n++;
    return out;
  }
}

/** §5.2 */
export class SymmetricState {
  readonly cipherState = new CipherState();
  ck: Uint8Array;
  h: Uint8Array;

  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    this.h = name.length <= HASHLEN ? concat(name, new Uint8Array(HASHLEN - name.length)) : hash(name);
    this.ck = this.h;
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf(this.ck, inputKeyMaterial, 2) as [Uint8Array, Uint8Array];
    this.ck = ck;
    this.cipherState.initializeKey(tempK);
  }

  mixHash(data: Uint8Array): void {
    this.h = hash(concat(this.h, data));
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** §5.2, for psk tokens. */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = hkdf(this.ck, inputKeyMaterial, 3) as [Uint8Array, Uint8Array, Uint8Array];
    this.ck = ck;
    this.mixHash(tempH);
    this.cipherState.initializeKey(tempK);
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Returns the two transport keys: initiator→responder, responder→initiator. */
  split(): [Uint8Array, Uint8Array] {
    const [k1, k2] = hkdf(this.ck, new Uint8Array(0), 2) as [Uint8Array, Uint8Array];
    return [k1, k2];
  }
}

export interface IkOptions {
  initiator: boolean;
  prologue: Uint8Array;
  s: KeyPair;
  /** The responder's static public key (initiator only: the pre-message). */
  rs?: Uint8Array;
  /** Fixed ephemeral private key, for test vectors only. */
  ephemeralPrivateKey?: Uint8Array;
  /** 32-byte pre-shared key: runs IKpsk2 instead of IK. */
  psk?: Uint8Array;
}

/** §5.3 for IK: two messages, then split(). */
export class IkHandshakeState {
  readonly symmetric: SymmetricState;
  readonly initiator: boolean;
  private readonly psk: Uint8Array | undefined;
  private readonly s: KeyPair;
  private e: KeyPair | undefined;
  rs: Uint8Array | undefined;
  re: Uint8Array | undefined;
  private readonly fixedEphemeral: Uint8Array | undefined;

  constructor(options: IkOptions) {
    if (options.psk && options.psk.length !== PSKLEN) throw new RangeError(`pre-shared key must be ${PSKLEN} bytes, got ${options.psk.length}`);
    this.psk = options.psk;
    this.symmetric = new SymmetricState(options.psk ? PROTOCOL_NAME_PSK2 : PROTOCOL_NAME);
    this.initiator = options.initiator;
    this.s = options.s;
    this.rs = options.rs;
    this.fixedEphemeral = options.ephemeralPrivateKey;
    this.symmetric.mixHash(options.prologue);
    // Pre-message pattern "<- s": both sides hash the responder's static key.
    this.symmetric.mixHash(this.initiator ? options.rs! : options.s.publicKey);
  }

  get handshakeHash(): Uint8Array {
    return this.symmetric.h;
  }

  private generateEphemeral(): KeyPair {
    if (!this.fixedEphemeral) return generateDhKeyPair();
    return { privateKey: this.fixedEphemeral, publicKey: dhPublicKey(this.fixedEphemeral) };
  }

  /** The "e" token's hashing: MixHash(e), and in psk mode also MixKey(e) (§9.2). */
  private mixEphemeral(publicKey: Uint8Array): void {
    this.symmetric.mixHash(publicKey);
    if (this.psk) this.symmetric.mixKey(publicKey);
  }

  /** Initiator: -> e, es, s, ss, payload */
  writeMessage1(payload: Uint8Array): Uint8Array {
    const ss = this.symmetric;
    this.e = this.generateEphemeral();
    this.mixEphemeral(this.e.publicKey);
    ss.mixKey(dh(this.e.privateKey, this.rs!));
    const encryptedStatic = ss.encryptAndHash(this.s.publicKey);
    ss.mixKey(dh(this.s.privateKey, this.rs!));
    return concat(this.e.publicKey, encryptedStatic, ss.encryptAndHash(payload));
  }

  /** Responder: reads -> e, es, s, ss, payload; learns the initiator's static key. */
  readMessage1(message: Uint8Array): Uint8Array {
    const ss = this.symmetric;
    const staticEnd = DHLEN + DHLEN + 16;
    this.re = message.slice(0, DHLEN);
    this.mixEphemeral(this.re);
    ss.mixKey(dh(this.s.privateKey, this.re));
    this.rs = ss.decryptAndHash(message.subarray(DHLEN, staticEnd));
    ss.mixKey(dh(this.s.privateKey, this.rs));
    return ss.decryptAndHash(message.subarray(staticEnd));
  }

  /** Responder: <- e, ee, se, payload */
  writeMessage2(payload: Uint8Array): Uint8Array {
    const ss = this.symmetric;
    this.e = this.generateEphemeral();
    this.mixEphemeral(this.e.publicKey);
    ss.mixKey(dh(this.e.privateKey, this.re!));
    ss.mixKey(dh(this.e.privateKey, this.rs!));
    if (this.psk) ss.mixKeyAndHash(this.psk);
    return concat(this.e.publicKey, ss.encryptAndHash(payload));
  }

  /** Initiator: reads <- e, ee, se, payload */
  readMessage2(message: Uint8Array): Uint8Array {
    const ss = this.symmetric;
    this.re = message.slice(0, DHLEN);
    this.mixEphemeral(this.re);
    ss.mixKey(dh(this.e!.privateKey, this.re));
    ss.mixKey(dh(this.s.privateKey, this.re));
    if (this.psk) ss.mixKeyAndHash(this.psk);
    return ss.decryptAndHash(message.subarray(DHLEN));
  }
}
