/**
 * ICMPv6 (RFC 4443): type, code and the checksum over the IPv6
 * pseudo-header (RFC 8200 §8.1) and the whole message. The message body
 * (everything after the 4-byte header) is a `subarray` view; NDP bodies are
 * decoded by `ndp.ts`. The caller supplies the IPv6 source and destination
 * (16-byte arrays) for the pseudo-header — unlike UDP over IPv4 the checksum
 * is mandatory, so zero is verified like any other value.
 */
import { WireError } from './errors.js';
import { readU16, requireRoom, requireUint, writeU16 } from './bytes.js';
import { finishChecksum, ipv6PseudoHeaderSum, onesComplementSum } from './checksum.js';
import { Ipv6NextHeader } from './ipv6.js';

export const ICMPV6_HEADER_LENGTH = 4;

/** Message types (RFC 4443 §2.1, RFC 4861 §4). */
export const Icmpv6Type = {
  DESTINATION_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
} as const;

export const Icmpv6Field = { TYPE: 0, CODE: 1, CHECKSUM: 2, BODY: 4 } as const;

export interface Icmpv6Repr {
  type: number;
  code: number;
  body: Uint8Array; // after type, code and checksum
}

export function icmpv6Type(bytes: Uint8Array): number {
  return bytes[Icmpv6Field.TYPE]!;
}

/** Validates the length and checksum; returns the problem, not thrown; allocates only then. */
export function checkIcmpv6(bytes: Uint8Array, source: Uint8Array, destination: Uint8Array, sourceOffset = 0, destinationOffset = 0): WireError | undefined {
  if (bytes.length < ICMPV6_HEADER_LENGTH) {
    return new WireError('TRUNCATED', `ICMPv6 header: need ${ICMPV6_HEADER_LENGTH} bytes, got ${bytes.length}`);
  }
  const pseudo = ipv6PseudoHeaderSum(source, sourceOffset, destination, destinationOffset, bytes.length, Ipv6NextHeader.ICMPV6);
  const residue = finishChecksum(onesComplementSum(bytes, pseudo));
  if (residue !== 0) {
    const stored = readU16(bytes, Icmpv6Field.CHECKSUM).toString(16).padStart(4, '0');
    return new WireError('BAD_CHECKSUM', `ICMPv6 checksum: 0x${stored} does not verify with the IPv6 pseudo-header`);
  }
  return undefined;
}

export function parseIcmpv6(bytes: Uint8Array, source: Uint8Array, destination: Uint8Array): Icmpv6Repr {
  const problem = checkIcmpv6(bytes, source, destination);
  if (problem) throw problem;
  return { type: bytes[Icmpv6Field.TYPE]!, code: bytes[Icmpv6Field.CODE]!, body: bytes.subarray(ICMPV6_HEADER_LENGTH) };
}

export function icmpv6Length(repr: Pick<Icmpv6Repr, 'body'>): number {
  return ICMPV6_HEADER_LENGTH + repr.body.length;
}

/**
 * Writes type, code and the checksum for a body of `bodyLength` bytes
 * already in `buf` right after the header. Returns the message length.
 */
export function emitIcmpv6Header(
  type: number,
  code: number,
  bodyLength: number,
  buf: Uint8Array,
  offset: number,
  source: Uint8Array,
  destination: Uint8Array,
): number {
  requireUint(type, 0xff, 'ICMPv6 type');
  requireUint(code, 0xff, 'ICMPv6 code');
  requireAddress(source, 'source');
  requireAddress(destination, 'destination');
  const length = ICMPV6_HEADER_LENGTH + bodyLength;
  if (!Number.isInteger(bodyLength) || bodyLength < 0 || length > 0xffff) {
    throw new WireError('OVERSIZED', `ICMPv6 message: ${length} bytes; expected at most 65535`);
  }
  requireRoom(buf, offset, length, 'ICMPv6 message');
  buf[offset + Icmpv6Field.TYPE] = type;
  buf[offset + Icmpv6Field.CODE] = code;
  writeU16(buf, offset + Icmpv6Field.CHECKSUM, 0);
  const pseudo = ipv6PseudoHeaderSum(source, 0, destination, 0, length, Ipv6NextHeader.ICMPV6);
  writeU16(buf, offset + Icmpv6Field.CHECKSUM, finishChecksum(onesComplementSum(buf, pseudo, offset, offset + length)));
  return length;
}

/** Writes header and body with the checksum; returns the message length. */
export function emitIcmpv6(repr: Icmpv6Repr, buf: Uint8Array, offset: number, source: Uint8Array, destination: Uint8Array): number {
  requireRoom(buf, offset, icmpv6Length(repr), 'ICMPv6 message');
  buf.set(repr.body, offset + ICMPV6_HEADER_LENGTH);
  return emitIcmpv6Header(repr.type, repr.code, repr.body.length, buf, offset, source, destination);
}

function requireAddress(address: Uint8Array, what: string): void {
  if (address.length !== 16) throw new WireError('BAD_VALUE', `ICMPv6 pseudo-header ${what}: expected 16 bytes, got ${address.length}`);
}
