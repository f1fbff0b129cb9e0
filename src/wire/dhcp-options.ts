/**
 * DHCP option values (RFC 2132, RFC 3442, MS-DHCPE 249): the codes, the
 * length rules `parseDhcp` enforces for every option it knows, typed
 * accessors over a parsed options map, and encoders that build values for
 * `emitDhcp`.
 *
 * Guarantees: `checkOptionValue` is the single place a known option's value is
 * validated (WireError BAD_VALUE naming the option, expected and actual
 * length); `parseDhcp` runs it on every option, so the accessors cannot fail
 * on a parsed message. Addresses are unsigned 32-bit numbers, as in the other
 * codecs. Unknown options are carried as opaque bytes.
 */
import { WireError } from './errors.js';
import { readU16, writeU16, writeU32 } from './bytes.js';
import { prefixToMask, readIpv4Number } from './addr.js';

export const DhcpOption = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DOMAIN_NAME_SERVER: 6,
  HOST_NAME: 12,
  DOMAIN_NAME: 15,
  INTERFACE_MTU: 26,
  BROADCAST_ADDRESS: 28,
  REQUESTED_IP_ADDRESS: 50,
  IP_ADDRESS_LEASE_TIME: 51,
  OPTION_OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_IDENTIFIER: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAXIMUM_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_IDENTIFIER: 61,
  CLASSLESS_STATIC_ROUTE: 121, // RFC 3442
  MS_CLASSLESS_STATIC_ROUTE: 249, // the same encoding, for older Windows clients
  END: 255,
} as const;

/** RFC 2132 §9.6. */
export const DhcpMessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

/** RFC 2132 §9.10: the smallest maximum message size a client may announce; smaller values are parsed as sent and clamped by the server. */
export const DHCP_MIN_MAXIMUM_MESSAGE_SIZE = 576;
/** RFC 2132 §5.1: the smallest legal interface MTU. */
const MIN_INTERFACE_MTU = 68;
const IPV4_LENGTH = 4;

/** The options of one message, keyed by code, in order of first appearance; repeated options already concatenated (RFC 3396). */
export type DhcpOptions = ReadonlyMap<number, Uint8Array>;

/** One RFC 3442 route: destination network, prefix length, router. */
export interface ClasslessRoute {
  destination: number;
  prefixLength: number;
  router: number;
}

type LengthRule = { exact: number } | { multipleOf: number } | { min: number };

const LENGTH_RULES: ReadonlyMap<number, LengthRule> = new Map<number, LengthRule>([
  [DhcpOption.SUBNET_MASK, { exact: 4 }],
  [DhcpOption.ROUTER, { multipleOf: 4 }],
  [DhcpOption.DOMAIN_NAME_SERVER, { multipleOf: 4 }],
  [DhcpOption.HOST_NAME, { min: 1 }],
  [DhcpOption.DOMAIN_NAME, { min: 1 }],
  [DhcpOption.INTERFACE_MTU, { exact: 2 }],
  [DhcpOption.BROADCAST_ADDRESS, { exact: 4 }],
  [DhcpOption.REQUESTED_IP_ADDRESS, { exact: 4 }],
  [DhcpOption.IP_ADDRESS_LEASE_TIME, { exact: 4 }],
  [DhcpOption.MESSAGE_TYPE, { exact: 1 }],
  [DhcpOption.SERVER_IDENTIFIER, { exact: 4 }],
  [DhcpOption.PARAMETER_REQUEST_LIST, { min: 1 }],
  [DhcpOption.MAXIMUM_MESSAGE_SIZE, { exact: 2 }],
  [DhcpOption.RENEWAL_TIME, { exact: 4 }],
  [DhcpOption.REBINDING_TIME, { exact: 4 }],
  [DhcpOption.CLIENT_IDENTIFIER, { min: 2 }],
  [DhcpOption.CLASSLESS_STATIC_ROUTE, { min: 5 }], // RFC 3442 §2: at least one route
  [DhcpOption.MS_CLASSLESS_STATIC_ROUTE, { min: 5 }],
]);

