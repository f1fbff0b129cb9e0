/**
 * The server's routing decision for IPv6 datagrams, pure, the twin of the
 * IPv4 router: a function of the tunnel table, the sending client and the
 * datagram's IPv6 header, with no I/O and no allocation per datagram.
 *
 * A client's /64 is numbered by its IPv4 host part (pool6.ts), so the
 * destination's subnet number leads straight to the owning tunnel in the
 * table the IPv4 router already keeps by IPv4 address — no second table.
 *
 * From a client: valid IPv6 whose source lies in the client's own /64 or
 * in its configured IPv6 site networks (`clients[].networks6`; no
 * spoofing), to a destination it may reach — the server's subnet, its
 * pushed IPv6 routes, or another client's /64 or site networks when both
 * allow client-to-client — and never multicast, link-local, loopback,
 * unspecified or IPv4-mapped. To a client (from the server's adapter): the
 * tunnel owning the destination's /64, else the client whose site network
 * holds it (longest prefix).
 */
import type { GsoInfo } from '../wire/gso.js';
import { ipv4ToNumber, prefixToMask } from '../wire/addr.js';
import { ipv6ToBytes, isLinkLocalIpv6, isMulticastIpv6, isUnspecifiedIpv6, samePrefix6 } from '../wire/addr6.js';
import { checkIpv6, Ipv6Field } from '../wire/ipv6.js';
import { readU32 } from '../wire/bytes.js';
import type { Ipv6PoolConfig } from './pool6.js';
import { countDrop, type AdapterPort, type DatagramLink, type DropCounter } from './router.js';

export const ETHERTYPE_IPV6 = 0x86dd;

export interface Ipv6Network {
  network: Uint8Array;
  prefixLength: number;
}

/** An IPv6 network behind a client (its branch LAN, `clients[].networks6`), routed into its tunnel. */
export interface SiteNetwork6 extends Ipv6Network {
  readonly client: string;
}

/** What routing needs to know of a client's tunnel (the IPv4 router's entry has the rest). */
export interface Route6Entry {
  /** The configured client's name: its site networks are configured under it. */
  readonly name: string;
  /** The leased IPv4 address as a number: it numbers the client's /64. */
  readonly address: number;
  readonly clientToClient: boolean;
  /** The IPv6 networks pushed to this client. */
  readonly routes6: readonly Ipv6Network[];
  readonly link: DatagramLink;
  /** This tunnel's own drops by reason, beside the server-wide counters. */
  readonly drops?: DropCounter;
}

export type Route6Verdict =
  | 'adapter'
  | 'client'
  | 'malformed'
  | 'spoofed-source'
  | 'forbidden-destination'
  | 'not-routed'
  | 'no-client'
  | 'client-to-client-denied';

type Route6Drop = Exclude<Route6Verdict, 'adapter' | 'client'> | 'congested';
const DROP_KEYS: Record<Route6Drop, string> = {
  malformed: 'route6:drop:malformed',
  'spoofed-source': 'route6:drop:spoofed-source',
  'forbidden-destination': 'route6:drop:forbidden-destination',
  'not-routed': 'route6:drop:not-routed',
  'no-client': 'route6:drop:no-client',
  'client-to-client-denied': 'route6:drop:client-to-client-denied',
  congested: 'route6:drop:congested',
};

const LOOPBACK = ipv6ToBytes('::1');
const IPV4_MAPPED = ipv6ToBytes('::ffff:0:0');

export class Router6<T extends Route6Entry> {
  /** The tunnel a `client` verdict goes to (valid until the next call). */
  peer: T | undefined;
  /** Set once the server's adapter exists. */
  adapter: AdapterPort | undefined;
  readonly #network6: Uint8Array;
  readonly #network4: number;
  readonly #hostMask4: number;
  readonly #gatewayHost: number;
  /** The configured IPv6 site networks, longest prefix first. */
  #sites: readonly SiteNetwork6[] = [];

  constructor(
    pool: Ipv6PoolConfig,
    /** The IPv4 router's table: tunnels by leased IPv4 address. */
    private readonly tunnels: ReadonlyMap<number, T>,
    private readonly counters: DropCounter,
    /** The IPv4 router's lookup of a connected client by name (for site networks). */
    private readonly named: (name: string) => T | undefined = () => undefined,
  ) {
    this.#network6 = ipv6ToBytes(pool.network6.prefix);
    const mask = prefixToMask(pool.network4.prefixLength);
    this.#network4 = (ipv4ToNumber(pool.network4.address) & mask) >>> 0;
    this.#hostMask4 = ~mask >>> 0;
    this.#gatewayHost = (ipv4ToNumber(pool.gateway4) & this.#hostMask4) >>> 0;
  }

  /** The configured IPv6 site networks (at start and on reload). */
  setSites(sites: readonly SiteNetwork6[]): void {
    this.#sites = [...sites].sort((a, b) => b.prefixLength - a.prefixLength);
  }

