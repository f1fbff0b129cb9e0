/**
 * Neighbor Discovery messages (RFC 4861 §4): router solicitation and
 * advertisement, neighbor solicitation and advertisement, as the body of an
 * ICMPv6 message (`icmpv6.ts` verifies the checksum first). Parsing checks
 * what the message alone can show (§6.1.1, §6.1.2, §7.1.1, §7.1.2: ICMP code
 * 0, the fixed part present, well-formed options, a unicast target); the
 * checks that need the IPv6 header (hop limit 255, source and destination
 * rules) belong to the receiver, the NDP emulator. Router preference is
 * RFC 4191 §2.2. Parsed views are `subarray`s.
 */
import { WireError } from './errors.js';
import { readU16, readU32, requireRoom, requireUint, writeU16, writeU32 } from './bytes.js';
import { IPV6_ADDRESS_LENGTH, isMulticastIpv6 } from './addr6.js';
import { emitIcmpv6Header, ICMPV6_HEADER_LENGTH, Icmpv6Type, type Icmpv6Repr } from './icmpv6.js';
import { emitNdpOptions, ndpOptionsLength, parseNdpOptions, type NdpOption, type RoutePreference } from './ndp-options.js';

/** Bytes of each message's fixed part after the ICMPv6 header. */
const RS_FIXED = 4; // reserved
const RA_FIXED = 12; // cur hop limit, flags, router lifetime, reachable time, retrans timer
const NS_FIXED = 4 + IPV6_ADDRESS_LENGTH; // reserved, target
const NA_FIXED = 4 + IPV6_ADDRESS_LENGTH; // flags + reserved, target

const RA_FLAG_MANAGED = 0x80; // M: addresses from DHCPv6
const RA_FLAG_OTHER = 0x40; // O: other configuration from DHCPv6
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_SOLICITED = 0x40;
const NA_FLAG_OVERRIDE = 0x20;
const PREFERENCE_NAMES: RoutePreference[] = ['medium', 'high', 'reserved', 'low'];
const PREFERENCE_BITS: Record<RoutePreference, number> = { medium: 0, high: 1, reserved: 2, low: 3 };

export interface RouterSolicitation {
  kind: 'router-solicitation';
  options: NdpOption[];
}
export interface RouterAdvertisement {
  kind: 'router-advertisement';
  curHopLimit: number; // 0 = unspecified
  managed: boolean;
  other: boolean;
  routerPreference: RoutePreference;
  routerLifetimeSec: number; // 0 = not a default router
  reachableTimeMs: number; // 0 = unspecified
  retransTimerMs: number; // 0 = unspecified
  options: NdpOption[];
}
export interface NeighborSolicitation {
  kind: 'neighbor-solicitation';
  target: Uint8Array;
  options: NdpOption[];
}
export interface NeighborAdvertisement {
  kind: 'neighbor-advertisement';
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: Uint8Array;
  options: NdpOption[];
}
export type NdpMessage = RouterSolicitation | RouterAdvertisement | NeighborSolicitation | NeighborAdvertisement;

const TYPE_OF: Record<NdpMessage['kind'], number> = {
  'router-solicitation': Icmpv6Type.ROUTER_SOLICITATION,
  'router-advertisement': Icmpv6Type.ROUTER_ADVERTISEMENT,
  'neighbor-solicitation': Icmpv6Type.NEIGHBOR_SOLICITATION,
  'neighbor-advertisement': Icmpv6Type.NEIGHBOR_ADVERTISEMENT,
};
const FIXED_OF: Record<NdpMessage['kind'], number> = {
  'router-solicitation': RS_FIXED,
  'router-advertisement': RA_FIXED,
  'neighbor-solicitation': NS_FIXED,
  'neighbor-advertisement': NA_FIXED,
};

export function isNdpType(type: number): boolean {
  return type >= Icmpv6Type.ROUTER_SOLICITATION && type <= Icmpv6Type.NEIGHBOR_ADVERTISEMENT;
}

