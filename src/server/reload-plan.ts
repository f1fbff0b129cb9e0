/**
 * What a reload may change in a running server, and what only a restart
 * applies. The TAP (its addresses, MTU, offload), the lease pool, the bound
 * port, the keys, the sessions' timings and the other services are made
 * once at start; a reload that fed their new values to the lease policy
 * alone would hand out leases the adapter and the pool do not match.
 *
 * Live (LIVE_KEYS): who may connect and what they may reach — the clients
 * (name, key, enabled, routes, client_to_client, networks, networks6; not
 * fixed_address, which the lease pool reserves at start), the top-level
 * client_to_client and the pushed routes. Everything else is restart-only,
 * so a key added to the schema later is restart-only until someone makes
 * it live on purpose.
 *
 * A reload that also changes restart-only keys still applies the live part
 * (planReload): a revocation must not wait for a restart because the same
 * save also renumbered the tunnel. The restart-only changes are reported,
 * and the applied config keeps their running values. Pure: no I/O.
 */
import { serverConfigSchema, type ServerConfig } from '../config/server.js';

/** A restart-only key whose value in the file differs from the running one. */
export interface RestartOnlyChange {
  key: string;
  /** Absent for secrets' places (key files): only the key is named. */
  from?: string;
  to?: string;
}

/** Top-level and tunnel keys a reload applies (the clients are compared entry by entry). */
const LIVE_KEYS = new Set(['clients', 'client_to_client', 'tunnel.routes', 'tunnel.routes6', 'tunnel.routes_may_cover_networks']);
/** Computed by the schema from other keys, which are compared instead. */
const DERIVED_KEYS = new Set(['tunnel.pool', 'tunnel.leaseTimeMs', 'key_lifetime.maxAgeMs', 'keepalive.intervalMs', 'keepalive.timeoutMs']);
/** Named without their values in the report. */
const UNPRINTED = /key_file|private_key|secret|token|password/;

function isCidr(value: unknown): value is { address: string; prefixLength: number } {
  return typeof value === 'object' && value !== null && 'address' in value && 'prefixLength' in value && Object.keys(value).length === 2;
}

/** A value as an operator wrote it: 10.8.0.0/24, [1.1.1.1, 9.9.9.9], "none" when unset. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'none';
  if (isCidr(value)) return `${value.address}/${value.prefixLength}`;
  if (Array.isArray(value)) return `[${value.map(showValue).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return `{${Object.entries(value).map(([k, v]) => `${k} = ${showValue(v)}`).join(', ')}}`;
  return String(value);
}

/** Leaves by dotted key; arrays and CIDRs are leaves. */
function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isCidr(value)) {
    out.set(prefix, value);
    return out;
  }
  for (const [key, child] of Object.entries(value)) leaves(child, prefix ? `${prefix}.${key}` : key, out);
  return out;
}

function change(key: string, from: unknown, to: unknown): RestartOnlyChange {
  return UNPRINTED.test(key) ? { key } : { key, from: showValue(from), to: showValue(to) };
}

/** The restart-only keys `next` changes against `running`, in a stable order. */
export function restartOnlyChanges(running: ServerConfig, next: ServerConfig): RestartOnlyChange[] {
  const before = leaves(running, '', new Map());
  const after = leaves(next, '', new Map());
  const keys = [...new Set([...before.keys(), ...after.keys()])].filter((k) => !isLive(k) && !isUnder(k, DERIVED_KEYS));
  const changes = keys.filter((k) => showValue(before.get(k)) !== showValue(after.get(k))).map((k) => change(k, before.get(k), after.get(k)));
  return [...changes, ...fixedAddressChanges(running, next)];
}

function isUnder(key: string, set: ReadonlySet<string>): boolean {
  return [...set].some((k) => key === k || key.startsWith(`${k}.`));
}

function isLive(key: string): boolean {
  return isUnder(key, LIVE_KEYS);
}

/** A client's fixed address is reserved in the lease pool at start: a new or changed one waits for a restart. */
function fixedAddressChanges(running: ServerConfig, next: ServerConfig): RestartOnlyChange[] {
  const runningFixed = new Map(running.clients.map((c) => [c.name, c.fixed_address]));
  return next.clients
    .filter((c) => c.fixed_address !== undefined && c.fixed_address !== runningFixed.get(c.name))
    .map((c) => change(`clients.${c.name}.fixed_address`, runningFixed.get(c.name), c.fixed_address));
}

/** `changes` as one line: tunnel.network (10.8.0.0/24 → 10.9.0.0/24), private_key_file. */
export function describeChanges(changes: readonly RestartOnlyChange[]): string {
  return changes.map((c) => (c.from === undefined ? c.key : `${c.key} (${c.from} → ${c.to})`)).join(', ');
}

/**
 * The running config with `next`'s live keys: the clients (each keeping its
 * running fixed address, or none when new), client_to_client and the pushed
 * routes.
 */
export function liveConfig(running: ServerConfig, next: ServerConfig): ServerConfig {
  const runningFixed = new Map(running.clients.map((c) => [c.name, c.fixed_address]));
  const clients = next.clients.map(({ fixed_address: _, ...c }) => {
    const fixed = runningFixed.get(c.name);
    return fixed === undefined ? c : { ...c, fixed_address: fixed };
  });
  const { routes, routes6, routes_may_cover_networks } = next.tunnel;
  return { ...running, clients, client_to_client: next.client_to_client, tunnel: { ...running.tunnel, routes, routes6, routes_may_cover_networks } };
}

/** The schema's input again: networks as text, the derived keys removed (defaults stay filled in, which parse the same). */
function schemaInput(config: ServerConfig): unknown {
  const { pool: _pool, leaseTimeMs: _lease, ...tunnel } = config.tunnel;
  const { maxAgeMs: _age, ...keyLifetime } = config.key_lifetime;
  const { intervalMs: _interval, timeoutMs: _timeout, ...keepalive } = config.keepalive;
  return asText({ ...config, tunnel, key_lifetime: keyLifetime, keepalive });
}

function asText(value: unknown): unknown {
  if (isCidr(value)) return showValue(value);
  if (Array.isArray(value)) return value.map(asText);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asText(v)]));
  return value;
}

export type ReloadPlan =
  | { ok: true; apply: ServerConfig; restartOnly: RestartOnlyChange[] }
  | { ok: false; restartOnly: RestartOnlyChange[]; problem: string };

/**
 * What to apply of `next`: all of it when only live keys changed; else the
 * live part on the running settings, if that combination passes the
 * schema's cross-field rules (a site network must stay clear of the running
 * tunnel network, say) — if not, nothing.
 */
export function planReload(running: ServerConfig, next: ServerConfig): ReloadPlan {
  const restartOnly = restartOnlyChanges(running, next);
  if (restartOnly.length === 0) return { ok: true, apply: next, restartOnly };
  const parsed = serverConfigSchema.safeParse(schemaInput(liveConfig(running, next)));
  if (parsed.success) return { ok: true, apply: parsed.data, restartOnly };
  const issue = parsed.error.issues[0]!;
  return { ok: false, restartOnly, problem: `${issue.path.join('.')}: ${issue.message}` };
}
