/**
 * IPv6 address helpers shared by the codecs, the NDP emulator and the lease.
 * Config and protocol values carry addresses as text (RFC 4291 §2.2 forms in,
 * the RFC 5952 canonical form out); codecs carry them as 16-byte arrays.
 * Conversions validate; comparisons and prefix tests work on bytes in place
 * (an offset into a datagram) so the data path need not copy an address.
 */
import { readU16 } from './bytes.js';
import { WireError } from './errors.js';

/** IPv6 address text, e.g. "fd74:7670:6e00::1". Canonical (RFC 5952) when produced here. */
export type Ipv6Address = string;

export const IPV6_ADDRESS_LENGTH = 16;
const GROUPS = 8;
const GROUP_PATTERN = /^[0-9a-fA-F]{1,4}$/;
const IPV4_TAIL_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function badAddress(text: string, why: string): never {
  throw new WireError('BAD_VALUE', `expected an IPv6 address like fd74:7670:6e00::1, got "${text}" (${why})`);
}

/** Text (with "::" and an optional dotted IPv4 tail) → 16 bytes; throws BAD_VALUE. Zone ids are not accepted. */
export function ipv6ToBytes(text: Ipv6Address, out = new Uint8Array(IPV6_ADDRESS_LENGTH), offset = 0): Uint8Array {
  const halves = text.split('::');
  if (halves.length > 2) badAddress(text, '"::" appears more than once');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const words = groupsToWords(head, text, halves.length === 1);
  const tailWords = groupsToWords(tail, text, true);
  const explicit = words.length + tailWords.length;
  if (halves.length === 1 && explicit !== GROUPS) badAddress(text, `${explicit} groups instead of 8`);
  if (halves.length === 2 && explicit > GROUPS - 1) badAddress(text, `"::" with ${explicit} other groups leaves nothing to compress`);
  const all = [...words, ...new Array<number>(GROUPS - explicit).fill(0), ...tailWords];
  for (let i = 0; i < GROUPS; i++) {
    out[offset + 2 * i] = all[i]! >>> 8;
    out[offset + 2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

/** Hex groups → 16-bit words; the last group may be a dotted IPv4 address when `mayEndInIpv4`. */
function groupsToWords(groups: string[], text: string, mayEndInIpv4: boolean): number[] {
  const words: number[] = [];
  groups.forEach((group, i) => {
    const ipv4 = IPV4_TAIL_PATTERN.exec(group);
    if (ipv4 && mayEndInIpv4 && i === groups.length - 1) {
      const octets = ipv4.slice(1).map(Number);
      if (octets.some((o) => o > 255)) badAddress(text, `IPv4 part ${group} out of range`);
      words.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
      return;
    }
    if (!GROUP_PATTERN.test(group)) badAddress(text, `group "${group}" is not 1-4 hex digits`);
    words.push(parseInt(group, 16));
  });
  return words;
}

/** 16 bytes at `offset` → RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
export function bytesToIpv6(bytes: Uint8Array, offset = 0): Ipv6Address {
  const words: number[] = [];
  for (let i = 0; i < GROUPS; i++) words.push(readU16(bytes, offset + 2 * i));
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < GROUPS; ) {
    let j = i;
    while (j < GROUPS && words[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

/** Canonical text of any accepted form (validates). */
export function canonicalIpv6(text: Ipv6Address): Ipv6Address {
  return bytesToIpv6(ipv6ToBytes(text));
}

export function requirePrefixLength6(prefixLength: number, what = 'IPv6 prefix length'): void {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 128) {
    throw new WireError('BAD_VALUE', `${what}: expected 0..128, got ${prefixLength}`);
  }
}

/** True when the first `prefixLength` bits of `a[aOffset..]` and `b[bOffset..]` agree. Allocation-free. */
export function samePrefix6(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, prefixLength: number): boolean {
  const whole = prefixLength >>> 3;
  for (let i = 0; i < whole; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  const bits = prefixLength & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((a[aOffset + whole]! ^ b[bOffset + whole]!) & mask) === 0;
}

/** True when the 16 bytes at the two offsets are equal. */
export function equalIpv6(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset = 0): boolean {
  return samePrefix6(a, aOffset, b, bOffset, 128);
}

/** A copy of `address` with the bits past `prefixLength` cleared: the network of a prefix. */
export function ipv6Network(address: Uint8Array, prefixLength: number): Uint8Array {
  requirePrefixLength6(prefixLength);
  const out = address.slice(0, IPV6_ADDRESS_LENGTH);
  for (let bit = prefixLength; bit < 128; bit++) out[bit >>> 3]! &= ~(0x80 >>> (bit & 7));
  return out;
}

export function isUnspecifiedIpv6(bytes: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < IPV6_ADDRESS_LENGTH; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isMulticastIpv6(bytes: Uint8Array, offset = 0): boolean {
  return bytes[offset] === 0xff;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocalIpv6(bytes: Uint8Array, offset = 0): boolean {
  return bytes[offset] === 0xfe && (bytes[offset + 1]! & 0xc0) === 0x80;
}

/** The solicited-node multicast address ff02::1:ffXX:XXXX of `address` (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(address: Uint8Array, offset = 0, out = new Uint8Array(IPV6_ADDRESS_LENGTH)): Uint8Array {
  out.fill(0);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = address[offset + 13]!;
  out[14] = address[offset + 14]!;
  out[15] = address[offset + 15]!;
  return out;
}

/** The Ethernet group address 33:33 + the last 32 bits of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMac(group: Uint8Array, offset = 0, out = new Uint8Array(6)): Uint8Array {
  out[0] = 0x33;
  out[1] = 0x33;
  for (let i = 0; i < 4; i++) out[2 + i] = group[offset + 12 + i]!;
  return out;
}

/** The link-local address fe80::/64 with the modified EUI-64 interface identifier of a MAC (RFC 4291 App. A). */
export function linkLocalFromMac(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(IPV6_ADDRESS_LENGTH);
  out[0] = 0xfe;
  out[1] = 0x80;
  out.set([mac[0]! ^ 0x02, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!], 8);
  return out;
}

export const ALL_NODES_IPV6: Uint8Array = ipv6ToBytes('ff02::1');
export const ALL_ROUTERS_IPV6: Uint8Array = ipv6ToBytes('ff02::2');
