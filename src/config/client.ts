/**
 * The road-warrior client's config (client.toml): who we are, the server we
 * pin by its public key, an optional relay path before it, how the host
 * takes its address (the system DHCP client against our emulator, or set
 * directly), keepalive and reconnect backoff.
 */
import { z } from 'zod';
import { MAX_PATH_HOPS } from '../protocol/frames/limits.js';
import { controlSection, filePath, metricsSection, hostPort, interfaceName, keepalive, logLevel, nodeName, port, publicKey, seconds, suites } from './fields.js';
import { DEFAULT_SERVER_PORT } from './server.js';

export const DHCP_CLIENTS = ['auto', 'dhclient', 'dhcpcd', 'udhcpc', 'none'] as const;

const reconnect = z
  .strictObject({ min_delay: seconds.default(1), max_delay: seconds.default(60) })
  .prefault({})
  .superRefine((r, ctx) => {
    if (r.max_delay < r.min_delay) ctx.addIssue({ code: 'custom', path: ['max_delay'], message: `expected at least reconnect.min_delay (${r.min_delay} s), got ${r.max_delay}` });
  })
  .transform((r) => ({ ...r, minDelayMs: r.min_delay * 1000, maxDelayMs: r.max_delay * 1000 }));

export const clientConfigSchema = z
  .strictObject({
    name: nodeName,
    log_level: logLevel.optional(),
    private_key_file: filePath,
    server: z.strictObject({
      address: z.string({ error: 'expected a host name or IP address' }).min(1, 'expected a host name or IP address').regex(/^[^\s/]+$/, 'expected a host name or IP address without spaces'),
      port: port.default(DEFAULT_SERVER_PORT),
      public_key: publicKey,
      /** The name (host:port) the server answers to, when it differs from address:port (e.g. behind a relay). */
      name: hostPort.optional(),
    }),
    /** Relays to cross, in order, before the server: ["relay1.example.net:5556", ...]. */
    relays: z.array(hostPort).max(MAX_PATH_HOPS - 1, `expected at most ${MAX_PATH_HOPS - 1} relays (a path has at most ${MAX_PATH_HOPS} hops)`).default([]),
    adapter: z.strictObject({ name: interfaceName.default('tapvpn0') }).prefault({}),
    address_mode: z.enum(['dhcp', 'static'], { error: 'expected "dhcp" or "static"' }).default('dhcp'),
    dhcp_client: z.enum(DHCP_CLIENTS, { error: `expected one of ${DHCP_CLIENTS.join(', ')}` }).default('auto'),
    suites: suites.optional(),
    keepalive,
    reconnect,
    control: controlSection,
    metrics: metricsSection,
  })
  .superRefine((config, ctx) => {
    const hops = [...config.relays, config.server.name ?? `${config.server.address}:${config.server.port}`];
    const seen = new Map<string, number>();
    hops.forEach((hop, i) => {
      const first = seen.get(hop);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: i < config.relays.length ? ['relays', i] : ['server'], message: `expected distinct hops (a loop is refused by every relay), got "${hop}" twice` });
      seen.set(hop, i);
    });
  });

export type ClientConfig = z.output<typeof clientConfigSchema>;
