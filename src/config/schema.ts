/**
 * The server and client configuration schemas (TOML keys in snake_case).
 * Defaults make a minimal file work; cross-field rules (gateway inside the
 * tunnel network, unique names, keys and fixed addresses) are checked here
 * so that a running server never meets them.
 */
import { z } from 'zod';
import { inSubnet, ipv4ToNumber, prefixToMask } from '../wire/addr.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;
const NAME = /^[\x21-\x7e]{1,255}$/;
const SUITE = z.enum(['chacha20-poly1305', 'aes-256-gcm', 'chacha20-hmac-sha256']);

const ipv4 = z.string().regex(IPV4, 'expected an IPv4 address like 10.77.0.1');
const cidr = z
  .string()
  .regex(/^[\d.]+\/\d{1,2}$/, 'expected a network like 10.77.0.0/24')
  .transform((text, ctx) => {
    const [address, prefix] = text.split('/') as [string, string];
    const prefixLength = Number(prefix);
    if (!IPV4.test(address) || prefixLength > 32) {
      ctx.addIssue({ code: 'custom', message: `expected a network like 10.77.0.0/24, got "${text}"` });
      return z.NEVER;
    }
    if ((ipv4ToNumber(address) & ~prefixToMask(prefixLength)) !== 0) {
      ctx.addIssue({ code: 'custom', message: `"${text}" has host bits set; the network is written with them zero` });
      return z.NEVER;
    }
    return { address, prefixLength };
  });
const publicKey = z.string().regex(BASE64_KEY, 'expected a base64 X25519 public key (44 characters ending in "=", from `tapvpn pubkey`)');
const port = z.number().int().min(1).max(65535);
const seconds = z.number().positive();
const name = z.string().regex(NAME, 'expected 1-255 printable ASCII characters without spaces');

const clientEntry = z.object({
  name,
  public_key: publicKey,
  enabled: z.boolean().default(true),
  fixed_address: ipv4.optional(),
  client_to_client: z.boolean().optional(),
});

export const serverConfigSchema = z
  .object({
    name: z.string().regex(/^[^\s]+:\d+$/, 'expected the host:port clients name this server by').optional(),
    listen: z.object({ address: ipv4.default('0.0.0.0'), port: port.default(5555) }).prefault({}),
    private_key_file: z.string().min(1),
    adapter: z.object({ name: z.string().max(15).default('tapvpn0'), mtu: z.number().int().min(576).max(65535).default(1400) }).prefault({}),
    tunnel: z.object({
      network: cidr,
      gateway: ipv4.optional(),
      routes: z.array(cidr).default([]),
      dns: z.array(ipv4).default([]),
      search_domain: z.string().max(253).optional(),
      lease_time: seconds.default(3600),
    }),
    lease_file: z.string().default('/var/lib/tapvpn/leases.json'),
    client_to_client: z.boolean().default(false),
    suites: z.array(SUITE).min(1).optional(),
    keepalive: z.object({ interval: seconds.default(10), timeout: seconds.default(30) }).prefault({}),
    key_lifetime: z.object({ seconds: seconds.default(600), bytes: z.number().int().positive().default(2 ** 30) }).prefault({}),
    clients: z.array(clientEntry).default([]),
  })
  .superRefine((config, ctx) => {
    const { network } = config.tunnel;
    const net = ipv4ToNumber(network.address);
    if (config.tunnel.gateway && !inSubnet(ipv4ToNumber(config.tunnel.gateway), net, network.prefixLength)) {
      ctx.addIssue({ code: 'custom', path: ['tunnel', 'gateway'], message: `${config.tunnel.gateway} is outside tunnel.network ${network.address}/${network.prefixLength}` });
    }
    if (network.prefixLength > 30) ctx.addIssue({ code: 'custom', path: ['tunnel', 'network'], message: 'the tunnel network needs room for a gateway and clients: use a prefix of /30 or shorter' });
    const seen = { names: new Set<string>(), keys: new Set<string>(), fixed: new Set<string>() };
    config.clients.forEach((client, i) => {
      if (seen.names.has(client.name)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'name'], message: `duplicate client name "${client.name}"` });
      if (seen.keys.has(client.public_key)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'public_key'], message: 'this public key is already used by another client' });
      seen.names.add(client.name);
      seen.keys.add(client.public_key);
      if (client.fixed_address) {
        if (!inSubnet(ipv4ToNumber(client.fixed_address), net, network.prefixLength)) {
          ctx.addIssue({ code: 'custom', path: ['clients', i, 'fixed_address'], message: `${client.fixed_address} is outside tunnel.network` });
        }
        if (seen.fixed.has(client.fixed_address)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'fixed_address'], message: `${client.fixed_address} is already fixed for another client` });
        seen.fixed.add(client.fixed_address);
      }
    });
  });

export const clientConfigSchema = z.object({
  name,
  private_key_file: z.string().min(1),
  server: z.object({ address: z.string().min(1), port: port.default(5555), public_key: publicKey, name: z.string().optional() }),
  relays: z.array(z.string().regex(/^[^\s]+:\d+$/, 'expected host:port')).max(15).default([]),
  adapter: z.object({ name: z.string().max(15).default('tapvpn0') }).prefault({}),
  address_mode: z.enum(['dhcp', 'static']).default('dhcp'),
  dhcp_client: z.enum(['auto', 'dhclient', 'dhcpcd', 'udhcpc', 'none']).default('auto'),
  suites: z.array(SUITE).min(1).optional(),
  keepalive: z.object({ interval: seconds.default(10), timeout: seconds.default(30) }).prefault({}),
  reconnect: z.object({ min_delay: seconds.default(1), max_delay: seconds.default(60) }).prefault({}),
});

export type ServerConfig = z.output<typeof serverConfigSchema>;
export type ClientConfig = z.output<typeof clientConfigSchema>;
