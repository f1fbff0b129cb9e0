/**
 * Big-endian (network order) unsigned integer access: the one byte-helper
 * module, shared by the link codecs (Ethernet, ARP, IPv4, UDP, DHCP) and the
 * tunnel frame codecs. Callers check lengths first; these do no bounds checks
 * of their own beyond what typed arrays do. Allocation-free.
 */
import { WireError } from './errors.js';

export function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/** `>>> 0`: the top bit set must read as 2^31.., not as a negative number. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

export function writeU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 8) & 0xff;
  buf[offset + 1] = value & 0xff;
}

export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

/** Throws BAD_VALUE unless `value` is an integer in 0..max; `what` names the field. */
export function requireUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new WireError('BAD_VALUE', `${what}: expected an integer 0..${max}, got ${value}`);
  }
}

/** Throws BUFFER_TOO_SMALL unless `buf` has `need` bytes from `offset`. */
export function requireRoom(buf: Uint8Array, offset: number, need: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || buf.length - offset < need) {
    throw new WireError('BUFFER_TOO_SMALL', `${what}: need ${need} bytes at offset ${offset}, buffer has ${buf.length}`);
  }
}
