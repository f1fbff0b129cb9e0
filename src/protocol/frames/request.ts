/**
 * REQUEST frame (type 2, patent Fig. 7): the destination name in clear (for
 * routing) followed by Noise IK message 1, whose encrypted payload carries
 * the request body: initiator name, offered suites, flags, client data; then
 * mac1 ‖ mac2 (16 bytes each), which let the server refuse a flood before any
 * Diffie-Hellman (src/crypto/cookie.ts computes them over the frame's bytes,
 * so the codec emits them as zeros and the sender stamps them afterwards).
 * The frame codec treats the handshake bytes as opaque; the body codec
 * (`emitRequestBody` / `parseRequestBody`) handles the decrypted payload.
 */
import { ProtocolError, requireBytes, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { readU16, writeU16 } from '../../wire/bytes.js';
import { HEADER_LENGTH, MAX_CLIENT_DATA_LENGTH, MAX_SUITES, MIN_HANDSHAKE_REQUEST_LENGTH, REQUEST_MAC_LENGTH } from './limits.js';
import { checkName, readName, writeAscii } from './names.js';

export const BODY_VERSION = 1;
/** Flag bit: the sender can switch keys in band with REKEY (REQUEST: offered, RESPONSE: agreed). */
export const FLAG_IN_BAND_REKEY = 0x01;
export const KNOWN_FLAGS = FLAG_IN_BAND_REKEY;

export interface RequestRepr {
  /** The server's name (clear text, routing). */
  destination: string;
  /** Noise IK message 1 (opaque here). A view into the frame when parsed. */
  handshake: Uint8Array;
}

/** A parsed REQUEST: its MAC fields too (views into the frame). */
export interface ParsedRequest extends RequestRepr {
  mac1: Uint8Array;
  /** Zeros when the sender held no cookie. */
  mac2: Uint8Array;
}

export interface RequestBody {
  flags: number;
  /** User or machine name used for authorization. */
  initiatorName: string;
  /** Suite ids in the initiator's preference order. */
  suites: number[];
  clientData: Uint8Array;
}

const DESTINATION_FIELD = HEADER_LENGTH + 1;
const MACS_LENGTH = 2 * REQUEST_MAC_LENGTH;

export function requestLength(repr: RequestRepr): number {
  return DESTINATION_FIELD + repr.destination.length + repr.handshake.length + MACS_LENGTH;
}

export function emitRequest(repr: RequestRepr, buf: Uint8Array, offset = 0): number {
  checkName(repr.destination, 'REQUEST destination');
  const length = requestLength(repr);
  requireRoom(buf, offset, length, 'REQUEST');
  emitHeader(buf, offset, length, FrameType.REQUEST);
  buf[offset + HEADER_LENGTH] = repr.destination.length;
  const at = offset + DESTINATION_FIELD + writeAscii(buf, offset + DESTINATION_FIELD, repr.destination);
  buf.set(repr.handshake, at);
  buf.fill(0, at + repr.handshake.length, offset + length); // mac1, mac2: stamped by the sender
  return length;
}

export function encodeRequest(repr: RequestRepr): Uint8Array {
  const out = new Uint8Array(requestLength(repr));
  emitRequest(repr, out);
  return out;
}

export function parseRequest(frame: Uint8Array): ParsedRequest {
  expectType(frame, FrameType.REQUEST);
  requireBytes(frame, DESTINATION_FIELD, 'REQUEST');
  const n = frame[HEADER_LENGTH]!;
  requireBytes(frame, DESTINATION_FIELD + n + MIN_HANDSHAKE_REQUEST_LENGTH + MACS_LENGTH, 'REQUEST destination, handshake and MACs');
  const destination = readName(frame, DESTINATION_FIELD, n, 'REQUEST destination');
  const mac1At = frame.length - MACS_LENGTH;
  return {
    destination,
    handshake: frame.subarray(DESTINATION_FIELD + n, mac1At),
    mac1: frame.subarray(mac1At, mac1At + REQUEST_MAC_LENGTH),
    mac2: frame.subarray(mac1At + REQUEST_MAC_LENGTH),
  };
}

/** The bytes the Noise prologue binds after the RELAY frame: destinationLength ‖ destination. */
export function destinationBytes(frame: Uint8Array): Uint8Array {
  return frame.subarray(HEADER_LENGTH, DESTINATION_FIELD + frame[HEADER_LENGTH]!);
}

function checkBody(body: RequestBody): void {
  if ((body.flags & ~KNOWN_FLAGS) !== 0) throw new ProtocolError('BAD_VALUE', `request flags 0x${body.flags.toString(16)} has unknown bits`);
  checkName(body.initiatorName, 'request initiatorName');
  if (body.suites.length < 1 || body.suites.length > MAX_SUITES) {
    throw new ProtocolError('BAD_VALUE', `request suiteCount: expected 1..${MAX_SUITES}, got ${body.suites.length}`);
  }
  for (const id of body.suites) {
    if (!Number.isInteger(id) || id < 0 || id > 255) throw new ProtocolError('BAD_VALUE', `request suite id ${id} is not a byte`);
  }
  if (body.clientData.length > MAX_CLIENT_DATA_LENGTH) {
    throw new ProtocolError('BAD_VALUE', `request clientData: at most ${MAX_CLIENT_DATA_LENGTH} bytes, got ${body.clientData.length}`);
  }
}

export function requestBodyLength(body: RequestBody): number {
  return 3 + body.initiatorName.length + 1 + body.suites.length + 2 + body.clientData.length;
}

export function encodeRequestBody(body: RequestBody): Uint8Array {
  checkBody(body);
  const out = new Uint8Array(requestBodyLength(body));
  out[0] = BODY_VERSION;
  out[1] = body.flags;
  out[2] = body.initiatorName.length;
  let at = 3 + writeAscii(out, 3, body.initiatorName);
  out[at++] = body.suites.length;
  for (const id of body.suites) out[at++] = id;
  writeU16(out, at, body.clientData.length);
  out.set(body.clientData, at + 2);
  return out;
}

/** Parses the decrypted request body; suites are copied, clientData is a view. */
export function parseRequestBody(bytes: Uint8Array): RequestBody {
  requireBytes(bytes, 3, 'request body');
  if (bytes[0] !== BODY_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `request body version: expected ${BODY_VERSION}, got ${bytes[0]}`);
  const flags = bytes[1]!;
  const m = bytes[2]!;
  requireBytes(bytes, 3 + m + 1, 'request body name');
  const initiatorName = readName(bytes, 3, m, 'request initiatorName');
  const k = bytes[3 + m]!;
  const suitesAt = 4 + m;
  requireBytes(bytes, suitesAt + k + 2, 'request body suites');
  const suites = Array.from(bytes.subarray(suitesAt, suitesAt + k));
  const c = readU16(bytes, suitesAt + k);
  const dataAt = suitesAt + k + 2;
  if (bytes.length !== dataAt + c) {
    throw new ProtocolError('BAD_LENGTH', `request body: clientDataLength ${c} needs ${dataAt + c} bytes, body has ${bytes.length}`);
  }
  const body = { flags, initiatorName, suites, clientData: bytes.subarray(dataAt) };
  checkBody(body);
  return body;
}
