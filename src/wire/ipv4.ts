/**
 * IPv4 headers (RFC 791): version, IHL with options, total length checked
 * against the buffer (bytes past it, such as Ethernet padding, are not part of
 * the datagram), header checksum verified on parse and computed on emit.
 * Fragments are parsed and flagged (`isIpv4Fragment`), not reassembled — the
 * classifier decides what to do with them. `checkIpv4` and the field readers
 * validate and read raw bytes without allocating, for the data path; the
 * parsed repr's `options` and `payload` are `subarray` views.
 */
import { WireError } from './errors.js';
import { readIpv4Number } from './addr.js';
import { readU16, requireRoom, requireUint, writeU16, writeU32 } from './bytes.js';
import { finishChecksum, internetChecksum, onesComplementSum } from './checksum.js';

export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;
export const IPV4_MAX_TOTAL_LENGTH = 65535;

export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** Byte offsets of the header fields. */
export const Ipv4Field = {
  VERSION_IHL: 0,
  TOS: 1,
  TOTAL_LENGTH: 2,
  IDENTIFICATION: 4,
  FLAGS_FRAGMENT: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SOURCE: 12,
  DESTINATION: 16,
  OPTIONS: 20,
} as const;

const FLAG_DONT_FRAGMENT = 0x4000;
const FLAG_MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;
const FRAGMENT_UNIT_BYTES = 8;

export interface Ipv4Repr {
  typeOfService: number; // DSCP and ECN
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffsetBytes: number; // multiple of 8
  timeToLive: number;
  protocol: number;
  source: number; // unsigned 32-bit
  destination: number;
  options: Uint8Array; // 0..40 bytes, a multiple of 4
  payload: Uint8Array;
}

export function ipv4HeaderLength(bytes: Uint8Array): number {
  return (bytes[Ipv4Field.VERSION_IHL]! & 0x0f) * 4;
}
export function ipv4TotalLength(bytes: Uint8Array): number {
  return readU16(bytes, Ipv4Field.TOTAL_LENGTH);
}
export function ipv4Protocol(bytes: Uint8Array): number {
  return bytes[Ipv4Field.PROTOCOL]!;
}
export function ipv4Source(bytes: Uint8Array): number {
  return readIpv4Number(bytes, Ipv4Field.SOURCE);
}
export function ipv4Destination(bytes: Uint8Array): number {
  return readIpv4Number(bytes, Ipv4Field.DESTINATION);
}
/** More-fragments set or a non-zero offset: a piece of a larger datagram. */
export function ipv4IsFragmentBytes(bytes: Uint8Array): boolean {
  return (readU16(bytes, Ipv4Field.FLAGS_FRAGMENT) & (FLAG_MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK)) !== 0;
}
export function isIpv4Fragment(repr: Ipv4Repr): boolean {
  return repr.moreFragments || repr.fragmentOffsetBytes !== 0;
}

/**
 * Validates version, IHL, lengths and the header checksum. Returns the
 * problem (not thrown) so the data path can count it; allocates only then.
 */
export function checkIpv4(bytes: Uint8Array): WireError | undefined {
  if (bytes.length < IPV4_MIN_HEADER_LENGTH) {
    return new WireError('TRUNCATED', `IPv4 header: need ${IPV4_MIN_HEADER_LENGTH} bytes, got ${bytes.length}`);
  }
  const version = bytes[Ipv4Field.VERSION_IHL]! >>> 4;
  if (version !== 4) return new WireError('BAD_VALUE', `IPv4 version: expected 4, got ${version}`);
  const headerLength = ipv4HeaderLength(bytes);
  if (headerLength < IPV4_MIN_HEADER_LENGTH) {
    return new WireError('BAD_VALUE', `IPv4 IHL: expected at least 5 (20 bytes), got ${headerLength / 4}`);
  }
  if (bytes.length < headerLength) {
    return new WireError('TRUNCATED', `IPv4 header with options: IHL says ${headerLength} bytes, got ${bytes.length}`);
  }
  const totalLength = ipv4TotalLength(bytes);
  if (totalLength < headerLength) {
    return new WireError('BAD_VALUE', `IPv4 total length: ${totalLength} is less than the header length ${headerLength}`);
  }
  if (totalLength > bytes.length) {
    return new WireError('TRUNCATED', `IPv4 datagram: total length says ${totalLength} bytes, got ${bytes.length}`);
  }
  const checksum = finishChecksum(onesComplementSum(bytes, 0, 0, headerLength));
  if (checksum !== 0) {
    const stored = readU16(bytes, Ipv4Field.CHECKSUM);
    return new WireError('BAD_CHECKSUM', `IPv4 header checksum: 0x${hex16(stored)} does not verify (residue 0x${hex16(checksum)})`);
  }
  return undefined;
}