  /** Carries out routeFromClient's verdict for a verified IPv6 datagram from `from`. */
  fromClient(from: T, datagram: Uint8Array, gso?: GsoInfo): void {
    const verdict = this.routeFromClient(from, datagram);
    if (verdict === 'adapter') return this.adapter?.deliverSoon(datagram, gso);
    if (verdict !== 'client') return countDrop(this.counters, from, DROP_KEYS[verdict]);
    if (!this.peer!.link.sendDatagram(ETHERTYPE_IPV6, datagram, gso)) return countDrop(this.counters, from, DROP_KEYS.congested);
    this.counters.increment('route6:client-to-client');
  }

  /** Carries out routeToClient's verdict for an IPv6 datagram from the server's kernel. */
  toClient(datagram: Uint8Array, gso?: GsoInfo): void {
    const verdict = this.routeToClient(datagram);
    if (verdict !== 'client') return this.counters.increment(DROP_KEYS[verdict]);
    if (!this.peer!.link.sendDatagram(ETHERTYPE_IPV6, datagram, gso)) this.counters.increment(DROP_KEYS.congested);
  }

  /** The verdict for a verified datagram from `from`'s tunnel; `peer` is set for `client`. */
  routeFromClient(from: T, datagram: Uint8Array): Route6Verdict {
    this.peer = undefined;
    if (checkIpv6(datagram) !== undefined) return 'malformed';
    const ownSubnet = this.#subnetOf(datagram, Ipv6Field.SOURCE) === ((from.address & this.#hostMask4) >>> 0);
    if (!ownSubnet && this.#siteOf(datagram, Ipv6Field.SOURCE)?.client !== from.name) return 'spoofed-source';
    const d = Ipv6Field.DESTINATION;
    if (isForbidden(datagram, d)) return 'forbidden-destination';
    const subnet = this.#subnetOf(datagram, d);
    if (subnet === this.#gatewayHost) return 'adapter';
    if (subnet !== undefined) return this.#toPeer(from, this.tunnels.get((this.#network4 | subnet) >>> 0));
    // Site networks before pushed routes: a covering route never carries a datagram around client-to-client.
    const site = this.#siteOf(datagram, d);
    if (site) return site.client === from.name ? 'forbidden-destination' : this.#toPeer(from, this.named(site.client));
    for (const route of from.routes6) if (samePrefix6(datagram, d, route.network, 0, route.prefixLength)) return 'adapter';
    return 'not-routed';
  }

  /** The verdict for a datagram the server's kernel sends toward the tunnel network. */
  routeToClient(datagram: Uint8Array): 'client' | 'malformed' | 'no-client' {
    this.peer = undefined;
    if (checkIpv6(datagram) !== undefined) return 'malformed';
    const subnet = this.#subnetOf(datagram, Ipv6Field.DESTINATION);
    if (subnet !== undefined) this.peer = this.tunnels.get((this.#network4 | subnet) >>> 0);
    else {
      const site = this.#siteOf(datagram, Ipv6Field.DESTINATION);
      this.peer = site && this.named(site.client);
    }
    return this.peer ? 'client' : 'no-client';
  }

  /** The site network holding the address at `offset` (longest prefix), if any. */
  #siteOf(datagram: Uint8Array, offset: number): SiteNetwork6 | undefined {
    const sites = this.#sites;
    for (let i = 0; i < sites.length; i++) if (samePrefix6(datagram, offset, sites[i]!.network, 0, sites[i]!.prefixLength)) return sites[i];
    return undefined;
  }

  /**
   * The IPv4 host number of the client /64 holding the address at `offset`,
   * or undefined outside the network (or in a subnet no IPv4 host numbers).
   */
  #subnetOf(datagram: Uint8Array, offset: number): number | undefined {
    // A client /64 is the network's first 64 bits with the IPv4 host number in the low bits of bytes 4..7
    // (pool6.ts): bytes 0..3 must be the network's, and so must bytes 4..7 outside the host bits.
    if (!samePrefix6(datagram, offset, this.#network6, 0, 32)) return undefined;
    const low32 = readU32(datagram, offset + 4);
    const host = (low32 & this.#hostMask4) >>> 0;
    const network32 = readU32(this.#network6, 4);
    if (((low32 & ~this.#hostMask4) >>> 0) !== ((network32 & ~this.#hostMask4) >>> 0)) return undefined;
    return host;
  }

  #toPeer(from: T, peer: T | undefined): Route6Verdict {
    if (!peer) return 'no-client';
    if (peer === from) return 'forbidden-destination'; // its own /64 is on its own link, never sent here
    if (!from.clientToClient || !peer.clientToClient) return 'client-to-client-denied';
    this.peer = peer;
    return 'client';
  }
}

function isForbidden(datagram: Uint8Array, offset: number): boolean {
  return (
    isMulticastIpv6(datagram, offset) ||
    isLinkLocalIpv6(datagram, offset) ||
    isUnspecifiedIpv6(datagram, offset) ||
    samePrefix6(datagram, offset, LOOPBACK, 0, 128) ||
    samePrefix6(datagram, offset, IPV4_MAPPED, 0, 96)
  );
}
