/**
 * The relay configuration schema (TOML keys in snake_case, same conventions
 * as schema.ts). A relay is known on paths by `name` (host:port, as clients
 * write it in `relays`); `[[groups]]` name sets of tunnel servers that a
 * path's next hop may stand for. Cross-field rules (distinct names, a group
 * name not clashing with the relay's own, members listed once) are checked
 * here so a running relay never meets them.
 */
import { z } from 'zod';
import { MAX_FRAME_LENGTH, MAX_PATH_HOPS } from '../protocol/frames/limits.js';
import { canonicalHop } from '../protocol/frames/names.js';
import { controlSection, daemonUser, listenAddress, metricsSection } from './fields.js';

/** host:port with port 1..65535, the form RELAY hops take (src/protocol/frames/names.ts). */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[\x21-\x39\x3b-\x5a\x5c\x5e-\x7e]+):([1-9]\d{0,4})$/;

const hostPort = z
  .string()
  .regex(HOST_PORT, 'expected host:port (printable ASCII, port 1..65535), e.g. "relay1.example:7000"')
  .refine((text) => Number(text.slice(text.lastIndexOf(':') + 1)) <= 65535, 'port must be 1..65535')
  .refine((text) => text.length <= 255, 'at most 255 characters')
  // One spelling per IPv6 literal, as the relay compares hops ([0:0::1]:7000 is [::1]:7000).
  .transform(canonicalHop);
const port = z.number().int().min(1).max(65535);
const seconds = z.number().positive();

const groupMember = z.strictObject({
  /** Where the tunnel server listens (host:port). */
  address: hostPort,
  /** Its status port (src/io/status-exchange.ts) on the same host; without it, health is learned from connects only. */
  status_port: port.optional(),
});

const group = z.strictObject({
  /** The host:port name clients put as the last hop (their `server.address:server.port`). */
  name: hostPort,
  servers: z.array(groupMember).min(1).max(32),
});

export const relayConfigSchema = z
  .strictObject({
    name: hostPort,
    /** Other names the relay answers to (e.g. an address on a second network). */
    aliases: z.array(hostPort).default([]),
    listen: z.strictObject({ address: listenAddress.default('0.0.0.0'), port: port.default(7000) }).prefault({}),
    limits: z
      .strictObject({
        max_path_length: z.number().int().min(2).max(MAX_PATH_HOPS).default(MAX_PATH_HOPS),
        max_relay_frame_bytes: z.number().int().min(16).max(MAX_FRAME_LENGTH).default(4096),
        connect_timeout: seconds.default(5),
        idle_timeout: seconds.default(120),
        max_connections: z.number().int().min(1).default(1024),
        max_connections_per_source: z.number().int().min(1).default(64),
        /** New connections (each a handshake passed on to a server) one source may open at once, then per second. */
        per_source_burst: z.number().int().min(1).default(32),
        per_source_rate: z.number().positive().default(8),
      })
      .prefault({}),
    /** Health probing of group members: the shared key file and how often to ask. */
    status: z
      .strictObject({
        key_file: z.string().min(1).optional(),
        probe_interval: seconds.default(2),
        /** A member that has not answered for this long is unhealthy. */
        healthy_for: seconds.default(6),
      })
      .prefault({}),
    groups: z.array(group).default([]),
    /**
     * The only other next hops a RELAY frame may name (besides groups and
     * their members): the relay is no open proxy, everything else is refused.
     */
    next_hops: z
      .strictObject({
        /** Tunnel servers this relay forwards to directly (host:port as clients write it). */
        servers: z.array(hostPort).default([]),
        /** Relays this relay forwards to (their names as paths write them). */
        relays: z.array(hostPort).default([]),
      })
      .prefault({}),
    /** Drop to this user (its primary group, no capabilities) once the listen port is bound (src/relay/run.ts). */
    user: daemonUser.optional(),
    control: controlSection,
    metrics: metricsSection,
  })
  .superRefine((config, ctx) => {
    const own = new Set([config.name, ...config.aliases]);
    if (own.size !== 1 + config.aliases.length) ctx.addIssue({ code: 'custom', path: ['aliases'], message: 'names must be distinct' });
    const seen = new Set<string>();
    config.groups.forEach((g, i) => {
      if (own.has(g.name)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `"${g.name}" is this relay's own name` });
      if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `duplicate group name "${g.name}"` });
      seen.add(g.name);
      const members = new Set<string>();
      g.servers.forEach((s, j) => {
        if (members.has(s.address)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'servers', j, 'address'], message: `${s.address} is listed twice` });
        members.add(s.address);
      });
      if (g.servers.some((s) => s.status_port !== undefined) && !config.status.key_file) {
        ctx.addIssue({ code: 'custom', path: ['status', 'key_file'], message: 'status ports are probed with an authenticated exchange: set status.key_file (the key the servers use)' });
      }
    });
    checkNextHops(config, own, seen, ctx);
  });

/** next_hops: each entry once, never one of our own names (a loop) nor a group's name (say it once, as the group). */
function checkNextHops(config: { next_hops: { servers: string[]; relays: string[] } }, own: Set<string>, groupNames: Set<string>, ctx: z.RefinementCtx): void {
  const listed = new Map<string, string>();
  for (const kind of ['servers', 'relays'] as const) {
    config.next_hops[kind].forEach((hop, i) => {
      const path = ['next_hops', kind, i];
      const where = `next_hops.${kind}`;
      if (own.has(hop)) ctx.addIssue({ code: 'custom', path, message: `"${hop}" is this relay's own name: forwarding to it would loop (remove it from ${where})` });
      else if (groupNames.has(hop)) ctx.addIssue({ code: 'custom', path, message: `"${hop}" is already a group's name: groups are allowed next hops by themselves (remove it from ${where})` });
      else if (listed.has(hop)) ctx.addIssue({ code: 'custom', path, message: `"${hop}" is already listed in ${listed.get(hop)}: list each next hop once` });
      listed.set(hop, where);
    });
  }
}

export type RelayConfig = z.output<typeof relayConfigSchema>;
export type RelayGroupConfig = RelayConfig['groups'][number];