export function parseIpv4(bytes: Uint8Array): Ipv4Repr {
  const problem = checkIpv4(bytes);
  if (problem) throw problem;
  const headerLength = ipv4HeaderLength(bytes);
  const flagsFragment = readU16(bytes, Ipv4Field.FLAGS_FRAGMENT);
  return {
    typeOfService: bytes[Ipv4Field.TOS]!,
    identification: readU16(bytes, Ipv4Field.IDENTIFICATION),
    dontFragment: (flagsFragment & FLAG_DONT_FRAGMENT) !== 0,
    moreFragments: (flagsFragment & FLAG_MORE_FRAGMENTS) !== 0,
    fragmentOffsetBytes: (flagsFragment & FRAGMENT_OFFSET_MASK) * FRAGMENT_UNIT_BYTES,
    timeToLive: bytes[Ipv4Field.TTL]!,
    protocol: bytes[Ipv4Field.PROTOCOL]!,
    source: ipv4Source(bytes),
    destination: ipv4Destination(bytes),
    options: bytes.subarray(IPV4_MIN_HEADER_LENGTH, headerLength),
    payload: bytes.subarray(headerLength, ipv4TotalLength(bytes)),
  };
}

export function ipv4HeaderLengthOf(repr: Pick<Ipv4Repr, 'options'>): number {
  return IPV4_MIN_HEADER_LENGTH + repr.options.length;
}

export function ipv4Length(repr: Pick<Ipv4Repr, 'options' | 'payload'>): number {
  return ipv4HeaderLengthOf(repr) + repr.payload.length;
}

/**
 * Writes the header (with options and checksum) for a payload of
 * `payloadLength` bytes that the caller writes (or has written) right after
 * it; `repr.payload` is ignored. Returns the header length.
 */
export function emitIpv4Header(repr: Ipv4Repr, payloadLength: number, buf: Uint8Array, offset = 0): number {
  const headerLength = validateForEmit(repr, payloadLength);
  requireRoom(buf, offset, headerLength, 'IPv4 header');
  const flags = (repr.dontFragment ? FLAG_DONT_FRAGMENT : 0) | (repr.moreFragments ? FLAG_MORE_FRAGMENTS : 0);
  buf[offset + Ipv4Field.VERSION_IHL] = 0x40 | (headerLength / 4);
  buf[offset + Ipv4Field.TOS] = repr.typeOfService;
  writeU16(buf, offset + Ipv4Field.TOTAL_LENGTH, headerLength + payloadLength);
  writeU16(buf, offset + Ipv4Field.IDENTIFICATION, repr.identification);
  writeU16(buf, offset + Ipv4Field.FLAGS_FRAGMENT, flags | (repr.fragmentOffsetBytes / FRAGMENT_UNIT_BYTES));
  buf[offset + Ipv4Field.TTL] = repr.timeToLive;
  buf[offset + Ipv4Field.PROTOCOL] = repr.protocol;
  writeU16(buf, offset + Ipv4Field.CHECKSUM, 0);
  writeU32(buf, offset + Ipv4Field.SOURCE, repr.source);
  writeU32(buf, offset + Ipv4Field.DESTINATION, repr.destination);
  buf.set(repr.options, offset + Ipv4Field.OPTIONS);
  const checksum = internetChecksum(buf.subarray(offset, offset + headerLength));
  writeU16(buf, offset + Ipv4Field.CHECKSUM, checksum);
  return headerLength;
}

/** Writes header and payload; returns the total length. */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, offset = 0): number {
  const length = ipv4Length(repr);
  requireRoom(buf, offset, length, 'IPv4 datagram');
  const headerLength = emitIpv4Header(repr, repr.payload.length, buf, offset);
  buf.set(repr.payload, offset + headerLength);
  return length;
}

function validateForEmit(repr: Ipv4Repr, payloadLength: number): number {
  const headerLength = ipv4HeaderLengthOf(repr);
  if (repr.options.length % 4 !== 0 || headerLength > IPV4_MAX_HEADER_LENGTH) {
    throw new WireError('BAD_VALUE', `IPv4 options: expected a multiple of 4 bytes up to 40, got ${repr.options.length}`);
  }
  if (headerLength + payloadLength > IPV4_MAX_TOTAL_LENGTH) {
    throw new WireError('OVERSIZED', `IPv4 datagram: ${headerLength + payloadLength} bytes exceeds ${IPV4_MAX_TOTAL_LENGTH}`);
  }
  requireUint(repr.typeOfService, 0xff, 'IPv4 type of service');
  requireUint(repr.identification, 0xffff, 'IPv4 identification');
  requireUint(repr.timeToLive, 0xff, 'IPv4 TTL');
  requireUint(repr.protocol, 0xff, 'IPv4 protocol');
  requireUint(repr.source, 0xffffffff, 'IPv4 source');
  requireUint(repr.destination, 0xffffffff, 'IPv4 destination');
  const offsetBytes = repr.fragmentOffsetBytes;
  if (offsetBytes % FRAGMENT_UNIT_BYTES !== 0 || offsetBytes / FRAGMENT_UNIT_BYTES > FRAGMENT_OFFSET_MASK) {
    throw new WireError('BAD_VALUE', `IPv4 fragment offset: expected a multiple of 8 up to ${FRAGMENT_OFFSET_MASK * 8} bytes, got ${offsetBytes}`);
  }
  requireUint(offsetBytes, FRAGMENT_OFFSET_MASK * FRAGMENT_UNIT_BYTES, 'IPv4 fragment offset');
  return headerLength;
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, '0');
}
