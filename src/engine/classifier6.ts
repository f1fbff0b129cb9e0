/**
 * The IPv6 half of the frame classifier (EtherType 0x86DD), for a lease with
 * an IPv6 part:
 * - `local-ndp`: ICMPv6 router or neighbour solicitation/advertisement
 *   (types 133..136), whatever the Ethernet destination (NDP goes to
 *   multicast groups and, for NUD, to the reserved MAC), for the NDP emulator;
 * - `tunnel`: a unicast datagram to the reserved MAC from the client's prefix
 *   (any source when forwarding) to the tunnel network or a pushed route,
 *   within the MTU;
 * - `drop` with the same reasons as IPv4: multicast (MLD, DHCPv6 and other
 *   group traffic stay on the host), not-for-us, source-not-lease, no-route
 *   (link-local destinations included), too-big (the adapter answers it with
 *   ICMPv6 Packet Too Big).
 * Allocation-free on the accepted paths, like the IPv4 half.
 */
import type { Lease } from '../lease.js';
import { ipv6ToBytes, isMulticastIpv6, samePrefix6 } from '../wire/addr6.js';
import { isGroupDestination } from '../wire/ethernet.js';
import { checkIpv6, IPV6_HEADER_LENGTH, Ipv6Field, Ipv6NextHeader, ipv6NextHeader, ipv6TotalLength } from '../wire/ipv6.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import type { WireError } from '../wire/errors.js';

export interface Ipv6Network {
  network: Uint8Array;
  prefixLength: number;
}

export interface Classifier6Config {
  /** The client's prefix: the only tunnel source accepted (unless forwarding). */
  hostPrefix: Ipv6Network;
  /** The tunnel network and the pushed routes. */
  networks: readonly Ipv6Network[];
}

export function classifier6ConfigFromLease(lease: Lease): Classifier6Config | undefined {
  const ipv6 = lease.ipv6;
  if (!ipv6) return undefined;
  const net = (prefix: string, prefixLength: number): Ipv6Network => ({ network: ipv6ToBytes(prefix), prefixLength });
  return {
    hostPrefix: net(ipv6.clientPrefix.prefix, ipv6.clientPrefix.prefixLength),
    networks: [net(ipv6.network.prefix, ipv6.network.prefixLength), ...ipv6.routes.map((r) => net(r.prefix, r.prefixLength))],
  };
}

/** What an IPv6 frame is; the caller (the classifier) turns it into a verdict and fills its result. */
export type Ipv6Outcome =
  | 'local-ndp'
  | 'tunnel'
  | 'multicast'
  | 'not-for-us'
  | 'source-not-lease'
  | 'no-route'
  | 'too-big'
  | WireError;

/**
 * Classifies the IPv6 datagram at `datagram` (the frame's payload), already
 * known to belong to a lease with IPv6. `isLocalMac` tests the frame's
 * destination; the datagram's end is `IPV6_HEADER_LENGTH + payload length`.
 */
export function classifyIpv6(
  frame: Uint8Array,
  datagram: Uint8Array,
  config: Classifier6Config,
  mtu: number,
  forwarding: boolean,
  isLocalMac: (frame: Uint8Array) => boolean,
  /** For a GSO super-frame, its largest segment (what the MTU applies to); 0: the datagram itself. */
  segmentLength = 0,
): Ipv6Outcome {
  const problem = checkIpv6(datagram);
  if (problem) return problem;
  if (isNdp(datagram)) return 'local-ndp';
  if (isGroupDestination(frame) || isMulticastIpv6(datagram, Ipv6Field.DESTINATION)) return 'multicast';
  if (!isLocalMac(frame)) return 'not-for-us';
  const host = config.hostPrefix;
  if (!forwarding && !samePrefix6(datagram, Ipv6Field.SOURCE, host.network, 0, host.prefixLength)) return 'source-not-lease';
  if (!isRouted(datagram, config.networks)) return 'no-route';
  if ((segmentLength || ipv6TotalLength(datagram)) > mtu) return 'too-big';
  return 'tunnel';
}

/** ICMPv6 RS/RA/NS/NA directly after the fixed header (RFC 4861 messages carry no extension headers in practice). */
function isNdp(datagram: Uint8Array): boolean {
  if (ipv6NextHeader(datagram) !== Ipv6NextHeader.ICMPV6 || ipv6TotalLength(datagram) <= IPV6_HEADER_LENGTH) return false;
  const type = datagram[IPV6_HEADER_LENGTH]!;
  return type >= Icmpv6Type.ROUTER_SOLICITATION && type <= Icmpv6Type.NEIGHBOR_ADVERTISEMENT;
}

function isRouted(datagram: Uint8Array, networks: readonly Ipv6Network[]): boolean {
  for (let i = 0; i < networks.length; i++) {
    if (samePrefix6(datagram, Ipv6Field.DESTINATION, networks[i]!.network, 0, networks[i]!.prefixLength)) return true;
  }
  return false;
}
