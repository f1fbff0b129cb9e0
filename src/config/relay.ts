/**
 * The relay's config (relay.toml): the name it is known by in RELAY paths,
 * where it listens, the limits it enforces on every connection, and server
 * groups: a name that clients put as the last hop, behind which the relay
 * picks a healthy, least-loaded tunnel server (issue 5).
 */
import { z } from 'zod';
import { MAX_FRAME_LENGTH, MAX_PATH_HOPS } from '../protocol/frames/limits.js';
import { filePath, hostPort, ipv4, logLevel, port, publicKey, seconds } from './fields.js';

export const DEFAULT_RELAY_PORT = 5556;
/** A RELAY frame of 16 maximal hops is ~4.2 KiB; ordinary paths are far smaller. */
const DEFAULT_MAX_RELAY_FRAME_BYTES = 4096;

const count = (what: string) => z.number({ error: `expected a whole number of ${what}` }).int(`expected a whole number of ${what}`).min(1, `expected at least 1 ${what}`);

const limits = z
  .strictObject({
    max_path_length: count('hops').max(MAX_PATH_HOPS, `expected at most ${MAX_PATH_HOPS} hops (the protocol's limit)`).default(MAX_PATH_HOPS),
    max_relay_frame_size: count('bytes').min(64, 'expected at least 64 bytes').max(MAX_FRAME_LENGTH, `expected at most ${MAX_FRAME_LENGTH} bytes`).default(DEFAULT_MAX_RELAY_FRAME_BYTES),
    connect_timeout: seconds.default(10),
    idle_timeout: seconds.default(300),
    max_connections: count('connections').default(1024),
    max_connections_per_source: count('connections').default(32),
  })
  .prefault({})
  .superRefine((l, ctx) => {
    if (l.max_connections_per_source > l.max_connections) {
      ctx.addIssue({ code: 'custom', path: ['max_connections_per_source'], message: `expected at most limits.max_connections (${l.max_connections}), got ${l.max_connections_per_source}` });
    }
  })
  .transform((l) => ({ ...l, connectTimeoutMs: l.connect_timeout * 1000, idleTimeoutMs: l.idle_timeout * 1000 }));

const groupServer = z.strictObject({
  /** Where the relay connects tunnels to (host or IP). */
  address: z.string({ error: 'expected a host name or IP address' }).min(1, 'expected a host name or IP address').regex(/^[^\s/]+$/, 'expected a host name or IP address without spaces'),
  port: port.default(5555),
  /** The server's status port for health and load probes. */
  status_port: port,
  /** The server's public key: authenticates its status answers. */
  public_key: publicKey,
});

const group = z.strictObject({
  /** The name (host:port) clients put as the last hop of their path. */
  name: hostPort,
  servers: z.array(groupServer).min(1, 'expected at least one server in the group'),
});

export const relayConfigSchema = z
  .strictObject({
    /** The name (host:port) this relay is known by in RELAY paths. */
    name: hostPort,
    /** Further names that also mean this relay (e.g. a second DNS name). */
    aliases: z.array(hostPort).default([]),
    log_level: logLevel.optional(),
    listen: z.strictObject({ address: ipv4.default('0.0.0.0'), port: port.default(DEFAULT_RELAY_PORT) }).prefault({}),
    /** Key for the authenticated status exchange with group servers; needed only when groups are configured. */
    private_key_file: filePath.optional(),
    /** Run as this user and group once the port is bound (the relay needs no other privilege). */
    user: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    limits,
    health: z
      .strictObject({ interval: seconds.default(5), timeout: seconds.default(2) })
      .prefault({})
      .transform((h) => ({ ...h, intervalMs: h.interval * 1000, timeoutMs: h.timeout * 1000 })),
    groups: z.array(group).default([]),
  })
  .superRefine((config, ctx) => {
    const names = new Map<string, string>([[config.name, 'name']]);
    config.aliases.forEach((alias, i) => {
      if (names.has(alias)) ctx.addIssue({ code: 'custom', path: ['aliases', i], message: `expected a name not used elsewhere in this file, got "${alias}" (also ${names.get(alias)})` });
      names.set(alias, `aliases[${i}]`);
    });
    config.groups.forEach((g, i) => {
      if (names.has(g.name)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `expected a name not used elsewhere in this file, got "${g.name}" (also ${names.get(g.name)})` });
      names.set(g.name, `groups[${i}].name`);
      const endpoints = new Set<string>();
      g.servers.forEach((s, j) => {
        const endpoint = `${s.address}:${s.port}`;
        if (endpoints.has(endpoint)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'servers', j], message: `expected distinct servers in a group, got ${endpoint} twice` });
        endpoints.add(endpoint);
      });
    });
    if (config.groups.length > 0 && !config.private_key_file) {
      ctx.addIssue({ code: 'custom', path: ['private_key_file'], message: 'expected a key file: server groups need it for the authenticated status exchange' });
    }
    if ((config.user === undefined) !== (config.group === undefined)) {
      ctx.addIssue({ code: 'custom', path: [config.user === undefined ? 'user' : 'group'], message: 'expected user and group together (both or neither)' });
    }
  });

export type RelayConfig = z.output<typeof relayConfigSchema>;
