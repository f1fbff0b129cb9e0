import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startManagementListener } from '../../../src/ops/management.js';
import { ThroughputHistory } from '../../../src/ops/page/history.js';
import { NOW, serverSnapshot } from './fixtures.js';

const log = pino({ level: 'silent' });

test('throughput history: bits per second between samples, bounded per series, forgets series no longer reported', () => {
  const history = new ThroughputHistory(3);
  history.record([{ key: 'a', bytesReceived: 0, bytesSent: 0 }], 0);
  history.record([{ key: 'a', bytesReceived: 1000, bytesSent: 500 }, { key: 'b', bytesReceived: 5, bytesSent: 5 }], 2000);
  assert.deepEqual(history.snapshot().a, [{ atMs: 2000, receivedBps: 4000, sentBps: 2000 }]);
  assert.equal(history.snapshot().b, undefined, 'a series needs two samples for a rate');
  for (let t = 4000; t <= 10_000; t += 2000) history.record([{ key: 'a', bytesReceived: 1000, bytesSent: 500 }], t);
  assert.equal(history.snapshot().a!.length, 3);
  assert.equal(history.snapshot().a![2]!.receivedBps, 0);
  history.record([{ key: 'a', bytesReceived: 10, bytesSent: 10 }], 12_000);
  assert.equal(history.snapshot().a![2]!.receivedBps, 0, 'totals that went backwards (a restart) are not a negative rate');
  history.record([], 14_000);
  assert.deepEqual(history.snapshot(), {});
});

test('management listener: /metrics, the page and its data, with a strict CSP; other paths and methods refused', async () => {
  const listener = await startManagementListener({ address: '127.0.0.1', port: 0, processMetrics: false }, serverSnapshot, 'server', log);
  const base = `http://127.0.0.1:${listener.port}`;
  try {
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    assert.match(await metrics.text(), /tapvpn_client_bytes_total\{client="alice-laptop",address="10\.77\.0\.5",direction="received"\} 2000000/);

    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'/);
    assert.match(await page.text(), /<script src="\/status\.js" defer><\/script>/);
    assert.equal((await fetch(`${base}/status.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');

    const data = (await (await fetch(`${base}/api/status`)).json()) as { snapshot: { nowMs: number }; history: Record<string, unknown>; windowMs: number };
    assert.equal(data.snapshot.nowMs, NOW);
    assert.equal(data.windowMs, 300_000);

    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(`${base}/favicon.ico`)).status, 204);
  } finally {
    await listener.close();
  }
});

test('management listener: a failing snapshot is a 500 for that request; the listener keeps serving', async () => {
  let fail = true;
  const listener = await startManagementListener({ address: '127.0.0.1', port: 0, processMetrics: false }, () => {
    if (fail) throw new Error('boom');
    return serverSnapshot();
  }, 'server', log);
  try {
    assert.equal((await fetch(`http://127.0.0.1:${listener.port}/metrics`)).status, 500);
    fail = false;
    assert.equal((await fetch(`http://127.0.0.1:${listener.port}/metrics`)).status, 200);
  } finally {
    await listener.close();
  }
});
