/**
 * mac1, mac2 and the cookie: what lets the server turn away a REQUEST for
 * the price of a keyed hash instead of a Diffie-Hellman, after WireGuard's
 * (wireguard-go device/cookie.go, whitepaper §5.4.4), adapted to a carrier
 * that is TCP (docs/CRYPTO.md "Handshake floods"):
 *
 *   mac1Key   = BLAKE2s("mac1----" ‖ S_pub)       anyone who knows the server's key
 *   cookieKey = BLAKE2s("cookie--" ‖ S_pub)
 *   MAC(k, m) = HMAC-BLAKE2s(k, m), first 16 bytes
 *   mac1      = MAC(mac1Key, REQUEST up to mac1)
 *   cookie    = MAC(secret, source address), secret random, new every 2 minutes
 *   mac2      = MAC(cookie, REQUEST up to mac2)   or 16 zero bytes without a cookie
 *   COOKIE    = nonce (12 random bytes) ‖ ChaCha20-Poly1305(cookieKey, nonce, cookie, AAD = mac1)
 *
 * A REQUEST's last 32 bytes are mac1 ‖ mac2 (PROTOCOL.md "REQUEST"). The
 * checker (server) is stateless per client: its only state is the current
 * and the previous secret. Every MAC comparison is constant-time.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_LENGTH, type StaticKeyPair } from './keys.js';

export const MAC_LENGTH = 16;
export const COOKIE_LENGTH = 16;
export const COOKIE_NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
/** nonce ‖ encrypted cookie ‖ tag: the COOKIE frame's body. */
export const COOKIE_REPLY_LENGTH = COOKIE_NONCE_LENGTH + COOKIE_LENGTH + TAG_LENGTH;
/** The two MACs at a REQUEST's end. */
export const REQUEST_MACS_LENGTH = 2 * MAC_LENGTH;
/** WireGuard's COOKIE_REFRESH_TIME: a secret serves this long, and its successor as long again (so a cookie lives 2–4 min). */
export const COOKIE_SECRET_LIFETIME_MS = 120_000;
/** A client uses a cookie this long after it got it (a little less than the shortest life a server gives it). */
export const COOKIE_CLIENT_LIFETIME_MS = COOKIE_SECRET_LIFETIME_MS - 5_000;

const LABEL_MAC1 = Buffer.from('mac1----');
const LABEL_COOKIE = Buffer.from('cookie--');
const ZERO_MAC = new Uint8Array(MAC_LENGTH);

function labelledKey(label: Buffer, serverPublicKey: Uint8Array): Buffer {
  if (serverPublicKey.length !== KEY_LENGTH) throw new RangeError(`expected a ${KEY_LENGTH}-byte server public key, got ${serverPublicKey.length} bytes`);
  return createHash('blake2s256').update(label).update(serverPublicKey).digest();
}

/** MAC(key, message): HMAC-BLAKE2s cut to 16 bytes (node:crypto has no keyed BLAKE2s; HMAC over the same hash is a PRF too). */
export function mac(key: Uint8Array, message: Uint8Array): Uint8Array {
  return createHmac('blake2s256', key).update(message).digest().subarray(0, MAC_LENGTH);
}

function macEqual(expected: Uint8Array, received: Uint8Array): boolean {
  return received.length === MAC_LENGTH && timingSafeEqual(expected, received);
}

/** The bytes mac1 covers (all before it) and mac2 covers (all before mac2), of a REQUEST whose last 32 bytes are the MACs. */
function macFields(frame: Uint8Array): { mac1At: number; mac2At: number } {
  if (frame.length < REQUEST_MACS_LENGTH) throw new RangeError(`a REQUEST ends with ${REQUEST_MACS_LENGTH} bytes of MACs, got ${frame.length} bytes`);
  return { mac1At: frame.length - REQUEST_MACS_LENGTH, mac2At: frame.length - MAC_LENGTH };
}

/** The client's half: stamps mac1 (and mac2 once it holds a cookie) into a REQUEST, and opens COOKIE replies. */
export class CookieGenerator {
  readonly #mac1Key: Buffer;
  readonly #cookieKey: Buffer;

  constructor(serverPublicKey: Uint8Array) {
    this.#mac1Key = labelledKey(LABEL_MAC1, serverPublicKey);
    this.#cookieKey = labelledKey(LABEL_COOKIE, serverPublicKey);
  }

