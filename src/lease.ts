/**
 * The lease: what the tunnel server grants a client, carried to the client in
 * the RESPONSE frame's client data, and served to the host by the client's
 * DHCP emulator. One type for all three so nothing is translated twice.
 */
import type { Ipv4Address, MacAddress } from './wire/addr.js';
import type { Ipv6Address } from './wire/addr6.js';

/** A route pushed to the client (DHCP option 121 / 249). */
export interface Ipv4Route {
  destination: Ipv4Address; // network address, host bits zero
  prefixLength: number; // 0..32; 0 is a default route
  gateway: Ipv4Address; // normally the lease's gateway
}

export interface Lease {
  /** The client's tunnel address (DHCP yiaddr). */
  address: Ipv4Address;
  /** Prefix of the tunnel network (DHCP option 1 as a mask). */
  prefixLength: number;
  /** The server's pseudo adapter address: router (option 3) and server identifier (option 54). */
  gateway: Ipv4Address;
  /** Routes to private networks behind the server (options 121 and 249). */
  routes: Ipv4Route[];
  /** DNS servers (option 6), may be empty. */
  dnsServers: Ipv4Address[];
  /** Domain name / search domain (option 15), optional. */
  searchDomain?: string;
  /** Interface MTU (option 26). */
  mtu: number;
  /** Lease time in seconds (option 51); renewal T1 (58) and rebinding T2 (59) derive from it unless set. */
  leaseTimeSec: number;
  renewalTimeSec?: number;
  rebindingTimeSec?: number;
  /** The reserved, locally administered MAC the emulators answer with for the gateway and every tunnel address. */
  gatewayMac: MacAddress;
  /** IPv6 inside the tunnel, when the server has a `network6` pool; absent for an IPv4-only tunnel. */
  ipv6?: Ipv6Lease;
}

/** An IPv6 network as prefix text (host bits zero) and length. */
export interface Ipv6Prefix {
  prefix: Ipv6Address;
  prefixLength: number;
}

/**
 * The client's IPv6 share of the tunnel (docs/ADAPTER.md, "IPv6"): a whole
 * prefix, not one address — the host forms its addresses in it by SLAAC from
 * the NDP emulator's router advertisement, and every source in it is the
 * client's.
 */
export interface Ipv6Lease {
  /** The client's prefix (a /64 from `[tunnel] network6`): advertised on-link and autonomous. */
  clientPrefix: Ipv6Prefix;
  /** The whole tunnel network (`[tunnel] network6`): advertised on-link only, so the host resolves every tunnel address to the gateway MAC. */
  network: Ipv6Prefix;
  /** The server's own tunnel address (in `network`, outside every client prefix): the source of ICMPv6 errors the adapter sends. */
  gateway: Ipv6Address;
  /** Networks behind the server (RFC 4191 route information, via the gateway's link-local address); ::/0 makes the gateway a default router. */
  routes: Ipv6Prefix[];
  /** DNS servers (RFC 8106 RDNSS); the search domain is the lease's `searchDomain` (DNSSL). */
  dnsServers: Ipv6Address[];
}

/** Default reserved MACs (locally administered, unicast). Documented in docs/ARCHITECTURE.md. */
export const DEFAULT_GATEWAY_MAC: MacAddress = '02:74:76:70:6e:01'; // 02 + "tvpn" + 01
export const DEFAULT_CLIENT_MAC: MacAddress = '02:74:76:70:6e:02'; // used by the server's ARP emulator for client addresses
