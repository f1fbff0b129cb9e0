/**
 * The tunnel's handshake halves over Noise_IK_25519_ChaChaPoly_BLAKE2s
 * (or Noise_IKpsk2_… when both sides set a pre-shared key):
 *
 *   -> e, es, s, ss   REQUEST: the initiator, pinning the server's static key,
 *                     sends its own static key encrypted, and a payload that
 *                     starts with a 12-byte TAI64N timestamp
 *   <- e, ee, se      RESPONSE: the responder's payload
 *
 * The prologue (the protocol's version and routing fields) is hashed into
 * both sides' state, so a rewritten prologue fails the handshake.
 * Guarantees: every failure is a HandshakeError with a stable code —
 * BAD_LENGTH (too short), DECRYPT_FAILED (does not authenticate: wrong server
 * key, tampered message, wrong prologue, low-order key), BAD_STATE (called
 * out of order, or after a failure), REPLAYED (a guard refused the
 * timestamp). Session keys come from Split(): the initiator sends with the
 * first and the responder with the second, so each direction has its own.
 */
import { CipherError } from './noise/cipher.js';
import { DhError } from './noise/dh.js';
import { BLAKE2s } from './noise/hash.js';
import { HandshakeState, HandshakeStateError } from './noise/handshake-state.js';
import { IK, IKpsk2 } from './noise/patterns.js';
import { KEY_LENGTH, type StaticKeyPair } from './keys.js';
import { nextHandshakeTimestamp, TAI64N_LENGTH } from './tai64n.js';
import type { TimestampGuard } from './timestamp-guard.js';

export type { StaticKeyPair } from './keys.js';
export { generateKeyPair, publicKeyOf } from './keys.js';
export { TimestampGuard } from './timestamp-guard.js';

export const PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_BLAKE2s';
export const TIMESTAMP_LENGTH = TAI64N_LENGTH;
/** e (32) + encrypted s (32 + 16) + encrypted timestamp (12 + 16). */
export const MIN_REQUEST_LENGTH = 32 + 48 + TIMESTAMP_LENGTH + 16;
/** e (32) + the empty payload's tag (16). */
export const MIN_RESPONSE_LENGTH = 32 + 16;

/** One key per direction (32 bytes each) and the Noise handshake hash (channel binding). */
export interface SessionKeys {
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  handshakeHash: Uint8Array;
}

export type HandshakeErrorCode = 'BAD_LENGTH' | 'DECRYPT_FAILED' | 'BAD_STATE' | 'REPLAYED';

