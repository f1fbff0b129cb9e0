/**
 * What the protocol engines need from src/crypto/, as an injectable port
 * (like js-libp2p-noise's pluggable crypto): the Noise IK handshake halves,
 * the per-direction DATA ciphers and the suite ids. The types mirror the
 * crypto contract; the engines take a `ProtocolCrypto` so tests can
 * drive them with a stand-in and the apps with the real implementation.
 */

// The value types are src/crypto's own (one definition); the port adds only what the engines call.
import type { DataOpener, DataSealer, SuiteName } from '../crypto/data-cipher.js';
import type { SessionKeys, StaticKeyPair } from '../crypto/handshake.js';

export type { DataOpener, DataSealer, SessionKeys, StaticKeyPair, SuiteName };

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
}

export interface ProtocolCrypto {
  /** Suites this build supports, the server's default preference first. */
  readonly suites: readonly SuiteName[];
  suiteId(name: SuiteName): number;
  suiteFromId(id: number): SuiteName | undefined;
  createInitiator(opts: { local: StaticKeyPair; remoteStaticPublic: Uint8Array; prologue: Uint8Array }): HandshakeInitiator;
  createResponder(opts: { local: StaticKeyPair; prologue: Uint8Array }): HandshakeResponder;
  /** Ciphers for key generation `keyId` (0 after the handshake, +1 per REKEY). */
  createDataCiphers(suite: SuiteName, keys: SessionKeys, keyId: number): { sealer: DataSealer; opener: DataOpener };
}

const PROLOGUE_LABEL = new TextEncoder().encode('tapvpn/1');

/**
 * The Noise prologue: "tapvpn/1" ‖ RELAY frame ‖ destinationLength ‖ destination.
 * Binding the path and destination means a relay that rewrote either breaks
 * the handshake instead of silently redirecting it.
 */
export function handshakePrologue(relayFrame: Uint8Array, destination: string): Uint8Array {
  const out = new Uint8Array(PROLOGUE_LABEL.length + relayFrame.length + 1 + destination.length);
  out.set(PROLOGUE_LABEL, 0);
  out.set(relayFrame, PROLOGUE_LABEL.length);
  let at = PROLOGUE_LABEL.length + relayFrame.length;
  out[at++] = destination.length;
  for (let i = 0; i < destination.length; i++) out[at + i] = destination.charCodeAt(i);
  return out;
}

