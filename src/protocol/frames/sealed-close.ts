/**
 * SEALED_CLOSE frame (type 8): CLOSE once the tunnel is authorized. Laid out
 * like DATA — bytes 0-7 (common header, keyId, digestLength) are the
 * authenticated header, then the digest, then the encrypted close body:
 *
 *   status u16 ‖ reasonLength u8 ‖ reason (printable ASCII)
 *
 * sealed under the sender's current key and counted in the same frame
 * chain, so a forged, replayed or altered one fails its digest like any
 * other sealed frame, and the reason is hidden from the path. This module
 * only lays out bytes; TunnelSession seals and opens.
 */
import { wireReason, type CloseRepr } from './close.js';
import { ProtocolError, requireBytes } from './errors.js';
import { HEADER_LENGTH } from './limits.js';
import { readU16, writeU16 } from '../../wire/bytes.js';

/** Common header, keyId, digestLength: what the digest authenticates in front of the ciphertext. */
export const SEALED_CLOSE_HEADER_LENGTH = HEADER_LENGTH + 2;
const BODY_FIXED_LENGTH = 3;

/** The plaintext body for `repr` (the reason cut and made printable as CLOSE does). */
export function encodeCloseBody(repr: CloseRepr): Uint8Array {
  if (!Number.isInteger(repr.status) || repr.status < 0 || repr.status > 0xffff) {
    throw new ProtocolError('BAD_VALUE', `SEALED_CLOSE status ${repr.status} is not a u16`);
  }
  const reason = wireReason(repr.reason);
  const out = new Uint8Array(BODY_FIXED_LENGTH + reason.length);
  writeU16(out, 0, repr.status);
  out[2] = reason.length;
  for (let i = 0; i < reason.length; i++) out[BODY_FIXED_LENGTH + i] = reason.charCodeAt(i);
  return out;
}

/** Parses a decrypted (authenticated) close body; non-printable reason bytes become '?'. */
export function parseCloseBody(body: Uint8Array): CloseRepr {
  requireBytes(body, BODY_FIXED_LENGTH, 'SEALED_CLOSE body');
  const r = body[2]!;
  if (body.length !== BODY_FIXED_LENGTH + r) {
    throw new ProtocolError('BAD_LENGTH', `SEALED_CLOSE reasonLength ${r} needs a ${BODY_FIXED_LENGTH + r}-byte body, got ${body.length}`);
  }
  let reason = '';
  for (let i = 0; i < r; i++) {
    const c = body[BODY_FIXED_LENGTH + i]!;
    reason += c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '?';
  }
  return { status: readU16(body, 0), reason };
}

/** Bytes of a SEALED_CLOSE frame for a body of `bodyLength` under a `digestLength`-byte digest. */
export function sealedCloseLength(bodyLength: number, digestLength: number): number {
  return SEALED_CLOSE_HEADER_LENGTH + digestLength + bodyLength;
}
