/**
 * The server's per-datagram routing decision, pure: a function of the
 * tunnel table, the sending client and the datagram's IPv4 header (read
 * through src/wire/ipv4.ts), with no I/O and no allocation per datagram.
 *
 * From a client (issue 10 item 7, destination policy): the header must be
 * valid IPv4 with the client's leased address as source, or a source inside
 * the site networks configured for that client (a branch LAN behind it,
 * issue 14's site-to-site) — nothing else, so no spoofing; and the
 * destination must be one the client may reach — the gateway, its pushed
 * routes, or another client's address or site network when both allow
 * client-to-client — and never a broadcast, multicast, 0/8, 127/8,
 * 169.254/16 or 240/4 address, nor the tunnel network's own network or
 * broadcast address. Site networks are matched before pushed routes, so a
 * summary or default route never carries a datagram around the
 * client-to-client policy through the server's kernel. Everything else is a
 * drop with its reason, for the caller to count.
 *
 * To a client (from the server's adapter): the tunnel of the destination
 * address, else the tunnel of the client whose site network holds it
 * (longest prefix first).
 *
 * The verdicts are pure (`routeFromClient`, `routeToClient`); `fromClient`
 * and `toClient` carry them out through two ports — the adapter
 * (`deliverSoon`) and each client's link (`sendDatagram`) — so a datagram
 * goes from a client's FrameSocket through this module to its destination
 * without another hop.
 */
import { inSubnet, prefixToMask } from '../wire/addr.js';
import { checkIpv4, ipv4Destination, ipv4Source } from '../wire/ipv4.js';
import { EtherType } from '../wire/ethernet.js';
import type { GsoInfo } from '../wire/gso.js';

export const ETHERTYPE_IPV4 = 0x0800;

/** Where a client's datagrams leave: its tunnel's data plane (src/io/frame-socket.ts). */
export interface DatagramLink {
  /** Seals and queues (a super-frame whole, or segmented for a peer without OFFLOAD); false when dropped (congested, closed). */
  sendDatagram(etherType: number, datagram: Uint8Array, gso?: GsoInfo): boolean;
}

/** Where datagrams for the server's own host go (src/engine/pseudo-adapter.ts). */
export interface AdapterPort {
  deliverSoon(datagram: Uint8Array, gso?: GsoInfo): void;
}

/** A dropped datagram, counted under its reason. */
export interface DropCounter {
  increment(key: string): void;
}

/** What the router knows of a client's tunnel. */
export interface RouteEntry {
  /** The configured client's name: its site networks are configured under it. */
  readonly name: string;
  /** The leased address, as an unsigned 32-bit number. */
  readonly address: number;
  readonly clientToClient: boolean;
  /** The networks pushed to this client (its routes), as numbers. */
  readonly routes: readonly Ipv4Network[];
  readonly link: DatagramLink;
  /** This tunnel's own drops by reason (what `tapvpn status` shows per tunnel), beside the server-wide counters. */
  readonly drops?: DropCounter;
}

export interface Ipv4Network {
  network: number;
  prefixLength: number;
}

/** A network behind a client (its branch LAN): configured on the server under the client's name, routed into its tunnel. */
export interface SiteNetwork extends Ipv4Network {
  readonly client: string;
}

export type DropReason =
  | 'not-ipv4'
  | 'malformed'
  | 'spoofed-source'
  | 'forbidden-destination'
  | 'not-routed'
  | 'no-client'
  | 'client-to-client-denied';

/** `adapter`: to the server's adapter; `client`: into `router.peer`'s tunnel; otherwise the drop reason. */
export type RouteVerdict = 'adapter' | 'client' | DropReason;

/** Addresses no client may send to, whatever its routes: [network, prefix length]. */
const FORBIDDEN: readonly Ipv4Network[] = [
  { network: 0x00000000, prefixLength: 8 }, // 0/8 "this network"
  { network: 0x7f000000, prefixLength: 8 }, // 127/8 loopback
  { network: 0xa9fe0000, prefixLength: 16 }, // 169.254/16 link local
  { network: 0xe0000000, prefixLength: 4 }, // 224/4 multicast
  { network: 0xf0000000, prefixLength: 4 }, // 240/4 reserved, and 255.255.255.255 limited broadcast
];

