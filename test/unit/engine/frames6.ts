/** Test helpers: IPv6 frames (ICMPv6 echo, NDP) built with our own emitters, whose output the wire tests check against captures. */
import { emitEthernetHeader, EtherType } from '../../../src/wire/ethernet.js';
import { emitIpv6Header, Ipv6NextHeader } from '../../../src/wire/ipv6.js';
import { emitIcmpv6Header, Icmpv6Type } from '../../../src/wire/icmpv6.js';
import { emitNdp, ndpLength, type NdpMessage } from '../../../src/wire/ndp.js';
import { ipv6ToBytes } from '../../../src/wire/addr6.js';
import { macToBytes } from '../../../src/wire/addr.js';
import { HOST_MAC } from './frames.js';

export interface Ipv6FrameSpec {
  dstMac: string;
  srcMac?: string;
  src: string;
  dst: string;
  /** Echo data bytes (after the 8-byte echo header). */
  dataLength?: number;
  hopLimit?: number;
}

/** An ICMPv6 echo request with a correct checksum. */
export function echo6Frame(spec: Ipv6FrameSpec): Uint8Array {
  const icmpLength = 8 + (spec.dataLength ?? 8);
  const frame = new Uint8Array(14 + 40 + icmpLength);
  const source = ipv6ToBytes(spec.src);
  const destination = ipv6ToBytes(spec.dst);
  emitEthernetHeader(macToBytes(spec.dstMac), macToBytes(spec.srcMac ?? HOST_MAC), EtherType.IPV6, frame, 0);
  frame.fill(0x5a, 54 + 8);
  frame[58] = 0x12; // id 0x1234, seq 1
  frame[59] = 0x34;
  frame[61] = 1;
  emitIcmpv6Header(Icmpv6Type.ECHO_REQUEST, 0, icmpLength - 4, frame, 54, source, destination);
  emitIpv6Header({ trafficClass: 0, flowLabel: 0, nextHeader: Ipv6NextHeader.ICMPV6, hopLimit: spec.hopLimit ?? 64, source, destination, payload: frame }, icmpLength, frame, 14);
  return frame;
}

/** An NDP message framed as the host would send it. */
export function ndpFrame(message: NdpMessage, src: string, dst: string, dstMac: string, hopLimit = 255, srcMac = HOST_MAC): Uint8Array {
  const length = ndpLength(message);
  const frame = new Uint8Array(14 + 40 + length);
  const source = ipv6ToBytes(src);
  const destination = ipv6ToBytes(dst);
  emitEthernetHeader(macToBytes(dstMac), macToBytes(srcMac), EtherType.IPV6, frame, 0);
  emitNdp(message, frame, 54, source, destination);
  emitIpv6Header({ trafficClass: 0, flowLabel: 0, nextHeader: Ipv6NextHeader.ICMPV6, hopLimit, source, destination, payload: frame }, length, frame, 14);
  return frame;
}
