/**
 * COOKIE frame (type 9): the server's answer, under load, to a REQUEST whose
 * mac1 was right but whose mac2 was not (docs/PROTOCOL.md "COOKIE"). Its body
 * is opaque here — a 12-byte nonce and the cookie sealed to the REQUEST's
 * mac1 (src/crypto/cookie.ts) — so the codec checks only the length.
 * Unauthenticated like CLOSE: a forged one fails to open at the initiator.
 */
import { ProtocolError, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { COOKIE_BODY_LENGTH, HEADER_LENGTH } from './limits.js';

export const COOKIE_FRAME_LENGTH = HEADER_LENGTH + COOKIE_BODY_LENGTH;

export interface CookieRepr {
  /** nonce ‖ encrypted cookie ‖ tag (COOKIE_BODY_LENGTH bytes). A view into the frame when parsed. */
  sealed: Uint8Array;
}

export function emitCookie(repr: CookieRepr, buf: Uint8Array, offset = 0): number {
  if (repr.sealed.length !== COOKIE_BODY_LENGTH) throw new ProtocolError('BAD_LENGTH', `COOKIE body: expected ${COOKIE_BODY_LENGTH} bytes, got ${repr.sealed.length}`);
  requireRoom(buf, offset, COOKIE_FRAME_LENGTH, 'COOKIE');
  emitHeader(buf, offset, COOKIE_FRAME_LENGTH, FrameType.COOKIE);
  buf.set(repr.sealed, offset + HEADER_LENGTH);
  return COOKIE_FRAME_LENGTH;
}

export function encodeCookie(repr: CookieRepr): Uint8Array {
  const out = new Uint8Array(COOKIE_FRAME_LENGTH);
  emitCookie(repr, out);
  return out;
}

export function parseCookie(frame: Uint8Array): CookieRepr {
  expectType(frame, FrameType.COOKIE);
  if (frame.length !== COOKIE_FRAME_LENGTH) throw new ProtocolError('BAD_LENGTH', `COOKIE: expected ${COOKIE_FRAME_LENGTH} bytes, got ${frame.length}`);
  return { sealed: frame.subarray(HEADER_LENGTH) };
}
