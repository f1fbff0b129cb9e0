/** Test helpers: build Ethernet/IPv4/UDP/ICMP/ARP frames with our own emitters (whose output the wire tests check against captures). */
import { emitEthernetHeader, EtherType } from '../../../src/wire/ethernet.js';
import { emitIpv4Header, IpProtocol, type Ipv4Repr } from '../../../src/wire/ipv4.js';
import { emitUdpHeader } from '../../../src/wire/udp.js';
import { emitArp, ArpOperation } from '../../../src/wire/arp.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { ipv4ToNumber, macToBytes } from '../../../src/wire/addr.js';

export const HOST_MAC = '02:00:5e:10:00:01';

export interface Ipv4FrameSpec {
  dstMac: string;
  srcMac?: string;
  src: string;
  dst: string;
  protocol?: number;
  payload?: Uint8Array; // transport payload (after UDP header / ICMP header)
  udp?: { sourcePort: number; destinationPort: number };
  moreFragments?: boolean;
  padding?: number; // bytes of Ethernet padding after the datagram
}

export function ipv4Frame(spec: Ipv4FrameSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(8);
  const transportLength = spec.udp ? 8 + payload.length : 8 + payload.length;
  const frame = new Uint8Array(14 + 20 + transportLength + (spec.padding ?? 0));
  emitEthernetHeader(macToBytes(spec.dstMac), macToBytes(spec.srcMac ?? HOST_MAC), EtherType.IPV4, frame, 0);
  const repr: Ipv4Repr = {
    typeOfService: 0,
    identification: 1,
    dontFragment: false,
    moreFragments: spec.moreFragments ?? false,
    fragmentOffsetBytes: 0,
    timeToLive: 64,
    protocol: spec.udp ? IpProtocol.UDP : spec.protocol ?? IpProtocol.ICMP,
    source: ipv4ToNumber(spec.src),
    destination: ipv4ToNumber(spec.dst),
    options: new Uint8Array(0),
    payload: new Uint8Array(0),
  };
  frame.set(payload, 14 + 20 + 8);
  if (spec.udp) {
    emitUdpHeader(spec.udp.sourcePort, spec.udp.destinationPort, payload.length, frame, 34, repr.source, repr.destination);
  } else {
    frame[34] = 8; // ICMP echo request, code 0, checksum, id 0x1234, seq 1
    frame[38] = 0x12;
    frame[39] = 0x34;
    frame[41] = 1;
    const checksum = internetChecksum(frame.subarray(34, 34 + transportLength));
    frame[36] = checksum >>> 8;
    frame[37] = checksum & 0xff;
  }
  emitIpv4Header(repr, transportLength, frame, 14);
  return frame;
}

export function arpRequestFrame(spa: string, tpa: string, srcMac = HOST_MAC): Uint8Array {
  const frame = new Uint8Array(14 + 28);
  emitEthernetHeader(macToBytes('ff:ff:ff:ff:ff:ff'), macToBytes(srcMac), EtherType.ARP, frame, 0);
  emitArp(
    {
      operation: ArpOperation.REQUEST,
      senderHardwareAddress: macToBytes(srcMac),
      senderProtocolAddress: ipv4ToNumber(spa),
      targetHardwareAddress: new Uint8Array(6),
      targetProtocolAddress: ipv4ToNumber(tpa),
    },
    frame,
    14,
  );
  return frame;
}
