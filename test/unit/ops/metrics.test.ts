import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsExporter } from '../../../src/ops/metrics/exporter.js';
import { clientSnapshot, relaySnapshot, serverSnapshot } from './fixtures.js';

/** The value of one exposition line, found by its exact name and label set. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('server metrics: per configured client by name and address, handshakes by result, drops by reason, pool, tunnels', async () => {
  const text = await new MetricsExporter('server', { processMetrics: false }).render(serverSnapshot());
  assert.equal(value(text, 'tapvpn_tunnels'), 2);
  assert.equal(value(text, 'tapvpn_pool_addresses'), 253);
  assert.equal(value(text, 'tapvpn_pool_leased_addresses'), 2);
  assert.equal(value(text, 'tapvpn_client_bytes_total{client="alice-laptop",address="10.77.0.5",direction="received"}'), 2_000_000);
  assert.equal(value(text, 'tapvpn_client_bytes_total{client="alice-laptop",address="10.77.0.5",direction="sent"}'), 4_000_000);
  assert.equal(value(text, 'tapvpn_client_datagrams_total{client="bob-phone",address="10.77.0.6",direction="received"}'), 4);
  assert.equal(value(text, 'tapvpn_client_up{client="old-laptop",address=""}'), 0);
  assert.equal(value(text, 'tapvpn_client_up{client="alice-laptop",address="10.77.0.5"}'), 1);
  assert.equal(value(text, 'tapvpn_client_rekeys_total{client="alice-laptop",address="10.77.0.5"}'), 3);
  assert.equal(value(text, 'tapvpn_client_tunnels_opened_total{client="alice-laptop",address="10.77.0.5"}'), 2);
  assert.equal(value(text, 'tapvpn_client_rtt_seconds{client="alice-laptop",address="10.77.0.5"}'), 0.00125);
  assert.equal(value(text, 'tapvpn_handshakes_total{result="ok",reason=""}'), 3);
  assert.equal(value(text, 'tapvpn_handshakes_total{result="refused",reason="authentication-failure"}'), 1);
  assert.equal(value(text, 'tapvpn_drops_total{reason="route:drop:spoofed-source"}'), 2);
  assert.equal(value(text, 'tapvpn_emulator_replies_total{protocol="arp"}'), 7);
  assert.equal(value(text, 'tapvpn_info{role="server",name="tapvpn0",version="0.1.0"}'), 1);
  assert.match(text, /# TYPE tapvpn_client_bytes_total counter/);
});

test('server metrics: a later scrape reports the new totals, and a client that went away keeps its series at 0 up', async () => {
  const exporter = new MetricsExporter('server', { processMetrics: false });
  await exporter.render(serverSnapshot());
  const later = serverSnapshot();
  later.clients[1] = { ...later.clients[1]!, connected: false, traffic: { ...later.clients[1]!.traffic, bytesReceived: 9000 } };
  later.tunnels.pop();
  const text = await exporter.render(later);
  assert.equal(value(text, 'tapvpn_client_bytes_total{client="bob-phone",address="10.77.0.6",direction="received"}'), 9000);
  assert.equal(value(text, 'tapvpn_client_up{client="bob-phone",address="10.77.0.6"}'), 0);
  assert.equal(value(text, 'tapvpn_client_last_activity_timestamp_seconds{client="bob-phone",address="10.77.0.6"}'), undefined);
  assert.equal(value(text, 'tapvpn_tunnels'), 1);
});

test('client metrics: state, bytes each way, reconnects, lease expiry', async () => {
  const text = await new MetricsExporter('client', { processMetrics: false }).render(clientSnapshot());
  assert.equal(value(text, 'tapvpn_tunnel_state{state="backing-off"}'), 1);
  assert.equal(value(text, 'tapvpn_tunnel_state{state="up"}'), 0);
  assert.equal(value(text, 'tapvpn_tunnel_bytes_total{direction="sent"}'), 4096);
  assert.equal(value(text, 'tapvpn_tunnel_reconnects_total'), 2);
  assert.equal(value(text, 'tapvpn_tunnel_session_renewals_total'), 5);
  assert.equal(value(text, 'tapvpn_lease_expiry_timestamp_seconds'), clientSnapshot().lease!.expiresAtMs / 1000);
  assert.equal(value(text, 'tapvpn_emulator_replies_total{protocol="dhcp"}'), 2);
});

test('relay metrics: connections, forwarded bytes, refusals by reason, group member health and load', async () => {
  const text = await new MetricsExporter('relay', { processMetrics: false }).render(relaySnapshot());
  assert.equal(value(text, 'tapvpn_relay_connections'), 2);
  assert.equal(value(text, 'tapvpn_relay_bytes_total{direction="to_client"}'), 20_000);
  assert.equal(value(text, 'tapvpn_relay_refusals_total{reason="too-many-connections"}'), 1);
  assert.equal(value(text, 'tapvpn_relay_group_member_up{group="vpn.example.net:5555",member="10.0.0.3:5555"}'), 0);
  assert.equal(value(text, 'tapvpn_relay_group_member_tunnels{group="vpn.example.net:5555",member="10.0.0.2:5555"}'), 3);
});

test('process metrics are included by default', async () => {
  const text = await new MetricsExporter('relay').render(relaySnapshot());
  assert.match(text, /^process_cpu_seconds_total /m);
  assert.match(text, /^nodejs_heap_size_used_bytes /m);
});

test('a snapshot of another role is refused, not half-exported', async () => {
  await assert.rejects(new MetricsExporter('relay', { processMetrics: false }).render(serverSnapshot()), /server snapshot given to the metrics of another role/);
});
