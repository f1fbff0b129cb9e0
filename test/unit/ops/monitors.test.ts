import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { ClientMonitor } from '../../../src/ops/client-monitor.js';
import { ServerMonitor, type TunnelCounters, type TunnelView } from '../../../src/ops/server-monitor.js';
import { TEST_LEASE } from '../../support/lease.js';

function capture(): { log: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const text: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (text.push(String(chunk)), done()) });
  return { log: pino({ level: 'info' }, stream), lines: () => text.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function view(name: string, address: string, counters: TunnelCounters): TunnelView {
  return { name, address, mac: '02:74:76:70:6e:02', peer: '192.0.2.1:4000', path: ['relay1:7000'], suite: 'aes-256-gcm', connectedSinceMs: 1000, counters: () => counters };
}

const traffic = (bytes: number) => ({ bytesReceived: bytes, bytesSent: 2 * bytes, datagramsReceived: 1, datagramsSent: 2 });

test('server monitor: totals per configured client survive reconnects; events carry the joined identity; rekeys are noticed', async () => {
  const { log, lines } = capture();
  const monitor = new ServerMonitor(log, ['alice', 'bob']);
  const first = { traffic: traffic(100), keyGeneration: 0, rekeys: 0, lastActivityMs: 1500, drops: {} };
  const a1 = view('alice', '10.77.0.5', first);
  monitor.opened(a1);
  first.keyGeneration = 1;
  first.rekeys = 1;
  monitor.checkRekeys();
  monitor.checkRekeys(); // no second event for the same generation
  monitor.closed(a1, 'TIMEOUT', 'nothing received for 30000 ms', 'local', 5000);
  const a2 = view('alice', '10.77.0.5', { traffic: traffic(10), keyGeneration: 0, rekeys: 0, lastActivityMs: 6000, drops: { 'route:drop:spoofed-source': 1 } });
  monitor.opened(a2);
  monitor.refused({ client: 'mallory', peer: '203.0.113.9:5000', path: [] }, 'AUTHENTICATION_FAILURE', 'not authorized', 'local');

  const s = monitor.snapshot({ role: 'server', name: 'tapvpn0', version: 't', startedAtMs: 0, listener: { address: '0.0.0.0', port: 5555, listening: true }, pool: { size: 10, leased: 1 }, counters: {} }, 7000);
  assert.deepEqual(s.tunnels.map((t) => [t.name, t.address, t.path, t.drops]), [['alice', '10.77.0.5', ['relay1:7000'], { 'route:drop:spoofed-source': 1 }]]);
  assert.deepEqual(s.clients, [
    { name: 'alice', address: '10.77.0.5', connected: true, tunnelsOpened: 2, rekeys: 1, traffic: { bytesReceived: 110, bytesSent: 220, datagramsReceived: 2, datagramsSent: 4 } },
    { name: 'bob', connected: false, tunnelsOpened: 0, rekeys: 0, traffic: { bytesReceived: 0, bytesSent: 0, datagramsReceived: 0, datagramsSent: 0 } },
  ]);
  assert.deepEqual(s.handshakes, { ok: 2, 'authentication-failure': 1 });

  const events = lines().map((l) => [l.event, l.client, l.address, l.mac, l.peer, l.path]);
  assert.deepEqual(events, [
    ['tunnel.opened', 'alice', '10.77.0.5', '02:74:76:70:6e:02', '192.0.2.1:4000', 'relay1:7000'],
    ['tunnel.rekeyed', 'alice', '10.77.0.5', '02:74:76:70:6e:02', '192.0.2.1:4000', 'relay1:7000'],
    ['tunnel.closed', 'alice', '10.77.0.5', '02:74:76:70:6e:02', '192.0.2.1:4000', 'relay1:7000'],
    ['tunnel.opened', 'alice', '10.77.0.5', '02:74:76:70:6e:02', '192.0.2.1:4000', 'relay1:7000'],
    ['tunnel.refused', 'mallory', undefined, undefined, '203.0.113.9:5000', 'direct'],
  ]);
  const closed = lines()[2]!;
  assert.equal(closed.code, 'TIMEOUT');
  assert.equal(closed.durationMs, 4000);
  assert.equal(closed.bytesReceived, 100);
});

test('server monitor: a client removed from the config no longer has a row in the totals', () => {
  const monitor = new ServerMonitor(pino({ level: 'silent' }), ['alice', 'bob']);
  monitor.setConfiguredClients(['alice']);
  const s = monitor.snapshot({ role: 'server', name: 'x', version: 't', startedAtMs: 0, listener: { address: '0.0.0.0', port: 1, listening: true }, pool: { size: 1, leased: 0 }, counters: {} }, 1);
  assert.deepEqual(s.clients.map((c) => c.name), ['alice']);
});

test('client monitor: connecting, up, backing off until a time, traffic over every connection, the last close', () => {
  const { log, lines } = capture();
  const monitor = new ClientMonitor({ name: 'alice', path: () => ['198.18.0.1:5555'], log });
  const lease = { ...TEST_LEASE };
  monitor.authorized(lease, 'aes-256-gcm', () => ({ traffic: traffic(100), keyGeneration: 0 }), 1000);
  let s = monitor.snapshot({}, 2000);
  assert.equal(s.state, 'up');
  assert.equal(s.connectedSinceMs, 1000);
  assert.equal(s.lease?.address, lease.address);
  assert.equal(s.lease?.expiresAtMs, 1000 + lease.leaseTimeSec * 1000);
  monitor.closed('TIMEOUT', 'nothing received', 'local', 3000);
  monitor.backingOff(1500, 3000);
  s = monitor.snapshot({}, 3100);
  assert.equal(s.state, 'backing-off');
  assert.equal(s.retryAtMs, 4500);
  assert.equal(s.reconnects, 1);
  assert.deepEqual(s.lastClose, { code: 'TIMEOUT', reason: 'nothing received', by: 'local', atMs: 3000 });
  monitor.connecting();
  monitor.authorized(lease, 'aes-256-gcm', () => ({ traffic: traffic(5), keyGeneration: 0 }), 5000);
  s = monitor.snapshot({}, 6000);
  assert.deepEqual(s.traffic, { bytesReceived: 105, bytesSent: 210, datagramsReceived: 2, datagramsSent: 4 });
  assert.deepEqual(lines().map((l) => l.event), ['tunnel.opened', 'tunnel.closed', 'tunnel.opened']);
});

test('server monitor: a flood of refusals is counted in full but logged at a bounded rate, the next line saying how many were left out', async () => {
  const { log, lines } = capture();
  const monitor = new ServerMonitor(log, ['alice']);
  const junk = { peer: '203.0.113.9:5000', path: [] };
  for (let i = 0; i < 1000; i++) monitor.refused(junk, 'AUTHENTICATION_FAILURE', 'mac1', 'local', 5000);
  monitor.refused(junk, 'BUSY', 'budget', 'local', 6000); // a second later: 20 more lines allowed
  await new Promise((r) => setImmediate(r));
  const logged = lines().filter((l) => l.event === 'tunnel.refused');
  assert.equal(logged.length, 101);
  assert.equal(logged[100]!.suppressed, 900);
  assert.equal(logged[99]!.suppressed, undefined);
  const s = monitor.snapshot({ role: 'server', name: 'tapvpn0', version: 't', startedAtMs: 0, listener: { address: '0.0.0.0', port: 5555, listening: true }, pool: { size: 10, leased: 0 }, counters: {} }, 7000);
  assert.deepEqual(s.handshakes, { 'authentication-failure': 1000, busy: 1 });
});
