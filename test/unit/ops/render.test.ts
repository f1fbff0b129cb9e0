import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderClient, renderRelay, renderServer } from '../../../src/ops/render/status.js';
import { alignColumns, formatBytes, formatDuration } from '../../../src/ops/render/units.js';
import { clientSnapshot, relaySnapshot, serverSnapshot } from './fixtures.js';

test('units: bytes in binary multiples, durations in their two largest units', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1_258_291), '1.20 MiB');
  assert.equal(formatDuration(3_660_000), '1h 01m');
  assert.equal(formatDuration(65_000), '1m 05s');
  assert.equal(formatDuration(12_400), '12s');
  assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d 03h');
});

test('alignColumns: every column starts at the same offset in every row', () => {
  const lines = alignColumns([['A', 'BB', 'C'], ['long cell', 'x', 'y']]);
  assert.deepEqual(lines, ['A          BB  C', 'long cell  x   y']);
});

test('server: one aligned row per tunnel with the joined identity, plus pool, listener, handshakes and drops', () => {
  const text = renderServer(serverSnapshot());
  const lines = text.split('\n');
  assert.equal(lines[0], 'server tapvpn0 (tapvpn 0.1.0), up 2h 03m');
  assert.match(text, /listening: 0\.0\.0\.0:5555/);
  assert.match(text, /pool: 2 of 253 addresses leased/);
  assert.match(text, /handshakes: ok 3, authentication-failure 1/);
  assert.match(text, /drops: route:drop:spoofed-source 2/);
  const head = lines.find((l) => l.includes('CLIENT'))!;
  const alice = lines.find((l) => l.includes('alice-laptop'))!;
  const bob = lines.find((l) => l.includes('bob-phone'))!;
  for (const [column, a, b] of [['ADDRESS', '10.77.0.5', '10.77.0.6'], ['PATH', 'direct', 'relay1.example.net:7000'], ['RTT', '1.3 ms', '-']] as const) {
    assert.equal(alice.lastIndexOf(a), head.indexOf(column), `${column} aligned`);
    assert.equal(bob.lastIndexOf(b), head.indexOf(column), `${column} aligned`);
  }
  assert.match(alice, /aes-256-gcm\s+3\s+1h 01m\s+1\.20 MiB \(812\)\s+3\.40 MiB \(21\.4k\)\s+0\s+1s ago/);
  assert.match(bob, /route:drop:spoofed-source 2\s+12s ago/);
});

test('client: state with the retry time, lease, routes, DNS, transfer, reconnects and the last close', () => {
  const text = renderClient(clientSnapshot());
  assert.match(text, /state: backing off until 2026-12-01 21:30:12Z \(in 12s\)/);
  assert.match(text, /server: 203\.0\.113\.1:5555 via relay1\.example\.net:7000/);
  assert.match(text, /lease: 10\.77\.0\.5\/24 gateway 10\.77\.0\.1, mtu 1400, expires 2026-12-01 22:20:00Z/);
  assert.match(text, /routes: 192\.168\.50\.0\/24/);
  assert.match(text, /dns: 10\.77\.0\.1/);
  assert.match(text, /transfer: 2\.00 KiB received \(2 datagrams\), 4\.00 KiB sent \(4 datagrams\)/);
  assert.match(text, /reconnects: 2/);
  assert.match(text, /session renewals: 5/);
  assert.match(text, /last close: TIMEOUT by local 3s ago: nothing received for 30000 ms/);
});

test('relay: connections, transfer, refusals and each group member with its health and load', () => {
  const text = renderRelay(relaySnapshot());
  assert.match(text, /connections: 2 active, 9 accepted, 7 tunnels forwarded/);
  assert.match(text, /refusals: too-many-connections 1/);
  assert.match(text, /group vpn\.example\.net:5555/);
  assert.match(text, /10\.0\.0\.2:5555\s+healthy\s+3\s+0/);
  assert.match(text, /10\.0\.0\.3:5555\s+unhealthy\s+0\s+2/);
});
