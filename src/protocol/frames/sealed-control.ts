/**
 * The layout KEEPALIVE and REKEY share: common header, a key id byte, a
 * digest length byte (bytes 0-7: the authenticated header), then the digest.
 * They carry no payload; the digest (over header ‖ empty ‖ counter) makes
 * them part of the same counted chain as DATA.
 */
import { ProtocolError, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { HEADER_LENGTH, MAX_DIGEST_LENGTH } from './limits.js';

export const SEALED_CONTROL_HEADER_LENGTH = HEADER_LENGTH + 2;

export interface SealedControlView {
  keyId: number;
  digestLength: number;
  /** Bytes 0-7, covered by the digest. */
  header: Uint8Array;
  digest: Uint8Array;
}

export function sealedControlLength(digestLength: number): number {
  return SEALED_CONTROL_HEADER_LENGTH + digestLength;
}

/** Writes the 8 header bytes; the digest goes at offset + 8. Returns the header length. */
export function emitSealedControlHeader(
  type: typeof FrameType.KEEPALIVE | typeof FrameType.REKEY,
  keyId: number,
  digestLength: number,
  buf: Uint8Array,
  offset = 0,
): number {
  if (!(keyId >= 0 && keyId <= 255)) throw new ProtocolError('BAD_VALUE', `keyId: expected 0..255, got ${keyId}`);
  if (!(digestLength >= 0 && digestLength <= MAX_DIGEST_LENGTH)) {
    throw new ProtocolError('BAD_VALUE', `digestLength: expected 0..${MAX_DIGEST_LENGTH}, got ${digestLength}`);
  }
  const length = sealedControlLength(digestLength);
  requireRoom(buf, offset, length, 'sealed control frame');
  emitHeader(buf, offset, length, type);
  buf[offset + HEADER_LENGTH] = keyId;
  buf[offset + HEADER_LENGTH + 1] = digestLength;
  return SEALED_CONTROL_HEADER_LENGTH;
}

export function parseSealedControl(frame: Uint8Array, type: typeof FrameType.KEEPALIVE | typeof FrameType.REKEY): SealedControlView {
  expectType(frame, type);
  if (frame.length < SEALED_CONTROL_HEADER_LENGTH) {
    throw new ProtocolError('TRUNCATED', `sealed control frame: need ${SEALED_CONTROL_HEADER_LENGTH} bytes, got ${frame.length}`);
  }
  const digestLength = frame[HEADER_LENGTH + 1]!;
  if (frame.length !== SEALED_CONTROL_HEADER_LENGTH + digestLength) {
    throw new ProtocolError('BAD_LENGTH', `digestLength ${digestLength} needs ${SEALED_CONTROL_HEADER_LENGTH + digestLength} bytes, frame has ${frame.length}`);
  }
  return {
    keyId: frame[HEADER_LENGTH]!,
    digestLength,
    header: frame.subarray(0, SEALED_CONTROL_HEADER_LENGTH),
    digest: frame.subarray(SEALED_CONTROL_HEADER_LENGTH),
  };
}

/** Builds a whole frame from a given digest (fixtures, tests). */
export function encodeSealedControl(type: typeof FrameType.KEEPALIVE | typeof FrameType.REKEY, keyId: number, digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(sealedControlLength(digest.length));
  emitSealedControlHeader(type, keyId, digest.length, out);
  out.set(digest, SEALED_CONTROL_HEADER_LENGTH);
  return out;
}
