/**
 * Prometheus metrics (prom-client) for one daemon, read from its status
 * snapshot at each scrape: nothing is counted twice and nothing per packet.
 * Counters are set to the daemon's own running totals (reset, then
 * incremented by the total), so they are monotonic as long as the daemon
 * runs, and restart from zero with it, as Prometheus expects.
 *
 * Cardinality is bounded by the configuration: per-client series exist only
 * for clients listed in the server's [[clients]] (an unknown name never
 * passes the handshake), drop reasons and refusal reasons are fixed sets of
 * codes, group members come from relay.toml. The metric list is in
 * docs/OPERATIONS.md.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ClientSnapshot, DaemonSnapshot, RelaySnapshot, ServerSnapshot } from '../snapshot.js';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** A counter whose value is a total the daemon keeps: set, not counted here. */
function setTotal<L extends string>(counter: Counter<L>, labels: Labels<L>, total: number): void {
  counter.inc(labels, total);
}

function dropReasons(counters: Record<string, number>): Array<[string, number]> {
  return Object.entries(counters).filter(([key]) => key.includes(':drop:') || key.includes(':malformed:'));
}

const EMULATOR_REPLIES: Array<[string, string]> = [
  ['arp', 'arp:reply'],
  ['dhcp', 'dhcp:reply'],
];

/** The metrics every role has: identity, drops and the emulators' answers. */
class CommonMetrics {
  readonly info: Gauge<'role' | 'name' | 'version'>;
  readonly drops: Counter<'reason'>;
  readonly replies: Counter<'protocol'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.info = new Gauge({ name: 'tapvpn_info', help: 'Always 1: the daemon\'s role, name and version as labels.', labelNames: ['role', 'name', 'version'], registers });
    this.drops = new Counter({ name: 'tapvpn_drops_total', help: 'Datagrams and frames dropped, by reason (the counter keys of docs/OPERATIONS.md).', labelNames: ['reason'], registers });
    this.replies = new Counter({ name: 'tapvpn_emulator_replies_total', help: 'Answers of the local DHCP and ARP emulators.', labelNames: ['protocol'], registers });
  }

  update(s: DaemonSnapshot, counters: Record<string, number>): void {
    this.info.reset();
    this.info.set({ role: s.role, name: s.name, version: s.version }, 1);
    this.drops.reset();
    for (const [reason, n] of dropReasons(counters)) setTotal(this.drops, { reason }, n);
    this.replies.reset();
    for (const [protocol, key] of EMULATOR_REPLIES) setTotal(this.replies, { protocol }, counters[key] ?? 0);
  }
}