  /** Writes mac1, and mac2 under `cookie` (zeros without one), into the REQUEST's last 32 bytes; returns mac1. */
  stamp(frame: Uint8Array, cookie?: Uint8Array): Uint8Array {
    const { mac1At, mac2At } = macFields(frame);
    frame.set(mac(this.#mac1Key, frame.subarray(0, mac1At)), mac1At);
    frame.set(cookie ? mac(cookie, frame.subarray(0, mac2At)) : ZERO_MAC, mac2At);
    return frame.slice(mac1At, mac2At);
  }

  /** The cookie in a COOKIE reply to the REQUEST that carried `mac1`; undefined when it does not authenticate (forged, or for another REQUEST). */
  openReply(reply: Uint8Array, mac1: Uint8Array): Uint8Array | undefined {
    if (reply.length !== COOKIE_REPLY_LENGTH) return undefined;
    const nonce = reply.subarray(0, COOKIE_NONCE_LENGTH);
    const tag = reply.subarray(COOKIE_REPLY_LENGTH - TAG_LENGTH);
    const decipher = createDecipheriv('chacha20-poly1305', this.#cookieKey, nonce, { authTagLength: TAG_LENGTH });
    decipher.setAAD(mac1, { plaintextLength: COOKIE_LENGTH });
    decipher.setAuthTag(tag);
    const cookie = decipher.update(reply.subarray(COOKIE_NONCE_LENGTH, COOKIE_REPLY_LENGTH - TAG_LENGTH));
    try {
      decipher.final(); // the tag is checked here, inside OpenSSL (constant-time); nothing is used before
    } catch {
      return undefined;
    }
    return new Uint8Array(cookie);
  }
}

/** The server's half: checks mac1 and mac2, and makes COOKIE replies. Its only state is two rotating secrets. */
export class CookieChecker {
  readonly #mac1Key: Buffer;
  readonly #cookieKey: Buffer;
  readonly #random: (length: number) => Uint8Array;
  #secret: Uint8Array;
  #previous: Uint8Array | undefined;
  #secretSinceMs: number | undefined;

  constructor(local: Pick<StaticKeyPair, 'publicKey'>, random: (length: number) => Uint8Array = (n) => randomBytes(n)) {
    this.#mac1Key = labelledKey(LABEL_MAC1, local.publicKey);
    this.#cookieKey = labelledKey(LABEL_COOKIE, local.publicKey);
    this.#random = random;
    this.#secret = random(32);
  }

  /** Whether the REQUEST's mac1 is right: it was made for this server's key. One MAC, no DH. */
  checkMac1(frame: Uint8Array): boolean {
    const { mac1At, mac2At } = macFields(frame);
    return macEqual(mac(this.#mac1Key, frame.subarray(0, mac1At)), frame.subarray(mac1At, mac2At));
  }

  /** Whether mac2 was made with a cookie this server gave `source` under its current or previous secret. */
  checkMac2(frame: Uint8Array, source: string, nowMs: number): boolean {
    this.#rotate(nowMs);
    const { mac2At } = macFields(frame);
    const received = frame.subarray(mac2At);
    if (received.every((b) => b === 0)) return false; // no cookie: nothing secret in telling so at once
    const covered = frame.subarray(0, mac2At);
    const current = macEqual(mac(cookieFor(this.#secret, source), covered), received);
    const previous = this.#previous !== undefined && macEqual(mac(cookieFor(this.#previous, source), covered), received);
    return current || previous;
  }

  /** The COOKIE body for `source`, sealed to the REQUEST whose mac1 it answers. */
  reply(frame: Uint8Array, source: string, nowMs: number): Uint8Array {
    this.#rotate(nowMs);
    const { mac1At, mac2At } = macFields(frame);
    const nonce = this.#random(COOKIE_NONCE_LENGTH);
    const cipher = createCipheriv('chacha20-poly1305', this.#cookieKey, nonce, { authTagLength: TAG_LENGTH });
    cipher.setAAD(frame.subarray(mac1At, mac2At), { plaintextLength: COOKIE_LENGTH });
    const out = new Uint8Array(COOKIE_REPLY_LENGTH);
    out.set(nonce, 0);
    out.set(cipher.update(cookieFor(this.#secret, source)), COOKIE_NONCE_LENGTH);
    cipher.final();
    out.set(cipher.getAuthTag(), COOKIE_NONCE_LENGTH + COOKIE_LENGTH);
    return out;
  }

  /** A new secret every COOKIE_SECRET_LIFETIME_MS; the last one still checks mac2 (a cookie handed out just before the change). */
  #rotate(nowMs: number): void {
    if (this.#secretSinceMs === undefined) this.#secretSinceMs = nowMs;
    if (nowMs - this.#secretSinceMs < COOKIE_SECRET_LIFETIME_MS) return;
    const stale = nowMs - this.#secretSinceMs >= 2 * COOKIE_SECRET_LIFETIME_MS;
    this.#previous?.fill(0);
    this.#previous = stale ? undefined : this.#secret;
    if (stale) this.#secret.fill(0);
    this.#secret = this.#random(32);
    this.#secretSinceMs = nowMs;
  }
}

/** cookie = MAC(secret, source address): the same for every connection from that address while the secret lasts. */
function cookieFor(secret: Uint8Array, source: string): Uint8Array {
  return mac(secret, Buffer.from(source, 'latin1'));
}
