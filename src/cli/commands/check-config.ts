/**
 * `tapvpn check-config server|client|relay FILE`: validates the file and
 * prints what it means (defaults filled in) without key material: a config
 * holds no secrets, only the private key file's path, and of the key only
 * the public half is shown. The key file itself is checked too.
 */
import { ConfigError, loadClientConfig, loadRelayConfig, loadServerConfig } from '../../config/load.js';
import type { ClientConfig, RelayConfig, ServerConfig } from '../../config/schema.js';
import { serverHopName, type ServerEntry } from '../../config/client.js';
import { encodeKey, KeyError, keysEqual, publicKeyOf } from '../../crypto/keys.js';
import { readPrivateKeyFile } from '../../io/key-file.js';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { COMMAND_USAGE } from '../usage.js';

export type ConfigKind = 'server' | 'client' | 'relay';

const cidr = (c: { address: string; prefixLength: number }): string => `${c.address}/${c.prefixLength}`;
const list = (items: readonly string[]): string => (items.length ? items.join(', ') : 'none');

/**
 * The public key of `file`. A key file that is missing, readable by others
 * or malformed is an error, as it is when the daemon starts: a config that
 * check-config calls valid must start.
 */
async function keyLine(file: string): Promise<string> {
  return `${file} (public key ${encodeKey(publicKeyOf(await readPrivateKeyFile(file)))})`;
}

/**
 * The status key is shared with every server and relay of a group: if it
 * were the server's private key, each of them could impersonate the server
 * to its clients. Compared by value, so a copy under another name counts.
 */
async function statusKeyLine(config: ServerConfig): Promise<string> {
  const file = config.status.key_file;
  if (!file) return 'none';
  const statusKey = await readPrivateKeyFile(file);
  if (keysEqual(statusKey, await readPrivateKeyFile(config.private_key_file))) {
    throw new KeyError(
      'BAD_KEY',
      `status.key_file: ${file} holds the same key as private_key_file (${config.private_key_file}); the status key is shared with the group's relays and servers, so it must be a separate key: make one with tapvpn genkey --out status.key`,
    );
  }
  return `${file}${config.status.enabled ? `, endpoint ${config.status.address}:${config.status.port}` : ' (endpoint disabled)'}`;
}

async function serverSummary(config: ServerConfig): Promise<string[]> {
  const { tunnel } = config;
  const enabled = config.clients.filter((c) => c.enabled).length;
  return [
    `listen:          ${config.listen.address}:${config.listen.port}${config.name ? ` (known as ${config.name})` : ''}`,
    `private key:     ${await keyLine(config.private_key_file)}`,
    `status key:      ${await statusKeyLine(config)}`,
    `adapter:         ${config.adapter.name}, MTU ${config.adapter.mtu}`,
    `tunnel network:  ${cidr(tunnel.network)}, gateway ${tunnel.gateway}, pool ${tunnel.pool.start}-${tunnel.pool.end}`,
    `pushed routes:   ${list(tunnel.routes.map(cidr))}`,
    `dns:             ${list(tunnel.dns)}${tunnel.search_domain ? `, search ${tunnel.search_domain}` : ''}`,
    `lease:           ${tunnel.lease_time} s, stored in ${config.lease_file}`,
    `masquerade:      ${config.masquerade.enabled ? `on${config.masquerade.out_interface ? ` via ${config.masquerade.out_interface}` : ''}` : 'off'}`,
    `keepalive:       every ${config.keepalive.interval} s, dead after ${config.keepalive.timeout} s`,
    `key lifetime:    ${config.key_lifetime.seconds} s or ${config.key_lifetime.bytes} bytes`,
    `suites:          ${config.suites ? config.suites.join(', ') : 'all (default order)'}`,
    `clients:         ${config.clients.length} (${enabled} enabled), client-to-client ${config.client_to_client ? 'allowed' : 'denied'} by default`,
    ...config.clients.map(
      (c) =>
        `  ${c.name}: ${c.enabled ? 'enabled' : 'DISABLED'}, ${c.fixed_address ? `fixed ${c.fixed_address}` : 'pool address'}` +
        `${c.routes ? `, routes ${list(c.routes.map(cidr))}` : ''}${c.client_to_client !== undefined ? `, client-to-client ${c.client_to_client ? 'allowed' : 'denied'}` : ''}`,
    ),
  ];
}

