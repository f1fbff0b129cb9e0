/**
 * IPv6 fixed headers (RFC 8200 §3): version, traffic class, flow label, the
 * payload length checked against the buffer (bytes past it, such as Ethernet
 * padding, are not part of the datagram), next header, hop limit, source and
 * destination. Extension headers are not walked: `nextHeader` names the first
 * header after the fixed one and `payload` starts there. Jumbograms (payload
 * length 0 with a Hop-by-Hop jumbo option, RFC 2675) are not supported — no
 * link we carry has an MTU past 65575. `checkIpv6` and the field readers work
 * on raw bytes without allocating, for the data path; the parsed repr's
 * addresses and payload are `subarray` views.
 */
import { WireError } from './errors.js';
import { readU16, readU32, requireRoom, requireUint, writeU16 } from './bytes.js';
import { IPV6_ADDRESS_LENGTH } from './addr6.js';

export const IPV6_HEADER_LENGTH = 40;
export const IPV6_MAX_PAYLOAD_LENGTH = 65535;
/** RFC 8200 §5: every link must carry 1280-byte packets; Packet Too Big never advertises less. */
export const IPV6_MIN_MTU = 1280;

/** Next-header values (IANA "Assigned Internet Protocol Numbers"). */
export const Ipv6NextHeader = { HOP_BY_HOP: 0, TCP: 6, UDP: 17, FRAGMENT: 44, ICMPV6: 58, NO_NEXT_HEADER: 59 } as const;

/** Byte offsets of the header fields. */
export const Ipv6Field = {
  VERSION_TC_FLOW: 0,
  PAYLOAD_LENGTH: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SOURCE: 8,
  DESTINATION: 24,
  PAYLOAD: 40,
} as const;

export interface Ipv6Repr {
  trafficClass: number; // DSCP and ECN, 8 bits
  flowLabel: number; // 20 bits
  nextHeader: number;
  hopLimit: number;
  source: Uint8Array; // 16 bytes
  destination: Uint8Array; // 16 bytes
  payload: Uint8Array;
}

export function ipv6PayloadLength(bytes: Uint8Array): number {
  return readU16(bytes, Ipv6Field.PAYLOAD_LENGTH);
}
export function ipv6NextHeader(bytes: Uint8Array): number {
  return bytes[Ipv6Field.NEXT_HEADER]!;
}
export function ipv6HopLimit(bytes: Uint8Array): number {
  return bytes[Ipv6Field.HOP_LIMIT]!;
}
/** Header plus payload: where the datagram ends (padding excluded). */
export function ipv6TotalLength(bytes: Uint8Array): number {
  return IPV6_HEADER_LENGTH + ipv6PayloadLength(bytes);
}

/** Validates version and lengths; returns the problem (not thrown) so the data path can count it. */
export function checkIpv6(bytes: Uint8Array): WireError | undefined {
  if (bytes.length < IPV6_HEADER_LENGTH) {
    return new WireError('TRUNCATED', `IPv6 header: need ${IPV6_HEADER_LENGTH} bytes, got ${bytes.length}`);
  }
  const version = bytes[Ipv6Field.VERSION_TC_FLOW]! >>> 4;
  if (version !== 6) return new WireError('BAD_VALUE', `IPv6 version: expected 6, got ${version}`);
  const payloadLength = ipv6PayloadLength(bytes);
  if (payloadLength === 0 && ipv6NextHeader(bytes) === Ipv6NextHeader.HOP_BY_HOP) {
    return new WireError('UNSUPPORTED', 'IPv6 payload length 0 with a Hop-by-Hop header: jumbograms (RFC 2675) are not supported');
  }
  if (IPV6_HEADER_LENGTH + payloadLength > bytes.length) {
    return new WireError('TRUNCATED', `IPv6 datagram: payload length says ${payloadLength} bytes after the header, got ${bytes.length - IPV6_HEADER_LENGTH}`);
  }
  return undefined;
}

export function parseIpv6(bytes: Uint8Array): Ipv6Repr {
  const problem = checkIpv6(bytes);
  if (problem) throw problem;
  const first = readU32(bytes, 0);
  return {
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    nextHeader: ipv6NextHeader(bytes),
    hopLimit: ipv6HopLimit(bytes),
    source: bytes.subarray(Ipv6Field.SOURCE, Ipv6Field.SOURCE + IPV6_ADDRESS_LENGTH),
    destination: bytes.subarray(Ipv6Field.DESTINATION, Ipv6Field.DESTINATION + IPV6_ADDRESS_LENGTH),
    payload: bytes.subarray(IPV6_HEADER_LENGTH, ipv6TotalLength(bytes)),
  };
}

export function ipv6Length(repr: Pick<Ipv6Repr, 'payload'>): number {
  return IPV6_HEADER_LENGTH + repr.payload.length;
}

/**
 * Writes the 40-byte header for a payload of `payloadLength` bytes that the
 * caller writes (or has written) right after it; `repr.payload` is ignored.
 * Returns 40.
 */
export function emitIpv6Header(repr: Ipv6Repr, payloadLength: number, buf: Uint8Array, offset = 0): number {
  requireUint(repr.trafficClass, 0xff, 'IPv6 traffic class');
  requireUint(repr.flowLabel, 0xfffff, 'IPv6 flow label');
  requireUint(repr.nextHeader, 0xff, 'IPv6 next header');
  requireUint(repr.hopLimit, 0xff, 'IPv6 hop limit');
  requireAddress(repr.source, 'source');
  requireAddress(repr.destination, 'destination');
  if (!Number.isInteger(payloadLength) || payloadLength < 0 || payloadLength > IPV6_MAX_PAYLOAD_LENGTH) {
    throw new WireError('OVERSIZED', `IPv6 payload: ${payloadLength} bytes; expected 0..${IPV6_MAX_PAYLOAD_LENGTH} (no jumbograms)`);
  }
  requireRoom(buf, offset, IPV6_HEADER_LENGTH, 'IPv6 header');
  buf[offset] = 0x60 | (repr.trafficClass >>> 4);
  buf[offset + 1] = ((repr.trafficClass & 0x0f) << 4) | (repr.flowLabel >>> 16);
  writeU16(buf, offset + 2, repr.flowLabel & 0xffff);
  writeU16(buf, offset + Ipv6Field.PAYLOAD_LENGTH, payloadLength);
  buf[offset + Ipv6Field.NEXT_HEADER] = repr.nextHeader;
  buf[offset + Ipv6Field.HOP_LIMIT] = repr.hopLimit;
  buf.set(repr.source, offset + Ipv6Field.SOURCE);
  buf.set(repr.destination, offset + Ipv6Field.DESTINATION);
  return IPV6_HEADER_LENGTH;
}

/** Writes header and payload; returns the datagram length. */
export function emitIpv6(repr: Ipv6Repr, buf: Uint8Array, offset = 0): number {
  const length = ipv6Length(repr);
  requireRoom(buf, offset, length, 'IPv6 datagram');
  emitIpv6Header(repr, repr.payload.length, buf, offset);
  buf.set(repr.payload, offset + IPV6_HEADER_LENGTH);
  return length;
}

function requireAddress(address: Uint8Array, what: string): void {
  if (address.length !== IPV6_ADDRESS_LENGTH) {
    throw new WireError('BAD_VALUE', `IPv6 ${what}: expected ${IPV6_ADDRESS_LENGTH} bytes, got ${address.length}`);
  }
}
