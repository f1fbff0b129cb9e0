/**
 * Operations end to end: a tunnel server and two clients in tvt- namespaces
 * (src/demo/topology.ts), then what an admin uses to watch them —
 * `tapvpn status` on each daemon's control socket, `curl` of the server's
 * Prometheus endpoint, the tunnel event lines, and the live status page in
 * headless Chromium (Debian's chromium driven by playwright-core): it loads
 * without console errors, lists both clients with their addresses, and its
 * chart moves while traffic flows. The page's screenshot is kept under
 * test-artifacts/ (gitignored). Root, /dev/net/tun and chromium needed
 * (scripts/system-deps.sh installs it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { run } from '../../src/io/command.js';
import { spawnTapvpn, stopChildren, waitForAddress, writeDemoConfigs } from '../../src/demo/run.js';
import { buildTopology, TUNNEL_GATEWAY, type Topology } from '../../src/demo/topology.js';
import type { ClientSnapshot, ServerSnapshot } from '../../src/ops/snapshot.js';
import { eventually } from '../support/eventually.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/tapvpn.js');
const ARTIFACTS = join(ROOT, 'test-artifacts/ops');
const CHROMIUM = '/usr/bin/chromium';
const METRICS_PORT = 9557;
const STEP_TIMEOUT_MS = 90_000;
const NAMES = ['alice', 'bob'];

let topology: Topology;
let dir: string;
const children: ChildProcess[] = [];
const output = new Map<string, () => string>();
const addresses = new Map<string, string>();

function start(label: string, netns: string, args: string[]): void {
  const child = spawnTapvpn(netns, args, label, children, true);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  output.set(label, () => text);
}

async function tapvpn(args: string[]): Promise<string> {
  const result = await run(process.execPath, [BIN, ...args], { timeoutMs: 20_000, allowFailure: true });
  assert.equal(result.exitCode, 0, `tapvpn ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** JSON log lines of one daemon that carry an `event`. */
