/**
 * TCP super-frames (generic segmentation offload) as Linux hands them to a TAP
 * opened with IFF_VNET_HDR: one IPv4 or IPv6 TCP datagram of up to 64 KiB
 * that stands for many MSS-sized segments, described by `struct
 * virtio_net_hdr` (include/uapi/linux/virtio_net.h). Here the description is
 * `GsoInfo`, with its offsets counted from the start of the IP datagram (not
 * of the Ethernet frame, as the kernel's are), so it can travel in a DATA
 * frame beside the datagram (the 10-byte descriptor, docs/PROTOCOL.md).
 *
 * `checkGso` accepts only what we segment and hand on: TCP over IPv4 or IPv6
 * without extension headers, the partial checksum at the TCP header. Anything
 * else from the wire is refused before it reaches a kernel or the segmenter.
 *
 * `segmentTcp` cuts a super-frame into the segments the kernel's
 * tcp_gso_segment would send (net/ipv4/tcp_offload.c, net/ipv4/af_inet.c):
 * the headers copied, each segment's sequence number advanced by the payload
 * before it, FIN and PSH only on the last, CWR only on the first, IPv4
 * identification counting up from the super-frame's, lengths and checksums
 * (IPv4 header, TCP with its pseudo-header) computed. Allocation-free: each
 * segment is written into the caller's scratch buffer and handed out as a view
 * valid during the callback.
 */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { finishChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, onesComplementSum } from './checksum.js';
import { IPV4_MIN_HEADER_LENGTH, IpProtocol, Ipv4Field, ipv4Destination, ipv4HeaderLength, ipv4Source, ipv4TotalLength } from './ipv4.js';
import { IPV6_HEADER_LENGTH, Ipv6Field, Ipv6NextHeader, ipv6PayloadLength } from './ipv6.js';

/** virtio_net_hdr.gso_type values (VIRTIO_NET_HDR_GSO_*). */
export const GsoType = { NONE: 0, TCPV4: 1, UDP: 3, TCPV6: 4, ECN: 0x80 } as const;
/** virtio_net_hdr.flags: the checksum at csumStart + csumOffset holds only the pseudo-header sum. */
export const GSO_FLAG_NEEDS_CSUM = 1;
/** The descriptor a DATA frame carries for a super-frame: flags u8, gsoType u8, then hdrLen, gsoSize, csumStart, csumOffset as u16, big-endian. */
export const GSO_DESCRIPTOR_LENGTH = 10;
/** Where a TCP header keeps its checksum. */
export const TCP_CHECKSUM_OFFSET = 16;
const TCP_MIN_HEADER_LENGTH = 20;
const TCP_SEQUENCE_OFFSET = 4;
const TCP_DATA_OFFSET_BYTE = 12;
const TCP_FLAGS_BYTE = 13;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;
const IP_VERSION_4 = 4;
const IP_VERSION_6 = 6;

