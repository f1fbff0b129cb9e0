/**
 * The live status page, served as three static files by the management
 * listener (management.ts): no build step, no library, nothing fetched from
 * the internet — the script polls /api/status and draws each row's
 * throughput as plain SVG polylines. Kept as strings so the compiled
 * package carries them without a copy step. The script builds the DOM with
 * textContent only (client names never become markup) and runs under a CSP
 * that allows nothing but this origin.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tapvpn status</title>
<link rel="stylesheet" href="/status.css">
<script src="/status.js" defer></script>
</head>
<body>
<header>
  <h1 id="title">tapvpn</h1>
  <p id="summary">loading…</p>
</header>
<main>
  <table id="rows">
    <thead><tr><th>name</th><th>address</th><th>state</th><th>received</th><th>sent</th><th>now</th><th>throughput (last minutes)</th></tr></thead>
    <tbody></tbody>
  </table>
  <p class="legend"><span class="rx">■</span> received <span class="tx">■</span> sent · refreshed every few seconds · <a href="/metrics">/metrics</a></p>
  <p id="error" hidden></p>
</main>
</body>
</html>
`;

export const PAGE_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d232a; background: #fafbfc; }
h1 { font-size: 1.3em; margin: 0 0 .2em; }
#summary { color: #555; margin: 0 0 1em; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .35em .8em; border-bottom: 1px solid #e3e6ea; vertical-align: middle; }
th { font-weight: 600; color: #555; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
tr.down td { color: #999; }
svg.chart { display: block; background: #fff; border: 1px solid #e3e6ea; }
polyline { fill: none; stroke-width: 1.5; }
polyline.rx, .rx { stroke: #1f77b4; color: #1f77b4; }
polyline.tx, .tx { stroke: #e6550d; color: #e6550d; }
.legend { color: #555; font-size: .9em; }
#error { color: #b00020; }
`;

export const PAGE_JS = `'use strict';
const REFRESH_MS = 2000;
const CHART_WIDTH = 240;
const CHART_HEIGHT = 48;
const SVG = 'http://www.w3.org/2000/svg';

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? n + ' B' : n.toFixed(2) + ' ' + units[i];
}

function bits(bps) {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let i = 0;
  while (bps >= 1000 && i < units.length - 1) { bps /= 1000; i++; }
  return bps.toFixed(i === 0 ? 0 : 1) + ' ' + units[i];
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function polyline(points, key, max, className, startMs, spanMs) {
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('class', className);
  line.setAttribute('points', points.map((p) => {
    const x = ((p.atMs - startMs) / spanMs) * CHART_WIDTH;
    const y = CHART_HEIGHT - 2 - (p[key] / max) * (CHART_HEIGHT - 4);
    return x.toFixed(1) + ',' + y.toFixed(1);
  }).join(' '));
  return line;
}

function chart(points, windowMs, nowMs) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('width', String(CHART_WIDTH));
  svg.setAttribute('height', String(CHART_HEIGHT));
  svg.setAttribute('viewBox', '0 0 ' + CHART_WIDTH + ' ' + CHART_HEIGHT);
  svg.dataset.points = String(points.length);
  const max = Math.max(1, ...points.map((p) => Math.max(p.receivedBps, p.sentBps)));
  svg.dataset.max = String(max);
  const title = document.createElementNS(SVG, 'title');
  title.textContent = 'peak ' + bits(max);
  svg.appendChild(title);
  svg.appendChild(polyline(points, 'receivedBps', max, 'rx', nowMs - windowMs, windowMs));
  svg.appendChild(polyline(points, 'sentBps', max, 'tx', nowMs - windowMs, windowMs));
  return svg;
}

function rowsOf(s) {
  if (s.role === 'server') {
    return s.clients.map((c) => ({ key: c.name, name: c.name, address: c.address || '', up: c.connected, state: c.connected ? 'up' : 'down', traffic: c.traffic }));
  }
  if (s.role === 'client') {
    return [{ key: s.name, name: s.name, address: s.lease ? s.lease.address : '', up: s.state === 'up', state: s.state, traffic: s.traffic }];
  }
  return [{ key: s.name, name: s.name, address: s.listener.address + ':' + s.listener.port, up: s.listener.listening, state: s.connectionsActive + ' connections', traffic: { bytesReceived: s.bytesToNext, bytesSent: s.bytesToPrevious } }];
}

function summaryOf(s) {
  if (s.role === 'server') return s.tunnels.length + ' tunnels up · pool ' + s.pool.leased + ' of ' + s.pool.size + ' leased · listening on ' + s.listener.address + ':' + s.listener.port;
  if (s.role === 'client') return 'server ' + s.server + ' · ' + s.state + ' · ' + s.reconnects + ' reconnects';
  return s.connectionsActive + ' connections · ' + s.tunnelsForwarded + ' tunnels forwarded';
}

function render(data) {
  const s = data.snapshot;
  document.getElementById('title').textContent = 'tapvpn ' + s.role + ' ' + s.name;
  document.getElementById('summary').textContent = summaryOf(s);
  const body = document.querySelector('#rows tbody');
  const rows = rowsOf(s).map((r) => {
    const points = data.history[r.key] || [];
    const last = points[points.length - 1];
    const tr = document.createElement('tr');
    tr.dataset.client = r.name;
    tr.className = r.up ? 'up' : 'down';
    tr.append(cell(r.name), cell(r.address), cell(r.state), cell(bytes(r.traffic.bytesReceived), 'num'), cell(bytes(r.traffic.bytesSent), 'num'),
      cell(last ? bits(last.receivedBps) + ' / ' + bits(last.sentBps) : '-', 'num'));
    const td = document.createElement('td');
    td.appendChild(chart(points, data.windowMs, s.nowMs));
    tr.appendChild(td);
    return tr;
  });
  body.replaceChildren(...rows);
  document.body.dataset.updated = String(s.nowMs);
}

async function refresh() {
  const error = document.getElementById('error');
  try {
    const response = await fetch('/api/status', { cache: 'no-store' });
    if (!response.ok) throw new Error('status ' + response.status);
    render(await response.json());
    error.hidden = true;
  } catch (e) {
    error.textContent = 'cannot reach the daemon: ' + e.message;
    error.hidden = false;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
`;
