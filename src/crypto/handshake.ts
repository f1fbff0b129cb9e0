/**
 * The tunnel's handshake halves over Noise IK: the initiator pins the
 * server's static key; the responder learns and (through the protocol's
 * authorize step) checks the initiator's. The initiator's payload starts
 * with a 12-byte TAI64N timestamp which the server requires to grow per
 * client (TimestampGuard), so a recorded REQUEST cannot be replayed — as in
 * WireGuard. split() gives one key per direction.
 */
import { IkHandshakeState } from './noise.js';
import { concat, DecryptError, dhPublicKey, generateDhKeyPair } from './primitives.js';

export interface StaticKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

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

export const TIMESTAMP_LENGTH = 12;
/** e (32) + encrypted s (32 + 16) + timestamp (12) + tag (16). */
export const MIN_REQUEST_LENGTH = 32 + 48 + TIMESTAMP_LENGTH + 16;
/** e (32) + tag (16). */
export const MIN_RESPONSE_LENGTH = 32 + 16;
const TAI64_EPOCH = 2n ** 62n + 10n; // TAI64 label of 1970-01-01 00:00:10 TAI, as WireGuard uses

export function generateKeyPair(): StaticKeyPair {
  return generateDhKeyPair();
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return dhPublicKey(privateKey);
}

/** TAI64N: 8 bytes of seconds since the TAI64 epoch, 4 bytes of nanoseconds, big-endian. */
export function tai64n(nowMs: number): Uint8Array {
  const out = Buffer.alloc(TIMESTAMP_LENGTH);
  out.writeBigUInt64BE(TAI64_EPOCH + BigInt(Math.floor(nowMs / 1000)), 0);
  out.writeUInt32BE((nowMs % 1000) * 1_000_000, 8);
  return new Uint8Array(out);
}

function wrapDecrypt<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof HandshakeError) throw error;
    if (error instanceof DecryptError) throw new HandshakeError('DECRYPT_FAILED', `${what}: ${error.message}`);
    throw new HandshakeError('DECRYPT_FAILED', `${what}: ${(error as Error).message}`);
  }
}

export class InitiatorHandshake {
  readonly #state: IkHandshakeState;
  readonly #nowMs: () => number;
  #phase: 'start' | 'sent' | 'done' = 'start';

  constructor(opts: { local: StaticKeyPair; remoteStaticPublic: Uint8Array; prologue: Uint8Array; nowMs?: () => number; psk?: Uint8Array }) {
    this.#state = new IkHandshakeState({ initiator: true, prologue: opts.prologue, s: opts.local, rs: opts.remoteStaticPublic, ...(opts.psk ? { psk: opts.psk } : {}) });
    this.#nowMs = opts.nowMs ?? Date.now;
  }

  writeRequest(payload: Uint8Array): Uint8Array {
    if (this.#phase !== 'start') throw new HandshakeError('BAD_STATE', 'writeRequest called twice');
    this.#phase = 'sent';
    return this.#state.writeMessage1(concat(tai64n(this.#nowMs()), payload));
  }

  readResponse(message: Uint8Array): { payload: Uint8Array; keys: SessionKeys } {
    if (this.#phase !== 'sent') throw new HandshakeError('BAD_STATE', 'readResponse before writeRequest, or twice');
    if (message.length < MIN_RESPONSE_LENGTH) throw new HandshakeError('BAD_LENGTH', `response of ${message.length} bytes, need at least ${MIN_RESPONSE_LENGTH}`);
    const payload = wrapDecrypt('response', () => this.#state.readMessage2(message));
    this.#phase = 'done';
    const [sendKey, receiveKey] = this.#state.symmetric.split();
    return { payload, keys: { sendKey, receiveKey, handshakeHash: this.#state.handshakeHash } };
  }
}

export class ResponderHandshake {
  readonly #state: IkHandshakeState;
  #phase: 'start' | 'read' | 'done' = 'start';

  constructor(opts: { local: StaticKeyPair; prologue: Uint8Array; psk?: Uint8Array }) {
    this.#state = new IkHandshakeState({ initiator: false, prologue: opts.prologue, s: opts.local, ...(opts.psk ? { psk: opts.psk } : {}) });
  }

  readRequest(message: Uint8Array): { remoteStaticPublic: Uint8Array; timestamp: Uint8Array; payload: Uint8Array } {
    if (this.#phase !== 'start') throw new HandshakeError('BAD_STATE', 'readRequest called twice');
    if (message.length < MIN_REQUEST_LENGTH) throw new HandshakeError('BAD_LENGTH', `request of ${message.length} bytes, need at least ${MIN_REQUEST_LENGTH}`);
    const plaintext = wrapDecrypt('request', () => this.#state.readMessage1(message));
    this.#phase = 'read';
    return { remoteStaticPublic: this.#state.rs!, timestamp: plaintext.slice(0, TIMESTAMP_LENGTH), payload: plaintext.subarray(TIMESTAMP_LENGTH) };
  }

  writeResponse(payload: Uint8Array): { message: Uint8Array; keys: SessionKeys } {
    if (this.#phase !== 'read') throw new HandshakeError('BAD_STATE', 'writeResponse before readRequest, or twice');
    this.#phase = 'done';
    const message = this.#state.writeMessage2(payload);
    const [initiatorToResponder, responderToInitiator] = this.#state.symmetric.split();
    return { message, keys: { sendKey: responderToInitiator, receiveKey: initiatorToResponder, handshakeHash: this.#state.handshakeHash } };
  }
}

/**
 * REQUEST replay protection: per client public key, a timestamp is accepted
 * only if it is strictly greater than the last accepted one. Timestamps are
 * compared as big-endian byte strings (TAI64N sorts that way).
 */
export class TimestampGuard {
  readonly #latest = new Map<string, Uint8Array>();

  accept(clientPublicKey: Uint8Array, timestamp: Uint8Array): boolean {
    if (timestamp.length !== TIMESTAMP_LENGTH) return false;
    const id = Buffer.from(clientPublicKey).toString('hex');
    const previous = this.#latest.get(id);
    if (previous && Buffer.compare(timestamp, previous) <= 0) return false;
    this.#latest.set(id, timestamp.slice());
    return true;
  }
}
