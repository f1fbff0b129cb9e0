/**
 * ARP (RFC 826) for IPv4 over Ethernet only: htype 1, ptype 0x0800, hlen 6,
 * plen 4, operation request (1) or reply (2). Anything else is rejected with
 * a message naming the field. The packet is 28 bytes; trailing bytes (the
 * Ethernet minimum-size padding) are ignored. Hardware addresses in a parsed
 * repr are `subarray` views; protocol addresses are unsigned numbers.
 */
import { WireError, requireLength } from './errors.js';
import { readIpv4Number } from './addr.js';
import { readU16, requireRoom, requireUint, writeU16, writeU32 } from './bytes.js';

export const ARP_PACKET_LENGTH = 28;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_PTYPE_IPV4 = 0x0800;
const ARP_HLEN_ETHERNET = 6;
const ARP_PLEN_IPV4 = 4;

export const ArpOperation = { REQUEST: 1, REPLY: 2 } as const;
export type ArpOperation = (typeof ArpOperation)[keyof typeof ArpOperation];

/** Byte offsets (RFC 826 names: ar$hrd, ar$pro, ar$hln, ar$pln, ar$op, ar$sha, ar$spa, ar$tha, ar$tpa). */
export const ArpField = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OPER: 6, SHA: 8, SPA: 14, THA: 18, TPA: 24 } as const;

export interface ArpRepr {
  operation: ArpOperation;
  senderHardwareAddress: Uint8Array; // sha, 6 bytes
  senderProtocolAddress: number; // spa
  targetHardwareAddress: Uint8Array; // tha, 6 bytes (zero in a request)
  targetProtocolAddress: number; // tpa
}

export function parseArp(bytes: Uint8Array): ArpRepr {
  requireLength(bytes, ARP_PACKET_LENGTH, 'ARP packet');
  const htype = readU16(bytes, ArpField.HTYPE);
  if (htype !== ARP_HTYPE_ETHERNET) {
    throw new WireError('UNSUPPORTED', `ARP htype: expected 1 (Ethernet), got ${htype}`);
  }
  const ptype = readU16(bytes, ArpField.PTYPE);
  if (ptype !== ARP_PTYPE_IPV4) {
    throw new WireError('UNSUPPORTED', `ARP ptype: expected 0x0800 (IPv4), got 0x${ptype.toString(16).padStart(4, '0')}`);
  }
  const hlen = bytes[ArpField.HLEN]!;
  if (hlen !== ARP_HLEN_ETHERNET) throw new WireError('BAD_VALUE', `ARP hlen: expected 6 for Ethernet, got ${hlen}`);
  const plen = bytes[ArpField.PLEN]!;
  if (plen !== ARP_PLEN_IPV4) throw new WireError('BAD_VALUE', `ARP plen: expected 4 for IPv4, got ${plen}`);
  const operation = readU16(bytes, ArpField.OPER);
  if (operation !== ArpOperation.REQUEST && operation !== ArpOperation.REPLY) {
    throw new WireError('UNSUPPORTED', `ARP oper: expected 1 (request) or 2 (reply), got ${operation}`);
  }
  return {
    operation,
    senderHardwareAddress: bytes.subarray(ArpField.SHA, ArpField.SHA + ARP_HLEN_ETHERNET),
    senderProtocolAddress: readIpv4Number(bytes, ArpField.SPA),
    targetHardwareAddress: bytes.subarray(ArpField.THA, ArpField.THA + ARP_HLEN_ETHERNET),
    targetProtocolAddress: readIpv4Number(bytes, ArpField.TPA),
  };
}

export function arpLength(_repr?: ArpRepr): number {
  return ARP_PACKET_LENGTH;
}

export function emitArp(repr: ArpRepr, buf: Uint8Array, offset = 0): number {
  requireRoom(buf, offset, ARP_PACKET_LENGTH, 'ARP packet');
  requireHardwareAddress(repr.senderHardwareAddress, 'sha');
  requireHardwareAddress(repr.targetHardwareAddress, 'tha');
  if (repr.operation !== ArpOperation.REQUEST && repr.operation !== ArpOperation.REPLY) {
    throw new WireError('BAD_VALUE', `ARP oper: expected 1 or 2, got ${String(repr.operation)}`);
  }
  requireUint(repr.senderProtocolAddress, 0xffffffff, 'ARP spa');
  requireUint(repr.targetProtocolAddress, 0xffffffff, 'ARP tpa');
  writeU16(buf, offset + ArpField.HTYPE, ARP_HTYPE_ETHERNET);
  writeU16(buf, offset + ArpField.PTYPE, ARP_PTYPE_IPV4);
  buf[offset + ArpField.HLEN] = ARP_HLEN_ETHERNET;
  buf[offset + ArpField.PLEN] = ARP_PLEN_IPV4;
  writeU16(buf, offset + ArpField.OPER, repr.operation);
  buf.set(repr.senderHardwareAddress, offset + ArpField.SHA);
  writeU32(buf, offset + ArpField.SPA, repr.senderProtocolAddress);
  buf.set(repr.targetHardwareAddress, offset + ArpField.THA);
  writeU32(buf, offset + ArpField.TPA, repr.targetProtocolAddress);
  return ARP_PACKET_LENGTH;
}

function requireHardwareAddress(address: Uint8Array, field: string): void {
  if (address.length !== ARP_HLEN_ETHERNET) {
    throw new WireError('BAD_VALUE', `ARP ${field}: expected 6 bytes, got ${address.length}`);
  }
}
