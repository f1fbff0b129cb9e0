/**
 * Neighbor Discovery options (RFC 4861 §4.6): type u8, length u8 in units of
 * 8 bytes (zero is invalid: §4.6 says such a packet must be discarded), then
 * the value. Decoded: source/target link-layer address (§4.6.1), prefix
 * information (§4.6.2), MTU (§4.6.4), route information (RFC 4191 §2.3),
 * recursive DNS servers and the DNS search list (RFC 8106 §5.1, §5.2).
 * Any other option is kept as `unknown` with its bytes (§4.6: receivers
 * skip options they do not recognise). Parsed views are `subarray`s except
 * a route information prefix (zero-filled to 16 bytes, as the option may
 * carry only 0 or 8 of them) and DNSSL names (text).
 */
import { WireError } from './errors.js';
import { readU32, requireRoom, requireUint, writeU32 } from './bytes.js';
import { IPV6_ADDRESS_LENGTH, requirePrefixLength6 } from './addr6.js';

export const NDP_OPTION_UNIT = 8;

export const NdpOptionType = {
  SOURCE_LINK_LAYER_ADDRESS: 1,
  TARGET_LINK_LAYER_ADDRESS: 2,
  PREFIX_INFORMATION: 3,
  MTU: 5,
  ROUTE_INFORMATION: 24,
  RDNSS: 25,
  DNSSL: 31,
} as const;

/** RFC 4191 §2.1 router/route preference; 'reserved' (binary 10) is parsed so a receiver can ignore it, never emitted. */
export type RoutePreference = 'high' | 'medium' | 'low' | 'reserved';
const PREFERENCE_BITS: Record<RoutePreference, number> = { medium: 0, high: 1, reserved: 2, low: 3 };
const PREFERENCE_NAMES: RoutePreference[] = ['medium', 'high', 'reserved', 'low'];

export type NdpOption =
  | { kind: 'source-link-layer-address' | 'target-link-layer-address'; linkLayerAddress: Uint8Array }
  | {
      kind: 'prefix-information';
      prefixLength: number;
      onLink: boolean; // L
      autonomous: boolean; // A: use for SLAAC
      validLifetimeSec: number; // 0xffffffff = infinity
      preferredLifetimeSec: number;
      prefix: Uint8Array; // 16 bytes
    }
  | { kind: 'mtu'; mtu: number }
  | { kind: 'route-information'; prefixLength: number; preference: RoutePreference; routeLifetimeSec: number; prefix: Uint8Array }
  | { kind: 'rdnss'; lifetimeSec: number; servers: Uint8Array[] }
  | { kind: 'dnssl'; lifetimeSec: number; domains: string[] }
  | { kind: 'unknown'; type: number; data: Uint8Array }; // data: the bytes after type and length

const PIO_LENGTH_UNITS = 4;
const PIO_FLAG_ON_LINK = 0x80;
const PIO_FLAG_AUTONOMOUS = 0x40;
const MAX_DNS_NAME_LENGTH = 253; // RFC 1035 §2.3.4 as text, without the root dot
const MAX_DNS_LABEL_LENGTH = 63;

/** Walks the option area of an NDP message; throws WireError for a zero length or an option past the end. */
export function parseNdpOptions(bytes: Uint8Array): NdpOption[] {
  const options: NdpOption[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (bytes.length - at < 2) throw new WireError('TRUNCATED', `NDP option at ${at}: need 2 bytes for type and length, got ${bytes.length - at}`);
    const type = bytes[at]!;
    const units = bytes[at + 1]!;
    if (units === 0) throw new WireError('BAD_VALUE', `NDP option type ${type} at ${at}: length 0 is invalid (RFC 4861 §4.6)`);
    const end = at + units * NDP_OPTION_UNIT;
    if (end > bytes.length) throw new WireError('TRUNCATED', `NDP option type ${type} at ${at}: length says ${units * NDP_OPTION_UNIT} bytes, ${bytes.length - at} left`);
    options.push(parseOption(type, units, bytes.subarray(at, end)));
    at = end;
  }
  return options;
}