/** A super-frame's description; offsets from the start of the IP datagram. */
export interface GsoInfo {
  flags: number;
  /** GsoType.TCPV4 or TCPV6, possibly | GsoType.ECN. */
  gsoType: number;
  /** Bytes of headers (IP + TCP) in front of the payload. */
  hdrLen: number;
  /** Payload bytes per segment (the MSS). */
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function newGsoInfo(): GsoInfo {
  return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
}

/** Writes the 10-byte descriptor at `offset`. */
export function emitGsoDescriptor(gso: GsoInfo, buf: Uint8Array, offset: number): number {
  buf[offset] = gso.flags;
  buf[offset + 1] = gso.gsoType;
  writeU16(buf, offset + 2, gso.hdrLen);
  writeU16(buf, offset + 4, gso.gsoSize);
  writeU16(buf, offset + 6, gso.csumStart);
  writeU16(buf, offset + 8, gso.csumOffset);
  return GSO_DESCRIPTOR_LENGTH;
}

/** Reads the 10-byte descriptor at `offset` into `into` (the caller checked the room); checkGso judges it. */
export function parseGsoDescriptor(buf: Uint8Array, offset: number, into: GsoInfo): GsoInfo {
  into.flags = buf[offset]!;
  into.gsoType = buf[offset + 1]!;
  into.hdrLen = readU16(buf, offset + 2);
  into.gsoSize = readU16(buf, offset + 4);
  into.csumStart = readU16(buf, offset + 6);
  into.csumOffset = readU16(buf, offset + 8);
  return into;
}

/**
 * Why `datagram` is not a super-frame we carry as `gso` says, or undefined
 * when it is: TCP over IPv4 (no fragment) or IPv6 (TCP the next header),
 * lengths that agree with the bytes, the partial checksum at the TCP header,
 * hdrLen covering exactly IP + TCP headers, a non-zero gsoSize.
 */
export function checkGso(datagram: Uint8Array, gso: GsoInfo): string | undefined {
  const type = gso.gsoType & ~GsoType.ECN;
  const version = datagram.length > 0 ? datagram[0]! >>> 4 : 0;
  let ipHeaderLength: number;
  if (type === GsoType.TCPV4) {
    if (version !== IP_VERSION_4 || datagram.length < IPV4_MIN_HEADER_LENGTH) return 'gso TCPV4 on a datagram that is not IPv4';
    ipHeaderLength = ipv4HeaderLength(datagram);
    if (ipHeaderLength < IPV4_MIN_HEADER_LENGTH || ipv4TotalLength(datagram) !== datagram.length) return 'gso TCPV4: IPv4 lengths disagree with the datagram';
    if (datagram[Ipv4Field.PROTOCOL] !== IpProtocol.TCP) return 'gso TCPV4 on a datagram that is not TCP';
    if ((readU16(datagram, Ipv4Field.FLAGS_FRAGMENT) & 0x3fff) !== 0) return 'gso TCPV4 on a fragment';
  } else if (type === GsoType.TCPV6) {
    if (version !== IP_VERSION_6 || datagram.length < IPV6_HEADER_LENGTH) return 'gso TCPV6 on a datagram that is not IPv6';
    ipHeaderLength = IPV6_HEADER_LENGTH;
    if (IPV6_HEADER_LENGTH + ipv6PayloadLength(datagram) !== datagram.length) return 'gso TCPV6: IPv6 length disagrees with the datagram';
    if (datagram[Ipv6Field.NEXT_HEADER] !== Ipv6NextHeader.TCP) return 'gso TCPV6 on a datagram whose next header is not TCP';
  } else {
    return `gso type ${gso.gsoType} is not TCPV4 or TCPV6`;
  }
  if (gso.csumStart !== ipHeaderLength || gso.csumOffset !== TCP_CHECKSUM_OFFSET) return 'gso partial checksum not at the TCP header';
  if (datagram.length < ipHeaderLength + TCP_MIN_HEADER_LENGTH) return 'gso datagram shorter than its TCP header';
  const tcpHeaderLength = (datagram[ipHeaderLength + TCP_DATA_OFFSET_BYTE]! >>> 4) * 4;
  if (tcpHeaderLength < TCP_MIN_HEADER_LENGTH || ipHeaderLength + tcpHeaderLength > datagram.length) return 'gso TCP header length out of range';
  if (gso.hdrLen !== ipHeaderLength + tcpHeaderLength) return `gso hdrLen ${gso.hdrLen}, headers are ${ipHeaderLength + tcpHeaderLength} bytes`;
  if (gso.gsoSize === 0) return 'gso size 0';
  return undefined;
}

/**
 * IP + TCP header bytes of a super-frame whose TCP header starts at
 * `tcpAt` (its csumStart); 0 when that is out of the datagram. The kernel's
 * hdr_len is only a hint of its linear part, so the descriptor we send
 * carries this instead.
 */
export function gsoHeaderLength(datagram: Uint8Array, tcpAt: number): number {
  if (tcpAt < 0 || tcpAt + TCP_MIN_HEADER_LENGTH > datagram.length) return 0;
  return tcpAt + (datagram[tcpAt + TCP_DATA_OFFSET_BYTE]! >>> 4) * 4;
}

/** How many segments `segmentTcp` makes of a datagram checkGso accepted. */
export function gsoSegmentCount(datagram: Uint8Array, gso: GsoInfo): number {
  const payload = datagram.length - gso.hdrLen;
  return payload <= 0 ? 1 : Math.ceil(payload / gso.gsoSize);
}

/**
 * Cuts a super-frame checkGso accepted into MSS-sized segments, as the
 * kernel's GSO would, each written into `scratch` (at least hdrLen + gsoSize
 * bytes) and handed to `onSegment` as a view valid during the call. Returns
 * the number of segments.
 */
export function segmentTcp(datagram: Uint8Array, gso: GsoInfo, scratch: Uint8Array, onSegment: (segment: Uint8Array) => void): number {
  const headers = gso.hdrLen;
  const tcpAt = gso.csumStart;
  const ipv4 = (gso.gsoType & ~GsoType.ECN) === GsoType.TCPV4;
  const payloadLength = datagram.length - headers;
  const count = gsoSegmentCount(datagram, gso);
  const firstSequence = readU32(datagram, tcpAt + TCP_SEQUENCE_OFFSET);
  const flags = datagram[tcpAt + TCP_FLAGS_BYTE]!;
  const firstId = ipv4 ? readU16(datagram, Ipv4Field.IDENTIFICATION) : 0;
  for (let i = 0; i < count; i++) {
    const start = headers + i * gso.gsoSize;
    const size = Math.min(gso.gsoSize, Math.max(payloadLength - i * gso.gsoSize, 0));
    const length = headers + size;
    scratch.set(datagram.subarray(0, headers), 0);
    scratch.set(datagram.subarray(start, start + size), headers);
    let segmentFlags = flags;
    if (i < count - 1) segmentFlags &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) segmentFlags &= ~TCP_CWR;
    scratch[tcpAt + TCP_FLAGS_BYTE] = segmentFlags;
    writeU32(scratch, tcpAt + TCP_SEQUENCE_OFFSET, (firstSequence + i * gso.gsoSize) >>> 0);
    if (ipv4) finishIpv4Segment(scratch, length, (firstId + i) & 0xffff);
    else writeU16(scratch, Ipv6Field.PAYLOAD_LENGTH, length - IPV6_HEADER_LENGTH);
    writeTcpChecksum(scratch, tcpAt, length, ipv4);
    onSegment(scratch.subarray(0, length));
  }
  return count;
}