/** Throws BAD_VALUE unless `value` is a legal value for option `code`; unknown codes are accepted as is. */
export function checkOptionValue(code: number, value: Uint8Array): void {
  const rule = LENGTH_RULES.get(code);
  if (rule) checkLength(code, value.length, rule);
  if (code === DhcpOption.INTERFACE_MTU && readU16(value, 0) < MIN_INTERFACE_MTU) {
    throw new WireError('BAD_VALUE', `DHCP option 26 (interface MTU): expected at least ${MIN_INTERFACE_MTU}, got ${readU16(value, 0)}`);
  }
  if (code === DhcpOption.CLASSLESS_STATIC_ROUTE || code === DhcpOption.MS_CLASSLESS_STATIC_ROUTE) decodeClasslessRoutes(value, code);
}

function checkLength(code: number, length: number, rule: LengthRule): void {
  let ok: boolean;
  let expected: string;
  if ('exact' in rule) {
    ok = length === rule.exact;
    expected = `${rule.exact}`;
  } else if ('multipleOf' in rule) {
    ok = length > 0 && length % rule.multipleOf === 0;
    expected = `a non-zero multiple of ${rule.multipleOf}`;
  } else {
    ok = length >= rule.min;
    expected = `at least ${rule.min}`;
  }
  if (!ok) throw new WireError('BAD_VALUE', `DHCP option ${code}: expected length ${expected}, got ${length}`);
}

/**
 * RFC 3442 §2: each route is the prefix length, the significant octets of
 * the destination (ceil(prefix/8)), then the 4-octet router. Host bits in the
 * significant octets are rejected (the destination must be a network).
 */
export function decodeClasslessRoutes(value: Uint8Array, code: number = DhcpOption.CLASSLESS_STATIC_ROUTE): ClasslessRoute[] {
  const routes: ClasslessRoute[] = [];
  let at = 0;
  while (at < value.length) {
    const prefixLength = value[at]!;
    if (prefixLength > 32) throw new WireError('BAD_VALUE', `DHCP option ${code}: route at octet ${at}: prefix length ${prefixLength} exceeds 32`);
    const significant = Math.ceil(prefixLength / 8);
    const need = 1 + significant + IPV4_LENGTH;
    if (value.length - at < need) {
      throw new WireError('BAD_VALUE', `DHCP option ${code}: route at octet ${at} with prefix /${prefixLength} needs ${need} octets, ${value.length - at} left`);
    }
    let destination = 0;
    for (let i = 0; i < 4; i++) destination = destination * 256 + (i < significant ? value[at + 1 + i]! : 0);
    if ((destination & ~prefixToMask(prefixLength)) !== 0) {
      throw new WireError('BAD_VALUE', `DHCP option ${code}: route at octet ${at}: destination has bits set beyond prefix /${prefixLength}`);
    }
    routes.push({ destination, prefixLength, router: readIpv4Number(value, at + 1 + significant) });
    at += need;
  }
  return routes;
}

/** The RFC 3442 encoding of `routes` (also the value of option 249). */
export function encodeClasslessRoutes(routes: readonly ClasslessRoute[]): Uint8Array {
  let length = 0;
  for (const route of routes) length += 1 + Math.ceil(route.prefixLength / 8) + IPV4_LENGTH;
  const out = new Uint8Array(length);
  let at = 0;
  for (const { destination, prefixLength, router } of routes) {
    const mask = prefixToMask(prefixLength); // validates 0..32
    if (((destination & ~mask) >>> 0) !== 0) {
      throw new WireError('BAD_VALUE', `classless route: destination 0x${(destination >>> 0).toString(16)} has bits set beyond prefix /${prefixLength}`);
    }
    out[at++] = prefixLength;
    for (let i = 0; i < Math.ceil(prefixLength / 8); i++) out[at++] = (destination >>> (24 - 8 * i)) & 0xff;
    writeU32(out, at, router);
    at += IPV4_LENGTH;
  }
  return out;
}

// ---- encoders for emit ----

export function encodeIpv4List(addresses: readonly number[]): Uint8Array {
  const out = new Uint8Array(addresses.length * IPV4_LENGTH);
  addresses.forEach((address, i) => writeU32(out, i * IPV4_LENGTH, address));
  return out;
}

