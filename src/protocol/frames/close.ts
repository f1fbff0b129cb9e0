/**
 * CLOSE frame (type 5, patent Fig. 10): a status code and a short reason.
 * Unknown status values are accepted (a newer peer may send them); the
 * reason is for logs, so non-printable bytes are shown as '?'.
 */
import { ProtocolError, requireBytes, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { readU16, writeU16 } from '../../wire/bytes.js';
import { HEADER_LENGTH, MAX_REASON_LENGTH } from './limits.js';

export interface CloseRepr {
  status: number;
  reason: string;
}

const REASON_FIELD = HEADER_LENGTH + 3;

/** The reason as it goes on the wire: printable ASCII, cut to MAX_REASON_LENGTH. */
export function wireReason(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_REASON_LENGTH);
}

export function closeLength(repr: CloseRepr): number {
  return REASON_FIELD + wireReason(repr.reason).length;
}

/** Writes a CLOSE frame; a longer reason is cut, non-ASCII characters become '?'. */
export function emitClose(repr: CloseRepr, buf: Uint8Array, offset = 0): number {
  if (!Number.isInteger(repr.status) || repr.status < 0 || repr.status > 0xffff) {
    throw new ProtocolError('BAD_VALUE', `CLOSE status ${repr.status} is not a u16`);
  }
  const reason = wireReason(repr.reason);
  const length = REASON_FIELD + reason.length;
  requireRoom(buf, offset, length, 'CLOSE');
  emitHeader(buf, offset, length, FrameType.CLOSE);
  writeU16(buf, offset + HEADER_LENGTH, repr.status);
  buf[offset + HEADER_LENGTH + 2] = reason.length;
  for (let i = 0; i < reason.length; i++) buf[offset + REASON_FIELD + i] = reason.charCodeAt(i);
  return length;
}

export function encodeClose(repr: CloseRepr): Uint8Array {
  const out = new Uint8Array(closeLength(repr));
  emitClose(repr, out);
  return out;
}

export function parseClose(frame: Uint8Array): CloseRepr {
  expectType(frame, FrameType.CLOSE);
  requireBytes(frame, REASON_FIELD, 'CLOSE');
  const r = frame[HEADER_LENGTH + 2]!;
  if (frame.length !== REASON_FIELD + r) {
    throw new ProtocolError('BAD_LENGTH', `CLOSE reasonLength ${r} needs ${REASON_FIELD + r} bytes, frame has ${frame.length}`);
  }
  let reason = '';
  for (let i = 0; i < r; i++) {
    const c = frame[REASON_FIELD + i]!;
    reason += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '?';
  }
  return { status: readU16(frame, HEADER_LENGTH), reason };
}
