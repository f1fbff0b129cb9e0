/**
 * Who may connect and what they get: the authorize() the server state
 * machine calls once a client has proved its key. Pure over the config and
 * the lease table.
 */
import type { ServerConfig } from '../config/schema.js';
import { decodeKey, keysEqual } from '../crypto/keys.js';
import { CloseCode } from '../protocol/frames/close-codes.js';
import type { AuthorizeRequest, AuthorizeResult } from '../protocol/machines/server.js';
import { ipv6LeaseFor, type Ipv6PoolConfig } from './pool6.js';
import { DEFAULT_GATEWAY_MAC, type Lease } from '../lease.js';
import { numberToIpv4, ipv4ToNumber } from '../wire/addr.js';
import type { LeasePool, LeaseStore } from './leases.js';
import type { Cidr } from '../config/fields.js';
import type { SiteNetwork } from './router.js';
import type { SiteNetwork6 } from './router6.js';
import { ipv6ToBytes } from '../wire/addr6.js';

export interface ClientPolicy {
  name: string;
  clientToClient: boolean;
  /** The networks pushed to this client: with the gateway, where it may send (src/server/router.ts). */
  routes: readonly Cidr[];
}

interface AuthorizedClient {
  name: string;
  publicKey: Uint8Array;
  enabled: boolean;
  clientToClient: boolean;
  /** Routes pushed to this client: its own list, or tunnel.routes. */
  routes: readonly Cidr[];
  /** The site networks behind this client (its branch LAN), routed into its tunnel. */
  networks: readonly Cidr[];
  networks6: readonly Cidr[];
}

/** Every client's IPv6 site networks, for the IPv6 router (config order). */
export function siteNetworks6Of(config: ServerConfig): SiteNetwork6[] {
  return config.clients.flatMap((c) => c.networks6.map((n) => ({ client: c.name, network: ipv6ToBytes(n.address), prefixLength: n.prefixLength })));
}

/** Every client's site networks, for the router and the server's kernel routes (config order). */
export function siteNetworksOf(config: ServerConfig): SiteNetwork[] {
  return config.clients.flatMap((c) => c.networks.map((n) => ({ client: c.name, network: ipv4ToNumber(n.address), prefixLength: n.prefixLength })));
}

/** The tunnel gateway: configured, or the network's first host (the schema fills it in; kept for older callers). */
export function gatewayOf(config: ServerConfig): string {
  return config.tunnel.gateway ?? numberToIpv4(ipv4ToNumber(config.tunnel.network.address) + 1);
}

/** The lease pool the config describes: network, gateway, dynamic range, fixed addresses and lease time. */
export function leasePoolOf(config: ServerConfig): LeasePool {
  const { tunnel } = config;
  return {
    network: tunnel.network.address,
    prefixLength: tunnel.network.prefixLength,
    gateway: gatewayOf(config),
    start: tunnel.pool.start,
    end: tunnel.pool.end,
    leaseTimeMs: tunnel.leaseTimeMs,
    fixed: new Map(config.clients.flatMap((c) => (c.fixed_address ? [[c.name, c.fixed_address] as const] : []))),
  };
}

export class ServerPolicy {
  #clients = new Map<string, AuthorizedClient>();

  constructor(
    private config: ServerConfig,
    private readonly leases: LeaseStore,
  ) {
    this.reload(config);
  }

  /** Replaces the authorized clients (SIGHUP). */
  reload(config: ServerConfig): void {
    this.config = config;
    this.#clients = new Map(
      config.clients.map((c) => [
        c.name,
        {
          name: c.name,
          publicKey: decodeKey(c.public_key, `clients.${c.name}.public_key`, { secret: false }),
          enabled: c.enabled,
          clientToClient: c.client_to_client ?? config.client_to_client,
          routes: c.routes ?? config.tunnel.routes,
          networks: c.networks,
          networks6: c.networks6,
        },
      ]),
    );
  }

  /** Still allowed after a reload: known, enabled and with the same key. */
  stillAllowed(name: string, publicKey: Uint8Array): boolean {
    const client = this.#clients.get(name);
    return client !== undefined && client.enabled && keysEqual(client.publicKey, publicKey);
  }

  authorize(request: AuthorizeRequest): AuthorizeResult {
    const client = this.#clients.get(request.name);
    // Unknown name and wrong key get the same answer: no oracle for valid names.
    if (!client || !keysEqual(client.publicKey, request.publicKey)) {
      return { ok: false, code: CloseCode.AUTHENTICATION_FAILURE, reason: 'unknown client or wrong key' };
    }
    // Sealed to the key this client proved (the RESPONSE refusal), so naming its own state leaks nothing to anyone else.
    if (!client.enabled) return { ok: false, code: CloseCode.POLICY, reason: 'client is disabled' };
    let address: string;
    try {
      address = this.leases.acquire(client.name);
    } catch (error) {
      // The pool's range and occupancy are ours to know: the client hears only that there is no address for it.
      return { ok: false, code: CloseCode.POLICY, reason: 'no address available for this client', detail: `client "${client.name}": ${(error as Error).message}` };
    }
    const policy: ClientPolicy = { name: client.name, clientToClient: client.clientToClient, routes: client.routes };
    const lease = this.leaseFor(address, [...client.routes, ...this.sitesReachableBy(client)]);
    if (lease.ipv6) lease.ipv6.routes.push(...this.sitesReachableBy(client, 'networks6').map((n) => ({ prefix: n.address, prefixLength: n.prefixLength })));
    return { ok: true, lease, policy, ...(this.config.suites ? { suites: this.config.suites } : {}) };
  }

  /**
   * Other clients' site networks this client may reach, to push as its
   * routes: only where both allow client-to-client (the router's rule), and
   * never its own networks, which are on its LAN.
   */
  sitesReachableBy(client: { name: string; clientToClient: boolean }, family: 'networks' | 'networks6' = 'networks'): Cidr[] {
    if (!client.clientToClient) return [];
    return [...this.#clients.values()].filter((other) => other.name !== client.name && other.clientToClient).flatMap((other) => other[family]);
  }

  /** The lease for `address`, pushing `routes` (default: tunnel.routes). */
  leaseFor(address: string, routes: readonly Cidr[] = this.config.tunnel.routes): Lease {
    const { tunnel, adapter } = this.config;
    const gateway = gatewayOf(this.config);
    return {
      address,
      prefixLength: tunnel.network.prefixLength,
      gateway,
      routes: routes.map((r) => ({ destination: r.address, prefixLength: r.prefixLength, gateway })),
      dnsServers: tunnel.dns,
      ...(tunnel.search_domain ? { searchDomain: tunnel.search_domain } : {}),
      mtu: adapter.mtu,
      leaseTimeSec: tunnel.lease_time,
      gatewayMac: DEFAULT_GATEWAY_MAC,
      ...(tunnel.network6 && { ipv6: ipv6LeaseFor(ipv6PoolOf(this.config)!, address) }),
    };
  }
}

/** The IPv6 pool of a config with `[tunnel] network6`, undefined without. */
export function ipv6PoolOf(config: ServerConfig): Ipv6PoolConfig | undefined {
  const { tunnel } = config;
  if (!tunnel.network6) return undefined;
  return {
    network6: { prefix: tunnel.network6.address, prefixLength: tunnel.network6.prefixLength },
    network4: tunnel.network,
    gateway4: gatewayOf(config),
    routes6: tunnel.routes6.map((r) => ({ prefix: r.address, prefixLength: r.prefixLength })),
    dns6: tunnel.dns6,
  };
}
