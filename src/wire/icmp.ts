/**
 * ICMP for IPv4 (RFC 792): type, code, checksum over the whole message, the
 * four "rest of header" bytes as one number, and the body (for error
 * messages, the offending datagram's header and first bytes). Destination
 * Unreachable code 4, "fragmentation needed and DF set", carries the
 * next-hop MTU in the low 16 bits of the rest (RFC 1191 §4). The parsed
 * body is a `subarray` view.
 */
import { WireError } from './errors.js';
import { readU16, requireRoom, requireUint, writeU16, writeU32 } from './bytes.js';
import { finishChecksum, internetChecksum, onesComplementSum } from './checksum.js';

export const ICMP_HEADER_LENGTH = 8;

export const IcmpType = {
  ECHO_REPLY: 0,
  DESTINATION_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
} as const;

export const IcmpUnreachableCode = { FRAGMENTATION_NEEDED: 4 } as const;

export const IcmpField = { TYPE: 0, CODE: 1, CHECKSUM: 2, REST: 4, BODY: 8 } as const;

/** RFC 1812 §4.3.2.3: an ICMP error carries as much of the offending datagram as fits in 576 bytes with its own headers. */
export const ICMP_ERROR_MAX_DATAGRAM_LENGTH = 576;

export interface IcmpRepr {
  type: number;
  code: number;
  /** Bytes 4..7 as an unsigned 32-bit number (identifier and sequence, next-hop MTU, unused ...). */
  rest: number;
  body: Uint8Array;
}

/** Error messages (RFC 1122 §3.2.2: never sent in answer to one of these). */
export function isIcmpErrorType(type: number): boolean {
  return type === IcmpType.DESTINATION_UNREACHABLE || type === IcmpType.SOURCE_QUENCH || type === IcmpType.REDIRECT || type === IcmpType.TIME_EXCEEDED || type === IcmpType.PARAMETER_PROBLEM;
}

/** The next-hop MTU of a "fragmentation needed" message (RFC 1191 §4); undefined for any other message. */
export function nextHopMtu(repr: IcmpRepr): number | undefined {
  if (repr.type !== IcmpType.DESTINATION_UNREACHABLE || repr.code !== IcmpUnreachableCode.FRAGMENTATION_NEEDED) return undefined;
  return repr.rest & 0xffff;
}

export function parseIcmp(bytes: Uint8Array): IcmpRepr {
  if (bytes.length < ICMP_HEADER_LENGTH) {
    throw new WireError('TRUNCATED', `ICMP header: need ${ICMP_HEADER_LENGTH} bytes, got ${bytes.length}`);
  }
  const residue = finishChecksum(onesComplementSum(bytes));
  if (residue !== 0) {
    const stored = readU16(bytes, IcmpField.CHECKSUM).toString(16).padStart(4, '0');
    throw new WireError('BAD_CHECKSUM', `ICMP checksum: 0x${stored} does not verify over ${bytes.length} bytes`);
  }
  return {
    type: bytes[IcmpField.TYPE]!,
    code: bytes[IcmpField.CODE]!,
    rest: ((readU16(bytes, IcmpField.REST) << 16) | readU16(bytes, IcmpField.REST + 2)) >>> 0,
    body: bytes.subarray(ICMP_HEADER_LENGTH),
  };
}

export function icmpLength(repr: Pick<IcmpRepr, 'body'>): number {
  return ICMP_HEADER_LENGTH + repr.body.length;
}

/**
 * Writes the header for a body of `bodyLength` bytes already in place right
 * after it (so a caller can copy the offending datagram in first), with the
 * checksum over both. Returns the message length.
 */
export function emitIcmpHeader(repr: Omit<IcmpRepr, 'body'>, bodyLength: number, buf: Uint8Array, offset = 0): number {
  requireUint(repr.type, 0xff, 'ICMP type');
  requireUint(repr.code, 0xff, 'ICMP code');
  requireUint(repr.rest, 0xffffffff, 'ICMP rest of header');
  const length = ICMP_HEADER_LENGTH + bodyLength;
  requireRoom(buf, offset, length, 'ICMP message');
  buf[offset + IcmpField.TYPE] = repr.type;
  buf[offset + IcmpField.CODE] = repr.code;
  writeU16(buf, offset + IcmpField.CHECKSUM, 0);
  writeU32(buf, offset + IcmpField.REST, repr.rest);
  writeU16(buf, offset + IcmpField.CHECKSUM, internetChecksum(buf.subarray(offset, offset + length)));
  return length;
}

/** Writes header and body; returns the message length. */
export function emitIcmp(repr: IcmpRepr, buf: Uint8Array, offset = 0): number {
  requireRoom(buf, offset, icmpLength(repr), 'ICMP message');
  buf.set(repr.body, offset + ICMP_HEADER_LENGTH);
  return emitIcmpHeader(repr, repr.body.length, buf, offset);
}
