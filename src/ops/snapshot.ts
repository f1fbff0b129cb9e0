/**
 * What a daemon reports about itself, as plain JSON-ready values: the
 * answer to the control socket's `status` command, the source of the
 * Prometheus metrics and of the live status page. A daemon builds one on
 * demand (a status request, a scrape, a page refresh) from the counters it
 * keeps anyway — nothing here is computed per packet.
 *
 * Times are milliseconds since the Unix epoch; counts are plain numbers
 * (safe up to 2^53). "received"/"sent" are from the reporting daemon's side.
 */

export interface Traffic {
  bytesReceived: number;
  bytesSent: number;
  datagramsReceived: number;
  datagramsSent: number;
}

export const NO_TRAFFIC: Readonly<Traffic> = { bytesReceived: 0, bytesSent: 0, datagramsReceived: 0, datagramsSent: 0 };

/** The sum of two traffic counts (a closed tunnel's and the live one's, a client's connections). */
export function addTraffic(a: Traffic, b: Traffic): Traffic {
  return {
    bytesReceived: a.bytesReceived + b.bytesReceived,
    bytesSent: a.bytesSent + b.bytesSent,
    datagramsReceived: a.datagramsReceived + b.datagramsReceived,
    datagramsSent: a.datagramsSent + b.datagramsSent,
  };
}

/** One authorized tunnel on the server. */
export interface TunnelRow {
  name: string;
  address: string;
  /** The MAC this client's address answers with on the server's adapter. */
  mac: string;
  /** The TCP peer (the client, or the last relay of its path), host:port. */
  peer: string;
  /** The relays the client named, in order (empty for a direct connection). */
  path: string[];
  suite: string;
  /** Send key generation: 0 after the handshake, +1 per in-band rekey. */
  keyGeneration: number;
  connectedSinceMs: number;
  lastActivityMs: number;
  /** The kernel's smoothed TCP round-trip time to the adjacent hop, when known. */
  rttMs?: number;
  traffic: Traffic;
  drops: Record<string, number>;
}

/** A configured client's totals over every tunnel it had since the server started. */
export interface ClientTotals {
  name: string;
  /** Its address now, or the last one it had (undefined when it never connected). */
  address?: string;
  connected: boolean;
  tunnelsOpened: number;
  rekeys: number;
  traffic: Traffic;
}

export interface ServerSnapshot {
  role: 'server';
  name: string;
  version: string;
  startedAtMs: number;
  nowMs: number;
  listener: { address: string; port: number; listening: boolean };
  pool: { size: number; leased: number };
  tunnels: TunnelRow[];
  clients: ClientTotals[];
  /** Handshakes by outcome: "ok", or the refusal reason. */
  handshakes: Record<string, number>;
  /** The adapter's and router's named counters (drops by reason, dhcp:reply, arp:reply, ...). */
  counters: Record<string, number>;
}

export type ClientState = 'connecting' | 'up' | 'backing-off' | 'stopped';

export interface ClientSnapshot {
  role: 'client';
  name: string;
  version: string;
  startedAtMs: number;
  nowMs: number;
  state: ClientState;
  /** When backing off: when the next attempt starts. */
  retryAtMs?: number;
  server: string;
  path: string[];
  lease?: { address: string; prefixLength: number; gateway: string; routes: string[]; dns: string[]; mtu: number; expiresAtMs: number };
  suite?: string;
  connectedSinceMs?: number;
  /** The kernel's smoothed TCP RTT to the first hop, while up. */
  rttMs?: number;
  traffic: Traffic;
  reconnects: number;
  /** Sessions renewed by a fresh handshake on a second connection, the tunnel kept up (session_max_age). */
  renewals: number;
  lastClose?: { code: string; reason: string; by: string; atMs: number };
  counters: Record<string, number>;
}

export interface GroupMember {
  address: string;
  healthy: boolean;
  reportedTunnels: number;
  sentSinceAnswer: number;
}

export interface RelaySnapshot {
  role: 'relay';
  name: string;
  version: string;
  startedAtMs: number;
  nowMs: number;
  listener: { address: string; port: number; listening: boolean };
  connectionsActive: number;
  connectionsAccepted: number;
  tunnelsForwarded: number;
  bytesToNext: number;
  bytesToPrevious: number;
  refusals: Record<string, number>;
  groups: Record<string, GroupMember[]>;
}

export type DaemonSnapshot = ServerSnapshot | ClientSnapshot | RelaySnapshot;

/** What a daemon hands to its control socket and management listener. */
export type SnapshotProvider = () => DaemonSnapshot;
