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
 * `DataKeySchedule` holds one chain per direction and moves each on its own:
 * a rekey of one direction costs one HMAC and one HKDF, destroys the
 * replaced cipher and wipes the replaced chain key and the derived key bytes.
 */
import { AeadOpener, AeadSealer } from './data-aead.js';
import { KeyChain, type DirectionKeys } from './data-keys.js';
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
  /** Frees this generation's key now; the sealer cannot be used afterwards. */
  destroy(): void;
}

export interface DataOpener {
  readonly suite: SuiteName;
  readonly keyId: number;
  readonly digestLength: number;
  readonly framesOpened: number;
  /** Verifies the digest with its own counter BEFORE releasing plaintext; on success writes plaintext into `plaintextOut` and returns true; on failure returns false and plaintextOut must not be used. */
  open(header: Uint8Array, ciphertext: Uint8Array, digest: Uint8Array, plaintextOut: Uint8Array): boolean;
  /** Frees this generation's key now; the opener cannot be used afterwards. */
  destroy(): void;
}

/** One session's DATA ciphers across key generations, each direction on its own chain. */
export interface DataKeySchedule {
  readonly sealer: DataSealer;
  readonly opener: DataOpener;
  /** The send direction's next generation (the receive direction is untouched). */
  nextSealer(): DataSealer;
  /** The receive direction's next generation (the send direction is untouched). */
  nextOpener(): DataOpener;
  /** Destroys both ciphers and wipes both chains (the session ended). */
  destroy(): void;
}

/** Generation 0 of both directions; copies what it needs from `keys` and keeps no reference to them. */
export function createDataKeySchedule(suite: SuiteName, keys: SessionKeys): DataKeySchedule {
  if (!(suite in SUITE_IDS)) throw new RangeError(`unknown DATA suite ${JSON.stringify(suite)}`);
  return new KeySchedule(suite, keys);
}

class KeySchedule implements DataKeySchedule {
  readonly #send: KeyChain;
  readonly #receive: KeyChain;
  sealer: DataSealer;
  opener: DataOpener;

  constructor(
    private readonly suite: SuiteName,
    keys: SessionKeys,
  ) {
    this.#send = new KeyChain(keys.sendKey, keys.handshakeHash);
    this.#receive = new KeyChain(keys.receiveKey, keys.handshakeHash);
    this.sealer = createSealer(suite, 0, this.#send.keys(suite));
    this.opener = createOpener(suite, 0, this.#receive.keys(suite));
  }

  nextSealer(): DataSealer {
    this.sealer.destroy();
    this.#send.advance();
    this.sealer = createSealer(this.suite, this.#send.generation, this.#send.keys(this.suite));
    return this.sealer;
  }

  nextOpener(): DataOpener {
    this.opener.destroy();
    this.#receive.advance();
    this.opener = createOpener(this.suite, this.#receive.generation, this.#receive.keys(this.suite));
    return this.opener;
  }

  destroy(): void {
    this.sealer.destroy();
    this.opener.destroy();
    this.#send.wipe();
    this.#receive.wipe();
  }
}

/** The sealer for one generation; the key bytes are wiped once the cipher holds its own copy. */
function createSealer(suite: SuiteName, keyId: number, keys: DirectionKeys): DataSealer {
  try {
    return suite === 'chacha20-hmac-sha256' ? new StreamHmacSealer(keyId, keys) : new AeadSealer(suite, keyId, keys.cipherKey);
  } finally {
    wipe(keys);
  }
}

function createOpener(suite: SuiteName, keyId: number, keys: DirectionKeys): DataOpener {
  try {
    return suite === 'chacha20-hmac-sha256' ? new StreamHmacOpener(keyId, keys) : new AeadOpener(suite, keyId, keys.cipherKey);
  } finally {
    wipe(keys);
  }
}

function wipe(keys: DirectionKeys): void {
  keys.cipherKey.fill(0);
  keys.digestKey?.fill(0);
}

/**
 * Both directions' ciphers at generation `keyId`, from scratch (keyId ratchet
 * steps per direction): for vectors, tests and benchmarks. Sessions use
 * createDataKeySchedule and move one generation at a time.
 */
export function createDataCiphers(suite: SuiteName, keys: SessionKeys, keyId: number): { sealer: DataSealer; opener: DataOpener } {
  if (!Number.isSafeInteger(keyId) || keyId < 0) throw new RangeError(`keyId: expected a non-negative integer, got ${keyId}`);
  const schedule = createDataKeySchedule(suite, keys);
  for (let i = 0; i < keyId; i++) {
    schedule.nextSealer();
    schedule.nextOpener();
  }
  return { sealer: schedule.sealer, opener: schedule.opener };
}
