/**
 * `npm run bench`: tapvpn against OpenVPN 2.6 (TAP over TCP) on this machine,
 * in one run, with the same tools (issue 6).
 *
 *   node --import tsx bench/vpn-bench.ts [--runs N] [--seconds S] [--only name,name]   (root)
 *
 * Topology: the demo's namespaces (client0 ── veth ── server), one set per
 * contender (prefix tvt-b<i>-), all up at once so that the runs interleave
 * (run 1 of every contender, then run 2 ...) and a busy machine's noise falls
 * on all alike. Contenders, each over its own identical veth: plain veth (the ceiling),
 * tapvpn direct with each AEAD suite, OpenVPN TAP/TCP with AES-256-GCM and
 * CHACHA20-POLY1305. For each, N runs of: ping idle; iperf3 TCP 1 and 4
 * streams, both directions, each with a ping alongside (RTT under load) and
 * the tunnel processes' CPU seconds from /proc; then the processes' peak RSS.
 * Medians of the runs go into one markdown table (ratios against OpenVPN with
 * the same cipher), printed and written to bench/results/<date>-<kernel>.md.
 * Namespaces and every process started here are removed in finally.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTapvpn, stopChildren, waitForAddress, writeDemoConfigs } from '../src/demo/run.js';
import { buildTopology, TUNNEL_GATEWAY, type Topology } from '../src/demo/topology.js';
import { run } from '../src/io/command.js';
import { cpuSeconds, iperf3, kernelRelease, median, peakRssMiB, ping, pingDuring, startIperf3Server } from './measure.js';
import { makePki, OPENVPN_SERVER_TUNNEL_ADDRESS, startOpenVpn } from './openvpn.js';

const PREFIX = 'tvt-b';
const TAPVPN_BIN = fileURLToPath(new URL('../bin/tapvpn.js', import.meta.url));
const IDLE_PINGS = 20;
const IDLE_PING_INTERVAL_S = 0.05;
const LOAD_PING_INTERVAL_S = 0.1;
const SERVER_START_MS = 1500;
const IPERF_READY_MS = 400;

interface Contender {
  name: string;
  /** OpenVPN row this one is compared with. */
  reference?: string;
  /** Starts the tunnel; returns the address iperf3 and ping aim at (in the server namespace) and the tunnel PIDs. */
  start(topology: Topology, dir: string, children: ChildProcess[]): Promise<{ target: string; pids: number[] }>;
}

const TESTS = [
  { key: 'up1', streams: 1, reverse: false, label: '1 stream c→s' },
  { key: 'down1', streams: 1, reverse: true, label: '1 stream s→c' },
  { key: 'up4', streams: 4, reverse: false, label: '4 streams c→s' },
  { key: 'down4', streams: 4, reverse: true, label: '4 streams s→c' },
] as const;
type TestKey = (typeof TESTS)[number]['key'];

interface RunFigures {
  mbit: Record<TestKey, number>;
  /** Megabits moved per CPU-second of the tunnel processes, per test. */
  mbitPerCpuSecond: Record<TestKey, number>;
  cpuShare: Record<TestKey, number>;
  idleRttMs: number;
  loadRttMs: number;
  loadRttMaxMs: number;
}

/** `mtu`: the tunnel MTU the server pushes (DHCP option 26); the carrier TCP segments it anyway, so large frames mean fewer frames, seals and TAP writes per byte. */
function tapvpn(suite: string, reference: string, mtu?: number): Contender {
  return {
    name: `tapvpn ${suite}${mtu ? ` MTU ${mtu}` : ''}`,
    reference,
    start: async (topology, dir, children) => {
      const sub = await mkdtemp(join(dir, 'tapvpn-'));
      const configs = await writeDemoConfigs(sub, topology.serverAddressFor(0), ['bench']);
      // Bind the listener to the namespace's address, and pin the suite on the client (top-level keys go first in TOML).
      await editFile(configs.server, (text) => text.replace('address = "0.0.0.0"', `address = "${topology.serverAddressFor(0)}"`));
      await editFile(configs.clients[0]!, (text) => `suites = ["${suite}"]\n${text}`);
      if (mtu) await editFile(configs.server, (text) => text.replace(/^mtu = \d+$/m, `mtu = ${mtu}`));
      const server = startTapvpn(topology.server, ['server', '--config', configs.server], 'server', children);
      await new Promise((r) => setTimeout(r, SERVER_START_MS));
      const client = startTapvpn(topology.clients[0]!, ['client', '--config', configs.clients[0]!], 'client', children);
      if (PROFILE_DIR) console.error(`  profiling ${suite}: client pid ${client.pid}, server pid ${server.pid} → ${PROFILE_DIR}`);
      await waitForAddress(topology.clients[0]!, 'tapvpn0');
      return { target: TUNNEL_GATEWAY, pids: [client.pid!, server.pid!] };
    },
  };
}

/** TAPVPN_BENCH_CPU_PROF=<dir>: tapvpn processes run with --cpu-prof, profiles written there on exit (bench/profile-summary.ts reads them). */
const PROFILE_DIR = process.env.TAPVPN_BENCH_CPU_PROF;

