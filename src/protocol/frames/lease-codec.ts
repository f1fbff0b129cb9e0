/**
 * The lease as RESPONSE client data: a version byte, then TLVs (type u8,
 * length u8, value) so fields can be added without a new version. Unknown
 * types are skipped; a known type with the wrong length, a repeated
 * singleton or a missing required field is BAD_VALUE. Table in PROTOCOL.md.
 */
import type { Ipv4Route, Lease } from '../../lease.js';
import { bytesToIpv4, bytesToMac, ipv4ToBytes, ipv4ToNumber, macToBytes } from '../../wire/addr.js';
import { WireError } from '../../wire/errors.js';
import { ProtocolError } from './errors.js';
import { readU16, readU32, writeU16, writeU32 } from '../../wire/bytes.js';
import { MAX_CLIENT_DATA_LENGTH, MAX_NAME_LENGTH } from './limits.js';
import { checkDomainName } from './names.js';
import { applyLease6Tlv, checkLease6, encodeLease6, finishLease6, isLease6Tlv, LEASE6_FIXED_LENGTH, LEASE6_REPEATABLE, newLease6Draft } from './lease6-codec.js';

export const LEASE_VERSION = 1;

export const LeaseTlv = {
  ADDRESS: 1,
  PREFIX_LENGTH: 2,
  GATEWAY: 3,
  ROUTE: 4,
  DNS_SERVER: 5,
  SEARCH_DOMAIN: 6,
  MTU: 7,
  LEASE_TIME: 8,
  RENEWAL_TIME: 9,
  REBINDING_TIME: 10,
  GATEWAY_MAC: 11,
} as const;

const MIN_MTU = 68; // RFC 791: every IPv4 module must handle 68-byte datagrams
const REQUIRED = [LeaseTlv.ADDRESS, LeaseTlv.PREFIX_LENGTH, LeaseTlv.GATEWAY, LeaseTlv.MTU, LeaseTlv.LEASE_TIME, LeaseTlv.GATEWAY_MAC];

function bad(message: string): never {
  throw new ProtocolError('BAD_VALUE', `lease: ${message}`);
}

function checkPrefix(prefix: number, what: string): void {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) bad(`${what}: expected 0..32, got ${prefix}`);
}

function checkU32(v: number | undefined, what: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) bad(`${what}: expected 0..2^32-1, got ${v}`);
}

function checkRoute(route: Ipv4Route): void {
  checkPrefix(route.prefixLength, 'route prefixLength');
  const destination = ipv4ToNumber(route.destination);
  if (!hostBitsZero(destination, route.prefixLength)) {
    bad(`route ${route.destination}/${route.prefixLength} has host bits set`);
  }
  ipv4ToNumber(route.gateway);
}

function hostBitsZero(address: number, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((address & ~mask) >>> 0) === 0;
}

function checkLease(lease: Lease): void {
  ipv4ToNumber(lease.address);
  ipv4ToNumber(lease.gateway);
  checkPrefix(lease.prefixLength, 'prefixLength');
  lease.routes.forEach(checkRoute);
  lease.dnsServers.forEach((d) => ipv4ToNumber(d));
  if (lease.searchDomain !== undefined) checkDomainName(lease.searchDomain, 'lease searchDomain');
  if (!(Number.isInteger(lease.mtu) && lease.mtu >= MIN_MTU && lease.mtu <= 0xffff)) bad(`mtu: expected ${MIN_MTU}..65535, got ${lease.mtu}`);
  checkU32(lease.leaseTimeSec, 'leaseTimeSec');
  checkU32(lease.renewalTimeSec, 'renewalTimeSec');
  checkU32(lease.rebindingTimeSec, 'rebindingTimeSec');
  macToBytes(lease.gatewayMac);
  if (lease.ipv6 !== undefined) checkLease6(lease.ipv6);
}

/** Encodes a lease; throws ProtocolError BAD_VALUE for an invalid field or one that does not fit. */
export function encodeLease(lease: Lease): Uint8Array {
  try {
    checkLease(lease);
  } catch (error) {
    if (error instanceof WireError) bad(error.message);
    throw error;
  }
  const parts: number[] = [LEASE_VERSION];
  const tlv = (type: number, value: Uint8Array): void => {
    parts.push(type, value.length, ...value);
  };
  const u32 = (v: number): Uint8Array => {
    const b = new Uint8Array(4);
    writeU32(b, 0, v);
    return b;
  };
  tlv(LeaseTlv.ADDRESS, ipv4ToBytes(lease.address));
  tlv(LeaseTlv.PREFIX_LENGTH, Uint8Array.of(lease.prefixLength));
  tlv(LeaseTlv.GATEWAY, ipv4ToBytes(lease.gateway));
  for (const r of lease.routes) {
    const v = new Uint8Array(9);
    ipv4ToBytes(r.destination, v, 0);
    v[4] = r.prefixLength;
    ipv4ToBytes(r.gateway, v, 5);
    tlv(LeaseTlv.ROUTE, v);
  }
  for (const d of lease.dnsServers) tlv(LeaseTlv.DNS_SERVER, ipv4ToBytes(d));
  if (lease.searchDomain !== undefined) tlv(LeaseTlv.SEARCH_DOMAIN, Uint8Array.from(lease.searchDomain, (c) => c.charCodeAt(0)));
  const mtu = new Uint8Array(2);
  writeU16(mtu, 0, lease.mtu);
  tlv(LeaseTlv.MTU, mtu);
  tlv(LeaseTlv.LEASE_TIME, u32(lease.leaseTimeSec));
  if (lease.renewalTimeSec !== undefined) tlv(LeaseTlv.RENEWAL_TIME, u32(lease.renewalTimeSec));
  if (lease.rebindingTimeSec !== undefined) tlv(LeaseTlv.REBINDING_TIME, u32(lease.rebindingTimeSec));
  tlv(LeaseTlv.GATEWAY_MAC, macToBytes(lease.gatewayMac));
  if (lease.ipv6 !== undefined) encodeLease6(lease.ipv6, tlv);
  if (parts.length > MAX_CLIENT_DATA_LENGTH) bad(`encoded size ${parts.length} exceeds ${MAX_CLIENT_DATA_LENGTH} bytes`);
  return Uint8Array.from(parts);
}

