/**
 * The NDP emulator (RFC 4861 router and neighbour, answered locally): the
 * IPv6 counterpart of the ARP emulator. The host's kernel autoconfigures the
 * TAP from it and resolves every tunnel address to the reserved MAC, so no
 * NDP ever crosses the tunnel.
 *
 * - Router solicitation → a router advertisement from the gateway's
 *   link-local address (EUI-64 of the reserved MAC) to all-nodes, carrying:
 *   the client's prefix (on-link, autonomous: the host forms its addresses in
 *   it by SLAAC), the whole tunnel network (on-link only: the host asks for
 *   other clients and the server by NS, answered below), the MTU, one route
 *   information option (RFC 4191) per pushed route, RDNSS/DNSSL (RFC 8106).
 *   Prefix, route and DNS lifetimes are infinite: the lease does not expire
 *   under a host (the same reasoning as the DHCP emulator's fixed lease). A
 *   default router only when the lease pushes ::/0 — the IPv6 twin of DHCP's
 *   full tunnel — with RFC 4861's default router lifetime, 3 ×
 *   MaxRtrAdvInterval (1800 s): the same advertisement is repeated
 *   unsolicited every 198–600 s (ra-schedule.ts, sent by the pseudo
 *   adapter's IPv6 responder), which keeps the host's default route alive for
 *   as long as the tunnel stays up, and lets it lapse once nobody advertises.
 * - Neighbour solicitation for the gateway's link-local address or any
 *   address of the tunnel network outside the client's prefix → a solicited
 *   advertisement with the reserved MAC (router, override).
 *
 * Never answered (reason = counter key): hop limit other than 255 (§6.1,
 * §7.1: the message did not come from the link), DAD probes (unspecified
 * source, RFC 4862 §5.4 — so the host's addresses never look duplicated),
 * targets in the client's own prefix (the host's own addresses), anything
 * else outside the tunnel, and messages a host does not solicit with (RA, NA).
 *
 * `answerNdp` is pure; `NdpEmulator` adds the host's MAC, learned from a
 * source link-layer address option or the Ethernet source.
 */
import type { Lease } from '../src/lease.js';
import { bytesToMac, macToBytes, type MacAddress } from '../src/wire/addr.js';
import {
  ALL_NODES_IPV6,
  equalIpv6,
  ipv6ToBytes,
  isLinkLocalIpv6,
  isUnspecifiedIpv6,
  linkLocalFromMac,
  multicastMac,
  samePrefix6,
} from '../src/wire/addr6.js';
import type { NdpMessage, NeighborAdvertisement, RouterAdvertisement } from '../src/wire/ndp.js';
import type { NdpOption } from '../src/wire/ndp-options.js';
import { MAX_RTR_ADV_INTERVAL_MS } from './ra-schedule.js';

/** RFC 4861 §6.1.1, §7.1.1: NDP from the link always arrives with hop limit 255. */
export const NDP_HOP_LIMIT = 255;
const INFINITE_LIFETIME = 0xffffffff;
/** RFC 4861 §6.2.1 AdvDefaultLifetime default: three unsolicited advertisements may be lost before the default route goes. */
export const DEFAULT_ROUTER_LIFETIME_SEC = (3 * MAX_RTR_ADV_INTERVAL_MS) / 1000;
const RA_CUR_HOP_LIMIT = 64;

/** A message from the host with the IPv6 fields the receiver's checks need. */
export interface NdpInput {
  hopLimit: number;
  source: Uint8Array;
  destination: Uint8Array;
  message: NdpMessage;
  /** The Ethernet source of the frame (the fallback reply address). */
  senderMac: Uint8Array;
}

export type NdpIgnoreReason =
  | 'bad-hop-limit'
  | 'probe'
  | 'own-prefix'
  | 'not-ours'
  | 'not-solicitation'
  | 'bad-source-option';

export interface NdpReply {
  kind: 'reply';
  message: NdpMessage;
  source: Uint8Array;
  destination: Uint8Array;
  destinationMac: Uint8Array;
}
export type NdpVerdict = NdpReply | { kind: 'ignored'; reason: NdpIgnoreReason };

