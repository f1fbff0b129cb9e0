/**
 * RELAY frame (type 1, patent Fig. 6): the originating node's name and the
 * ordered path as offsets into a string buffer of NUL-terminated names.
 * Guarantees of `parseRelay`: every offset lies inside the buffer and ends at
 * a NUL; names are printable ASCII; hops are distinct host:port names (a
 * duplicate would make the relay that searches its own name loop).
 */
import { ProtocolError, requireBytes, requireRoom } from './errors.js';
import { FrameType, emitHeader, expectType } from './header.js';
import { readU16, writeU16 } from '../../wire/bytes.js';
import { HEADER_LENGTH, MAX_PATH_HOPS } from './limits.js';
import { checkName, readName, splitHostPort, writeAscii } from './names.js';

export interface RelayRepr {
  /** The originating node's name (free-form, e.g. the client's name). */
  origin: string;
  /** host:port of each node on the path; the last one is the server. */
  hops: string[];
}

const HOP_COUNT_OFFSET = HEADER_LENGTH; // 6
const ORIGIN_OFFSET_FIELD = HEADER_LENGTH + 2; // 8 (after hopCount and a reserved byte)
const HOP_OFFSETS_FIELD = HEADER_LENGTH + 4; // 10

function checkRepr(repr: RelayRepr): void {
  checkName(repr.origin, 'RELAY origin');
  if (repr.hops.length < 1 || repr.hops.length > MAX_PATH_HOPS) {
    throw new ProtocolError('BAD_VALUE', `RELAY hopCount: expected 1..${MAX_PATH_HOPS}, got ${repr.hops.length}`);
  }
  const seen = new Set<string>();
  for (const hop of repr.hops) {
    checkName(hop, 'RELAY hop');
    splitHostPort(hop);
    if (seen.has(hop)) throw new ProtocolError('PATH_LOOP', `RELAY hop "${hop}" appears twice (a loop)`);
    seen.add(hop);
  }
}

export function relayLength(repr: RelayRepr): number {
  let strings = repr.origin.length + 1;
  for (const hop of repr.hops) strings += hop.length + 1;
  return HOP_OFFSETS_FIELD + 2 * repr.hops.length + strings;
}

/** Writes a RELAY frame; returns its length. Throws BAD_VALUE for invalid names, BUFFER_TOO_SMALL. */
export function emitRelay(repr: RelayRepr, buf: Uint8Array, offset = 0): number {
  checkRepr(repr);
  const length = relayLength(repr);
  requireRoom(buf, offset, length, 'RELAY');
  emitHeader(buf, offset, length, FrameType.RELAY);
  buf[offset + HOP_COUNT_OFFSET] = repr.hops.length;
  buf[offset + HOP_COUNT_OFFSET + 1] = 0;
  const strings = offset + HOP_OFFSETS_FIELD + 2 * repr.hops.length;
  let cursor = 0;
  const put = (name: string, field: number): void => {
    writeU16(buf, field, cursor);
    cursor += writeAscii(buf, strings + cursor, name);
    buf[strings + cursor++] = 0;
  };
  put(repr.origin, offset + ORIGIN_OFFSET_FIELD);
  repr.hops.forEach((hop, i) => put(hop, offset + HOP_OFFSETS_FIELD + 2 * i));
  return length;
}

export function encodeRelay(repr: RelayRepr): Uint8Array {
  const out = new Uint8Array(relayLength(repr));
  emitRelay(repr, out);
  return out;
}

/** Reads the NUL-terminated name at `offset` of the string buffer. */
function nameAt(strings: Uint8Array, offset: number, what: string): string {
  if (offset >= strings.length) {
    throw new ProtocolError('BAD_VALUE', `${what}: offset ${offset} outside the ${strings.length}-byte string buffer`);
  }
  const end = strings.indexOf(0, offset);
  if (end < 0) throw new ProtocolError('BAD_VALUE', `${what}: name at offset ${offset} has no NUL terminator`);
  return readName(strings, offset, end - offset, what);
}

export function parseRelay(frame: Uint8Array): RelayRepr {
  expectType(frame, FrameType.RELAY);
  requireBytes(frame, HOP_OFFSETS_FIELD, 'RELAY');
  const hopCount = frame[HOP_COUNT_OFFSET]!;
  if (hopCount < 1 || hopCount > MAX_PATH_HOPS) {
    throw new ProtocolError('BAD_VALUE', `RELAY hopCount: expected 1..${MAX_PATH_HOPS}, got ${hopCount}`);
  }
  if (frame[HOP_COUNT_OFFSET + 1] !== 0) throw new ProtocolError('BAD_VALUE', 'RELAY reserved byte must be 0');
  const stringsStart = HOP_OFFSETS_FIELD + 2 * hopCount;
  requireBytes(frame, stringsStart + 1, 'RELAY offsets and string buffer');
  const strings = frame.subarray(stringsStart);
  const origin = nameAt(strings, readU16(frame, ORIGIN_OFFSET_FIELD), 'RELAY origin');
  const hops: string[] = [];
  for (let i = 0; i < hopCount; i++) {
    hops.push(nameAt(strings, readU16(frame, HOP_OFFSETS_FIELD + 2 * i), `RELAY hop ${i}`));
  }
  const repr = { origin, hops };
  checkRepr(repr);
  return repr;
}
