/**
 * The IPv6 part of the lease TLVs (types 12..16, table in PROTOCOL.md). All
 * optional: a lease without them is IPv4-only and a decoder that predates
 * them skips them (unknown TLVs are skipped), so the encoding stays version 1.
 * When any is present, the client prefix, network and gateway must be.
 * Addresses travel as 16 bytes, prefixes as 16 bytes plus a length byte.
 */
import type { Ipv6Lease, Ipv6Prefix } from '../../lease.js';
import { bytesToIpv6, ipv6Network, ipv6ToBytes, requirePrefixLength6, samePrefix6 } from '../../wire/addr6.js';
import { WireError } from '../../wire/errors.js';

export const Lease6Tlv = {
  IPV6_CLIENT_PREFIX: 12,
  IPV6_NETWORK: 13,
  IPV6_GATEWAY: 14,
  IPV6_ROUTE: 15,
  IPV6_DNS_SERVER: 16,
} as const;

export const LEASE6_FIXED_LENGTH: Record<number, number> = {
  [Lease6Tlv.IPV6_CLIENT_PREFIX]: 17,
  [Lease6Tlv.IPV6_NETWORK]: 17,
  [Lease6Tlv.IPV6_GATEWAY]: 16,
  [Lease6Tlv.IPV6_ROUTE]: 17,
  [Lease6Tlv.IPV6_DNS_SERVER]: 16,
};
export const LEASE6_REPEATABLE: readonly number[] = [Lease6Tlv.IPV6_ROUTE, Lease6Tlv.IPV6_DNS_SERVER];
const LEASE6_REQUIRED = [Lease6Tlv.IPV6_CLIENT_PREFIX, Lease6Tlv.IPV6_NETWORK, Lease6Tlv.IPV6_GATEWAY];

/** Partly decoded IPv6 lease while the TLVs are read. */
export type Lease6Draft = Partial<Ipv6Lease> & { routes: Ipv6Prefix[]; dnsServers: string[]; seen: boolean };

export function newLease6Draft(): Lease6Draft {
  return { routes: [], dnsServers: [], seen: false };
}

export function isLease6Tlv(type: number): boolean {
  return LEASE6_FIXED_LENGTH[type] !== undefined;
}

/** Checks a prefix: valid text, length 0..128, host bits zero. Throws WireError. */
function checkPrefix6(p: Ipv6Prefix, what: string): Uint8Array {
  requirePrefixLength6(p.prefixLength, `${what} prefix length`);
  const bytes = ipv6ToBytes(p.prefix);
  if (!samePrefix6(bytes, 0, ipv6Network(bytes, p.prefixLength), 0, 128)) {
    throw new WireError('BAD_VALUE', `${what} ${p.prefix}/${p.prefixLength} has host bits set`);
  }
  return bytes;
}

/** Validates an IPv6 lease; throws WireError naming the field. */
export function checkLease6(ipv6: Ipv6Lease): void {
  const network = checkPrefix6(ipv6.network, 'ipv6 network');
  const client = checkPrefix6(ipv6.clientPrefix, 'ipv6 clientPrefix');
  if (ipv6.clientPrefix.prefixLength < ipv6.network.prefixLength || !samePrefix6(client, 0, network, 0, ipv6.network.prefixLength)) {
    throw new WireError('BAD_VALUE', `ipv6 clientPrefix ${ipv6.clientPrefix.prefix}/${ipv6.clientPrefix.prefixLength} is not inside the network ${ipv6.network.prefix}/${ipv6.network.prefixLength}`);
  }
  const gateway = ipv6ToBytes(ipv6.gateway);
  if (!samePrefix6(gateway, 0, network, 0, ipv6.network.prefixLength) || samePrefix6(gateway, 0, client, 0, ipv6.clientPrefix.prefixLength)) {
    throw new WireError('BAD_VALUE', `ipv6 gateway ${ipv6.gateway} must be inside the network and outside the client prefix`);
  }
  ipv6.routes.forEach((r) => checkPrefix6(r, 'ipv6 route'));
  ipv6.dnsServers.forEach((d) => ipv6ToBytes(d));
}

/** Appends the IPv6 TLVs through `tlv` (the lease encoder's writer). */
export function encodeLease6(ipv6: Ipv6Lease, tlv: (type: number, value: Uint8Array) => void): void {
  const prefix = (p: Ipv6Prefix) => {
    const v = new Uint8Array(17);
    ipv6ToBytes(p.prefix, v, 0);
    v[16] = p.prefixLength;
    return v;
  };
  tlv(Lease6Tlv.IPV6_CLIENT_PREFIX, prefix(ipv6.clientPrefix));
  tlv(Lease6Tlv.IPV6_NETWORK, prefix(ipv6.network));
  tlv(Lease6Tlv.IPV6_GATEWAY, ipv6ToBytes(ipv6.gateway));
  for (const r of ipv6.routes) tlv(Lease6Tlv.IPV6_ROUTE, prefix(r));
  for (const d of ipv6.dnsServers) tlv(Lease6Tlv.IPV6_DNS_SERVER, ipv6ToBytes(d));
}

/** Applies one IPv6 TLV (length already checked against LEASE6_FIXED_LENGTH). */
export function applyLease6Tlv(draft: Lease6Draft, type: number, v: Uint8Array): void {
  draft.seen = true;
  const prefix = (): Ipv6Prefix => ({ prefix: bytesToIpv6(v), prefixLength: v[16]! });
  switch (type) {
    case Lease6Tlv.IPV6_CLIENT_PREFIX: draft.clientPrefix = prefix(); break;
    case Lease6Tlv.IPV6_NETWORK: draft.network = prefix(); break;
    case Lease6Tlv.IPV6_GATEWAY: draft.gateway = bytesToIpv6(v); break;
    case Lease6Tlv.IPV6_ROUTE: draft.routes.push(prefix()); break;
    case Lease6Tlv.IPV6_DNS_SERVER: draft.dnsServers.push(bytesToIpv6(v)); break;
  }
}

/** The finished IPv6 lease, undefined when no IPv6 TLV was present; throws WireError when one of the required three is missing. */
export function finishLease6(draft: Lease6Draft, seenTypes: ReadonlySet<number>): Ipv6Lease | undefined {
  if (!draft.seen) return undefined;
  for (const type of LEASE6_REQUIRED) {
    if (!seenTypes.has(type)) throw new WireError('BAD_VALUE', `IPv6 TLVs present but required TLV ${type} is missing`);
  }
  const { seen: _seen, ...ipv6 } = draft;
  return ipv6 as Ipv6Lease;
}