function parseOption(type: number, units: number, o: Uint8Array): NdpOption {
  switch (type) {
    case NdpOptionType.SOURCE_LINK_LAYER_ADDRESS:
      return { kind: 'source-link-layer-address', linkLayerAddress: o.subarray(2) };
    case NdpOptionType.TARGET_LINK_LAYER_ADDRESS:
      return { kind: 'target-link-layer-address', linkLayerAddress: o.subarray(2) };
    case NdpOptionType.PREFIX_INFORMATION:
      requireUnits(type, units, (u) => u === PIO_LENGTH_UNITS, 'exactly 4');
      return {
        kind: 'prefix-information',
        prefixLength: prefixLengthAt(o, 2, 'prefix information'),
        onLink: (o[3]! & PIO_FLAG_ON_LINK) !== 0,
        autonomous: (o[3]! & PIO_FLAG_AUTONOMOUS) !== 0,
        validLifetimeSec: readU32(o, 4),
        preferredLifetimeSec: readU32(o, 8),
        prefix: o.subarray(16, 32),
      };
    case NdpOptionType.MTU:
      requireUnits(type, units, (u) => u === 1, 'exactly 1');
      return { kind: 'mtu', mtu: readU32(o, 4) };
    case NdpOptionType.ROUTE_INFORMATION:
      return parseRouteInformation(units, o);
    case NdpOptionType.RDNSS: {
      requireUnits(type, units, (u) => u >= 3 && u % 2 === 1, 'odd and at least 3 (RFC 8106 §5.1)');
      const servers: Uint8Array[] = [];
      for (let at = 8; at < o.length; at += IPV6_ADDRESS_LENGTH) servers.push(o.subarray(at, at + IPV6_ADDRESS_LENGTH));
      return { kind: 'rdnss', lifetimeSec: readU32(o, 4), servers };
    }
    case NdpOptionType.DNSSL:
      requireUnits(type, units, (u) => u >= 2, 'at least 2 (RFC 8106 §5.2)');
      return { kind: 'dnssl', lifetimeSec: readU32(o, 4), domains: parseDomainNames(o.subarray(8)) };
    default:
      return { kind: 'unknown', type, data: o.subarray(2) };
  }
}

/** RFC 4191 §2.3: length 1 carries no prefix bytes, 2 carries 8, 3 carries 16; the prefix length must fit. */
function parseRouteInformation(units: number, o: Uint8Array): NdpOption {
  requireUnits(NdpOptionType.ROUTE_INFORMATION, units, (u) => u <= 3, '1, 2 or 3 (RFC 4191 §2.3)');
  const prefixLength = prefixLengthAt(o, 2, 'route information');
  const carried = (units - 1) * 8;
  if (prefixLength > carried * 8) {
    throw new WireError('BAD_VALUE', `NDP route information: prefix length ${prefixLength} needs length ${prefixLength > 64 ? 3 : 2}, got ${units}`);
  }
  const prefix = new Uint8Array(IPV6_ADDRESS_LENGTH);
  prefix.set(o.subarray(8, 8 + carried));
  return { kind: 'route-information', prefixLength, preference: PREFERENCE_NAMES[(o[3]! >>> 3) & 0x03]!, routeLifetimeSec: readU32(o, 4), prefix };
}

