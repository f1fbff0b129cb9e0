/**
 * ProtocolError: what every tunnel codec and engine reports. `code` is stable
 * (tests and counters key on it) and maps to the CLOSE status the connection
 * ends with, like ws's `createError(..., closeCode, 'WS_ERR_...')`.
 */
import { CloseCode } from './close-codes.js';

export type ProtocolErrorCode =
  | 'TRUNCATED' // fewer bytes than a header or length field promises
  | 'BAD_LENGTH' // a length field inconsistent with the frame
  | 'BAD_VALUE' // a field holds a value the format forbids
  | 'UNKNOWN_TYPE'
  | 'UNEXPECTED_FRAME' // a well-formed frame not allowed in the current state
  | 'PATH_LOOP' // a RELAY path that names one hop twice
  | 'FRAME_TOO_LARGE'
  | 'UNSUPPORTED_VERSION'
  | 'HANDSHAKE_FAILED' // Noise message did not decrypt (wrong key, tampered)
  | 'REPLAYED' // REQUEST timestamp not newer than the last accepted
  | 'UNKNOWN_CLIENT'
  | 'INTEGRITY' // digest mismatch
  | 'KEY_MISMATCH' // keyId is not the current receive key
  | 'KEY_EXPIRED' // a key used beyond its hard lifetime
  | 'REKEY_RATE' // the peer sent REKEYs faster than the budget allows
  | 'BUFFER_TOO_SMALL'; // emit: the caller's buffer cannot hold the output

const CLOSE_FOR: Record<ProtocolErrorCode, CloseCode> = {
  TRUNCATED: CloseCode.PROTOCOL_ERROR,
  BAD_LENGTH: CloseCode.PROTOCOL_ERROR,
  BAD_VALUE: CloseCode.PROTOCOL_ERROR,
  UNKNOWN_TYPE: CloseCode.PROTOCOL_ERROR,
  UNEXPECTED_FRAME: CloseCode.PROTOCOL_ERROR,
  PATH_LOOP: CloseCode.PROTOCOL_ERROR,
  FRAME_TOO_LARGE: CloseCode.FRAME_TOO_LARGE,
  UNSUPPORTED_VERSION: CloseCode.UNSUPPORTED_VERSION,
  HANDSHAKE_FAILED: CloseCode.AUTHENTICATION_FAILURE,
  REPLAYED: CloseCode.AUTHENTICATION_FAILURE,
  UNKNOWN_CLIENT: CloseCode.AUTHENTICATION_FAILURE,
  INTEGRITY: CloseCode.INTEGRITY_FAILURE,
  KEY_MISMATCH: CloseCode.INTEGRITY_FAILURE,
  KEY_EXPIRED: CloseCode.KEY_EXPIRED,
  REKEY_RATE: CloseCode.PROTOCOL_ERROR,
  BUFFER_TOO_SMALL: CloseCode.INTERNAL_ERROR,
};

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** The CLOSE status a connection that hit this error ends with. */
  readonly closeCode: CloseCode;
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.closeCode = CLOSE_FOR[code];
  }
}

/** Throws TRUNCATED unless `bytes` has at least `need` bytes; `what` names the structure. */
export function requireBytes(bytes: Uint8Array, need: number, what: string): void {
  if (bytes.length < need) throw new ProtocolError('TRUNCATED', `${what}: need ${need} bytes, got ${bytes.length}`);
}

/** Throws BUFFER_TOO_SMALL unless `buf` has `need` bytes from `offset`. */
export function requireRoom(buf: Uint8Array, offset: number, need: number, what: string): void {
  if (offset < 0 || buf.length - offset < need) {
    throw new ProtocolError('BUFFER_TOO_SMALL', `${what}: need ${need} bytes at offset ${offset}, buffer has ${buf.length}`);
  }
}
