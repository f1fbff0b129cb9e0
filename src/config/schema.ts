/**
 * The three config schemas in one import (server.toml, client.toml,
 * relay.toml). Each lives in its own module; field rules in fields.ts.
 */
export { clientConfigSchema, DHCP_CLIENTS, type ClientConfig } from './client.js';
export { relayConfigSchema, type RelayConfig, type RelayGroupConfig } from './relay-schema.js';
export { serverConfigSchema, DEFAULT_SERVER_PORT, DEFAULT_LEASE_FILE, type ServerConfig, type ServerClientConfig } from './server.js';
export { SUITE_NAMES, LOG_LEVELS, type Cidr } from './fields.js';