async function clientSummary(config: ClientConfig): Promise<string[]> {
  const shown = (s: ServerEntry): string => `${s.address}:${s.port}${s.name ? ` (named ${s.name})` : ''}, pinned key ${s.public_key}`;
  const servers =
    config.servers.length === 1
      ? [`server:          ${shown(config.server)}`]
      : [`servers:         ${config.servers.length}, tried ${config.server_order === 'random' ? 'in random order' : 'in order'} on failure`, ...config.servers.map((s, i) => `  ${i + 1}. ${shown(s)}`)];
  return [
    `name:            ${config.name}`,
    `private key:     ${await keyLine(config.private_key_file)}`,
    ...servers,
    `path:            ${[...config.relays, config.servers.length === 1 ? serverHopName(config.server) : '<server>'].join(' -> ')}`,
    `adapter:         ${config.adapter.name}, address ${config.address_mode === 'dhcp' ? `over DHCP (${config.dhcp_client})` : 'set directly (static)'}`,
    `keepalive:       every ${config.keepalive.interval} s, dead after ${config.keepalive.timeout} s`,
    `reconnect:       backoff ${config.reconnect.min_delay} s .. ${config.reconnect.max_delay} s`,
    `suites:          ${config.suites ? config.suites.join(', ') : 'all (default order)'}`,
  ];
}

async function relaySummary(config: RelayConfig): Promise<string[]> {
  const l = config.limits;
  return [
    `name:            ${[config.name, ...config.aliases].join(', ')}`,
    `listen:          ${config.listen.address}:${config.listen.port}`,
    `limits:          path <= ${l.max_path_length} hops, RELAY <= ${l.max_relay_frame_bytes} bytes, connect ${l.connect_timeout} s, idle ${l.idle_timeout} s, ${l.max_connections} connections (${l.max_connections_per_source} per source)`,
    `status key:      ${config.status.key_file ? await keyLine(config.status.key_file) : 'none'}`,
    `groups:          ${config.groups.length}`,
    `next hops:       servers ${list(config.next_hops.servers)}; relays ${list(config.next_hops.relays)} (nothing else is dialled)`,
    ...config.groups.map((g) => `  ${g.name}: ${g.servers.map((s) => `${s.address}${s.status_port ? ` (status ${s.status_port})` : ''}`).join(', ')}`),
  ];
}

export async function checkConfig(io: CliIo, kind: string | undefined, file: string | undefined, json: boolean): Promise<number> {
  if ((kind !== 'server' && kind !== 'client' && kind !== 'relay') || !file) {
    throw new UsageError(`check-config needs a kind (server, client or relay) and a file\n\n${COMMAND_USAGE['check-config']}`);
  }
  let lines: string[];
  let config: unknown;
  try {
    if (kind === 'server') lines = await serverSummary((config = await loadServerConfig(file)) as ServerConfig);
    else if (kind === 'client') lines = await clientSummary((config = await loadClientConfig(file)) as ClientConfig);
    else lines = await relaySummary((config = await loadRelayConfig(file)) as RelayConfig);
  } catch (error) {
    // A key file problem is a problem of this config: say which file it came from.
    if (error instanceof KeyError) throw new ConfigError(file, [error.message]);
    throw error;
  }
  if (json) io.out(JSON.stringify(config, null, 2));
  else io.out([`${file}: valid ${kind} config`, ...lines].join('\n'));
  return 0;
}