class ServerMetrics {
  readonly tunnels: Gauge;
  readonly listening: Gauge;
  readonly poolSize: Gauge;
  readonly poolLeased: Gauge;
  readonly handshakes: Counter<'result' | 'reason'>;
  readonly clientUp: Gauge<'client' | 'address'>;
  readonly bytes: Counter<'client' | 'address' | 'direction'>;
  readonly datagrams: Counter<'client' | 'address' | 'direction'>;
  readonly opened: Counter<'client' | 'address'>;
  readonly rekeys: Counter<'client' | 'address'>;
  readonly lastActivity: Gauge<'client' | 'address'>;
  readonly rtt: Gauge<'client' | 'address'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const perClient = ['client', 'address'] as const;
    this.tunnels = new Gauge({ name: 'tapvpn_tunnels', help: 'Authorized tunnels up now.', registers });
    this.listening = new Gauge({ name: 'tapvpn_listener_up', help: '1 while the tunnel listener accepts connections.', registers });
    this.poolSize = new Gauge({ name: 'tapvpn_pool_addresses', help: 'Addresses in the lease pool.', registers });
    this.poolLeased = new Gauge({ name: 'tapvpn_pool_leased_addresses', help: 'Pool addresses bound to a client (connected, or reserved until its lease expires).', registers });
    this.handshakes = new Counter({ name: 'tapvpn_handshakes_total', help: 'Completed handshakes: result "ok", or "refused" with the refusal reason.', labelNames: ['result', 'reason'], registers });
    this.clientUp = new Gauge({ name: 'tapvpn_client_up', help: '1 while the configured client has a tunnel up.', labelNames: perClient, registers });
    this.bytes = new Counter({ name: 'tapvpn_client_bytes_total', help: 'Datagram bytes through the client\'s tunnels since the server started; direction "received" is from the client.', labelNames: [...perClient, 'direction'], registers });
    this.datagrams = new Counter({ name: 'tapvpn_client_datagrams_total', help: 'Datagrams through the client\'s tunnels since the server started.', labelNames: [...perClient, 'direction'], registers });
    this.opened = new Counter({ name: 'tapvpn_client_tunnels_opened_total', help: 'Tunnels the client opened (handshakes accepted) since the server started.', labelNames: perClient, registers });
    this.rekeys = new Counter({ name: 'tapvpn_client_rekeys_total', help: 'In-band rekeys on the client\'s tunnels since the server started.', labelNames: perClient, registers });
    this.lastActivity = new Gauge({ name: 'tapvpn_client_last_activity_timestamp_seconds', help: 'When the client\'s tunnel last received a frame (Unix time), while it is up.', labelNames: perClient, registers });
    this.rtt = new Gauge({ name: 'tapvpn_client_rtt_seconds', help: 'The kernel\'s smoothed TCP round-trip time to the client\'s adjacent hop, while its tunnel is up.', labelNames: perClient, registers });
  }

  update(s: ServerSnapshot): void {
    this.tunnels.set(s.tunnels.length);
    this.listening.set(s.listener.listening ? 1 : 0);
    this.poolSize.set(s.pool.size);
    this.poolLeased.set(s.pool.leased);
    this.handshakes.reset();
    for (const [reason, n] of Object.entries(s.handshakes)) setTotal(this.handshakes, reason === 'ok' ? { result: 'ok', reason: '' } : { result: 'refused', reason }, n);
    for (const metric of [this.clientUp, this.bytes, this.datagrams, this.opened, this.rekeys, this.lastActivity, this.rtt]) metric.reset();
    for (const client of s.clients) {
      const labels = { client: client.name, address: client.address ?? '' };
      this.clientUp.set(labels, client.connected ? 1 : 0);
      setTotal(this.bytes, { ...labels, direction: 'received' }, client.traffic.bytesReceived);
      setTotal(this.bytes, { ...labels, direction: 'sent' }, client.traffic.bytesSent);
      setTotal(this.datagrams, { ...labels, direction: 'received' }, client.traffic.datagramsReceived);
      setTotal(this.datagrams, { ...labels, direction: 'sent' }, client.traffic.datagramsSent);
      setTotal(this.opened, labels, client.tunnelsOpened);
      setTotal(this.rekeys, labels, client.rekeys);
    }
    for (const row of s.tunnels) {
      const labels = { client: row.name, address: row.address };
      this.lastActivity.set(labels, row.lastActivityMs / 1000);
      if (row.rttMs !== undefined) this.rtt.set(labels, row.rttMs / 1000);
    }
  }
}

const CLIENT_STATES = ['connecting', 'up', 'backing-off', 'stopped'] as const;

class ClientMetrics {
  readonly state: Gauge<'state'>;
  readonly bytes: Counter<'direction'>;
  readonly datagrams: Counter<'direction'>;
  readonly reconnects: Counter;
  readonly renewals: Counter;
  readonly leaseExpiry: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.state = new Gauge({ name: 'tapvpn_tunnel_state', help: '1 for the client\'s current tunnel state, 0 for the others.', labelNames: ['state'], registers });
    this.bytes = new Counter({ name: 'tapvpn_tunnel_bytes_total', help: 'Datagram bytes through the tunnel since the client started; "received" is from the server.', labelNames: ['direction'], registers });
    this.datagrams = new Counter({ name: 'tapvpn_tunnel_datagrams_total', help: 'Datagrams through the tunnel since the client started.', labelNames: ['direction'], registers });
    this.reconnects = new Counter({ name: 'tapvpn_tunnel_reconnects_total', help: 'Reconnects after a lost or closed tunnel.', registers });
    this.renewals = new Counter({ name: 'tapvpn_tunnel_session_renewals_total', help: 'Sessions renewed by a fresh handshake with the tunnel kept up (session_max_age).', registers });
    this.leaseExpiry = new Gauge({ name: 'tapvpn_lease_expiry_timestamp_seconds', help: 'When the current lease expires (Unix time).', registers });
  }

  update(s: ClientSnapshot): void {
    for (const state of CLIENT_STATES) this.state.set({ state }, s.state === state ? 1 : 0);
    this.bytes.reset();
    setTotal(this.bytes, { direction: 'received' }, s.traffic.bytesReceived);
    setTotal(this.bytes, { direction: 'sent' }, s.traffic.bytesSent);
    this.datagrams.reset();
    setTotal(this.datagrams, { direction: 'received' }, s.traffic.datagramsReceived);
    setTotal(this.datagrams, { direction: 'sent' }, s.traffic.datagramsSent);
    this.reconnects.reset();
    this.reconnects.inc(s.reconnects);
    this.renewals.reset();
    this.renewals.inc(s.renewals);
    this.leaseExpiry.reset();
    if (s.lease) this.leaseExpiry.set(s.lease.expiresAtMs / 1000);
  }
}