/** RFC 8106 §5.2: uncompressed DNS names one after another, then zero padding to the option's end. */
function parseDomainNames(area: Uint8Array): string[] {
  const domains: string[] = [];
  let at = 0;
  while (at < area.length && area[at] !== 0) {
    const labels: string[] = [];
    while (area[at] !== 0) {
      const length = area[at]!;
      if (length > MAX_DNS_LABEL_LENGTH) throw new WireError('BAD_VALUE', `NDP DNSSL: label length ${length} at ${at} exceeds 63 (compression is not allowed)`);
      if (at + 1 + length >= area.length) throw new WireError('TRUNCATED', `NDP DNSSL: name at ${at} runs past the option`);
      labels.push(labelText(area.subarray(at + 1, at + 1 + length)));
      at += 1 + length;
    }
    at += 1;
    const name = labels.join('.');
    if (name.length > MAX_DNS_NAME_LENGTH) throw new WireError('BAD_VALUE', `NDP DNSSL: name of ${name.length} characters exceeds ${MAX_DNS_NAME_LENGTH}`);
    domains.push(name);
  }
  for (; at < area.length; at++) if (area[at] !== 0) throw new WireError('BAD_VALUE', `NDP DNSSL: padding byte at ${at} is not zero`);
  return domains;
}

function labelText(label: Uint8Array): string {
  for (const c of label) {
    if (c < 0x21 || c > 0x7e || c === 0x2e) throw new WireError('BAD_VALUE', `NDP DNSSL: label byte 0x${c.toString(16)} is not printable ASCII other than "."`);
  }
  return String.fromCharCode(...label);
}

/** Bytes the options take on the wire. */
export function ndpOptionsLength(options: readonly NdpOption[]): number {
  let length = 0;
  for (const option of options) length += optionUnits(option) * NDP_OPTION_UNIT;
  return length;
}

function optionUnits(option: NdpOption): number {
  switch (option.kind) {
    case 'source-link-layer-address':
    case 'target-link-layer-address':
      return Math.ceil((2 + option.linkLayerAddress.length) / NDP_OPTION_UNIT);
    case 'prefix-information':
      return PIO_LENGTH_UNITS;
    case 'mtu':
      return 1;
    case 'route-information':
      return option.prefixLength === 0 ? 1 : option.prefixLength <= 64 ? 2 : 3;
    case 'rdnss':
      return 1 + 2 * option.servers.length;
    case 'dnssl':
      return 1 + Math.ceil(domainNamesLength(option.domains) / NDP_OPTION_UNIT);
    case 'unknown':
      return (2 + option.data.length) / NDP_OPTION_UNIT;
  }
}

function domainNamesLength(domains: readonly string[]): number {
  return domains.reduce((sum, d) => sum + d.length + 2, 0); // length bytes of the labels + the root label
}

/** Writes the options at `offset`; returns the bytes written. Throws WireError for a value that cannot be encoded. */
export function emitNdpOptions(options: readonly NdpOption[], buf: Uint8Array, offset: number): number {
  const total = ndpOptionsLength(options);
  requireRoom(buf, offset, total, 'NDP options');
  let at = offset;
  for (const option of options) at += emitOption(option, buf, at);
  return at - offset;
}

