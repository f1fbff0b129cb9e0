/**
 * The road-warrior client's config (client.toml): who we are, the server we
 * pin by its public key, an optional relay path before it, how the host
 * takes its address (the system DHCP client against our emulator, or set
 * directly), keepalive and reconnect backoff.
 */
import { z } from 'zod';
import { MAX_PATH_HOPS } from '../protocol/frames/limits.js';
import { hostPortName } from '../protocol/frames/names.js';
import { controlSection, filePath, metricsSection, hostPort, interfaceName, keepalive, logLevel, nodeName, port, publicKey, seconds, suites } from './fields.js';
import { DEFAULT_SERVER_PORT, DEFAULT_SESSION_MAX_AGE_SEC } from './server.js';

export const DHCP_CLIENTS = ['auto', 'dhclient', 'dhcpcd', 'udhcpc', 'none'] as const;

const reconnect = z
  .strictObject({ min_delay: seconds.default(1), max_delay: seconds.default(60) })
  .prefault({})
  .superRefine((r, ctx) => {
    if (r.max_delay < r.min_delay) ctx.addIssue({ code: 'custom', path: ['max_delay'], message: `expected at least reconnect.min_delay (${r.min_delay} s), got ${r.max_delay}` });
  })
  .transform((r) => ({ ...r, minDelayMs: r.min_delay * 1000, maxDelayMs: r.max_delay * 1000 }));

/** Most servers in a failover list. */
export const MAX_SERVERS = 16;
export const SERVER_ORDERS = ['in-order', 'random'] as const;

const serverEntry = z.strictObject({
  address: z.string({ error: 'expected a host name or IP address' }).min(1, 'expected a host name or IP address').regex(/^[^\s/]+$/, 'expected a host name or IP address without spaces'),
  port: port.default(DEFAULT_SERVER_PORT),
  public_key: publicKey,
  /** The name (host:port) the server answers to, when it differs from address:port (e.g. behind a relay). */
  name: hostPort.optional(),
});

export type ServerEntry = z.output<typeof serverEntry>;

export const clientConfigSchema = z
  .strictObject({
    name: nodeName,
    log_level: logLevel.optional(),
    private_key_file: filePath,
    /** One server ([server]) or a failover list (servers = [...]); exactly one of the two. */
    server: serverEntry.optional(),
    servers: z.array(serverEntry).min(1, 'expected at least one server').max(MAX_SERVERS, `expected at most ${MAX_SERVERS} servers`).optional(),
    /** How the failover list is walked: "in-order" (first to last, then again) or "random" (another one each time). */
    server_order: z.enum(SERVER_ORDERS, { error: `expected one of ${SERVER_ORDERS.join(', ')}` }).default('in-order'),
    /** Relays to cross, in order, before the server: ["relay1.example.net:5556", ...]. */
    relays: z.array(hostPort).max(MAX_PATH_HOPS - 1, `expected at most ${MAX_PATH_HOPS - 1} relays (a path has at most ${MAX_PATH_HOPS} hops)`).default([]),
    /** offload: TCP super-frames through the TAP and the tunnel (IFF_VNET_HDR, TSO/GSO; docs/ADAPTER.md "Offload"). */
    adapter: z.strictObject({ name: interfaceName.default('tapvpn0'), offload: z.boolean().default(true) }).prefault({}),
    address_mode: z.enum(['dhcp', 'static'], { error: 'expected "dhcp" or "static"' }).default('dhcp'),
    dhcp_client: z.enum(DHCP_CLIENTS, { error: `expected one of ${DHCP_CLIENTS.join(', ')}` }).default('auto'),
    /** A site gateway: forward between the adapter and the LAN behind this host (needs net.ipv4.ip_forward = 1, checked at start). */
    forward: z.boolean().default(false),
    suites: suites.optional(),
    keepalive,
    reconnect,
    /** Re-handshake on a second connection (make-before-break) after a jittered 90-100 % of this; keep it at most the server's. */
    session_max_age: seconds.default(DEFAULT_SESSION_MAX_AGE_SEC),
    control: controlSection,
    metrics: metricsSection,
  })
  // Checked even when other keys are wrong (`when`), so a config missing its server says so with the rest.
  .refine((config) => !config.server !== !config.servers, {
    when: () => true,
    path: ['server'],
    error: (issue) => ((issue.input as { server?: unknown })?.server ? 'expected either [server] or servers = [...], not both' : 'expected the server to connect to: a [server] table, or servers = [...] for failover'),
  })
  .superRefine((config, ctx) => {
    if (!config.server === !config.servers) return;
    const entries = config.servers ?? [config.server!];
    entries.forEach((entry, index) => {
      const where = config.servers ? ['servers', index] : ['server'];
      const hops = [...config.relays, serverHopName(entry)];
      const seen = new Set<string>();
      hops.forEach((hop, i) => {
        if (seen.has(hop)) ctx.addIssue({ code: 'custom', path: i < config.relays.length ? ['relays', i] : where, message: `expected distinct hops (a loop is refused by every relay), got "${hop}" twice` });
        seen.add(hop);
      });
    });
  })
  // Both shapes come out as `servers`; `server` stays the first of them for code that shows one.
  .transform(({ server, servers, ...rest }) => {
    const list = servers ?? [server!];
    return { ...rest, server: list[0]!, servers: list };
  });

/** The name a server answers to: its `name`, else address:port. */
export function serverHopName(entry: ServerEntry): string {
  return entry.name ?? hostPortName(entry.address, entry.port);
}

export type ClientConfig = z.output<typeof clientConfigSchema>;