export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
  constructor(
    readonly code: HandshakeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface CommonOptions {
  local: StaticKeyPair;
  prologue: Uint8Array;
  /** Optional 32-byte pre-shared key (both sides): runs IKpsk2 instead of IK. */
  psk?: Uint8Array;
}

function createState(initiator: boolean, opts: CommonOptions, rs?: Uint8Array): HandshakeState {
  checkKey('local private key', opts.local.privateKey);
  checkKey('local public key', opts.local.publicKey);
  if (rs) checkKey('remote static public key', rs);
  return new HandshakeState({
    pattern: opts.psk ? IKpsk2 : IK,
    hash: BLAKE2s,
    initiator,
    prologue: opts.prologue,
    s: opts.local,
    ...(rs ? { rs } : {}),
    ...(opts.psk ? { psk: opts.psk } : {}),
  });
}

function checkKey(what: string, key: Uint8Array): void {
  if (key.length !== KEY_LENGTH) throw new HandshakeError('BAD_LENGTH', `${what}: expected ${KEY_LENGTH} bytes, got ${key.length}`);
}

/** Runs one step; any failure becomes a HandshakeError and poisons the handshake. */
function step<T>(what: string, fail: () => void, run: () => T): T {
  try {
    return run();
  } catch (error) {
    fail();
    if (error instanceof HandshakeError) throw error;
    if (error instanceof HandshakeStateError) throw new HandshakeError(error.code, `${what}: ${error.message}`);
    if (error instanceof CipherError || error instanceof DhError) throw new HandshakeError('DECRYPT_FAILED', `${what}: ${error.message}`);
    throw error; // a bug, not a bad message
  }
}

function sessionKeys(state: HandshakeState, initiator: boolean): SessionKeys {
  const { cipherStates, handshakeHash } = state.result!;
  const [initiatorToResponder, responderToInitiator] = cipherStates.map((c) => c.k!) as [Uint8Array, Uint8Array];
  return initiator
    ? { sendKey: initiatorToResponder, receiveKey: responderToInitiator, handshakeHash }
    : { sendKey: responderToInitiator, receiveKey: initiatorToResponder, handshakeHash };
}

export class InitiatorHandshake {
  readonly #state: HandshakeState;
  readonly #nowMs: () => number;
  #phase: 'start' | 'sent' | 'done' | 'failed' = 'start';

  constructor(opts: CommonOptions & { remoteStaticPublic: Uint8Array; nowMs?: () => number }) {
    this.#state = createState(true, opts, opts.remoteStaticPublic);
    this.#nowMs = opts.nowMs ?? Date.now;
  }

  /** Noise IK message 1; the encrypted payload is a 12-byte TAI64N timestamp followed by `payload`. */
  writeRequest(payload: Uint8Array): Uint8Array {
    if (this.#phase !== 'start') throw new HandshakeError('BAD_STATE', `writeRequest in phase ${this.#phase}`);
    const plaintext = new Uint8Array(TIMESTAMP_LENGTH + payload.length);
    plaintext.set(nextHandshakeTimestamp(this.#nowMs()));
    plaintext.set(payload, TIMESTAMP_LENGTH);
    const message = step('request', () => (this.#phase = 'failed'), () => this.#state.writeMessage(plaintext));
    this.#phase = 'sent';
    return message;
  }

  readResponse(message: Uint8Array): { payload: Uint8Array; keys: SessionKeys } {
    if (this.#phase !== 'sent') throw new HandshakeError('BAD_STATE', `readResponse in phase ${this.#phase}`);
    if (message.length < MIN_RESPONSE_LENGTH) throw new HandshakeError('BAD_LENGTH', `response of ${message.length} bytes, need at least ${MIN_RESPONSE_LENGTH}`);
    const payload = step('response', () => (this.#phase = 'failed'), () => this.#state.readMessage(message));
    this.#phase = 'done';
    return { payload, keys: sessionKeys(this.#state, true) };
  }
}

export class ResponderHandshake {
  readonly #state: HandshakeState;
  readonly #guard: TimestampGuard | undefined;
  #phase: 'start' | 'read' | 'done' | 'failed' = 'start';

  /** With `guard`, readRequest itself refuses a replayed timestamp (REPLAYED); without, the caller checks. */
  constructor(opts: CommonOptions & { guard?: TimestampGuard }) {
    this.#state = createState(false, opts);
    this.#guard = opts.guard;
  }

  readRequest(message: Uint8Array): { remoteStaticPublic: Uint8Array; timestamp: Uint8Array; payload: Uint8Array } {
    if (this.#phase !== 'start') throw new HandshakeError('BAD_STATE', `readRequest in phase ${this.#phase}`);
    if (message.length < MIN_REQUEST_LENGTH) throw new HandshakeError('BAD_LENGTH', `request of ${message.length} bytes, need at least ${MIN_REQUEST_LENGTH}`);
    const plaintext = step('request', () => (this.#phase = 'failed'), () => this.#state.readMessage(message));
    const remoteStaticPublic = this.#state.rs!;
    const timestamp = plaintext.slice(0, TIMESTAMP_LENGTH);
    if (this.#guard && !this.#guard.accept(remoteStaticPublic, timestamp)) {
      this.#phase = 'failed';
      throw new HandshakeError('REPLAYED', 'request timestamp is not later than the last one accepted from this client');
    }
    this.#phase = 'read';
    return { remoteStaticPublic, timestamp, payload: plaintext.subarray(TIMESTAMP_LENGTH) };
  }

  writeResponse(payload: Uint8Array): { message: Uint8Array; keys: SessionKeys } {
    if (this.#phase !== 'read') throw new HandshakeError('BAD_STATE', `writeResponse in phase ${this.#phase}`);
    const message = step('response', () => (this.#phase = 'failed'), () => this.#state.writeMessage(payload));
    this.#phase = 'done';
    return { message, keys: sessionKeys(this.#state, false) };
  }
}
