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
  /** Generation 0 ciphers of both directions, each moved on by one generation per REKEY at constant cost. */
  createDataKeySchedule(suite: SuiteName, keys: SessionKeys): DataKeySchedule;
}
