/**
 * ICMP "fragmentation needed and DF set" (RFC 792 type 3 code 4, RFC 1191
 * next-hop MTU) for a datagram the host sent that exceeds the tunnel MTU:
 * the pseudo adapter answers as the router that could not forward it, so
 * the host's path-MTU discovery adapts instead of stalling. The reply comes
 * from the gateway's address and MAC, goes to the sender's MAC and address,
 * and carries as much of the datagram as fits in 576 bytes (RFC 1812
 * §4.3.2.3), as Linux routers do. None is sent for an ICMP error (RFC 1122
 * §3.2.2) or a non-first fragment.
 */
import { emitEthernetHeader, EtherType, ETHERNET_HEADER_LENGTH, EthernetField, MAC_LENGTH } from '../wire/ethernet.js';
import { emitIcmpHeader, ICMP_ERROR_MAX_DATAGRAM_LENGTH, ICMP_HEADER_LENGTH, IcmpType, IcmpUnreachableCode, isIcmpErrorType } from '../wire/icmp.js';
import { emitIpv4Header, IpProtocol, ipv4HeaderLength, ipv4Protocol, ipv4Source, ipv4TotalLength, IPV4_MIN_HEADER_LENGTH, Ipv4Field } from '../wire/ipv4.js';
import { readU16 } from '../wire/bytes.js';

const FRAGMENT_OFFSET_MASK = 0x1fff;
const ICMP_TTL = 64;
/** DSCP CS6 "network control", as Linux sends its ICMP errors. */
const TOS_NETWORK_CONTROL = 0xc0;
const QUOTED_MAX = ICMP_ERROR_MAX_DATAGRAM_LENGTH - IPV4_MIN_HEADER_LENGTH - ICMP_HEADER_LENGTH;

/** Room a reply frame needs: Ethernet + IPv4 + ICMP headers and the quoted datagram. */
export const FRAG_NEEDED_FRAME_MAX_LENGTH = ETHERNET_HEADER_LENGTH + ICMP_ERROR_MAX_DATAGRAM_LENGTH;

export function deservesFragNeeded(datagram: Uint8Array): boolean {
  if ((readU16(datagram, Ipv4Field.FLAGS_FRAGMENT) & FRAGMENT_OFFSET_MASK) !== 0) return false;
  if (ipv4Protocol(datagram) !== IpProtocol.ICMP) return true;
  const icmpStart = ipv4HeaderLength(datagram);
  return ipv4TotalLength(datagram) > icmpStart && !isIcmpErrorType(datagram[icmpStart]!);
}

export interface FragNeededReply {
  /** The host frame that was too big (its Ethernet source is the reply's destination). */
  frame: Uint8Array;
  datagram: Uint8Array;
  mtu: number;
  gateway: number;
  gatewayMac: Uint8Array;
  identification: number;
}

/** Writes the reply frame into `buf` (at least FRAG_NEEDED_FRAME_MAX_LENGTH bytes); returns its length. */
export function emitFragNeeded(reply: FragNeededReply, buf: Uint8Array): number {
  const quoted = reply.datagram.subarray(0, Math.min(reply.datagram.length, QUOTED_MAX));
  const ipStart = ETHERNET_HEADER_LENGTH;
  const icmpStart = ipStart + IPV4_MIN_HEADER_LENGTH;
  buf.set(quoted, icmpStart + ICMP_HEADER_LENGTH);
  const icmpLength = emitIcmpHeader({ type: IcmpType.DESTINATION_UNREACHABLE, code: IcmpUnreachableCode.FRAGMENTATION_NEEDED, rest: reply.mtu }, quoted.length, buf, icmpStart);
  emitIpv4Header(
    {
      typeOfService: TOS_NETWORK_CONTROL,
      identification: reply.identification,
      dontFragment: false,
      moreFragments: false,
      fragmentOffsetBytes: 0,
      timeToLive: ICMP_TTL,
      protocol: IpProtocol.ICMP,
      source: reply.gateway,
      destination: ipv4Source(reply.datagram),
      options: NO_OPTIONS,
      payload: NO_OPTIONS,
    },
    icmpLength,
    buf,
    ipStart,
  );
  emitEthernetHeader(reply.frame.subarray(EthernetField.SOURCE, EthernetField.SOURCE + MAC_LENGTH), reply.gatewayMac, EtherType.IPV4, buf, 0);
  return icmpStart + icmpLength;
}

const NO_OPTIONS = new Uint8Array(0);