class RelayMetrics {
  readonly active: Gauge;
  readonly accepted: Counter;
  readonly forwarded: Counter;
  readonly bytes: Counter<'direction'>;
  readonly refusals: Counter<'reason'>;
  readonly memberUp: Gauge<'group' | 'member'>;
  readonly memberTunnels: Gauge<'group' | 'member'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.active = new Gauge({ name: 'tapvpn_relay_connections', help: 'Connections being relayed now.', registers });
    this.accepted = new Counter({ name: 'tapvpn_relay_connections_accepted_total', help: 'Connections accepted since the relay started.', registers });
    this.forwarded = new Counter({ name: 'tapvpn_relay_tunnels_forwarded_total', help: 'Tunnels whose path was set up through this relay.', registers });
    this.bytes = new Counter({ name: 'tapvpn_relay_bytes_total', help: 'Bytes forwarded, "to_server" (toward the next hop) or "to_client".', labelNames: ['direction'], registers });
    this.refusals = new Counter({ name: 'tapvpn_relay_refusals_total', help: 'Connections refused, by reason.', labelNames: ['reason'], registers });
    this.memberUp = new Gauge({ name: 'tapvpn_relay_group_member_up', help: '1 while a server group member is healthy.', labelNames: ['group', 'member'], registers });
    this.memberTunnels = new Gauge({ name: 'tapvpn_relay_group_member_tunnels', help: 'Tunnels a group member reported at its last status answer.', labelNames: ['group', 'member'], registers });
  }

  update(s: RelaySnapshot): void {
    this.active.set(s.connectionsActive);
    this.accepted.reset();
    this.accepted.inc(s.connectionsAccepted);
    this.forwarded.reset();
    this.forwarded.inc(s.tunnelsForwarded);
    this.bytes.reset();
    setTotal(this.bytes, { direction: 'to_server' }, s.bytesToNext);
    setTotal(this.bytes, { direction: 'to_client' }, s.bytesToPrevious);
    this.refusals.reset();
    for (const [reason, n] of Object.entries(s.refusals)) setTotal(this.refusals, { reason }, n);
    this.memberUp.reset();
    this.memberTunnels.reset();
    for (const [group, members] of Object.entries(s.groups)) {
      for (const m of members) {
        this.memberUp.set({ group, member: m.address }, m.healthy ? 1 : 0);
        this.memberTunnels.set({ group, member: m.address }, m.reportedTunnels);
      }
    }
  }
}

export class MetricsExporter {
  readonly registry = new Registry();
  readonly #common: CommonMetrics;
  readonly #role: ServerMetrics | ClientMetrics | RelayMetrics;

  constructor(role: DaemonSnapshot['role'], options: { processMetrics?: boolean } = {}) {
    this.#common = new CommonMetrics(this.registry);
    this.#role = role === 'server' ? new ServerMetrics(this.registry) : role === 'client' ? new ClientMetrics(this.registry) : new RelayMetrics(this.registry);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for this snapshot. */
  async render(snapshot: DaemonSnapshot): Promise<string> {
    this.#common.update(snapshot, snapshot.role === 'relay' ? {} : snapshot.counters);
    if (snapshot.role === 'server' && this.#role instanceof ServerMetrics) this.#role.update(snapshot);
    else if (snapshot.role === 'client' && this.#role instanceof ClientMetrics) this.#role.update(snapshot);
    else if (snapshot.role === 'relay' && this.#role instanceof RelayMetrics) this.#role.update(snapshot);
    else throw new Error(`a ${snapshot.role} snapshot given to the metrics of another role`);
    return this.registry.metrics();
  }
}
