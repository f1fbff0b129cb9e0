/**
 * Hand-crafted Ethernet/ARP/IPv4/ICMP/UDP bytes for the adapter's end-to-end
 * tests and benchmark, written straight from the RFCs with fixed offsets so
 * those tests depend on no codec under test. Not for production use.
 *   Ethernet II: dst(0..6) src(6..12) EtherType(12..14)
 *   ARP (RFC 826) at 14: htype ptype hlen plen oper(20..22) sha(22) spa(28) tha(32) tpa(38)
 *   IPv4 (RFC 791) at 14: 20-byte header, protocol at 23, src 26..30, dst 30..34
 *   ICMP echo (RFC 792) at 34: type code checksum id(38) seq(40) data(42..)
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const IP_PROTOCOL_ICMP = 1;
export const IP_PROTOCOL_UDP = 17;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
const ETHERNET_HEADER_LENGTH = 14;
const IPV4_HEADER_LENGTH = 20;
const UDP_HEADER_LENGTH = 8;
const ICMP_ECHO_HEADER_LENGTH = 8;
const DEFAULT_TTL = 64;

export function bytes(dotted: string, separator = '.'): number[] {
  return dotted.split(separator).map((part) => parseInt(part, separator === ':' ? 16 : 10));
}

export const mac = (text: string): number[] => bytes(text, ':');
export const ip = (text: string): number[] => bytes(text, '.');

/** RFC 1071 one's-complement sum over `data`, folded and complemented. */
export function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function etherType(frame: Uint8Array): number {
  return frame.length >= ETHERNET_HEADER_LENGTH ? (frame[12]! << 8) | frame[13]! : -1;
}

export function isArpRequestFor(frame: Uint8Array, targetIp: number[]): boolean {
  return etherType(frame) === ETHERTYPE_ARP && frame.length >= 42 && frame[21] === ARP_REQUEST && sameBytes(frame.subarray(38, 42), targetIp);
}

export function sameBytes(actual: Uint8Array, expected: readonly number[]): boolean {
  return actual.length === expected.length && expected.every((value, i) => actual[i] === value);
}

/** The ARP reply (RFC 826) to `request`: "the address asked for is at `ourMac`". */
export function arpReply(request: Uint8Array, ourMac: number[]): Uint8Array {
  const reply = new Uint8Array(42);
  reply.set(request.subarray(6, 12), 0); // to the asker
  reply.set(ourMac, 6);
  reply.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, ARP_REPLY], 12);
  reply.set(ourMac, 22); // sha
  reply.set(request.subarray(38, 42), 28); // spa = the address asked for
  reply.set(request.subarray(22, 32), 32); // tha, tpa = the asker's MAC and IP
  return reply;
}

interface Ipv4FrameSpec {
  dstMac: number[];
  srcMac: number[];
  src: number[];
  dst: number[];
  protocol: number;
  payloadLength: number;
  identification?: number;
}

/** A frame with Ethernet + IPv4 headers filled in (header checksum set); the caller writes the payload at 34. */
function ipv4Frame(spec: Ipv4FrameSpec): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + spec.payloadLength);
  frame.set(spec.dstMac, 0);
  frame.set(spec.srcMac, 6);
  frame.set([ETHERTYPE_IPV4 >>> 8, ETHERTYPE_IPV4 & 0xff], 12);
  const totalLength = IPV4_HEADER_LENGTH + spec.payloadLength;
  const id = spec.identification ?? 0;
  frame.set([0x45, 0, totalLength >>> 8, totalLength & 0xff, id >>> 8, id & 0xff, 0x40, 0, DEFAULT_TTL, spec.protocol, 0, 0], 14);
  frame.set(spec.src, 26);
  frame.set(spec.dst, 30);
  const headerChecksum = checksum(frame.subarray(14, 34));
  frame[24] = headerChecksum >>> 8;
  frame[25] = headerChecksum & 0xff;
  return frame;
}

/** An ICMP echo request (type 8) or reply (type 0) frame (RFC 792) with `data` as its payload. */
export function icmpEcho(spec: Omit<Ipv4FrameSpec, 'protocol' | 'payloadLength'> & { type: number; id: number; sequence: number; data: Uint8Array }): Uint8Array {
  const frame = ipv4Frame({ ...spec, protocol: IP_PROTOCOL_ICMP, payloadLength: ICMP_ECHO_HEADER_LENGTH + spec.data.length });
  frame.set([spec.type, 0, 0, 0, spec.id >>> 8, spec.id & 0xff, spec.sequence >>> 8, spec.sequence & 0xff], 34);
  frame.set(spec.data, 42);
  const icmpChecksum = checksum(frame.subarray(34));
  frame[36] = icmpChecksum >>> 8;
  frame[37] = icmpChecksum & 0xff;
  return frame;
}

/** A UDP frame (RFC 768) of exactly `frameLength` bytes; the UDP checksum is 0 (allowed over IPv4). */
export function udpFrame(spec: Omit<Ipv4FrameSpec, 'protocol' | 'payloadLength'> & { srcPort: number; dstPort: number; frameLength: number }): Uint8Array {
  const payloadLength = spec.frameLength - ETHERNET_HEADER_LENGTH - IPV4_HEADER_LENGTH;
  if (payloadLength < UDP_HEADER_LENGTH) throw new RangeError(`a UDP frame needs at least ${ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH + UDP_HEADER_LENGTH} bytes`);
  const frame = ipv4Frame({ ...spec, protocol: IP_PROTOCOL_UDP, payloadLength });
  frame.set([spec.srcPort >>> 8, spec.srcPort & 0xff, spec.dstPort >>> 8, spec.dstPort & 0xff, payloadLength >>> 8, payloadLength & 0xff, 0, 0], 34);
  return frame;
}