/** spawnTapvpn, or with TAPVPN_BENCH_CPU_PROF the same command under `node --cpu-prof` (not allowed in NODE_OPTIONS). */
function startTapvpn(netns: string, args: string[], label: string, children: ChildProcess[]): ChildProcess {
  if (!PROFILE_DIR) return spawnTapvpn(netns, args, label, children, true);
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, TAPVPN_BIN, ...args], { stdio: 'ignore' });
  children.push(child);
  return child;
}

function openvpn(cipher: string): Contender {
  return {
    name: `OpenVPN ${cipher}`,
    start: async (topology, dir, children) => {
      const pair = await startOpenVpn(dir, topology.server, topology.serverAddressFor(0), topology.clients[0]!, cipher, children);
      return { target: OPENVPN_SERVER_TUNNEL_ADDRESS, pids: [pair.client.pid!, pair.server.pid!] };
    },
  };
}

const CONTENDERS: Contender[] = [
  { name: 'veth (ceiling)', start: async (topology) => ({ target: topology.serverAddressFor(0), pids: [] }) },
  tapvpn('aes-256-gcm', 'OpenVPN AES-256-GCM'),
  tapvpn('chacha20-poly1305', 'OpenVPN CHACHA20-POLY1305'),
  tapvpn('aes-256-gcm', 'OpenVPN AES-256-GCM', 9000),
  openvpn('AES-256-GCM'),
  openvpn('CHACHA20-POLY1305'),
];

async function editFile(path: string, edit: (text: string) => string): Promise<void> {
  await writeFile(path, edit(await readFile(path, 'utf8')));
}

async function measureOnce(clientNs: string, target: string, pids: number[], seconds: number): Promise<RunFigures> {
  const idle = await ping(clientNs, target, IDLE_PINGS, IDLE_PING_INTERVAL_S);
  const figures: RunFigures = { mbit: {} as Record<TestKey, number>, mbitPerCpuSecond: {} as Record<TestKey, number>, cpuShare: {} as Record<TestKey, number>, idleRttMs: idle.avgMs, loadRttMs: NaN, loadRttMaxMs: NaN };
  for (const test of TESTS) {
    const cpuBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const wallStart = performance.now();
    const pinger = pingDuring(clientNs, target, LOAD_PING_INTERVAL_S);
    const result = await iperf3(clientNs, target, seconds, test.streams, test.reverse);
    const underLoad = await pinger.stop();
    const wall = (performance.now() - wallStart) / 1000;
    const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
    figures.mbit[test.key] = result.mbitPerSecond;
    figures.cpuShare[test.key] = pids.length ? cpu / wall : NaN;
    figures.mbitPerCpuSecond[test.key] = pids.length && cpu > 0 ? (result.mbitPerSecond * result.seconds) / cpu : NaN;
    if (test.key === 'up1') {
      figures.loadRttMs = underLoad.avgMs;
      figures.loadRttMaxMs = underLoad.maxMs;
    }
  }
  return figures;
}

interface Summary {
  name: string;
  reference: string | undefined;
  mbit: Record<TestKey, number>;
  mbitPerCpuSecond: number;
  cpuShare: number;
  idleRttMs: number;
  loadRttMs: number;
  loadRttMaxMs: number;
  rssMiB: number[];
}

function summarize(contender: Contender, runs: RunFigures[], rssMiB: number[]): Summary {
  const med = (pick: (f: RunFigures) => number): number => median(runs.map(pick));
  const mbit = Object.fromEntries(TESTS.map((t) => [t.key, med((f) => f.mbit[t.key])])) as Record<TestKey, number>;
  return {
    name: contender.name,
    reference: contender.reference,
    mbit,
    mbitPerCpuSecond: med((f) => f.mbitPerCpuSecond.up1),
    cpuShare: med((f) => f.cpuShare.up1),
    idleRttMs: med((f) => f.idleRttMs),
    loadRttMs: med((f) => f.loadRttMs),
    loadRttMaxMs: med((f) => f.loadRttMaxMs),
    rssMiB,
  };
}

function fmt(value: number, digits = 0): string {
  return Number.isNaN(value) ? '—' : value.toFixed(digits);
}

function ratio(value: number, reference: number | undefined, lowerIsBetter = false): string {
  if (reference === undefined || Number.isNaN(value) || Number.isNaN(reference) || reference === 0) return '';
  return ` (${(lowerIsBetter ? value / reference : value / reference).toFixed(2)}×)`;
}

