/**
 * RESPONSE frame (type 3, patent Fig. 8): Noise IK message 2, whose
 * encrypted payload is the response body: flags, chosen suite, client data
 * (the lease, see lease-codec.ts).
 */
import { ProtocolError, requireBytes, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { readU16, writeU16 } from '../../wire/bytes.js';
import { HEADER_LENGTH, MAX_CLIENT_DATA_LENGTH, MIN_HANDSHAKE_RESPONSE_LENGTH } from './limits.js';
import { BODY_VERSION, KNOWN_FLAGS } from './request.js';

export interface ResponseRepr {
  /** Noise IK message 2 (opaque here). A view into the frame when parsed. */
  handshake: Uint8Array;
}

export interface ResponseBody {
  flags: number;
  /** The chosen suite id. */
  suite: number;
  /** The encoded lease. */
  clientData: Uint8Array;
}

export function responseLength(repr: ResponseRepr): number {
  return HEADER_LENGTH + repr.handshake.length;
}

export function emitResponse(repr: ResponseRepr, buf: Uint8Array, offset = 0): number {
  const length = responseLength(repr);
  requireRoom(buf, offset, length, 'RESPONSE');
  emitHeader(buf, offset, length, FrameType.RESPONSE);
  buf.set(repr.handshake, offset + HEADER_LENGTH);
  return length;
}

export function encodeResponse(repr: ResponseRepr): Uint8Array {
  const out = new Uint8Array(responseLength(repr));
  emitResponse(repr, out);
  return out;
}

export function parseResponse(frame: Uint8Array): ResponseRepr {
  expectType(frame, FrameType.RESPONSE);
  requireBytes(frame, HEADER_LENGTH + MIN_HANDSHAKE_RESPONSE_LENGTH, 'RESPONSE handshake');
  return { handshake: frame.subarray(HEADER_LENGTH) };
}

function checkBody(body: ResponseBody): void {
  if ((body.flags & ~KNOWN_FLAGS) !== 0) throw new ProtocolError('BAD_VALUE', `response flags 0x${body.flags.toString(16)} has unknown bits`);
  if (!Number.isInteger(body.suite) || body.suite < 0 || body.suite > 255) {
    throw new ProtocolError('BAD_VALUE', `response suite id ${body.suite} is not a byte`);
  }
  if (body.clientData.length > MAX_CLIENT_DATA_LENGTH) {
    throw new ProtocolError('BAD_VALUE', `response clientData: at most ${MAX_CLIENT_DATA_LENGTH} bytes, got ${body.clientData.length}`);
  }
}

export function encodeResponseBody(body: ResponseBody): Uint8Array {
  checkBody(body);
  const out = new Uint8Array(5 + body.clientData.length);
  out[0] = BODY_VERSION;
  out[1] = body.flags;
  out[2] = body.suite;
  writeU16(out, 3, body.clientData.length);
  out.set(body.clientData, 5);
  return out;
}

/** Parses the decrypted response body; clientData is a view. */
export function parseResponseBody(bytes: Uint8Array): ResponseBody {
  requireBytes(bytes, 5, 'response body');
  if (bytes[0] !== BODY_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `response body version: expected ${BODY_VERSION}, got ${bytes[0]}`);
  const c = readU16(bytes, 3);
  if (bytes.length !== 5 + c) {
    throw new ProtocolError('BAD_LENGTH', `response body: clientDataLength ${c} needs ${5 + c} bytes, body has ${bytes.length}`);
  }
  const body = { flags: bytes[1]!, suite: bytes[2]!, clientData: bytes.subarray(5) };
  checkBody(body);
  return body;
}