const FIXED_LENGTH: Record<number, number> = {
  [LeaseTlv.ADDRESS]: 4,
  [LeaseTlv.PREFIX_LENGTH]: 1,
  [LeaseTlv.GATEWAY]: 4,
  [LeaseTlv.ROUTE]: 9,
  [LeaseTlv.DNS_SERVER]: 4,
  [LeaseTlv.MTU]: 2,
  [LeaseTlv.LEASE_TIME]: 4,
  [LeaseTlv.RENEWAL_TIME]: 4,
  [LeaseTlv.REBINDING_TIME]: 4,
  [LeaseTlv.GATEWAY_MAC]: 6,
  ...LEASE6_FIXED_LENGTH,
};
const REPEATABLE = new Set<number>([LeaseTlv.ROUTE, LeaseTlv.DNS_SERVER, ...LEASE6_REPEATABLE]);

/** Decodes RESPONSE client data into a Lease; never throws anything but ProtocolError. */
export function decodeLease(bytes: Uint8Array): Lease {
  if (bytes.length < 1) throw new ProtocolError('TRUNCATED', 'lease: empty');
  if (bytes[0] !== LEASE_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `lease version: expected ${LEASE_VERSION}, got ${bytes[0]}`);
  const seen = new Set<number>();
  const lease: Partial<Lease> & { routes: Ipv4Route[]; dnsServers: string[] } = { routes: [], dnsServers: [] };
  const draft6 = newLease6Draft();
  let at = 1;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new ProtocolError('TRUNCATED', `lease: TLV header at ${at} cut off`);
    const type = bytes[at]!;
    const length = bytes[at + 1]!;
    const value = bytes.subarray(at + 2, at + 2 + length);
    if (value.length !== length) throw new ProtocolError('TRUNCATED', `lease: TLV ${type} at ${at} needs ${length} bytes, has ${value.length}`);
    at += 2 + length;
    const fixed = FIXED_LENGTH[type];
    if (fixed !== undefined && fixed !== length) bad(`TLV ${type}: expected length ${fixed}, got ${length}`);
    if (seen.has(type) && !REPEATABLE.has(type)) bad(`TLV ${type} appears twice`);
    seen.add(type);
    if (isLease6Tlv(type)) applyLease6Tlv(draft6, type, value);
    else applyTlv(lease, type, value);
  }
  for (const type of REQUIRED) if (!seen.has(type)) bad(`required TLV ${type} is missing`);
  const result = lease as Lease;
  try {
    const ipv6 = finishLease6(draft6, seen);
    if (ipv6 !== undefined) result.ipv6 = ipv6;
    checkLease(result);
  } catch (error) {
    if (error instanceof WireError) bad(error.message);
    throw error;
  }
  return result;
}

function applyTlv(lease: Partial<Lease> & { routes: Ipv4Route[]; dnsServers: string[] }, type: number, v: Uint8Array): void {
  switch (type) {
    case LeaseTlv.ADDRESS: lease.address = bytesToIpv4(v); break;
    case LeaseTlv.PREFIX_LENGTH: lease.prefixLength = v[0]!; break;
    case LeaseTlv.GATEWAY: lease.gateway = bytesToIpv4(v); break;
    case LeaseTlv.ROUTE: lease.routes.push({ destination: bytesToIpv4(v, 0), prefixLength: v[4]!, gateway: bytesToIpv4(v, 5) }); break;
    case LeaseTlv.DNS_SERVER: lease.dnsServers.push(bytesToIpv4(v)); break;
    case LeaseTlv.SEARCH_DOMAIN:
      if (v.length < 1 || v.length > MAX_NAME_LENGTH) bad(`search domain length ${v.length}`);
      lease.searchDomain = String.fromCharCode(...v);
      break;
    case LeaseTlv.MTU: lease.mtu = readU16(v, 0); break;
    case LeaseTlv.LEASE_TIME: lease.leaseTimeSec = readU32(v, 0); break;
    case LeaseTlv.RENEWAL_TIME: lease.renewalTimeSec = readU32(v, 0); break;
    case LeaseTlv.REBINDING_TIME: lease.rebindingTimeSec = readU32(v, 0); break;
    case LeaseTlv.GATEWAY_MAC: lease.gatewayMac = bytesToMac(v); break;
    default: break; // unknown TLV: skipped, a newer server may add fields
  }
}
