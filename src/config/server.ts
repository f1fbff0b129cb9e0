/**
 * The tunnel server's config (server.toml). Defaults make a minimal file
 * work: private_key_file, [tunnel] network and the [[clients]]. Cross-field
 * rules are checked here so a running server never meets them: the gateway
 * and the pool inside the tunnel network and clear of its network and
 * broadcast addresses, the pool clear of the gateway, fixed addresses inside
 * the network, outside nobody else's and unique; client names and keys
 * unique; clients' site networks clear of the tunnel network, of each other
 * and of the pushed routes.
 */
import { z } from 'zod';
import { inSubnet, numberToIpv4 } from '../wire/addr.js';
import { ipv6ToBytes, samePrefix6 } from '../wire/addr6.js';
import { isDomainName } from '../protocol/frames/names.js';
import { ipv6PoolProblem } from '../server/pool6.js';
import { cidr, cidr6, daemonUser, ipv6, listenAddress, controlSection, filePath, metricsSection, interfaceName, ipv4, ipv4Number, keepalive, logLevel, nodeName, port, publicKey, seconds, suites, hostPort, type Cidr } from './fields.js';

export const DEFAULT_STATUS_PORT = 5556;
export const DEFAULT_SERVER_PORT = 5555;
export const DEFAULT_LEASE_FILE = '/var/lib/tapvpn/leases.json';
const DEFAULT_LEASE_TIME_SEC = 3600;
const DEFAULT_MTU = 1400;
const DEFAULT_KEY_LIFETIME_SEC = 600;
const DEFAULT_KEY_LIFETIME_BYTES = 2 ** 30;
/** A fresh handshake (new ephemeral DH, authorization against the current config) at least this often; CRYPTO.md "Key lifetimes". */
export const DEFAULT_SESSION_MAX_AGE_SEC = 3 * 3600;
/** How often the server checks its config file for changes when the file system's notifications miss one. */
const DEFAULT_RELOAD_POLL_SEC = 1;

const clientEntry = z.strictObject({
  name: nodeName,
  public_key: publicKey,
  enabled: z.boolean().default(true),
  fixed_address: ipv4.optional(),
  /** Replaces tunnel.routes for this client. */
  routes: z.array(cidr).optional(),
  /** Overrides the top-level client_to_client for this client. */
  client_to_client: z.boolean().optional(),
  /** Site-to-site: the networks behind this client (its branch LAN), routed into its tunnel; sources in them are accepted from it. */
  networks: z.array(cidr).default([]),
  /** The IPv6 networks behind this client (with [tunnel] network6): the same, for IPv6. */
  networks6: z.array(cidr6).default([]),
});

const tunnel = z.strictObject({
  network: cidr,
  gateway: ipv4.optional(),
  pool_start: ipv4.optional(),
  pool_end: ipv4.optional(),
  routes: z.array(cidr).default([]),
  /** Let a pushed route (a summary or default route) contain clients' site networks; the more specific network wins. */
  routes_may_cover_networks: z.boolean().default(false),
  dns: z.array(ipv4).default([]),
  search_domain: z
    .string()
    .refine(isDomainName, 'expected a domain name like corp.example.com: letters, digits and inner hyphens in labels of at most 63, joined by dots, at most 253 in all')
    .optional(),
  lease_time: seconds.min(60, 'expected a lease time of at least 60 seconds').default(DEFAULT_LEASE_TIME_SEC),
  /** IPv6 inside the tunnel: each client gets the /64 numbered by its IPv4 address's host part (src/server/pool6.ts). */
  network6: cidr6.optional(),
  routes6: z.array(cidr6).default([]),
  dns6: z.array(ipv6).default([]),
  /** A session older than this is re-handshaken by the client (make-before-break); the server closes it SESSION_MAX_AGE_GRACE later. */
  session_max_age: seconds.default(DEFAULT_SESSION_MAX_AGE_SEC),
});

