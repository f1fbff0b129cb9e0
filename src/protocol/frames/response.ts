/**
 * RESPONSE frame (type 3, patent Fig. 8): Noise IK message 2, whose
 * encrypted payload is the response body: flags, chosen suite, client data
 * (the lease, see lease-codec.ts) — or, with the REFUSED flag, the server's
 * refusal (status and reason as in CLOSE). A refusal inside message 2 is
 * authenticated by the handshake itself: only the server's static key, on
 * this very handshake, can produce it, so the client may believe it and stop
 * for good, which it must never do on a plain (forgeable) CLOSE.
 */
import { ProtocolError, requireBytes, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { readU16, writeU16 } from '../../wire/bytes.js';
import { HEADER_LENGTH, MAX_CLIENT_DATA_LENGTH, MIN_HANDSHAKE_RESPONSE_LENGTH } from './limits.js';
import { BODY_VERSION, KNOWN_FLAGS } from './request.js';
import type { CloseRepr } from './close.js';
import { encodeCloseBody, parseCloseBody } from './sealed-close.js';

/** A TAI64N timestamp, as in the REQUEST's handshake payload. */
const TAI64N_LENGTH = 12;

/** Response flag: the server refuses the client; `suite` is 0 and clientData is the refusal (status u16 ‖ reasonLength u8 ‖ reason). */
export const FLAG_REFUSED = 0x80;
/** Response flag: OFFLOAD is on for this tunnel (set only for an initiator that offered it, capabilities.ts). */
export const FLAG_OFFLOAD = 0x02;
const KNOWN_RESPONSE_FLAGS = KNOWN_FLAGS | FLAG_OFFLOAD | FLAG_REFUSED;

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
  if ((body.flags & ~KNOWN_RESPONSE_FLAGS) !== 0) throw new ProtocolError('BAD_VALUE', `response flags 0x${body.flags.toString(16)} has unknown bits`);
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

/** A refusal; a STALE_TIMESTAMP one also carries the last REQUEST timestamp the server accepted from this client. */
export interface RefusalRepr extends CloseRepr {
  lastTimestamp?: Uint8Array;
}

/**
 * The response body of a refusal (for writeResponse): REFUSED, suite 0, and
 * as clientData the close body (status ‖ reasonLength ‖ reason), followed by
 * the 12-byte TAI64N `lastTimestamp` when there is one.
 */
export function encodeRefusalBody(refusal: RefusalRepr): Uint8Array {
  const close = encodeCloseBody(refusal);
  const last = refusal.lastTimestamp;
  if (last && last.length !== TAI64N_LENGTH) throw new ProtocolError('BAD_VALUE', `refusal lastTimestamp: expected ${TAI64N_LENGTH} bytes, got ${last.length}`);
  const clientData = last ? new Uint8Array(close.length + TAI64N_LENGTH) : close;
  if (last) {
    clientData.set(close);
    clientData.set(last, close.length);
  }
  return encodeResponseBody({ flags: FLAG_REFUSED, suite: 0, clientData });
}

/** The refusal a parsed response body carries, or undefined when it grants the tunnel; lastTimestamp is a view. */
export function parseRefusal(body: ResponseBody): RefusalRepr | undefined {
  if ((body.flags & FLAG_REFUSED) === 0) return undefined;
  const data = body.clientData;
  requireBytes(data, 3, 'refusal');
  const closeLength = 3 + data[2]!;
  const rest = data.length - closeLength;
  if (rest !== 0 && rest !== TAI64N_LENGTH) {
    throw new ProtocolError('BAD_LENGTH', `refusal: after a ${closeLength}-byte close body expected nothing or a ${TAI64N_LENGTH}-byte timestamp, got ${rest} bytes`);
  }
  const close = parseCloseBody(data.subarray(0, closeLength));
  return rest === 0 ? close : { ...close, lastTimestamp: data.subarray(closeLength) };
}
