/**
 * `tapvpn status` as text: one block per daemon, aligned like `wg show`.
 * Pure over a snapshot (src/ops/snapshot.ts) and the current time.
 */
import type { ClientSnapshot, DaemonSnapshot, RelaySnapshot, ServerSnapshot, Traffic, TunnelRow } from '../snapshot.js';
import { alignColumns, formatBytes, formatCount, formatDuration, formatInstant, formatReasons } from './units.js';

function transfer(traffic: Traffic): string {
  return `${formatBytes(traffic.bytesReceived)} received (${formatCount(traffic.datagramsReceived)} datagrams), ${formatBytes(traffic.bytesSent)} sent (${formatCount(traffic.datagramsSent)} datagrams)`;
}

function header(snapshot: DaemonSnapshot): string {
  return `${snapshot.role} ${snapshot.name} (tapvpn ${snapshot.version}), up ${formatDuration(snapshot.nowMs - snapshot.startedAtMs)}`;
}

function ago(nowMs: number, atMs: number): string {
  return `${formatDuration(nowMs - atMs)} ago`;
}

const TUNNEL_COLUMNS = ['CLIENT', 'ADDRESS', 'PEER', 'PATH', 'SUITE', 'KEY', 'CONNECTED', 'RECEIVED', 'SENT', 'DROPS', 'LAST ACTIVITY', 'RTT'];

function tunnelCells(row: TunnelRow, nowMs: number): string[] {
  const drops = Object.values(row.drops).reduce((sum, n) => sum + n, 0);
  return [
    row.name,
    row.address,
    row.peer,
    row.path.length === 0 ? 'direct' : row.path.join('>'),
    row.suite,
    String(row.keyGeneration),
    formatDuration(nowMs - row.connectedSinceMs),
    `${formatBytes(row.traffic.bytesReceived)} (${formatCount(row.traffic.datagramsReceived)})`,
    `${formatBytes(row.traffic.bytesSent)} (${formatCount(row.traffic.datagramsSent)})`,
    drops === 0 ? '0' : formatReasons(row.drops),
    ago(nowMs, row.lastActivityMs),
    row.rttMs === undefined ? '-' : `${row.rttMs.toFixed(1)} ms`,
  ];
}

function dropCounters(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([key]) => key.includes(':drop:') || key.includes(':malformed:')));
}

export function renderServer(s: ServerSnapshot): string {
  const lines = [
    header(s),
    `  listening: ${s.listener.address}:${s.listener.port}${s.listener.listening ? '' : ' (closed)'}`,
    `  pool: ${s.pool.leased} of ${s.pool.size} addresses leased`,
    `  tunnels: ${s.tunnels.length} up, ${s.clients.length} clients configured`,
    `  handshakes: ${formatReasons(s.handshakes)}`,
    `  drops: ${formatReasons(dropCounters(s.counters))}`,
  ];
  if (s.tunnels.length > 0) {
    lines.push('', ...alignColumns([TUNNEL_COLUMNS, ...s.tunnels.map((row) => tunnelCells(row, s.nowMs))], '  '));
  }
  return lines.join('\n');
}

function clientState(s: ClientSnapshot): string {
  if (s.state === 'up' && s.connectedSinceMs !== undefined) return `up for ${formatDuration(s.nowMs - s.connectedSinceMs)}${s.suite ? `, ${s.suite}` : ''}${s.rttMs === undefined ? '' : `, rtt ${s.rttMs.toFixed(1)} ms`}`;
  if (s.state === 'backing-off' && s.retryAtMs !== undefined) return `backing off until ${formatInstant(s.retryAtMs)} (in ${formatDuration(s.retryAtMs - s.nowMs)})`;
  return s.state;
}

export function renderClient(s: ClientSnapshot): string {
  const lines = [header(s), `  state: ${clientState(s)}`, `  server: ${s.server}${s.path.length > 0 ? ` via ${s.path.join(' > ')}` : ''}`];
  if (s.lease) {
    const l = s.lease;
    lines.push(
      `  lease: ${l.address}/${l.prefixLength} gateway ${l.gateway}, mtu ${l.mtu}, expires ${formatInstant(l.expiresAtMs)}`,
      `  routes: ${l.routes.length === 0 ? 'none' : l.routes.join(', ')}`,
      `  dns: ${l.dns.length === 0 ? 'none' : l.dns.join(', ')}`,
    );
  } else {
    lines.push('  lease: none yet');
  }
  lines.push(`  transfer: ${transfer(s.traffic)}`, `  reconnects: ${s.reconnects}, session renewals: ${s.renewals}`);
  if (s.lastClose) lines.push(`  last close: ${s.lastClose.code} by ${s.lastClose.by} ${ago(s.nowMs, s.lastClose.atMs)}: ${s.lastClose.reason}`);
  return lines.join('\n');
}

export function renderRelay(s: RelaySnapshot): string {
  const lines = [
    header(s),
    `  listening: ${s.listener.address}:${s.listener.port}${s.listener.listening ? '' : ' (closed)'}`,
    `  connections: ${s.connectionsActive} active, ${s.connectionsAccepted} accepted, ${s.tunnelsForwarded} tunnels forwarded`,
    `  transfer: ${formatBytes(s.bytesToNext)} toward servers, ${formatBytes(s.bytesToPrevious)} toward clients`,
    `  refusals: ${formatReasons(s.refusals)}`,
  ];
  for (const [group, members] of Object.entries(s.groups)) {
    lines.push('', `  group ${group}`);
    const rows = members.map((m) => [m.address, m.healthy ? 'healthy' : 'unhealthy', String(m.reportedTunnels), String(m.sentSinceAnswer)]);
    lines.push(...alignColumns([['MEMBER', 'HEALTH', 'TUNNELS', 'SENT SINCE ANSWER'], ...rows], '    '));
  }
  return lines.join('\n');
}

export function renderSnapshot(snapshot: DaemonSnapshot): string {
  switch (snapshot.role) {
    case 'server':
      return renderServer(snapshot);
    case 'client':
      return renderClient(snapshot);
    case 'relay':
      return renderRelay(snapshot);
  }
}