const serverObject = z.strictObject({
  name: hostPort.optional(),
  log_level: logLevel.optional(),
  listen: z.strictObject({ address: listenAddress.default('0.0.0.0'), port: port.default(DEFAULT_SERVER_PORT) }).prefault({}),
  private_key_file: filePath,
  adapter: z
    .strictObject({
      name: interfaceName.default('tapvpn0'),
      mtu: z.number().int('expected a whole MTU').min(576, 'expected an MTU of at least 576 (RFC 791)').max(65535, 'expected an MTU of at most 65535').default(DEFAULT_MTU),
      /** TCP super-frames through the TAP and the tunnel (IFF_VNET_HDR, TSO/GSO; docs/ADAPTER.md "Offload"). */
      offload: z.boolean().default(true),
    })
    .prefault({}),
  tunnel,
  lease_file: filePath.default(DEFAULT_LEASE_FILE),
  masquerade: z.strictObject({ enabled: z.boolean().default(false), out_interface: interfaceName.optional() }).prefault({}),
  /** The authenticated load/health endpoint relays probe (src/io/status-exchange.ts); loopback unless a management address is set. */
  status: z
    .strictObject({ enabled: z.boolean().default(false), address: ipv4.default('127.0.0.1'), port: port.default(DEFAULT_STATUS_PORT), key_file: filePath.optional() })
    .prefault({}),
  /** Drop to this user (its primary group, no capabilities) once the TAP is configured and the tunnel port bound (src/server/run.ts). */
  user: daemonUser.optional(),
  client_to_client: z.boolean().default(false),
  control: controlSection,
  metrics: metricsSection,
  suites: suites.optional(),
  keepalive,
  key_lifetime: z
    .strictObject({ seconds: seconds.default(DEFAULT_KEY_LIFETIME_SEC), bytes: z.number().int('expected a whole number of bytes').min(1 << 20, 'expected at least 1 MiB (1048576)').default(DEFAULT_KEY_LIFETIME_BYTES) })
    .prefault({}),
  clients: z.array(clientEntry).default([]),
  /** Handshake flood limits (src/server/handshake-gate.ts, docs/SECURITY.md "Handshake floods"). */
  handshake_limits: z
    .strictObject({
      per_source_burst: z.number().int().min(1).default(32),
      per_source_rate: z.number().positive().default(8),
      /** Relays this server is reached through: many clients behind one address. */
      relay_sources: z.array(z.union([ipv4, ipv6])).default([]),
      relay_burst: z.number().int().min(1).default(256),
      relay_rate: z.number().positive().default(64),
      load_rate: z.number().int().min(1).default(200),
      load_handshakes: z.number().int().min(1).default(64),
    })
    .prefault({}),
  /** The server applies its config file when it changes, as on SIGHUP (src/io/config-watch.ts). */
  reload: z.strictObject({ watch: z.boolean().default(true), poll_interval: seconds.max(60, 'expected at most 60 seconds').default(DEFAULT_RELOAD_POLL_SEC) }).prefault({}),
});

type RawServer = z.output<typeof serverObject>;

interface Span {
  network: number;
  broadcast: number;
}

function spanOf(network: Cidr): Span {
  const base = ipv4Number(network.address);
  return { network: base, broadcast: (base + 2 ** (32 - network.prefixLength) - 1) >>> 0 };
}

/** The first usable host (gateway default), the pool bounds, as numbers. */
function addressPlan(config: RawServer): { gateway: number; poolStart: number; poolEnd: number } {
  const span = spanOf(config.tunnel.network);
  const gateway = config.tunnel.gateway ? ipv4Number(config.tunnel.gateway) : span.network + 1;
  const defaultStart = gateway === span.network + 1 ? span.network + 2 : span.network + 1;
  const poolStart = config.tunnel.pool_start ? ipv4Number(config.tunnel.pool_start) : defaultStart;
  const poolEnd = config.tunnel.pool_end ? ipv4Number(config.tunnel.pool_end) : span.broadcast - 1;
  return { gateway, poolStart, poolEnd };
}

function checkAddresses(config: RawServer, ctx: z.RefinementCtx): void {
  const { network } = config.tunnel;
  if (network.prefixLength > 30) {
    ctx.addIssue({ code: 'custom', path: ['tunnel', 'network'], message: `expected a prefix of /30 or shorter (room for a gateway and clients), got /${network.prefixLength}` });
    return;
  }
  const span = spanOf(network);
  const text = `${network.address}/${network.prefixLength}`;
  const usable = (n: number): boolean => inSubnet(n, span.network, network.prefixLength) && n !== span.network && n !== span.broadcast;
  const plan = addressPlan(config);
  if (!usable(plan.gateway)) ctx.addIssue({ code: 'custom', path: ['tunnel', 'gateway'], message: `expected a host address inside tunnel.network ${text} (not its network or broadcast address), got ${numberToIpv4(plan.gateway)}` });
  for (const [key, value] of [['pool_start', plan.poolStart], ['pool_end', plan.poolEnd]] as const) {
    if (!usable(value)) ctx.addIssue({ code: 'custom', path: ['tunnel', key], message: `expected a host address inside tunnel.network ${text}, got ${numberToIpv4(value)}` });
  }
  if (plan.poolStart > plan.poolEnd) ctx.addIssue({ code: 'custom', path: ['tunnel', 'pool_end'], message: `expected an address at or after tunnel.pool_start ${numberToIpv4(plan.poolStart)}, got ${numberToIpv4(plan.poolEnd)}` });
  else if ((config.tunnel.pool_start || config.tunnel.pool_end) && plan.gateway >= plan.poolStart && plan.gateway <= plan.poolEnd) {
    ctx.addIssue({ code: 'custom', path: ['tunnel', config.tunnel.pool_start ? 'pool_start' : 'pool_end'], message: `expected a pool that does not contain the gateway ${numberToIpv4(plan.gateway)}, got ${numberToIpv4(plan.poolStart)}-${numberToIpv4(plan.poolEnd)}` });
  }
  const network6 = config.tunnel.network6;
  const problem6 = network6 && ipv6PoolProblem(network6.prefixLength, network.prefixLength);
  if (problem6) ctx.addIssue({ code: 'custom', path: ['tunnel', 'network6'], message: problem6 });
  const fixed = new Map<string, number>();
  config.clients.forEach((client, i) => {
    if (!client.fixed_address) return;
    const value = ipv4Number(client.fixed_address);
    const path = ['clients', i, 'fixed_address'];
    if (!usable(value)) ctx.addIssue({ code: 'custom', path, message: `expected a host address inside tunnel.network ${text}, got ${client.fixed_address}` });
    else if (value === plan.gateway) ctx.addIssue({ code: 'custom', path, message: `expected an address other than the gateway, got ${client.fixed_address}` });
    const other = fixed.get(client.fixed_address);
    if (other !== undefined) ctx.addIssue({ code: 'custom', path, message: `expected an address no other client has, got ${client.fixed_address} (also clients[${other}])` });
    fixed.set(client.fixed_address, i);
  });
}