function table(rows: Summary[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const head = ['contender', ...TESTS.map((t) => `${t.label} Mbit/s`), 'Mbit per CPU-s (1 stream c→s)', 'tunnel CPU (cores, 1 stream c→s)', 'RTT idle ms', 'RTT under load ms (avg / max)', 'peak RSS MiB (client / server)'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const ref = r.reference ? byName.get(r.reference) : undefined;
    lines.push(
      `| ${[
        r.name,
        ...TESTS.map((t) => fmt(r.mbit[t.key]) + ratio(r.mbit[t.key], ref?.mbit[t.key])),
        fmt(r.mbitPerCpuSecond) + ratio(r.mbitPerCpuSecond, ref?.mbitPerCpuSecond),
        fmt(r.cpuShare, 2),
        fmt(r.idleRttMs, 3) + ratio(r.idleRttMs, ref?.idleRttMs, true),
        `${fmt(r.loadRttMs, 1)} / ${fmt(r.loadRttMaxMs, 1)}` + ratio(r.loadRttMs, ref?.loadRttMs, true),
        r.rssMiB.length ? r.rssMiB.map((v) => fmt(v, 1)).join(' / ') : '—',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function parseArgs(argv: string[]): { runs: number; seconds: number; only: string[] | undefined } {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = value('--only');
  return { runs: Number(value('--runs') ?? 3), seconds: Number(value('--seconds') ?? 5), only: only ? only.split(',').map((s) => s.trim().toLowerCase()) : undefined };
}

async function describeCrypto(): Promise<string> {
  const tracked = await run('git', ['ls-files', '--error-unmatch', 'src/crypto/index.ts'], { allowFailure: true });
  const dirty = await run('git', ['status', '--porcelain', '--', 'src/crypto'], { allowFailure: true });
  const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { allowFailure: true })).stdout.trim();
  if (tracked.exitCode !== 0) return `commit ${head}; tapvpn crypto: UNCOMMITTED stand-in (src/crypto not in git yet)`;
  return `commit ${head}; tapvpn crypto: src/crypto${dirty.stdout.trim() ? ' with uncommitted changes in the work tree' : ' as committed'}`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, TAP devices)');
  const options = parseArgs(process.argv.slice(2));
  const contenders = options.only ? CONTENDERS.filter((c) => options.only!.some((o) => c.name.toLowerCase().includes(o))) : CONTENDERS;
  const dir = await mkdtemp(join(tmpdir(), 'tvt-bench-'));
  const summaries: Summary[] = [];
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const topologies: Topology[] = [];
  const children: ChildProcess[] = [];
  const onSignal = (): void => void cleanup().then(() => process.exit(130));
  async function cleanup(): Promise<void> {
    await stopChildren(children);
    children.length = 0;
    for (const topology of topologies.splice(0)) await topology.destroy();
  }
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (contenders.some((c) => c.name.startsWith('OpenVPN'))) await makePki(dir);
    // Every contender up at once, each in its own namespaces, so the runs can be interleaved:
    // on a shared machine the noise then falls on all of them alike.
    const live: Array<{ contender: Contender; topology: Topology; target: string; pids: number[]; runs: RunFigures[] }> = [];
    for (const [i, contender] of contenders.entries()) {
      console.error(`bench: starting ${contender.name}`);
      const topology = await buildTopology(`${PREFIX}${i}-`, 1);
      topologies.push(topology);
      const { target, pids } = await contender.start(topology, dir, children);
      startIperf3Server(topology.server, target, children);
      live.push({ contender, topology, target, pids, runs: [] });
    }
    await new Promise((r) => setTimeout(r, IPERF_READY_MS));
    for (let i = 0; i < options.runs; i++) {
      for (const entry of live) {
        const figures = await measureOnce(entry.topology.clients[0]!, entry.target, entry.pids, options.seconds);
        entry.runs.push(figures);
        console.error(`  run ${i + 1} ${entry.contender.name}: ${TESTS.map((t) => `${t.key} ${fmt(figures.mbit[t.key])}`).join(', ')} Mbit/s; RTT idle ${fmt(figures.idleRttMs, 2)} ms, loaded ${fmt(figures.loadRttMs, 1)} ms`);
      }
    }
    for (const entry of live) summaries.push(summarize(entry.contender, entry.runs, entry.pids.map(peakRssMiB)));
    const kernel = await kernelRelease();
    const date = new Date().toISOString().slice(0, 10);
    const cpu = ((await readFile('/proc/cpuinfo', 'utf8')).match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU').trim();
    const ovpn = (await run('openvpn', ['--version'], { allowFailure: true })).stdout.split('\n')[0] ?? '';
    const header = [
      `## tapvpn vs OpenVPN (TAP over TCP) — ${date}, Linux ${kernel}`,
      '',
      `${cpu}, ${(await run('nproc', [])).stdout.trim()} cores; Node ${process.version}; ${ovpn.split(' [')[0]}; ${await describeCrypto()}.`,
      `Medians of ${options.runs} runs of ${options.seconds} s iperf3 TCP each; load average at start ${load}. Ratios (×) against OpenVPN with the same cipher; for RTT lower is better.`,
      '',
    ].join('\n');
    const output = `${header}${table(summaries)}\n`;
    console.log(`\n${output}`);
    const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
    await mkdir(resultsDir, { recursive: true });
    let file = join(resultsDir, `${date}-${kernel}.md`);
    for (let n = 2; existsSync(file); n++) file = join(resultsDir, `${date}-${kernel}-${n}.md`); // never overwrite an earlier run
    await writeFile(file, output);
    console.error(`bench: written to ${file}`);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`vpn-bench: ${error.message}`);
  process.exitCode = 1;
});