/** The configuration in bytes, computed once per lease. */
export interface CompiledNdpConfig {
  replyMac: Uint8Array;
  /** The gateway's link-local address: the RA's source and the next hop of every route. */
  routerAddress: Uint8Array;
  clientPrefix: Uint8Array;
  clientPrefixLength: number;
  network: Uint8Array;
  networkPrefixLength: number;
  /** A forwarding host's (the server's) routed networks: their addresses are answered for too (clients' site networks). */
  routed: ReadonlyArray<{ network: Uint8Array; prefixLength: number }>;
  advertisement: RouterAdvertisement;
}

/**
 * A client's NDP configuration from its lease; undefined for an IPv4-only
 * lease. `forwarding` (the server's adapter) also answers for the lease's
 * routes, which the server's kernel reaches with on-link routes.
 */
export function compileNdpConfig(lease: Lease, forwarding = false): CompiledNdpConfig | undefined {
  const ipv6 = lease.ipv6;
  if (!ipv6) return undefined;
  const replyMac = macToBytes(lease.gatewayMac);
  const clientPrefix = ipv6ToBytes(ipv6.clientPrefix.prefix);
  const network = ipv6ToBytes(ipv6.network.prefix);
  const options: NdpOption[] = [
    { kind: 'source-link-layer-address', linkLayerAddress: replyMac },
    { kind: 'mtu', mtu: lease.mtu },
    prefixInformation(clientPrefix, ipv6.clientPrefix.prefixLength, true),
  ];
  if (ipv6.network.prefixLength < ipv6.clientPrefix.prefixLength) options.push(prefixInformation(network, ipv6.network.prefixLength, false));
  const defaultRoute = ipv6.routes.some((r) => r.prefixLength === 0);
  for (const route of ipv6.routes.filter((r) => r.prefixLength > 0)) {
    options.push({ kind: 'route-information', prefixLength: route.prefixLength, preference: 'medium', routeLifetimeSec: INFINITE_LIFETIME, prefix: ipv6ToBytes(route.prefix) });
  }
  if (ipv6.dnsServers.length > 0) options.push({ kind: 'rdnss', lifetimeSec: INFINITE_LIFETIME, servers: ipv6.dnsServers.map((d) => ipv6ToBytes(d)) });
  if (lease.searchDomain !== undefined) options.push({ kind: 'dnssl', lifetimeSec: INFINITE_LIFETIME, domains: [lease.searchDomain] });
  return {
    replyMac,
    routerAddress: linkLocalFromMac(replyMac),
    clientPrefix,
    clientPrefixLength: ipv6.clientPrefix.prefixLength,
    network,
    networkPrefixLength: ipv6.network.prefixLength,
    routed: forwarding ? ipv6.routes.filter((r) => r.prefixLength > 0).map((r) => ({ network: ipv6ToBytes(r.prefix), prefixLength: r.prefixLength })) : [],
    advertisement: {
      kind: 'router-advertisement',
      curHopLimit: RA_CUR_HOP_LIMIT,
      managed: false, // addresses by SLAAC, not DHCPv6 (docs/ADAPTER.md)
      other: false,
      routerPreference: 'medium',
      routerLifetimeSec: defaultRoute ? DEFAULT_ROUTER_LIFETIME_SEC : 0,
      reachableTimeMs: 0,
      retransTimerMs: 0,
      options,
    },
  };
}

function prefixInformation(prefix: Uint8Array, prefixLength: number, autonomous: boolean): NdpOption {
  return { kind: 'prefix-information', prefixLength, onLink: true, autonomous, validLifetimeSec: INFINITE_LIFETIME, preferredLifetimeSec: INFINITE_LIFETIME, prefix };
}

const ALL_NODES_MAC = multicastMac(ALL_NODES_IPV6);