/** Never routed to a client, whatever is configured (the router's forbidden destinations). */
const NOT_SITE_NETWORKS: readonly Cidr[] = [
  { address: '0.0.0.0', prefixLength: 8 },
  { address: '127.0.0.0', prefixLength: 8 },
  { address: '169.254.0.0', prefixLength: 16 },
  { address: '224.0.0.0', prefixLength: 3 },
];

function text(network: Cidr): string {
  return `${network.address}/${network.prefixLength}`;
}

/** Two networks overlap when one contains the other: they agree on the shorter prefix. */
function overlaps(a: Cidr, b: Cidr): boolean {
  return inSubnet(ipv4Number(a.address), ipv4Number(b.address), Math.min(a.prefixLength, b.prefixLength));
}

/** What differs between the IPv4 and the IPv6 site networks of a client; the rules are the same. */
interface SiteFamily {
  key: 'networks' | 'networks6';
  overlaps(a: Cidr, b: Cidr): boolean;
  /** The tunnel's own network (undefined: this family is not in the tunnel, so no site networks of it). */
  tunnelNetwork: Cidr | undefined;
  tunnelKey: string;
  /** The pushed routes, with where each is configured. */
  pushed: Array<{ route: Cidr; where: string }>;
  reserved: readonly Cidr[];
  reservedText: string;
}

/**
 * Site networks (issue 14, site-to-site): each outside the tunnel network,
 * the addresses no client may reach, every other client's networks, and the
 * pushed routes — a route may contain one (a summary or default route) only
 * with tunnel.routes_may_cover_networks, and never lie inside one.
 */
function checkSiteNetworks(config: RawServer, ctx: z.RefinementCtx): void {
  const { tunnel } = config;
  checkSiteNetworksOf(config, ctx, {
    key: 'networks',
    overlaps,
    tunnelNetwork: tunnel.network,
    tunnelKey: 'tunnel.network',
    pushed: [
      ...tunnel.routes.map((route, j) => ({ route, where: `tunnel.routes[${j}]` })),
      ...config.clients.flatMap((c, i) => (c.routes ?? []).map((route, j) => ({ route, where: `clients[${i}].routes[${j}]` }))),
    ],
    reserved: NOT_SITE_NETWORKS,
    reservedText: '0/8, 127/8, 169.254/16 and 224/3 are never routed to a client',
  });
  checkSiteNetworksOf(config, ctx, {
    key: 'networks6',
    overlaps: overlaps6,
    tunnelNetwork: tunnel.network6,
    tunnelKey: 'tunnel.network6',
    pushed: tunnel.routes6.map((route, j) => ({ route, where: `tunnel.routes6[${j}]` })),
    reserved: NOT_SITE_NETWORKS6,
    reservedText: '::/8, fe80::/10 and ff00::/8 are never routed to a client',
  });
}