function events(label: string): Array<Record<string, unknown>> {
  return output
    .get(label)!()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"event"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('operations end to end', { timeout: 6 * STEP_TIMEOUT_MS }, () => {
  before(async () => {
    topology = await buildTopology(`tvt-o${process.pid % 1000}`, NAMES.length);
    dir = await mkdtemp(join(tmpdir(), 'tapvpn-ops-'));
    const configs = await writeDemoConfigs(dir, topology.serverAddressFor(0), NAMES);
    await appendFile(configs.server, `\n[metrics]\nenabled = true\nport = ${METRICS_PORT}\n`);
    start('server', topology.server, ['server', '--config', configs.server]);
    await eventually('the server to listen', () => output.get('server')!().includes('tunnel server ready'));
    for (const [i, name] of NAMES.entries()) start(name, topology.clients[i]!, ['client', '--config', configs.clients[i]!]);
    for (const [i, name] of NAMES.entries()) addresses.set(name, (await waitForAddress(topology.clients[i]!, 'tapvpn0')).split('/')[0]!);
    for (const [i] of NAMES.entries()) await run('ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL_GATEWAY], { netns: topology.clients[i]! });
  });

  after(async () => {
    await stopChildren(children);
    await topology?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('tapvpn status on the server: one aligned row per tunnel with address, peer, path, suite and traffic; --json has the same', { timeout: STEP_TIMEOUT_MS }, async () => {
    const socket = join(dir, 'server.sock');
    assert.equal((await stat(socket)).mode & 0o777, 0o660);
    const text = await tapvpn(['status', '--socket', socket]);
    assert.match(text, /^server tapvpn-srv \(tapvpn [^)]+\), up /m);
    assert.match(text, /tunnels: 2 up, 2 clients configured/);
    assert.match(text, /handshakes: ok 2/);
    for (const name of NAMES) assert.match(text, new RegExp(`^  ${name}\\s+${addresses.get(name)!.replace(/\./g, '\\.')}\\s+198\\.18\\.\\d+\\.\\d+:\\d+\\s+direct\\s+\\S+\\s+0\\s+`, 'm'));

    const json = JSON.parse(await tapvpn(['status', '--socket', socket, '--json'])) as ServerSnapshot;
    assert.deepEqual(json.tunnels.map((t) => t.name), NAMES);
    for (const row of json.tunnels) {
      assert.equal(row.address, addresses.get(row.name));
      assert.ok(row.traffic.datagramsReceived >= 3 && row.traffic.bytesReceived > 0, `${row.name} sent its pings through the tunnel`);
      assert.ok(row.traffic.datagramsSent >= 3, `${row.name} got the replies`);
      assert.ok(row.lastActivityMs <= json.nowMs && row.connectedSinceMs <= row.lastActivityMs);
    }
    assert.equal(json.pool.leased, 2);
    assert.equal(json.listener.listening, true);
  });

  test('tapvpn status on each client: up, its lease, its server, its traffic', { timeout: STEP_TIMEOUT_MS }, async () => {
    for (const name of NAMES) {
      const socket = join(dir, `${name}.sock`);
      const text = await tapvpn(['status', '--socket', socket]);
      assert.match(text, new RegExp(`^client ${name} `, 'm'));
      assert.match(text, /state: up for /);
      assert.match(text, new RegExp(`lease: ${addresses.get(name)!.replace(/\./g, '\\.')}/24 gateway 10\\.77\\.0\\.1, mtu 1400`));
      assert.match(text, /routes: 172\.31\.99\.0\/24/);
      const json = JSON.parse(await tapvpn(['status', '--socket', socket, '--json'])) as ClientSnapshot;
      assert.equal(json.state, 'up');
      assert.ok(json.traffic.datagramsSent >= 3);
    }
  });

  test('curl of the metrics endpoint returns the per-client series', { timeout: STEP_TIMEOUT_MS }, async () => {
    const { stdout } = await run('curl', ['-sS', '-m', '10', `http://127.0.0.1:${METRICS_PORT}/metrics`], { netns: topology.server });
    for (const name of NAMES) {
      const labels = `client="${name}",address="${addresses.get(name)}"`;
      assert.match(stdout, new RegExp(`^tapvpn_client_up\\{${labels}\\} 1$`, 'm'));
      const received = new RegExp(`^tapvpn_client_bytes_total\\{${labels},direction="received"\\} (\\d+)$`, 'm').exec(stdout);
      assert.ok(received && Number(received[1]) > 0, `bytes received from ${name}`);
    }
    assert.match(stdout, /^tapvpn_tunnels 2$/m);
    assert.match(stdout, /^tapvpn_handshakes_total\{result="ok",reason=""\} 2$/m);
    assert.match(stdout, /^process_resident_memory_bytes \d+/m);
  });

  test('the server logs one tunnel.opened event per client with the joined identity', { timeout: STEP_TIMEOUT_MS }, async () => {
    const opened = events('server').filter((e) => e.event === 'tunnel.opened');
    for (const name of NAMES) {
      const event = opened.find((e) => e.client === name);
      assert.ok(event, `a tunnel.opened event for ${name}`);
      assert.equal(event.address, addresses.get(name));
      assert.equal(event.mac, '02:74:76:70:6e:02');
      assert.match(String(event.peer), /^198\.18\.\d+\.\d+:\d+$/);
      assert.equal(event.path, 'direct');
    }
  });

  test('the live status page in headless Chromium: no console errors, both clients listed, the chart moves while traffic flows', { timeout: STEP_TIMEOUT_MS }, async () => {
    // Chromium runs inside the server namespace, where the listener is on loopback.
    const launcher = join(dir, 'chromium-in-netns.sh');
    await writeFile(launcher, `#!/bin/sh\nexec ip netns exec ${topology.server} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
    const profile = await mkdtemp(join(tmpdir(), 'tapvpn-chromium-'));
    const problems: string[] = [];
    let context: BrowserContext | undefined;
    let traffic: ChildProcess | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: launcher,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        timeout: 60_000,
      });
      const page: Page = context.pages()[0] ?? (await context.newPage());
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`http://127.0.0.1:${METRICS_PORT}/`, { timeout: 30_000 });
      for (const name of NAMES) {
        const row = page.locator(`tr[data-client="${name}"]`);
        await row.waitFor({ timeout: 20_000 });
        assert.equal(await row.locator('td').nth(1).textContent(), addresses.get(name));
        assert.equal(await row.locator('td').nth(2).textContent(), 'up');
      }
      const points = (): Promise<string | null> => page.locator('tr[data-client="alice"] polyline.rx').getAttribute('points');
      const before = await points();
      traffic = children[children.push(spawnPing(topology.clients[0]!)) - 1];
      await eventually('the chart to move with the traffic', async () => {
        const max = Number(await page.locator('tr[data-client="alice"] svg.chart').getAttribute('data-max'));
        return (await points()) !== before && max > 10_000; // more than the idle keepalives: the ping flood is drawn
      }, 40_000);
      await mkdir(ARTIFACTS, { recursive: true });
      const screenshot = join(ARTIFACTS, 'status-page.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`# status page screenshot: ${screenshot}`);
      assert.deepEqual(problems, [], 'no console errors on the status page');
    } finally {
      traffic?.kill('SIGTERM');
      await context?.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});

/** 1200-byte pings to the gateway, 50 a second for up to 30 s: traffic the chart must show. */
function spawnPing(netns: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, 'ping', '-q', '-i', '0.02', '-s', '1200', '-w', '30', TUNNEL_GATEWAY], { stdio: 'ignore' });
}
