/**
 * Key derivation for DATA frames: from one direction's Noise transport key
 * (Split() output) to that direction's cipher and digest keys for key
 * generation `keyId`, one-way at every step:
 *
 *   chain[0]     = HKDF-SHA-256(IKM = direction key, salt = handshake hash,
 *                               info = "tapvpn/1 data chain", 32 bytes)
 *   chain[i + 1] = HMAC-SHA-256(chain[i], "tapvpn/1 data ratchet")
 *   keys[i]      = HKDF-SHA-256(IKM = chain[i], salt = "",
 *                               info = "tapvpn/1 data keys <suite> <i>", 64 bytes)
 *                = cipherKey (32) ‖ digestKey (32)
 *
 * So a generation's keys reveal neither an earlier generation's nor the chain
 * they came from, the suite is bound into every key (one suite's keys never
 * serve another), and the two directions never share a key: Split()'s two
 * outputs are independent HKDF outputs, and each direction is derived from
 * its own. (SessionKeys carries no role, so the direction is bound by its key,
 * not by a label: a label would need both sides to agree which is which.)
 */
import { createHmac, hkdfSync } from 'node:crypto';

export const DATA_KEY_LENGTH = 32;
const CHAIN_INFO = 'tapvpn/1 data chain';
const RATCHET_LABEL = Buffer.from('tapvpn/1 data ratchet');

export interface DirectionKeys {
  cipherKey: Uint8Array;
  digestKey: Uint8Array;
}

/** chain[keyId] for one direction. Costs keyId HMACs: a rekey every few minutes keeps keyId small. */
export function chainKey(directionKey: Uint8Array, handshakeHash: Uint8Array, keyId: number): Uint8Array {
  if (!Number.isSafeInteger(keyId) || keyId < 0) throw new RangeError(`keyId: expected a non-negative integer, got ${keyId}`);
  if (directionKey.length !== DATA_KEY_LENGTH) throw new RangeError(`direction key: expected ${DATA_KEY_LENGTH} bytes, got ${directionKey.length}`);
  let chain = Buffer.from(hkdfSync('sha256', directionKey, handshakeHash, CHAIN_INFO, DATA_KEY_LENGTH));
  for (let i = 0; i < keyId; i++) {
    const next = createHmac('sha256', chain).update(RATCHET_LABEL).digest();
    chain.fill(0);
    chain = next;
  }
  return new Uint8Array(chain.buffer, chain.byteOffset, chain.byteLength);
}

/** One direction's cipher and digest keys for `suite` at generation `keyId`. */
export function deriveDirectionKeys(directionKey: Uint8Array, handshakeHash: Uint8Array, suite: string, keyId: number): DirectionKeys {
  const chain = chainKey(directionKey, handshakeHash, keyId);
  const okm = new Uint8Array(hkdfSync('sha256', chain, new Uint8Array(0), `tapvpn/1 data keys ${suite} ${keyId}`, 2 * DATA_KEY_LENGTH));
  chain.fill(0);
  return { cipherKey: okm.subarray(0, DATA_KEY_LENGTH), digestKey: okm.subarray(DATA_KEY_LENGTH) };
}
