/**
 * The server kernel's routes to the clients' site networks (issue 14,
 * site-to-site): each configured network, IPv4 and IPv6, routed on-link
 * into the server's adapter (`ip route replace N dev <adapter>`), so the LAN
 * behind the server reaches a branch LAN by the kernel's own routing; the
 * adapter's ARP and NDP emulators answer for those addresses and the routers
 * pick the tunnel.
 *
 * `apply` brings the kernel to a new list (at start, on reload): routes no
 * longer configured are removed, new ones added, the rest left alone.
 * `clear` removes them all (stop). The routes also vanish with the adapter
 * itself, so a killed server leaves none behind.
 */
import { addDeviceRoute, deleteDeviceRoute } from '../../adapter/link.js';
import type { Cidr } from '../config/fields.js';
import type { ServerConfig } from '../config/schema.js';

/** Every client's site networks, as `a.b.c.d/n` and `x::/n` text (config order, no repeats: the config refuses overlaps). */
export function siteRouteList(config: ServerConfig): string[] {
  return config.clients.flatMap((c) => [...c.networks, ...c.networks6].map((n: Cidr) => `${n.address}/${n.prefixLength}`));
}

export interface RouteCommands {
  add(device: string, destination: string, prefixLength: number): Promise<void>;
  remove(device: string, destination: string, prefixLength: number): Promise<void>;
}

const IP_ROUTE: RouteCommands = { add: addDeviceRoute, remove: deleteDeviceRoute };

export class SiteRoutes {
  #installed = new Set<string>();

  constructor(
    private readonly device: string,
    private readonly commands: RouteCommands = IP_ROUTE,
  ) {}

  /** The routes in the kernel now, as `a.b.c.d/n`. */
  get installed(): readonly string[] {
    return [...this.#installed];
  }

  /**
   * Removes what is gone, then adds what is new; resolves to the number of
   * changes. Every change is tried; the first failure is thrown after the
   * rest (each error names the command).
   */
  async apply(networks: readonly string[]): Promise<number> {
    const wanted = new Set(networks);
    const changes = [
      ...[...this.#installed].filter((n) => !wanted.has(n)).map((n) => ['remove', n] as const),
      ...networks.filter((n) => !this.#installed.has(n)).map((n) => ['add', n] as const),
    ];
    const errors: Error[] = [];
    for (const [kind, network] of changes) await this.#change(kind, network).catch((error: Error) => errors.push(error));
    if (errors.length > 0) throw errors[0]!;
    return changes.length;
  }

  async clear(): Promise<void> {
    await this.apply([]);
  }

  async #change(kind: 'add' | 'remove', network: string): Promise<void> {
    const slash = network.lastIndexOf('/');
    const [destination, prefix] = [network.slice(0, slash), network.slice(slash + 1)];
    await this.commands[kind](this.device, destination, Number(prefix));
    if (kind === 'add') this.#installed.add(network);
    else this.#installed.delete(network);
  }
}