/** Decodes an ICMPv6 message (already checksum-verified) as NDP; throws WireError. */
export function parseNdp(icmp: Icmpv6Repr): NdpMessage {
  if (!isNdpType(icmp.type)) throw new WireError('UNSUPPORTED', `NDP: ICMPv6 type ${icmp.type} is not RS, RA, NS or NA (133..136)`);
  if (icmp.code !== 0) throw new WireError('BAD_VALUE', `NDP type ${icmp.type}: ICMP code must be 0 (RFC 4861 §6.1, §7.1), got ${icmp.code}`);
  const body = icmp.body;
  const kind = (Object.keys(TYPE_OF) as NdpMessage['kind'][]).find((k) => TYPE_OF[k] === icmp.type)!;
  const fixed = FIXED_OF[kind];
  if (body.length < fixed) throw new WireError('TRUNCATED', `NDP ${kind}: need ${ICMPV6_HEADER_LENGTH + fixed} bytes, got ${ICMPV6_HEADER_LENGTH + body.length}`);
  const options = parseNdpOptions(body.subarray(fixed));
  switch (kind) {
    case 'router-solicitation':
      return { kind, options };
    case 'router-advertisement':
      return {
        kind,
        curHopLimit: body[0]!,
        managed: (body[1]! & RA_FLAG_MANAGED) !== 0,
        other: (body[1]! & RA_FLAG_OTHER) !== 0,
        routerPreference: PREFERENCE_NAMES[(body[1]! >>> 3) & 0x03]!,
        routerLifetimeSec: readU16(body, 2),
        reachableTimeMs: readU32(body, 4),
        retransTimerMs: readU32(body, 8),
        options,
      };
    case 'neighbor-solicitation':
      return { kind, target: unicastTarget(body, kind), options };
    case 'neighbor-advertisement':
      return {
        kind,
        router: (body[0]! & NA_FLAG_ROUTER) !== 0,
        solicited: (body[0]! & NA_FLAG_SOLICITED) !== 0,
        override: (body[0]! & NA_FLAG_OVERRIDE) !== 0,
        target: unicastTarget(body, kind),
        options,
      };
  }
}

function unicastTarget(body: Uint8Array, kind: string): Uint8Array {
  if (isMulticastIpv6(body, 4)) throw new WireError('BAD_VALUE', `NDP ${kind}: target address is multicast (RFC 4861 §7.1)`);
  return body.subarray(4, 4 + IPV6_ADDRESS_LENGTH);
}

/** The whole ICMPv6 message's length. */
export function ndpLength(message: NdpMessage): number {
  return ICMPV6_HEADER_LENGTH + FIXED_OF[message.kind] + ndpOptionsLength(message.options);
}

/**
 * Writes the complete ICMPv6 message (header, fixed part, options, checksum
 * over the pseudo-header of `source` → `destination`) at `offset`; returns
 * its length.
 */
export function emitNdp(message: NdpMessage, buf: Uint8Array, offset: number, source: Uint8Array, destination: Uint8Array): number {
  const length = ndpLength(message);
  requireRoom(buf, offset, length, `NDP ${message.kind}`);
  const body = offset + ICMPV6_HEADER_LENGTH;
  buf.fill(0, body, body + FIXED_OF[message.kind]);
  switch (message.kind) {
    case 'router-solicitation':
      break;
    case 'router-advertisement':
      emitRaFixed(message, buf, body);
      break;
    case 'neighbor-solicitation':
      emitTarget(message.target, buf, body);
      break;
    case 'neighbor-advertisement':
      buf[body] = (message.router ? NA_FLAG_ROUTER : 0) | (message.solicited ? NA_FLAG_SOLICITED : 0) | (message.override ? NA_FLAG_OVERRIDE : 0);
      emitTarget(message.target, buf, body);
      break;
  }
  emitNdpOptions(message.options, buf, body + FIXED_OF[message.kind]);
  return emitIcmpv6Header(TYPE_OF[message.kind], 0, length - ICMPV6_HEADER_LENGTH, buf, offset, source, destination);
}

function emitRaFixed(ra: RouterAdvertisement, buf: Uint8Array, at: number): void {
  requireUint(ra.curHopLimit, 0xff, 'NDP RA cur hop limit');
  requireUint(ra.routerLifetimeSec, 0xffff, 'NDP RA router lifetime');
  requireUint(ra.reachableTimeMs, 0xffffffff, 'NDP RA reachable time');
  requireUint(ra.retransTimerMs, 0xffffffff, 'NDP RA retrans timer');
  if (ra.routerPreference === 'reserved') throw new WireError('BAD_VALUE', 'NDP RA: router preference "reserved" must not be sent (RFC 4191 §2.2)');
  buf[at] = ra.curHopLimit;
  buf[at + 1] = (ra.managed ? RA_FLAG_MANAGED : 0) | (ra.other ? RA_FLAG_OTHER : 0) | (PREFERENCE_BITS[ra.routerPreference] << 3);
  writeU16(buf, at + 2, ra.routerLifetimeSec);
  writeU32(buf, at + 4, ra.reachableTimeMs);
  writeU32(buf, at + 8, ra.retransTimerMs);
}

function emitTarget(target: Uint8Array, buf: Uint8Array, at: number): void {
  if (target.length !== IPV6_ADDRESS_LENGTH) throw new WireError('BAD_VALUE', `NDP target: expected 16 bytes, got ${target.length}`);
  if (isMulticastIpv6(target)) throw new WireError('BAD_VALUE', 'NDP target: must not be multicast (RFC 4861 §7.1)');
  buf.set(target, at + 4);
}