export function encodeUint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32(out, 0, value);
  return out;
}

export function encodeUint16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  writeU16(out, 0, value);
  return out;
}

/** NVT ASCII text (RFC 2132 §2), no NUL terminator. */
export function encodeText(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

// ---- typed accessors (undefined when the option is absent) ----

function value(options: DhcpOptions, code: number): Uint8Array | undefined {
  const bytes = options.get(code);
  if (bytes !== undefined) checkOptionValue(code, bytes);
  return bytes;
}

function ipv4Option(options: DhcpOptions, code: number): number | undefined {
  const bytes = value(options, code);
  return bytes && readIpv4Number(bytes, 0);
}

function ipv4ListOption(options: DhcpOptions, code: number): number[] | undefined {
  const bytes = value(options, code);
  if (!bytes) return undefined;
  const list: number[] = [];
  for (let at = 0; at < bytes.length; at += IPV4_LENGTH) list.push(readIpv4Number(bytes, at));
  return list;
}

function uint32Option(options: DhcpOptions, code: number): number | undefined {
  const bytes = value(options, code);
  return bytes && readIpv4Number(bytes, 0);
}

function uint16Option(options: DhcpOptions, code: number): number | undefined {
  const bytes = value(options, code);
  return bytes && readU16(bytes, 0);
}

function textOption(options: DhcpOptions, code: number): string | undefined {
  const bytes = value(options, code);
  return bytes && new TextDecoder('latin1').decode(bytes);
}

export const messageType = (o: DhcpOptions): number | undefined => value(o, DhcpOption.MESSAGE_TYPE)?.[0];
export const requestedIpAddress = (o: DhcpOptions): number | undefined => ipv4Option(o, DhcpOption.REQUESTED_IP_ADDRESS);
export const serverIdentifier = (o: DhcpOptions): number | undefined => ipv4Option(o, DhcpOption.SERVER_IDENTIFIER);
export const parameterRequestList = (o: DhcpOptions): Uint8Array | undefined => value(o, DhcpOption.PARAMETER_REQUEST_LIST);
export const maximumMessageSize = (o: DhcpOptions): number | undefined => uint16Option(o, DhcpOption.MAXIMUM_MESSAGE_SIZE);
export const clientIdentifier = (o: DhcpOptions): Uint8Array | undefined => value(o, DhcpOption.CLIENT_IDENTIFIER);
export const hostName = (o: DhcpOptions): string | undefined => textOption(o, DhcpOption.HOST_NAME);
export const subnetMask = (o: DhcpOptions): number | undefined => ipv4Option(o, DhcpOption.SUBNET_MASK);
export const routers = (o: DhcpOptions): number[] | undefined => ipv4ListOption(o, DhcpOption.ROUTER);
export const domainNameServers = (o: DhcpOptions): number[] | undefined => ipv4ListOption(o, DhcpOption.DOMAIN_NAME_SERVER);
export const domainName = (o: DhcpOptions): string | undefined => textOption(o, DhcpOption.DOMAIN_NAME);
export const interfaceMtu = (o: DhcpOptions): number | undefined => uint16Option(o, DhcpOption.INTERFACE_MTU);
export const broadcastAddress = (o: DhcpOptions): number | undefined => ipv4Option(o, DhcpOption.BROADCAST_ADDRESS);
export const leaseTime = (o: DhcpOptions): number | undefined => uint32Option(o, DhcpOption.IP_ADDRESS_LEASE_TIME);
export const renewalTime = (o: DhcpOptions): number | undefined => uint32Option(o, DhcpOption.RENEWAL_TIME);
export const rebindingTime = (o: DhcpOptions): number | undefined => uint32Option(o, DhcpOption.REBINDING_TIME);

export function classlessStaticRoutes(o: DhcpOptions, code: 121 | 249 = DhcpOption.CLASSLESS_STATIC_ROUTE): ClasslessRoute[] | undefined {
  const bytes = value(o, code);
  return bytes && decodeClasslessRoutes(bytes, code);
}