/** The router advertisement for this lease, to all-nodes: the answer to an RS, and the unsolicited one (after a lease change, and periodically). */
export function routerAdvertisementVerdict(config: CompiledNdpConfig): NdpReply {
  return { kind: 'reply', message: config.advertisement, source: config.routerAddress, destination: ALL_NODES_IPV6, destinationMac: ALL_NODES_MAC };
}

/** Decides one NDP message from the host. Pure. */
export function answerNdp(input: NdpInput, config: CompiledNdpConfig): NdpVerdict {
  if (input.hopLimit !== NDP_HOP_LIMIT) return ignored('bad-hop-limit');
  const { message } = input;
  const unspecified = isUnspecifiedIpv6(input.source);
  const sourceOption = sourceLinkLayerAddress(message);
  // §6.1.1 / §7.1.1: an unspecified source must not carry a source link-layer address option.
  if (unspecified && sourceOption !== undefined) return ignored('bad-source-option');
  if (message.kind === 'router-solicitation') return routerAdvertisementVerdict(config);
  if (message.kind !== 'neighbor-solicitation') return ignored('not-solicitation');
  if (unspecified) return ignored('probe');
  const target = message.target;
  if (!isOurs(target, config)) return ignored(samePrefix6(target, 0, config.clientPrefix, 0, config.clientPrefixLength) ? 'own-prefix' : 'not-ours');
  const advertisement: NeighborAdvertisement = {
    kind: 'neighbor-advertisement',
    router: true,
    solicited: true,
    override: true,
    target,
    options: [{ kind: 'target-link-layer-address', linkLayerAddress: config.replyMac }],
  };
  const destinationMac = sourceOption?.length === 6 ? sourceOption : input.senderMac;
  return { kind: 'reply', message: advertisement, source: target, destination: input.source, destinationMac };
}

/** The gateway's link-local address, a routed network's address (forwarding), or a tunnel address outside the client's own prefix. */
function isOurs(target: Uint8Array, config: CompiledNdpConfig): boolean {
  if (isLinkLocalIpv6(target)) return equalIpv6(target, 0, config.routerAddress);
  for (const routed of config.routed) if (samePrefix6(target, 0, routed.network, 0, routed.prefixLength)) return true;
  return (
    samePrefix6(target, 0, config.network, 0, config.networkPrefixLength) &&
    !samePrefix6(target, 0, config.clientPrefix, 0, config.clientPrefixLength)
  );
}

function sourceLinkLayerAddress(message: NdpMessage): Uint8Array | undefined {
  for (const option of message.options) if (option.kind === 'source-link-layer-address') return option.linkLayerAddress;
  return undefined;
}

function ignored(reason: NdpIgnoreReason): NdpVerdict {
  return { kind: 'ignored', reason };
}

/** `answerNdp` plus the host's MAC. */
export class NdpEmulator {
  #config: CompiledNdpConfig | undefined;
  #hostMac: MacAddress | undefined;

  constructor(
    lease: Lease,
    private readonly forwarding = false,
  ) {
    this.#config = compileNdpConfig(lease, forwarding);
  }

  setLease(lease: Lease): void {
    this.#config = compileNdpConfig(lease, this.forwarding);
  }

  /** False for an IPv4-only lease: every NDP message is then ignored as 'not-ours'. */
  get enabled(): boolean {
    return this.#config !== undefined;
  }

  get hostMac(): MacAddress | undefined {
    return this.#hostMac;
  }

  /** The unsolicited advertisement for the current lease (after a lease change, and periodically), or undefined without IPv6. */
  advertisement(): NdpReply | undefined {
    return this.#config && routerAdvertisementVerdict(this.#config);
  }

  /** Reply views may point into `input`: use them before the frame's buffer is reused. */
  handle(input: NdpInput): NdpVerdict {
    const mac = sourceLinkLayerAddress(input.message) ?? input.senderMac;
    // Only a unicast MAC from a real sender (not a DAD probe's) is the host's.
    if (mac.length === 6 && (mac[0]! & 0x01) === 0 && !isUnspecifiedIpv6(input.source)) this.#hostMac = bytesToMac(mac);
    if (!this.#config) return ignored('not-ours');
    return answerNdp(input, this.#config);
  }
}
