/** Snapshots as the daemons report them, for the render, CLI and metrics tests. */
import type { ClientSnapshot, RelaySnapshot, ServerSnapshot } from '../../../src/ops/snapshot.js';

export const NOW = Date.UTC(2026, 11, 1, 21, 30, 0);

export function serverSnapshot(): ServerSnapshot {
  return {
    role: 'server',
    name: 'tapvpn0',
    version: '0.1.0',
    startedAtMs: NOW - 7_380_000,
    nowMs: NOW,
    listener: { address: '0.0.0.0', port: 5555, listening: true },
    pool: { size: 253, leased: 2 },
    tunnels: [
      {
        name: 'alice-laptop', address: '10.77.0.5', mac: '02:74:76:70:6e:02', peer: '192.0.2.10:40022', path: [], suite: 'aes-256-gcm', keyGeneration: 3,
        connectedSinceMs: NOW - 3_660_000, lastActivityMs: NOW - 1000, rttMs: 1.25,
        traffic: { bytesReceived: 1_258_291, bytesSent: 3_565_158, datagramsReceived: 812, datagramsSent: 21_400 }, drops: {},
      },
      {
        name: 'bob-phone', address: '10.77.0.6', mac: '02:74:76:70:6e:02', peer: '198.51.100.7:7000', path: ['relay1.example.net:7000'], suite: 'chacha20-poly1305', keyGeneration: 0,
        connectedSinceMs: NOW - 65_000, lastActivityMs: NOW - 12_000,
        traffic: { bytesReceived: 512, bytesSent: 0, datagramsReceived: 4, datagramsSent: 0 }, drops: { 'route:drop:spoofed-source': 2 },
      },
    ],
    clients: [
      { name: 'alice-laptop', address: '10.77.0.5', connected: true, tunnelsOpened: 2, rekeys: 3, traffic: { bytesReceived: 2_000_000, bytesSent: 4_000_000, datagramsReceived: 1500, datagramsSent: 30_000 } },
      { name: 'bob-phone', address: '10.77.0.6', connected: true, tunnelsOpened: 1, rekeys: 0, traffic: { bytesReceived: 512, bytesSent: 0, datagramsReceived: 4, datagramsSent: 0 } },
      { name: 'old-laptop', connected: false, tunnelsOpened: 0, rekeys: 0, traffic: { bytesReceived: 0, bytesSent: 0, datagramsReceived: 0, datagramsSent: 0 } },
    ],
    handshakes: { ok: 3, 'authentication-failure': 1 },
    counters: { 'route:drop:spoofed-source': 2, 'arp:reply': 7, 'dhcp:reply': 0, 'rx:tunnel': 99 },
  };
}

export function clientSnapshot(): ClientSnapshot {
  return {
    role: 'client', name: 'alice-laptop', version: '0.1.0', startedAtMs: NOW - 600_000, nowMs: NOW,
    state: 'backing-off', retryAtMs: NOW + 12_000, server: '203.0.113.1:5555', path: ['relay1.example.net:7000'],
    lease: { address: '10.77.0.5', prefixLength: 24, gateway: '10.77.0.1', routes: ['192.168.50.0/24'], dns: ['10.77.0.1'], mtu: 1400, expiresAtMs: NOW + 3_000_000 },
    traffic: { bytesReceived: 2048, bytesSent: 4096, datagramsReceived: 2, datagramsSent: 4 },
    reconnects: 2, renewals: 5, lastClose: { code: 'TIMEOUT', reason: 'nothing received for 30000 ms', by: 'local', atMs: NOW - 3000 },
    counters: { 'dhcp:reply': 2, 'arp:reply': 1 },
  };
}

export function relaySnapshot(): RelaySnapshot {
  return {
    role: 'relay', name: 'relay1.example.net:7000', version: '0.1.0', startedAtMs: NOW - 60_000, nowMs: NOW,
    listener: { address: '0.0.0.0', port: 7000, listening: true },
    connectionsActive: 2, connectionsAccepted: 9, tunnelsForwarded: 7, bytesToNext: 10_000, bytesToPrevious: 20_000,
    refusals: { 'too-many-connections': 1 },
    groups: { 'vpn.example.net:5555': [{ address: '10.0.0.2:5555', healthy: true, reportedTunnels: 3, sentSinceAnswer: 0 }, { address: '10.0.0.3:5555', healthy: false, reportedTunnels: 0, sentSinceAnswer: 2 }] },
  };
}