/** True when `address` lies in one of `networks` (a loop: no closure per datagram). */
export function inAnyNetwork(address: number, networks: readonly Ipv4Network[]): boolean {
  for (const net of networks) if (inSubnet(address, net.network, net.prefixLength)) return true;
  return false;
}

export function isForbiddenDestination(address: number): boolean {
  return inAnyNetwork(address, FORBIDDEN);
}

const DROP_KEYS: Record<DropReason | 'congested', string> = {
  'not-ipv4': 'route:drop:not-ipv4',
  malformed: 'route:drop:malformed',
  'spoofed-source': 'route:drop:spoofed-source',
  'forbidden-destination': 'route:drop:forbidden-destination',
  'not-routed': 'route:drop:not-routed',
  'no-client': 'route:drop:no-client',
  'client-to-client-denied': 'route:drop:client-to-client-denied',
  congested: 'route:drop:congested',
};

/** The counter key of each drop reason (no string built per datagram). */
export function dropKey(reason: DropReason | 'congested'): string {
  return DROP_KEYS[reason];
}

/** Counts a drop of a datagram from `from`'s tunnel server-wide and on the tunnel itself. */
export function countDrop(counters: DropCounter, from: { readonly drops?: DropCounter }, key: string): void {
  counters.increment(key);
  from.drops?.increment(key);
}

export class Router<T extends RouteEntry> {
  /** Authorized tunnels by leased address. */
  readonly tunnels = new Map<number, T>();
  /** Authorized tunnels by client name, for the site networks. */
  readonly #byName = new Map<string, T>();
  /** The configured site networks, longest prefix first: the first match is the longest. */
  #sites: readonly SiteNetwork[] = [];
  /** The tunnel a `client` verdict goes to (valid until the next call). */
  peer: T | undefined;
  /** Set once the server's adapter exists (it needs the router first). */
  adapter: AdapterPort | undefined;
  /** The IPv6 router over the same table (router6.ts), when the server has an IPv6 pool. */
  v6: { fromClient(from: T, datagram: Uint8Array, gso?: GsoInfo): void } | undefined;
  private readonly networkAddress: number;
  private readonly broadcastAddress: number;

  constructor(
    private readonly network: Ipv4Network,
    private readonly gateway: number,
    private readonly counters: DropCounter,
  ) {
    const mask = prefixToMask(network.prefixLength);
    this.networkAddress = (network.network & mask) >>> 0;
    this.broadcastAddress = (this.networkAddress | ~mask) >>> 0;
  }

  /** A newly authorized tunnel; returns the one it replaces (same address), if any. */
  add(tunnel: T): T | undefined {
    const previous = this.tunnels.get(tunnel.address);
    this.tunnels.set(tunnel.address, tunnel);
    this.#byName.set(tunnel.name, tunnel);
    return previous;
  }

