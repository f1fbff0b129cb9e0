/**
 * IPv4 and MAC address helpers shared by the codecs, emulators and config.
 * Config and protocol values carry addresses as strings ("10.8.0.2",
 * "02:54:56:00:00:01"); codecs carry them as bytes. Conversions validate.
 */
import { readU32, writeU32 } from './bytes.js';
import { WireError } from './errors.js';

/** Dotted-quad IPv4 address, e.g. "10.8.0.2". Validate with parseIpv4. */
export type Ipv4Address = string;
/** Colon-separated lower-case MAC address, e.g. "02:54:56:00:00:01". */
export type MacAddress = string;

const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC_PATTERN = /^([0-9a-fA-F]{2})(?::([0-9a-fA-F]{2})){5}$/;

/** "10.8.0.2" → 0x0a080002; throws BAD_VALUE on anything that is not a dotted quad. */
export function ipv4ToNumber(address: Ipv4Address): number {
  const match = IPV4_PATTERN.exec(address);
  if (!match) throw new WireError('BAD_VALUE', `expected an IPv4 address like 10.8.0.2, got "${address}"`);
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(match[i]);
    if (octet > 255) throw new WireError('BAD_VALUE', `IPv4 octet ${octet} out of range in "${address}"`);
    value = value * 256 + octet;
  }
  return value >>> 0;
}

export function numberToIpv4(value: number): Ipv4Address {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function ipv4ToBytes(address: Ipv4Address, out = new Uint8Array(4), offset = 0): Uint8Array {
  writeU32(out, offset, ipv4ToNumber(address));
  return out;
}

export function bytesToIpv4(bytes: Uint8Array, offset = 0): Ipv4Address {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Reads a big-endian IPv4 address at `offset` as an unsigned number. */
export function readIpv4Number(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset);
}

/** Netmask as a number for a prefix length 0..32. */
export function prefixToMask(prefixLength: number): number {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new WireError('BAD_VALUE', `expected a prefix length 0..32, got ${prefixLength}`);
  }
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** True when `address` lies in `network`/`prefixLength` (all as numbers). */
export function inSubnet(address: number, network: number, prefixLength: number): boolean {
  const mask = prefixToMask(prefixLength);
  return ((address & mask) >>> 0) === ((network & mask) >>> 0);
}

export function macToBytes(mac: MacAddress, out = new Uint8Array(6), offset = 0): Uint8Array {
  if (!MAC_PATTERN.test(mac)) throw new WireError('BAD_VALUE', `expected a MAC address like 02:54:56:00:00:01, got "${mac}"`);
  const parts = mac.split(':');
  for (let i = 0; i < 6; i++) out[offset + i] = parseInt(parts[i]!, 16);
  return out;
}

export function bytesToMac(bytes: Uint8Array, offset = 0): MacAddress {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(bytes[offset + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** A locally administered (bit 1 of the first octet) unicast (bit 0 clear) MAC. */
export function isLocalUnicastMac(mac: MacAddress): boolean {
  const first = macToBytes(mac)[0]!;
  return (first & 0x02) !== 0 && (first & 0x01) === 0;
}