function checkSiteNetworksOf(config: RawServer, ctx: z.RefinementCtx, family: SiteFamily): void {
  const { overlaps: overlap, tunnelNetwork } = family;
  const seen: Array<{ network: Cidr; where: string }> = [];
  config.clients.forEach((client, i) => {
    client[family.key].forEach((network, j) => {
      const path = ['clients', i, family.key, j];
      const problem = (message: string): void => ctx.addIssue({ code: 'custom', path, message: `${message}, got ${text(network)}` });
      if (!tunnelNetwork) return problem('expected no IPv6 site networks without [tunnel] network6 (IPv6 in the tunnel)');
      if (overlap(network, tunnelNetwork)) return problem(`expected a network outside ${family.tunnelKey} ${text(tunnelNetwork)}`);
      const reserved = family.reserved.find((r) => overlap(network, r));
      if (reserved) return problem(`expected a unicast network outside ${text(reserved)} (${family.reservedText})`);
      const other = seen.find((s) => overlap(network, s.network));
      if (other) return problem(`expected a network no other site network overlaps (${other.where} is ${text(other.network)})`);
      seen.push({ network, where: `clients[${i}].${family.key}[${j}]` });
      for (const { route, where } of family.pushed) {
        if (!overlap(network, route)) continue;
        if (route.prefixLength >= network.prefixLength) return problem(`expected a network that does not contain the pushed route ${where} ${text(route)} (the LAN behind the server)`);
        if (!config.tunnel.routes_may_cover_networks) return problem(`expected a network outside the pushed route ${where} ${text(route)}, or tunnel.routes_may_cover_networks = true to let a summary or default route cover site networks (the more specific network wins)`);
      }
    });
  });
}

/** Never routed to a client over IPv6 (the IPv6 router's forbidden destinations). */
const NOT_SITE_NETWORKS6: readonly Cidr[] = [
  { address: '::', prefixLength: 8 }, // unspecified, loopback, IPv4-mapped and other reserved
  { address: 'fe80::', prefixLength: 10 },
  { address: 'ff00::', prefixLength: 8 },
];

function overlaps6(a: Cidr, b: Cidr): boolean {
  return samePrefix6(ipv6ToBytes(a.address), 0, ipv6ToBytes(b.address), 0, Math.min(a.prefixLength, b.prefixLength));
}

function checkClients(config: RawServer, ctx: z.RefinementCtx): void {
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  config.clients.forEach((client, i) => {
    const sameName = names.get(client.name);
    if (sameName !== undefined) ctx.addIssue({ code: 'custom', path: ['clients', i, 'name'], message: `expected a unique name, got "${client.name}" (also clients[${sameName}])` });
    const sameKey = keys.get(client.public_key);
    if (sameKey !== undefined) ctx.addIssue({ code: 'custom', path: ['clients', i, 'public_key'], message: `expected a key no other client has, got the key of clients[${sameKey}]` });
    names.set(client.name, i);
    keys.set(client.public_key, i);
  });
}

function checkServices(config: RawServer, ctx: z.RefinementCtx): void {
  if (config.status.enabled && !config.status.key_file) {
    ctx.addIssue({ code: 'custom', path: ['status', 'key_file'], message: 'expected the shared status key file (tapvpn genkey --out status.key) when status.enabled = true' });
  }
  if (config.masquerade.enabled && !config.masquerade.out_interface) {
    ctx.addIssue({ code: 'custom', path: ['masquerade', 'out_interface'], message: 'expected the LAN-facing interface (e.g. "eth0") when masquerade.enabled = true' });
  }
  if (config.masquerade.enabled && config.user) {
    ctx.addIssue({ code: 'custom', path: ['user'], message: 'expected no user when masquerade.enabled = true: removing the NAT rules at exit needs the privileges a dropped user no longer has (configure NAT on the host instead)' });
  }
  // The status endpoint listens after the drop (like the tunnel port, but without a port bound while privileged).
  if (config.user && config.status.enabled && config.status.port < PRIVILEGED_PORT_LIMIT) {
    ctx.addIssue({ code: 'custom', path: ['status', 'port'], message: `expected a status port of ${PRIVILEGED_PORT_LIMIT} or more with user set: the server starts it after dropping its privileges, got ${config.status.port}` });
  }
}

/** Ports below this need CAP_NET_BIND_SERVICE to bind. */
const PRIVILEGED_PORT_LIMIT = 1024;

export const serverConfigSchema = serverObject
  .superRefine((config, ctx) => {
    checkAddresses(config, ctx);
    checkClients(config, ctx);
    checkSiteNetworks(config, ctx);
    checkServices(config, ctx);
  })
  .transform((config) => {
    const plan = addressPlan(config);
    return {
      ...config,
      tunnel: { ...config.tunnel, gateway: numberToIpv4(plan.gateway), pool: { start: numberToIpv4(plan.poolStart), end: numberToIpv4(plan.poolEnd) }, leaseTimeMs: config.tunnel.lease_time * 1000 },
      key_lifetime: { ...config.key_lifetime, maxAgeMs: config.key_lifetime.seconds * 1000 },
    };
  });

export type ServerConfig = z.output<typeof serverConfigSchema>;
export type ServerClientConfig = ServerConfig['clients'][number];
