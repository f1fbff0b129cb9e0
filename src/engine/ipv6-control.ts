/**
 * The IPv6 frames the pseudo adapter writes to the host itself: NDP replies
 * from the NDP emulator and ICMPv6 Packet Too Big (RFC 4443 §3.2) for a
 * datagram the tunnel cannot carry. Each is framed in a caller-supplied
 * buffer (Ethernet + IPv6 + ICMPv6) and its length returned. Pure.
 */
import type { NdpReply } from '../../emulators/ndp.js';
import { NDP_HOP_LIMIT } from '../../emulators/ndp.js';
import { emitEthernetHeader, EtherType, ETHERNET_HEADER_LENGTH } from '../wire/ethernet.js';
import { emitIcmpv6Header, ICMPV6_HEADER_LENGTH, Icmpv6Type } from '../wire/icmpv6.js';
import { emitIpv6Header, IPV6_HEADER_LENGTH, IPV6_MIN_MTU, Ipv6Field, Ipv6NextHeader, type Ipv6Repr } from '../wire/ipv6.js';
import { emitNdp, ndpLength } from '../wire/ndp.js';
import { writeU32 } from '../wire/bytes.js';

const ICMPV6_ERROR_HOP_LIMIT = 64;
const PTB_MTU_FIELD_LENGTH = 4;
/** RFC 4443 §2.4 (c): an error carries as much of the invoking packet as fits in the minimum MTU. */
const PTB_MAX_INVOKING_BYTES = IPV6_MIN_MTU - IPV6_HEADER_LENGTH - ICMPV6_HEADER_LENGTH - PTB_MTU_FIELD_LENGTH;

function ipv6Header(source: Uint8Array, destination: Uint8Array, hopLimit: number): Ipv6Repr {
  return { trafficClass: 0, flowLabel: 0, nextHeader: Ipv6NextHeader.ICMPV6, hopLimit, source, destination, payload: EMPTY };
}
const EMPTY = new Uint8Array(0);

/** Bytes `frameNdpReply` needs for this verdict's message. */
export function ndpReplyFrameLength(verdict: NdpReply): number {
  return ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + ndpLength(verdict.message);
}

/** Frames an NDP reply (hop limit 255, from `gatewayMac`); returns the frame length. */
export function frameNdpReply(verdict: NdpReply, gatewayMac: Uint8Array, buf: Uint8Array): number {
  const ipOffset = ETHERNET_HEADER_LENGTH;
  const icmpOffset = ipOffset + IPV6_HEADER_LENGTH;
  const icmpLength = emitNdp(verdict.message, buf, icmpOffset, verdict.source, verdict.destination);
  emitIpv6Header(ipv6Header(verdict.source, verdict.destination, NDP_HOP_LIMIT), icmpLength, buf, ipOffset);
  emitEthernetHeader(verdict.destinationMac, gatewayMac, EtherType.IPV6, buf, 0);
  return icmpOffset + icmpLength;
}

/** Bytes `framePacketTooBig` needs at most. */
export const PACKET_TOO_BIG_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + IPV6_MIN_MTU;

/**
 * Frames a Packet Too Big for `datagram` (the host's IPv6 datagram) from
 * `source` (the gateway's tunnel address) to the datagram's source, with
 * `mtu` and the start of the datagram; returns the frame length.
 */
export function framePacketTooBig(
  datagram: Uint8Array,
  mtu: number,
  source: Uint8Array,
  gatewayMac: Uint8Array,
  hostMac: Uint8Array,
  buf: Uint8Array,
): number {
  const destination = datagram.subarray(Ipv6Field.SOURCE, Ipv6Field.SOURCE + 16);
  const invoking = datagram.subarray(0, Math.min(datagram.length, PTB_MAX_INVOKING_BYTES));
  const icmpOffset = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH;
  const bodyOffset = icmpOffset + ICMPV6_HEADER_LENGTH;
  writeU32(buf, bodyOffset, mtu);
  buf.set(invoking, bodyOffset + PTB_MTU_FIELD_LENGTH);
  const icmpLength = emitIcmpv6Header(Icmpv6Type.PACKET_TOO_BIG, 0, PTB_MTU_FIELD_LENGTH + invoking.length, buf, icmpOffset, source, destination);
  emitIpv6Header(ipv6Header(source, destination, ICMPV6_ERROR_HOP_LIMIT), icmpLength, buf, ETHERNET_HEADER_LENGTH);
  emitEthernetHeader(hostMac, gatewayMac, EtherType.IPV6, buf, 0);
  return icmpOffset + icmpLength;
}