function emitOption(option: NdpOption, buf: Uint8Array, at: number): number {
  const units = optionUnits(option);
  if (units < 1 || units > 0xff || !Number.isInteger(units)) {
    throw new WireError('BAD_VALUE', `NDP ${option.kind} option: ${units * NDP_OPTION_UNIT} bytes is not 8..2040 in whole units of 8`);
  }
  buf.fill(0, at, at + units * NDP_OPTION_UNIT);
  buf[at] = option.kind === 'unknown' ? option.type : NdpOptionType[typeKey(option.kind)];
  buf[at + 1] = units;
  switch (option.kind) {
    case 'source-link-layer-address':
    case 'target-link-layer-address':
      buf.set(option.linkLayerAddress, at + 2);
      break;
    case 'prefix-information':
      requirePrefixLength6(option.prefixLength, 'NDP prefix information prefix length');
      requireAddress(option.prefix, 'prefix information prefix');
      buf[at + 2] = option.prefixLength;
      buf[at + 3] = (option.onLink ? PIO_FLAG_ON_LINK : 0) | (option.autonomous ? PIO_FLAG_AUTONOMOUS : 0);
      writeField32(buf, at + 4, option.validLifetimeSec, 'valid lifetime');
      writeField32(buf, at + 8, option.preferredLifetimeSec, 'preferred lifetime');
      buf.set(option.prefix, at + 16);
      break;
    case 'mtu':
      writeField32(buf, at + 4, option.mtu, 'MTU');
      break;
    case 'route-information':
      emitRouteInformation(option, units, buf, at);
      break;
    case 'rdnss':
      writeField32(buf, at + 4, option.lifetimeSec, 'RDNSS lifetime');
      option.servers.forEach((server, i) => {
        requireAddress(server, 'RDNSS server');
        buf.set(server, at + 8 + i * IPV6_ADDRESS_LENGTH);
      });
      break;
    case 'dnssl':
      writeField32(buf, at + 4, option.lifetimeSec, 'DNSSL lifetime');
      emitDomainNames(option.domains, buf, at + 8);
      break;
    case 'unknown':
      requireUint(option.type, 0xff, 'NDP option type');
      buf.set(option.data, at + 2);
      break;
  }
  return units * NDP_OPTION_UNIT;
}

function emitRouteInformation(option: Extract<NdpOption, { kind: 'route-information' }>, units: number, buf: Uint8Array, at: number): void {
  requirePrefixLength6(option.prefixLength, 'NDP route information prefix length');
  requireAddress(option.prefix, 'route information prefix');
  if (option.preference === 'reserved') throw new WireError('BAD_VALUE', 'NDP route information: preference "reserved" (binary 10) must not be sent (RFC 4191 §2.1)');
  buf[at + 2] = option.prefixLength;
  buf[at + 3] = PREFERENCE_BITS[option.preference] << 3;
  writeField32(buf, at + 4, option.routeLifetimeSec, 'route lifetime');
  buf.set(option.prefix.subarray(0, (units - 1) * 8), at + 8);
}

function emitDomainNames(domains: readonly string[], buf: Uint8Array, at: number): void {
  for (const domain of domains) {
    const labels = domain.split('.');
    if (domain.length > MAX_DNS_NAME_LENGTH || labels.some((l) => l.length < 1 || l.length > MAX_DNS_LABEL_LENGTH || !/^[\x21-\x2d\x2f-\x7e]+$/.test(l))) {
      throw new WireError('BAD_VALUE', `NDP DNSSL: "${domain}" is not a domain name of printable ASCII labels 1..63 long`);
    }
    for (const label of labels) {
      buf[at++] = label.length;
      for (let i = 0; i < label.length; i++) buf[at++] = label.charCodeAt(i);
    }
    buf[at++] = 0;
  }
}

function typeKey(kind: Exclude<NdpOption['kind'], 'unknown'>): keyof typeof NdpOptionType {
  return kind.replace(/-/g, '_').toUpperCase() as keyof typeof NdpOptionType;
}

function requireUnits(type: number, units: number, ok: (units: number) => boolean, expected: string): void {
  if (!ok(units)) throw new WireError('BAD_VALUE', `NDP option type ${type}: length ${units} (units of 8 bytes); expected ${expected}`);
}

function prefixLengthAt(o: Uint8Array, at: number, what: string): number {
  const prefixLength = o[at]!;
  if (prefixLength > 128) throw new WireError('BAD_VALUE', `NDP ${what}: prefix length ${prefixLength} exceeds 128`);
  return prefixLength;
}

function requireAddress(address: Uint8Array, what: string): void {
  if (address.length !== IPV6_ADDRESS_LENGTH) throw new WireError('BAD_VALUE', `NDP ${what}: expected 16 bytes, got ${address.length}`);
}

function writeField32(buf: Uint8Array, at: number, value: number, what: string): void {
  requireUint(value, 0xffffffff, `NDP ${what}`);
  writeU32(buf, at, value);
}