  /** A closed tunnel; false when a newer tunnel had already replaced it (the newer one keeps its entries). */
  remove(tunnel: T): boolean {
    if (this.#byName.get(tunnel.name) === tunnel) this.#byName.delete(tunnel.name);
    if (this.tunnels.get(tunnel.address) !== tunnel) return false;
    this.tunnels.delete(tunnel.address);
    return true;
  }

  /** The connected tunnel of the client `name`, if any. */
  tunnelNamed(name: string): T | undefined {
    return this.#byName.get(name);
  }

  /** The configured site networks (at start and on reload); the config has checked they do not overlap. */
  setSites(sites: readonly SiteNetwork[]): void {
    this.#sites = [...sites].sort((a, b) => b.prefixLength - a.prefixLength);
  }

  /**
   * The receiver the data plane calls with each datagram verified on
   * `from`'s tunnel: made here so that between the session and the adapter
   * (or the peer's tunnel) the router is the only module a datagram crosses.
   */
  receiverFor(from: T): (etherType: number, datagram: Uint8Array, gso?: GsoInfo) => void {
    return (etherType, datagram, gso) => (etherType === EtherType.IPV6 && this.v6 ? this.v6.fromClient(from, datagram, gso) : this.fromClient(from, etherType, datagram, gso));
  }

  /**
   * Carries out routeFromClient's verdict for a verified datagram from `from`.
   * A super-frame (`gso`) is judged by its headers like any datagram and
   * passed on with its descriptor: the adapter or the peer's link decides
   * whether it goes whole or segmented.
   */
  fromClient(from: T, etherType: number, datagram: Uint8Array, gso?: GsoInfo): void {
    const verdict = this.routeFromClient(from, etherType, datagram);
    if (verdict === 'adapter') return this.adapter?.deliverSoon(datagram, gso);
    if (verdict !== 'client') return countDrop(this.counters, from, DROP_KEYS[verdict]);
    if (!this.peer!.link.sendDatagram(etherType, datagram, gso)) return countDrop(this.counters, from, DROP_KEYS.congested);
    this.counters.increment('route:client-to-client');
  }

  /** Carries out routeToClient's verdict for a datagram from the server's kernel. */
  toClient(datagram: Uint8Array, gso?: GsoInfo): void {
    const verdict = this.routeToClient(datagram);
    if (verdict !== 'client') return this.counters.increment(DROP_KEYS[verdict]);
    if (!this.peer!.link.sendDatagram(ETHERTYPE_IPV4, datagram, gso)) this.counters.increment(DROP_KEYS.congested);
  }

  /** The verdict for a verified datagram from `from`'s tunnel; `peer` is set for `client`. */
  routeFromClient(from: T, etherType: number, datagram: Uint8Array): RouteVerdict {
    this.peer = undefined;
    if (etherType !== ETHERTYPE_IPV4) return 'not-ipv4';
    if (checkIpv4(datagram) !== undefined) return 'malformed';
    const source = ipv4Source(datagram);
    if (source !== from.address && this.siteOf(source)?.client !== from.name) return 'spoofed-source';
    const destination = ipv4Destination(datagram);
    if (isForbiddenDestination(destination) || destination === this.networkAddress || destination === this.broadcastAddress) return 'forbidden-destination';
    if (destination === this.gateway) return 'adapter';
    if (inSubnet(destination, this.network.network, this.network.prefixLength)) return this.toPeer(from, this.tunnels.get(destination));
    const site = this.siteOf(destination);
    if (site) return site.client === from.name ? 'forbidden-destination' : this.toPeer(from, this.#byName.get(site.client));
    return inAnyNetwork(destination, from.routes) ? 'adapter' : 'not-routed';
  }

  /** The site network holding `address` (longest prefix), if any. */
  siteOf(address: number): SiteNetwork | undefined {
    const sites = this.#sites;
    for (let i = 0; i < sites.length; i++) if (inSubnet(address, sites[i]!.network, sites[i]!.prefixLength)) return sites[i];
    return undefined;
  }

  /** The verdict for a datagram the server's kernel sends toward the tunnel network. */
  routeToClient(datagram: Uint8Array): 'client' | 'malformed' | 'no-client' {
    this.peer = undefined;
    if (checkIpv4(datagram) !== undefined) return 'malformed';
    const destination = ipv4Destination(datagram);
    this.peer = this.tunnels.get(destination);
    if (!this.peer) {
      const site = this.siteOf(destination);
      this.peer = site && this.#byName.get(site.client);
    }
    return this.peer ? 'client' : 'no-client';
  }

  private toPeer(from: T, peer: T | undefined): RouteVerdict {
    if (!peer) return 'no-client';
    if (peer === from) return 'forbidden-destination'; // its own address or site is on its own side, never sent back to it (as router6)
    if (!from.clientToClient || !peer.clientToClient) return 'client-to-client-denied';
    this.peer = peer;
    return 'client';
  }
}
