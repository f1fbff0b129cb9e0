/**
 * UDP (RFC 768) over IPv4: ports, the length field checked against the
 * buffer (the datagram ends where the length field says), and the checksum
 * over the IPv4 pseudo-header. A zero checksum means "none" and is accepted;
 * a computed checksum of zero is sent as 0xffff. The caller supplies the IPv4
 * source and destination (as unsigned numbers) for the pseudo-header. The
 * parsed payload is a `subarray` view.
 */
import { WireError } from './errors.js';
import { readU16, requireRoom, requireUint, writeU16 } from './bytes.js';
import { finishChecksum, ipv4PseudoHeaderSum, onesComplementSum } from './checksum.js';
import { IpProtocol } from './ipv4.js';

export const UDP_HEADER_LENGTH = 8;
export const UDP_MAX_LENGTH = 65535;

export const UdpField = { SOURCE_PORT: 0, DESTINATION_PORT: 2, LENGTH: 4, CHECKSUM: 6, PAYLOAD: 8 } as const;

export interface UdpRepr {
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
}

export function udpSourcePort(bytes: Uint8Array): number {
  return readU16(bytes, UdpField.SOURCE_PORT);
}
export function udpDestinationPort(bytes: Uint8Array): number {
  return readU16(bytes, UdpField.DESTINATION_PORT);
}

/** Validates lengths and (when present) the checksum; returns the problem, not thrown; allocates only then. */
export function checkUdp(bytes: Uint8Array, source: number, destination: number): WireError | undefined {
  if (bytes.length < UDP_HEADER_LENGTH) {
    return new WireError('TRUNCATED', `UDP header: need ${UDP_HEADER_LENGTH} bytes, got ${bytes.length}`);
  }
  const length = readU16(bytes, UdpField.LENGTH);
  if (length < UDP_HEADER_LENGTH) {
    return new WireError('BAD_VALUE', `UDP length: expected at least ${UDP_HEADER_LENGTH}, got ${length}`);
  }
  if (length > bytes.length) {
    return new WireError('TRUNCATED', `UDP datagram: length field says ${length} bytes, got ${bytes.length}`);
  }
  if (readU16(bytes, UdpField.CHECKSUM) === 0) return undefined; // RFC 768: no checksum
  const sum = onesComplementSum(bytes, ipv4PseudoHeaderSum(source, destination, IpProtocol.UDP, length), 0, length);
  const residue = finishChecksum(sum);
  if (residue !== 0) {
    const stored = readU16(bytes, UdpField.CHECKSUM).toString(16).padStart(4, '0');
    return new WireError('BAD_CHECKSUM', `UDP checksum: 0x${stored} does not verify with the IPv4 pseudo-header`);
  }
  return undefined;
}

export function parseUdp(bytes: Uint8Array, source: number, destination: number): UdpRepr {
  const problem = checkUdp(bytes, source, destination);
  if (problem) throw problem;
  return {
    sourcePort: udpSourcePort(bytes),
    destinationPort: udpDestinationPort(bytes),
    payload: bytes.subarray(UDP_HEADER_LENGTH, readU16(bytes, UdpField.LENGTH)),
  };
}

export function udpLength(repr: Pick<UdpRepr, 'payload'>): number {
  return UDP_HEADER_LENGTH + repr.payload.length;
}

/**
 * Writes the 8-byte header for a payload of `payloadLength` bytes already in
 * `buf` right after it, and the checksum over pseudo-header, header and
 * payload. Returns 8.
 */
export function emitUdpHeader(
  sourcePort: number,
  destinationPort: number,
  payloadLength: number,
  buf: Uint8Array,
  offset: number,
  source: number,
  destination: number,
): number {
  requireUint(sourcePort, 0xffff, 'UDP source port');
  requireUint(destinationPort, 0xffff, 'UDP destination port');
  requireUint(source, 0xffffffff, 'UDP pseudo-header source');
  requireUint(destination, 0xffffffff, 'UDP pseudo-header destination');
  const length = UDP_HEADER_LENGTH + payloadLength;
  if (length > UDP_MAX_LENGTH) throw new WireError('OVERSIZED', `UDP datagram: ${length} bytes exceeds ${UDP_MAX_LENGTH}`);
  requireRoom(buf, offset, length, 'UDP datagram');
  writeU16(buf, offset + UdpField.SOURCE_PORT, sourcePort);
  writeU16(buf, offset + UdpField.DESTINATION_PORT, destinationPort);
  writeU16(buf, offset + UdpField.LENGTH, length);
  writeU16(buf, offset + UdpField.CHECKSUM, 0);
  const sum = onesComplementSum(buf.subarray(offset, offset + length), ipv4PseudoHeaderSum(source, destination, IpProtocol.UDP, length));
  const checksum = finishChecksum(sum);
  writeU16(buf, offset + UdpField.CHECKSUM, checksum === 0 ? 0xffff : checksum);
  return UDP_HEADER_LENGTH;
}

/** Writes header and payload with the checksum; returns the UDP length. */
export function emitUdp(repr: UdpRepr, buf: Uint8Array, offset: number, source: number, destination: number): number {
  const length = udpLength(repr);
  if (length > UDP_MAX_LENGTH) throw new WireError('OVERSIZED', `UDP datagram: ${length} bytes exceeds ${UDP_MAX_LENGTH}`);
  requireRoom(buf, offset, length, 'UDP datagram');
  buf.set(repr.payload, offset + UDP_HEADER_LENGTH);
  emitUdpHeader(repr.sourcePort, repr.destinationPort, repr.payload.length, buf, offset, source, destination);
  return length;
}
