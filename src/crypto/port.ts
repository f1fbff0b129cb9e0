/**
 * The crypto port: what the protocol engines need from src/crypto/, as an
 * injectable interface (like js-libp2p-noise's pluggable crypto) — the Noise
 * IK handshake halves, the per-direction DATA ciphers and the suite ids. The
 * port belongs to the crypto layer, so dependencies run one way: src/protocol
 * imports these types, src/crypto imports nothing from src/protocol. The
 * engines take a `ProtocolCrypto` so tests can drive them with a stand-in
 * and the apps with `realCrypto` (src/crypto/index.ts).
 */
import type { DataKeySchedule, DataOpener, DataSealer, SuiteName } from './data-cipher.js';
import type { SessionKeys } from './handshake.js';
import type { StaticKeyPair } from './keys.js';

export type { DataKeySchedule, DataOpener, DataSealer, SessionKeys, StaticKeyPair, SuiteName };

export interface HandshakeInitiator {
  writeRequest(payload: Uint8Array): Uint8Array;
  /** Throws (any error) when the response does not authenticate. */
  readResponse(message: Uint8Array): { payload: Uint8Array; keys: SessionKeys };
}

export interface HandshakeResponder {
  /** Throws (any error) when the request does not decrypt. */
  readRequest(message: Uint8Array): { remoteStaticPublic: Uint8Array; timestamp: Uint8Array; payload: Uint8Array };
  writeResponse(payload: Uint8Array): { message: Uint8Array; keys: SessionKeys };
}

/** REQUEST replay protection: per client key, strictly increasing timestamps (crypto's TimestampGuard). */
export interface ReplayGuard {
  accept(clientPublicKey: Uint8Array, timestamp: Uint8Array): boolean;
  /** The last timestamp accepted from this client (what a refused REQUEST was compared with). */
  lastAccepted(clientPublicKey: Uint8Array): Uint8Array | undefined;
}

/** The server's mac1/mac2 checks and COOKIE replies (src/crypto/cookie.ts): keyed hashes, no DH. */
export interface CookieChecker {
  /** mac1 right for this server's key (constant-time). `frame` is the whole REQUEST. */
  checkMac1(frame: Uint8Array): boolean;
  /** mac2 made with a cookie this server gave `source` lately (constant-time). */
  checkMac2(frame: Uint8Array, source: string, nowMs: number): boolean;
  /** A COOKIE body for `source`, sealed to this REQUEST's mac1. */
  reply(frame: Uint8Array, source: string, nowMs: number): Uint8Array;
}

/** The initiator's side of the same: stamps the MACs into a REQUEST, opens a COOKIE. */
export interface CookieGenerator {
  /** Writes mac1, and mac2 under `cookie` (zeros without), into the REQUEST's last 32 bytes; returns mac1. */
  stamp(frame: Uint8Array, cookie?: Uint8Array): Uint8Array;
  /** The cookie, or undefined when the COOKIE body does not authenticate for this mac1. */
  openReply(sealed: Uint8Array, mac1: Uint8Array): Uint8Array | undefined;
}

export interface ProtocolCrypto {
  /** Suites this build supports, the server's default preference first. */
  readonly suites: readonly SuiteName[];
  suiteId(name: SuiteName): number;
  suiteFromId(id: number): SuiteName | undefined;
  createInitiator(opts: { local: StaticKeyPair; remoteStaticPublic: Uint8Array; prologue: Uint8Array }): HandshakeInitiator;
  /**
   * Every later REQUEST timestamp will be strictly greater than `accepted`
   * (the server's authenticated STALE_TIMESTAMP refusal carries it); false
   * when it is not a timestamp we can move past (wrong length, beyond 2^63 s).
   */
  raiseTimestampFloor(accepted: Uint8Array): boolean;
  createResponder(opts: { local: StaticKeyPair; prologue: Uint8Array }): HandshakeResponder;
  /** One per server (its cookie secret rotates): keyed from our static public key. */
  createCookieChecker(local: StaticKeyPair): CookieChecker;
  createCookieGenerator(serverPublicKey: Uint8Array): CookieGenerator;
  /** Generation 0 ciphers of both directions, each moved on by one generation per REKEY at constant cost. */
  createDataKeySchedule(suite: SuiteName, keys: SessionKeys): DataKeySchedule;
}
