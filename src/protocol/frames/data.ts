/**
 * DATA frame (type 4, patent Fig. 9). Layout: common header, etherType u16,
 * keyId u8, flags u8, paddingLength u8, digestLength u8 (bytes 0-11: the
 * authenticated header), digest, encrypted (datagram ‖ padding). With flag
 * OFFLOAD (negotiated in the handshake) a 10-byte GSO descriptor
 * (src/wire/gso.ts) follows byte 11 and is authenticated with the header:
 * the datagram is a TCP super-frame (docs/PROTOCOL.md "DATA").
 *
 * Zero copy: `emitDataHeader` writes only the 12 header bytes so a sealer can
 * encrypt straight into the payload region of the same buffer; `parseData`
 * returns header, digest and ciphertext as subarrays of the frame.
 */
import { ProtocolError, requireBytes, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { readU16, writeU16 } from '../../wire/bytes.js';
import { DATA_HEADER_LENGTH, MAX_DATAGRAM_LENGTH, MAX_DIGEST_LENGTH, MAX_PADDING_LENGTH } from './limits.js';
import { GSO_DESCRIPTOR_LENGTH } from '../../wire/gso.js';

export interface DataHeaderRepr {
  etherType: number;
  keyId: number;
  paddingLength: number;
  digestLength: number;
  datagramLength: number;
}

export interface DataFrameView {
  etherType: number;
  keyId: number;
  flags: number;
  paddingLength: number;
  digestLength: number;
  /** Bytes 0-11 (0-21 with OFFLOAD: the descriptor too), covered by the digest. */
  header: Uint8Array;
  digest: Uint8Array;
  /** Encrypted datagram ‖ padding. */
  ciphertext: Uint8Array;
}

export const DATA_DIGEST_OFFSET = DATA_HEADER_LENGTH;
/** DATA flag: a GSO descriptor follows the 12-byte header; the datagram is a super-frame. */
export const DATA_FLAG_OFFLOAD = 0x01;
/** The authenticated header of a DATA frame with OFFLOAD: the 12 bytes and the descriptor. */
export const DATA_OFFLOAD_HEADER_LENGTH = DATA_HEADER_LENGTH + GSO_DESCRIPTOR_LENGTH;

export function dataFrameLength(datagramLength: number, digestLength: number, paddingLength = 0, offload = false): number {
  return (offload ? DATA_OFFLOAD_HEADER_LENGTH : DATA_HEADER_LENGTH) + digestLength + datagramLength + paddingLength;
}

function checkHeader(repr: DataHeaderRepr): void {
  const bad = (what: string, max: number, v: number): never => {
    throw new ProtocolError('BAD_VALUE', `DATA ${what}: expected 0..${max}, got ${v}`);
  };
  if (!(repr.etherType >= 0 && repr.etherType <= 0xffff)) bad('etherType', 0xffff, repr.etherType);
  if (!(repr.keyId >= 0 && repr.keyId <= 255)) bad('keyId', 255, repr.keyId);
  if (!(repr.paddingLength >= 0 && repr.paddingLength <= MAX_PADDING_LENGTH)) bad('paddingLength', MAX_PADDING_LENGTH, repr.paddingLength);
  if (!(repr.digestLength >= 0 && repr.digestLength <= MAX_DIGEST_LENGTH)) bad('digestLength', MAX_DIGEST_LENGTH, repr.digestLength);
  if (!(repr.datagramLength >= 0 && repr.datagramLength <= MAX_DATAGRAM_LENGTH)) bad('datagram length', MAX_DATAGRAM_LENGTH, repr.datagramLength);
}

/**
 * Writes the 12-byte DATA header at `offset` for a frame of the given sizes
 * and checks that `buf` can hold the whole frame. Returns DATA_HEADER_LENGTH;
 * the digest goes at offset + 12, the ciphertext at offset + 12 + digestLength.
 */
export function emitDataHeader(repr: DataHeaderRepr, buf: Uint8Array, offset = 0, flags = 0): number {
  checkHeader(repr);
  const length = dataFrameLength(repr.datagramLength, repr.digestLength, repr.paddingLength, (flags & DATA_FLAG_OFFLOAD) !== 0);
  requireRoom(buf, offset, length, 'DATA');
  emitHeader(buf, offset, length, FrameType.DATA);
  writeU16(buf, offset + 6, repr.etherType);
  buf[offset + 8] = repr.keyId;
  buf[offset + 9] = flags; // OFFLOAD: the caller writes the descriptor at offset + 12
  buf[offset + 10] = repr.paddingLength;
  buf[offset + 11] = repr.digestLength;
  return DATA_HEADER_LENGTH;
}

/** Builds a whole DATA frame from already sealed parts (fixtures, tests). */
export function encodeData(repr: { etherType: number; keyId: number; paddingLength: number; digest: Uint8Array; ciphertext: Uint8Array }): Uint8Array {
  const datagramLength = repr.ciphertext.length - repr.paddingLength;
  const out = new Uint8Array(dataFrameLength(datagramLength, repr.digest.length, repr.paddingLength));
  emitDataHeader({ ...repr, digestLength: repr.digest.length, datagramLength }, out);
  out.set(repr.digest, DATA_HEADER_LENGTH);
  out.set(repr.ciphertext, DATA_HEADER_LENGTH + repr.digest.length);
  return out;
}

/** Parses a whole DATA frame into views; checks layout only (the session checks the digest). */
export function parseData(frame: Uint8Array): DataFrameView {
  expectType(frame, FrameType.DATA);
  requireBytes(frame, DATA_HEADER_LENGTH, 'DATA header');
  const flags = frame[9]!;
  if ((flags & ~DATA_FLAG_OFFLOAD) !== 0) throw new ProtocolError('BAD_VALUE', `DATA flags: expected 0 or OFFLOAD (1), got 0x${flags.toString(16)}`);
  const headerLength = flags === DATA_FLAG_OFFLOAD ? DATA_OFFLOAD_HEADER_LENGTH : DATA_HEADER_LENGTH;
  const paddingLength = frame[10]!;
  const digestLength = frame[11]!;
  if (digestLength > MAX_DIGEST_LENGTH) {
    throw new ProtocolError('BAD_VALUE', `DATA digestLength: expected 0..${MAX_DIGEST_LENGTH}, got ${digestLength}`);
  }
  const ciphertextAt = headerLength + digestLength;
  requireBytes(frame, ciphertextAt + paddingLength, 'DATA digest and padding');
  if (frame.length - ciphertextAt - paddingLength > MAX_DATAGRAM_LENGTH) {
    throw new ProtocolError('BAD_LENGTH', `DATA datagram of ${frame.length - ciphertextAt - paddingLength} bytes exceeds ${MAX_DATAGRAM_LENGTH}`);
  }
  return {
    etherType: readU16(frame, 6),
    keyId: frame[8]!,
    flags,
    paddingLength,
    digestLength,
    header: frame.subarray(0, headerLength),
    digest: frame.subarray(headerLength, ciphertextAt),
    ciphertext: frame.subarray(ciphertextAt),
  };
}
