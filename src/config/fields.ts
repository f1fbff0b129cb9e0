/**
 * Field schemas shared by the server, client and relay configs. Every
 * message starts with "expected ..." and the loader appends what arrived
 * ("got ..."), so each problem reads: file: key.path: expected X, got Y.
 *
 * Durations are written in seconds in TOML (fractions allowed); every
 * duration key `foo` also appears in the parsed config as `fooMs`.
 */
import { z } from 'zod';
import { isBase64Key } from '../crypto/keys.js';
import { MAX_NAME_LENGTH } from '../protocol/frames/limits.js';
import { ipv4ToNumber, prefixToMask } from '../wire/addr.js';
import { canonicalIpv6, ipv6Network, ipv6ToBytes, bytesToIpv6 } from '../wire/addr6.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** host:port or [v6]:port, as the protocol's names (src/protocol/frames/names.ts). */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+):(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})$/;
/** Linux IFNAMSIZ is 16 including the NUL; no '/', ':' or whitespace. */
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export const SUITE_NAMES = ['chacha20-poly1305', 'aes-256-gcm', 'chacha20-hmac-sha256'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface Cidr {
  address: string;
  prefixLength: number;
}

export const ipv4 = z.string({ error: 'expected an IPv4 address like 10.77.0.1' }).regex(IPV4, 'expected an IPv4 address like 10.77.0.1');

export const cidr = z
  .string({ error: 'expected a network like 10.77.0.0/24' })
  .regex(/^[\d.]+\/\d{1,2}$/, 'expected a network like 10.77.0.0/24')
  .transform((text, ctx): Cidr => {
    const [address, prefix] = text.split('/') as [string, string];
    const prefixLength = Number(prefix);
    if (!IPV4.test(address) || prefixLength > 32) {
      ctx.addIssue({ code: 'custom', message: `expected a network like 10.77.0.0/24 (prefix 0..32), got "${text}"` });
      return z.NEVER;
    }
    if ((ipv4ToNumber(address) & ~prefixToMask(prefixLength)) !== 0) {
      ctx.addIssue({ code: 'custom', message: `expected the network address with host bits zero, got "${text}"` });
      return z.NEVER;
    }
    return { address, prefixLength };
  });

/** An IPv6 address in any RFC 4291 text form, kept in its RFC 5952 canonical form. */
export const ipv6 = z
  .string({ error: 'expected an IPv6 address like fd74:7670:6e00::1' })
  .transform((text, ctx): string => {
    try {
      return canonicalIpv6(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected an IPv6 address like fd74:7670:6e00::1, got "${text}"` });
      return z.NEVER;
    }
  });

/** A listening address: IPv4, or IPv6 ("::" listens dual-stack on Linux unless net.ipv6.bindv6only is set). */
export const listenAddress = z
  .string({ error: 'expected an IPv4 or IPv6 address like 0.0.0.0 or ::' })
  .refine((text) => IPV4.test(text) || isIpv6Text(text), 'expected an IPv4 or IPv6 address like 0.0.0.0 or ::');

function isIpv6Text(text: string): boolean {
  try {
    ipv6ToBytes(text);
    return true;
  } catch {
    return false;
  }
}

/** An IPv6 network like fd74:7670:6e00::/48, host bits zero; kept canonical. */
export const cidr6 = z
  .string({ error: 'expected an IPv6 network like fd74:7670:6e00::/48' })
  .transform((text, ctx): Cidr => {
    const slash = text.lastIndexOf('/');
    const prefixLength = Number(text.slice(slash + 1));
    if (slash < 0 || !/^\d{1,3}$/.test(text.slice(slash + 1)) || prefixLength > 128 || !isIpv6Text(text.slice(0, slash))) {
      ctx.addIssue({ code: 'custom', message: `expected an IPv6 network like fd74:7670:6e00::/48 (prefix 0..128), got "${text}"` });
      return z.NEVER;
    }
    const address = canonicalIpv6(text.slice(0, slash));
    if (bytesToIpv6(ipv6Network(ipv6ToBytes(address), prefixLength)) !== address) {
      ctx.addIssue({ code: 'custom', message: `expected the network address with host bits zero, got "${text}"` });
      return z.NEVER;
    }
    return { address, prefixLength };
  });

export const publicKey = z
  .string({ error: 'expected a base64 X25519 public key (44 characters, from `tapvpn pubkey`)' })
  .refine(isBase64Key, 'expected a base64 X25519 public key (44 characters ending in "=", from `tapvpn pubkey`)');

export const port = z.number({ error: 'expected a TCP port number 1..65535' }).int('expected a whole port number').min(1, 'expected a port 1..65535').max(65535, 'expected a port 1..65535');

export const seconds = z.number({ error: 'expected a duration in seconds (a number)' }).positive('expected a positive number of seconds').max(365 * 24 * 3600, 'expected at most a year in seconds');

export const nodeName = z
  .string({ error: 'expected a name of printable ASCII characters' })
  .min(1, 'expected a non-empty name')
  .max(MAX_NAME_LENGTH, `expected at most ${MAX_NAME_LENGTH} characters`)
  .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII characters without spaces');

export const hostPort = z.string({ error: 'expected host:port, e.g. vpn.example.net:5555' }).regex(HOST_PORT, 'expected host:port with port 1..65535, e.g. vpn.example.net:5555');

export const interfaceName = z.string({ error: 'expected a network interface name' }).regex(INTERFACE_NAME, 'expected an interface name of 1-15 characters from A-Z a-z 0-9 _ . -');

/** A system user a daemon drops to after its privileged set-up (src/util/privileges.ts). */
export const daemonUser = z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'expected a system user name like tapvpn');

export const filePath = z.string({ error: 'expected a file path' }).min(1, 'expected a non-empty file path');

export const suites = z.array(z.enum(SUITE_NAMES, { error: `expected one of ${SUITE_NAMES.join(', ')}` })).min(1, 'expected at least one suite');

export const logLevel = z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` });

const KEEPALIVE_INTERVAL_SEC = 10;
const KEEPALIVE_TIMEOUT_SEC = 30;

/** [keepalive]: how often an idle tunnel sends KEEPALIVE, and how long silence means a dead peer. */
export const keepalive = z
  .strictObject({ interval: seconds.default(KEEPALIVE_INTERVAL_SEC), timeout: seconds.default(KEEPALIVE_TIMEOUT_SEC) })
  .prefault({})
  .superRefine((k, ctx) => {
    if (k.timeout <= k.interval) ctx.addIssue({ code: 'custom', path: ['timeout'], message: `expected more than keepalive.interval (${k.interval} s), got ${k.timeout}` });
  })
  .transform((k) => ({ ...k, intervalMs: k.interval * 1000, timeoutMs: k.timeout * 1000 }));

export function ipv4Number(address: string): number {
  return ipv4ToNumber(address);
}

/** Where a daemon's control socket lives unless `control.socket` says otherwise (docs/OPERATIONS.md). */
export const RUN_DIRECTORY = '/run/tapvpn';
export const DEFAULT_METRICS_PORT = 9557;
const SOCKET_NAME_CHARACTERS = /[^A-Za-z0-9._-]/g;
/** Unix socket paths are limited to 107 bytes; the name part is cut well before that. */
const MAX_SOCKET_NAME = 48;

/** `/run/tapvpn/<role>-<name>.sock`, the name reduced to characters safe in a file name. */
export function defaultControlSocket(role: 'server' | 'client' | 'relay', name: string): string {
  return `${RUN_DIRECTORY}/${role}-${name.replace(SOCKET_NAME_CHARACTERS, '_').slice(0, MAX_SOCKET_NAME)}.sock`;
}

/** [control]: the daemon's Unix control socket (tapvpn status). */
export const controlSection = z
  .strictObject({
    enabled: z.boolean().default(true),
    socket: z.string({ error: 'expected an absolute path' }).regex(/^\/.{1,100}$/, 'expected an absolute path of at most 100 characters (a Unix socket path)').optional(),
    group: z.string().regex(/^([a-z_][a-z0-9_-]*|\d+)$/, 'expected a system group name like tapvpn-admin, or a numeric gid').optional(),
  })
  .prefault({});

/** [metrics]: the opt-in management listener (Prometheus /metrics and the status page). */
export const metricsSection = z
  .strictObject({ enabled: z.boolean().default(false), address: ipv4.default('127.0.0.1'), port: port.default(DEFAULT_METRICS_PORT) })
  .prefault({});
