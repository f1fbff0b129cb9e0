/**
 * The common header every tunnel frame starts with (docs/PROTOCOL.md "Common
 * header"): length u32 (whole frame), type u8, version u8. `checkHeader`
 * validates a whole frame's header once; the per-type parsers rely on it.
 */
import { ProtocolError, requireBytes } from './errors.js';
import { readU32, writeU32 } from '../../wire/bytes.js';
import { HEADER_LENGTH, MAX_FRAME_LENGTH, PROTOCOL_VERSION } from './limits.js';

export const FrameType = {
  RELAY: 1,
  REQUEST: 2,
  RESPONSE: 3,
  DATA: 4,
  CLOSE: 5,
  KEEPALIVE: 6,
  REKEY: 7,
  /** CLOSE once authorized: sealed and counted like DATA, so only the peer can send it (sealed-close.ts). */
  SEALED_CLOSE: 8,
  /** The server's answer to a REQUEST without a valid mac2 while it is under load (cookie.ts). */
  COOKIE: 9,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const TYPE_NAMES = new Map<number, string>(Object.entries(FrameType).map(([name, type]) => [type, name]));

export function frameTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `UNKNOWN(${type})`;
}

export function isFrameType(type: number): type is FrameType {
  return TYPE_NAMES.has(type);
}

/** Reads the u32 length field; throws FRAME_TOO_LARGE / BAD_LENGTH if out of [HEADER_LENGTH, MAX_FRAME_LENGTH]. */
export function checkLengthField(length: number): void {
  if (length > MAX_FRAME_LENGTH) {
    throw new ProtocolError('FRAME_TOO_LARGE', `frame length ${length} exceeds the maximum ${MAX_FRAME_LENGTH}`);
  }
  if (length < HEADER_LENGTH) {
    throw new ProtocolError('BAD_LENGTH', `frame length ${length} is shorter than the ${HEADER_LENGTH}-byte header`);
  }
}

export function checkVersion(version: number): void {
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `protocol version: expected ${PROTOCOL_VERSION}, got ${version}`);
  }
}

/**
 * Validates the header of one whole frame (as the decoder yields it) and
 * returns its type. Throws for a bad length, a length that disagrees with
 * the bytes, a wrong version or an unknown type.
 */
export function frameType(frame: Uint8Array): FrameType {
  requireBytes(frame, HEADER_LENGTH, 'frame header');
  const length = readU32(frame, 0);
  checkLengthField(length);
  if (length !== frame.length) {
    throw new ProtocolError('BAD_LENGTH', `frame length field says ${length}, frame has ${frame.length} bytes`);
  }
  checkVersion(frame[5]!);
  const type = frame[4]!;
  if (!isFrameType(type)) throw new ProtocolError('UNKNOWN_TYPE', `frame type ${type} is not defined in version ${PROTOCOL_VERSION}`);
  return type;
}

/** Validates `frame` as a whole frame of type `expected`. */
export function expectType(frame: Uint8Array, expected: FrameType): void {
  const type = frameType(frame);
  if (type !== expected) {
    throw new ProtocolError('BAD_VALUE', `frame type: expected ${frameTypeName(expected)}, got ${frameTypeName(type)}`);
  }
}

export function emitHeader(buf: Uint8Array, offset: number, length: number, type: FrameType): void {
  writeU32(buf, offset, length);
  buf[offset + 4] = type;
  buf[offset + 5] = PROTOCOL_VERSION;
}