function finishIpv4Segment(segment: Uint8Array, length: number, identification: number): void {
  writeU16(segment, Ipv4Field.TOTAL_LENGTH, length);
  writeU16(segment, Ipv4Field.IDENTIFICATION, identification);
  writeU16(segment, Ipv4Field.CHECKSUM, 0);
  writeU16(segment, Ipv4Field.CHECKSUM, finishChecksum(onesComplementSum(segment, 0, 0, ipv4HeaderLength(segment))));
}

/** The full TCP checksum of segment[tcpAt..length) with its pseudo-header. */
export function writeTcpChecksum(segment: Uint8Array, tcpAt: number, length: number, ipv4: boolean): void {
  const tcpLength = length - tcpAt;
  const pseudo = ipv4
    ? ipv4PseudoHeaderSum(ipv4Source(segment), ipv4Destination(segment), IpProtocol.TCP, tcpLength)
    : ipv6PseudoHeaderSum(segment, Ipv6Field.SOURCE, segment, Ipv6Field.DESTINATION, tcpLength, Ipv6NextHeader.TCP);
  writeU16(segment, tcpAt + TCP_CHECKSUM_OFFSET, 0);
  writeU16(segment, tcpAt + TCP_CHECKSUM_OFFSET, finishChecksum(onesComplementSum(segment, pseudo, tcpAt, length)));
}
