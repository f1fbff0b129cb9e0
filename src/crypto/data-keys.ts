/**
 * Key derivation for DATA frames: from one direction's Noise transport key
 * (Split() output) to that direction's cipher (and, for the keystream suite,
 * digest) key for key generation `keyId`, one-way at every step:
 *
 *   chain[0]     = HKDF-SHA-256(IKM = direction key, salt = handshake hash,
 *                               info = "tapvpn/1 data chain", 32 bytes)
 *   chain[i + 1] = HMAC-SHA-256(chain[i], "tapvpn/1 data ratchet")
 *   keys[i]      = HKDF-SHA-256(IKM = chain[i], salt = "",
 *                               info = "tapvpn/1 data keys <suite> <i>", L)
 *                = cipherKey (32) [‖ digestKey (32)]
 *
 * L is 32 for the AEAD suites (their tag is the digest: no digest key is
 * derived) and 64 for `chacha20-hmac-sha256`. HKDF-Expand's first block does
 * not depend on L, so the cipher key is the same either way.
 *
 * So a generation's keys reveal neither an earlier generation's nor the chain
 * they came from, the suite is bound into every key (one suite's keys never
 * serve another), and the two directions never share a key: Split()'s two
 * outputs are independent HKDF outputs, and each direction is derived from
 * its own. (SessionKeys carries no role, so the direction is bound by its key,
 * not by a label: a label would need both sides to agree which is which.)
 *
 * `KeyChain` keeps only the current chain key of one direction and advances
 * it one HMAC at a time, wiping the one it replaces: a rekey costs one HMAC
 * and one HKDF whatever the generation (a peer's REKEY flood cannot make it
 * quadratic), and a captured process holds no earlier generation's chain.
 */
import { createHmac, hkdfSync } from 'node:crypto';

export const DATA_KEY_LENGTH = 32;
const CHAIN_INFO = 'tapvpn/1 data chain';
const RATCHET_LABEL = Buffer.from('tapvpn/1 data ratchet');

export interface DirectionKeys {
  cipherKey: Uint8Array;
  /** Only for suites with a separate digest (chacha20-hmac-sha256). */
  digestKey?: Uint8Array;
}

/**
 * Process-wide counts of the derivation steps, so tests can assert a cost
 * (how many HMACs and HKDFs an attack makes us run) without timing anything.
 */
export const keyDerivationCounts = { chainSteps: 0, keyDerivations: 0 };

/** Whether `suite` needs a digest key beside its cipher key. */
function usesDigestKey(suite: string): boolean {
  return suite === 'chacha20-hmac-sha256';
}

/** chain[0] for one direction. */
function initialChain(directionKey: Uint8Array, handshakeHash: Uint8Array): Buffer {
  if (directionKey.length !== DATA_KEY_LENGTH) throw new RangeError(`direction key: expected ${DATA_KEY_LENGTH} bytes, got ${directionKey.length}`);
  return Buffer.from(hkdfSync('sha256', directionKey, handshakeHash, CHAIN_INFO, DATA_KEY_LENGTH));
}

/** chain[i] → chain[i + 1], wiping chain[i]. */
function ratchet(chain: Buffer): Buffer {
  const next = createHmac('sha256', chain).update(RATCHET_LABEL).digest();
  chain.fill(0);
  keyDerivationCounts.chainSteps++;
  return next;
}

/** One direction's chain: the current generation's chain key only. */
export class KeyChain {
  #chain: Buffer;
  #generation = 0;

  constructor(directionKey: Uint8Array, handshakeHash: Uint8Array) {
    this.#chain = initialChain(directionKey, handshakeHash);
  }

  /** The generation whose keys `keys()` derives. */
  get generation(): number {
    return this.#generation;
  }

  /** One ratchet step: chain[i] → chain[i + 1]; chain[i] is wiped. */
  advance(): void {
    this.#usable();
    this.#chain = ratchet(this.#chain);
    this.#generation++;
  }

  /** The current generation's keys for `suite` (fresh arrays the caller owns and should wipe once used). */
  keys(suite: string): DirectionKeys {
    this.#usable();
    const length = usesDigestKey(suite) ? 2 * DATA_KEY_LENGTH : DATA_KEY_LENGTH;
    const okm = new Uint8Array(hkdfSync('sha256', this.#chain, new Uint8Array(0), `tapvpn/1 data keys ${suite} ${this.#generation}`, length));
    keyDerivationCounts.keyDerivations++;
    const cipherKey = okm.subarray(0, DATA_KEY_LENGTH);
    return usesDigestKey(suite) ? { cipherKey, digestKey: okm.subarray(DATA_KEY_LENGTH) } : { cipherKey };
  }

  /** Zeroes the chain key; the chain cannot be used afterwards. */
  wipe(): void {
    this.#chain.fill(0);
    this.#chain = Buffer.alloc(0);
  }

  #usable(): void {
    if (this.#chain.length === 0) throw new RangeError('key chain used after wipe()');
  }
}

/** chain[keyId] for one direction, from scratch: keyId HMACs (fixtures and tests; sessions use KeyChain). */
export function chainKey(directionKey: Uint8Array, handshakeHash: Uint8Array, keyId: number): Uint8Array {
  checkKeyId(keyId);
  let chain = initialChain(directionKey, handshakeHash);
  for (let i = 0; i < keyId; i++) chain = ratchet(chain);
  return new Uint8Array(chain.buffer, chain.byteOffset, chain.byteLength);
}

/** One direction's keys for `suite` at generation `keyId`, from scratch (keyId HMACs). */
export function deriveDirectionKeys(directionKey: Uint8Array, handshakeHash: Uint8Array, suite: string, keyId: number): DirectionKeys {
  checkKeyId(keyId);
  const chain = new KeyChain(directionKey, handshakeHash);
  for (let i = 0; i < keyId; i++) chain.advance();
  const keys = chain.keys(suite);
  chain.wipe();
  return keys;
}

function checkKeyId(keyId: number): void {
  if (!Number.isSafeInteger(keyId) || keyId < 0) throw new RangeError(`keyId: expected a non-negative integer, got ${keyId}`);
}
