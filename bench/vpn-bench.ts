/**
 * `npm run bench`: tapvpn against OpenVPN 2.6 (TAP over TCP) and wireguard-go
 * (UDP) on this machine, in one run, with the same tools (issues 6 and 13).
 *
 *   node --import tsx bench/vpn-bench.ts [--runs N] [--seconds S] [--only name,name]
 *        [--tests up1,down1,up4,down4] [--baseline-ref REF] [--levers "label=spec;label=spec"]
 *        [--node-levers "label=flags;label=flags"]   (root)
 *
 * Topology: the demo's namespaces (client0 ── veth ── server), one set per
 * contender (prefix tvt-b<i>-), all up at once so that the runs interleave
 * (run 1 of every contender, then run 2 ...) and a busy machine's noise falls
 * on all alike. For each contender, N runs of: 20 idle pings 0.2 s apart (and
 * 20 at 0.05 s, the older figure); iperf3 TCP tests (1 and 4 streams, both
 * directions), each with pings 0.2 s apart starting 1 s into the transfer
 * (RTT under load, once queues have filled) and pings 0.1 s apart from its
 * start, and the tunnel processes' CPU seconds from /proc; then the processes'
 * peak RSS. Medians of the runs go into one markdown table with ratios against
 * OpenVPN (same cipher) and wireguard-go, printed and written to
 * bench/results/<date>-<kernel>.md.
 *
 * --baseline-ref REF adds "tapvpn at REF", built in a temporary git worktree,
 * for before/after tables; --levers adds tapvpn contenders with queueing
 * levers set (TAPVPN_QUEUEING, src/io/queueing.ts), e.g.
 *   --levers "txq 64=txqueuelen=64;lowat=notsent_lowat=65536"
 * and --node-levers tapvpn contenders whose daemons get other Node/V8 flags
 * than the command's own (bin/tapvpn.js), e.g.
 *   --node-levers "semi 8=--max-semi-space-size=8"
 * Namespaces, worktrees and every process started here are removed in finally.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChildren } from '../src/demo/run.js';
import { buildTopology, type Topology } from '../src/demo/topology.js';
import { run } from '../src/io/command.js';
import { openvpn, OPENVPN_AES, OPENVPN_CHACHA, prepareBaseline, removeBaseline, tapvpn, veth, WIREGUARD, wireguard, type Contender } from './contenders.js';
import { cpuSeconds, iperf3, kernelRelease, peakRssMiB, ping, pingDuring, startIperf3Server, type PingResult, type RunningPing } from './measure.js';
import { makePki } from './openvpn.js';
import { fmt, summarize, table, TESTS, type RunFigures, type Rtt, type Summary, type Test } from './report.js';

const PREFIX = 'tvt-b';
const IDLE_PINGS = 20;
const IDLE_PING_INTERVAL_S = 0.2;
const IDLE_FAST_PING_INTERVAL_S = 0.05;
const LOAD_PING_INTERVAL_S = 0.2;
/** Loaded pings start this long after iperf3 does: by then the queues have filled. */
const LOAD_PING_DELAY_MS = 1000;
const LOAD_FAST_PING_INTERVAL_S = 0.1;
const MIN_SECONDS = 5;
const IPERF_READY_MS = 400;

function defaultContenders(): Contender[] {
  return [
    veth,
    tapvpn({ suite: 'aes-256-gcm', reference: OPENVPN_AES }),
    tapvpn({ suite: 'chacha20-poly1305', reference: OPENVPN_CHACHA }),
    tapvpn({ suite: 'aes-256-gcm', reference: OPENVPN_AES, mtu: 9000 }),
    openvpn('AES-256-GCM'),
    openvpn('CHACHA20-POLY1305'),
    wireguard,
  ];
}

const rttOf = (result: PingResult): Rtt => ({ avgMs: result.avgMs, maxMs: result.maxMs });

async function measureTest(clientNs: string, target: string, pids: number[], seconds: number, test: Test, figures: RunFigures): Promise<void> {
  let probes: { loaded: RunningPing; fast: RunningPing } | undefined;
  const stopProbes = async (): Promise<[PingResult, PingResult] | undefined> => {
    const current = probes;
    probes = undefined;
    return current ? Promise.all([current.loaded.stop(), current.fast.stop()]) : undefined;
  };
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const wallStart = performance.now();
  const result = await iperf3(clientNs, target, seconds, test.streams, test.reverse, {
    starting: () => {
      probes = { loaded: pingDuring(clientNs, target, LOAD_PING_INTERVAL_S, LOAD_PING_DELAY_MS), fast: pingDuring(clientNs, target, LOAD_FAST_PING_INTERVAL_S) };
    },
    failed: async () => void (await stopProbes()),
  });
  const [loaded, fast] = (await stopProbes())!;
  const wall = (performance.now() - wallStart) / 1000;
  const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
  figures.mbit[test.key] = result.mbitPerSecond;
  figures.cpuShare[test.key] = pids.length ? cpu / wall : NaN;
  figures.mbitPerCpuSecond[test.key] = pids.length && cpu > 0 ? (result.mbitPerSecond * result.seconds) / cpu : NaN;
  figures.loadedRtt[test.key] = rttOf(loaded);
  figures.loadedFastRtt[test.key] = rttOf(fast);
}

async function measureOnce(clientNs: string, target: string, pids: number[], seconds: number, tests: readonly Test[]): Promise<RunFigures> {
  const idle = await ping(clientNs, target, IDLE_PINGS, IDLE_PING_INTERVAL_S);
  const idleFast = await ping(clientNs, target, IDLE_PINGS, IDLE_FAST_PING_INTERVAL_S);
  const figures: RunFigures = { mbit: {}, mbitPerCpuSecond: {}, cpuShare: {}, idleRtt: rttOf(idle), idleFastRtt: rttOf(idleFast), loadedRtt: {}, loadedFastRtt: {} };
  for (const test of tests) await measureTest(clientNs, target, pids, seconds, test, figures);
  return figures;
}

interface Options {
  runs: number;
  seconds: number;
  only: string[] | undefined;
  tests: readonly Test[];
  baselineRef: string | undefined;
  levers: Array<{ label: string; spec: string }>;
  nodeLevers: Array<{ label: string; flags: string[] }>;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (text: string | undefined, separator: string): string[] | undefined => text?.split(separator).map((s) => s.trim()).filter(Boolean);
  const seconds = Number(value('--seconds') ?? MIN_SECONDS);
  if (!(seconds >= MIN_SECONDS)) throw new Error(`--seconds must be at least ${MIN_SECONDS} (loaded pings start 1 s in), got ${value('--seconds')}`);
  const testKeys = list(value('--tests'), ',');
  const tests = testKeys ? TESTS.filter((t) => testKeys.includes(t.key)) : TESTS;
  if (testKeys && tests.length !== testKeys.length) throw new Error(`--tests takes ${TESTS.map((t) => t.key).join(',')}, got ${testKeys.join(',')}`);
  const labelled = (flag: string, what: string) =>
    (list(value(flag), ';') ?? []).map((entry) => {
      const at = entry.indexOf('=');
      if (at <= 0) throw new Error(`${flag} entries are label=${what}, got "${entry}"`);
      return { label: entry.slice(0, at).trim(), rest: entry.slice(at + 1).trim() };
    });
  const levers = labelled('--levers', 'spec (spec as in TAPVPN_QUEUEING)').map(({ label, rest }) => ({ label, spec: rest }));
  const nodeLevers = labelled('--node-levers', 'flags (space-separated Node/V8 flags)').map(({ label, rest }) => ({ label, flags: rest.split(/\s+/).filter(Boolean) }));
  return { runs: Number(value('--runs') ?? 3), seconds, only: list(value('--only'), ',')?.map((s) => s.toLowerCase()), tests, baselineRef: value('--baseline-ref'), levers, nodeLevers };
}

async function describeTree(): Promise<string> {
  const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { allowFailure: true })).stdout.trim();
  const dirty = (await run('git', ['status', '--porcelain', '--untracked-files=no'], { allowFailure: true })).stdout.trim();
  const runner = distIsCurrent() ? 'compiled dist/' : 'source through tsx (dist/ missing or older than the source)';
  return `tapvpn at ${head}${dirty ? ' with uncommitted changes' : ''}, ${runner}`;
}

/** What bin/tapvpn.js decides: dist/ runs only while no source file or folder changed since the build (dist/build.json). */
function distIsCurrent(): boolean {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return Math.max(max, newest(path));
      return entry.name.endsWith('.ts') ? Math.max(max, statSync(path).mtimeMs) : max;
    }, statSync(dir).mtimeMs);
  try {
    const { sourcesAsOfMs } = JSON.parse(readFileSync(join(root, 'dist', 'build.json'), 'utf8')) as { sourcesAsOfMs: number };
    return ['src', 'adapter', 'emulators'].map((d) => join(root, d)).filter((d) => existsSync(d)).every((d) => newest(d) < sourcesAsOfMs);
  } catch {
    return false;
  }
}

async function versionOf(program: string, args: string[]): Promise<string> {
  const out = await run(program, args, { allowFailure: true });
  return (out.stdout || out.stderr).split('\n')[0]!.split(' [')[0]!.trim();
}

interface Live {
  contender: Contender;
  topology: Topology;
  target: string;
  pids: number[];
  runs: RunFigures[];
}

/** The usage lines of this file's header comment. */
function usage(): string {
  const header = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!;
  return header.split('\n').slice(1).map((line) => line.replace(/^ \* ?/, '')).join('\n').trim();
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) return void console.log(usage());
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, TAP devices)');
  const options = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(join(tmpdir(), 'tvt-bench-'));
  const topologies: Topology[] = [];
  const children: ChildProcess[] = [];
  let baselineRoot: string | undefined;
  const onSignal = (): void => void cleanup().then(() => process.exit(130));
  async function cleanup(): Promise<void> {
    await stopChildren(children);
    children.length = 0;
    for (const topology of topologies.splice(0)) await topology.destroy();
    if (baselineRoot) await removeBaseline(baselineRoot);
    baselineRoot = undefined;
  }
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let contenders = defaultContenders();
    if (options.only) contenders = contenders.filter((c) => options.only!.some((o) => c.name.toLowerCase().includes(o)));
    for (const lever of options.levers) contenders.push(tapvpn({ suite: 'aes-256-gcm', reference: OPENVPN_AES, queueing: lever.spec, label: `tapvpn aes-256-gcm, ${lever.label}` }));
    for (const lever of options.nodeLevers) contenders.push(tapvpn({ suite: 'aes-256-gcm', reference: OPENVPN_AES, nodeFlags: lever.flags, label: `tapvpn aes-256-gcm, ${lever.label}` }));
    let baselineNote = '';
    if (options.baselineRef) {
      const baseline = await prepareBaseline(options.baselineRef, dir);
      baselineRoot = baseline.root;
      baselineNote = ` The "@${baseline.commit}" row is tapvpn built from git ref ${options.baselineRef} in a temporary worktree.`;
      contenders.splice(1, 0, tapvpn({ suite: 'aes-256-gcm', reference: OPENVPN_AES, root: baseline.root, label: `tapvpn aes-256-gcm @${baseline.commit}` }));
    }
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    if (contenders.some((c) => c.name.startsWith('OpenVPN'))) await makePki(dir);
    // Every contender up at once, each in its own namespaces, so the runs can be interleaved:
    // on a shared machine the noise then falls on all of them alike.
    const live: Live[] = [];
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
        const figures = await measureOnce(entry.topology.clients[0]!, entry.target, entry.pids, options.seconds, options.tests);
        entry.runs.push(figures);
        console.error(`  run ${i + 1} ${entry.contender.name}: ${options.tests.map((t) => `${t.key} ${fmt(figures.mbit[t.key] ?? NaN)}`).join(', ')} Mbit/s; RTT idle ${fmt(figures.idleRtt.avgMs, 2)} ms, loaded c→s ${fmt(figures.loadedRtt.up1?.avgMs ?? NaN, 1)} ms, s→c ${fmt(figures.loadedRtt.down1?.avgMs ?? NaN, 1)} ms`);
      }
    }
    const summaries: Summary[] = live.map((entry) => summarize(entry.contender.name, entry.contender.reference, entry.runs, entry.pids.map(peakRssMiB)));
    const loadAfter = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const kernel = await kernelRelease();
    const date = new Date().toISOString().slice(0, 10);
    const cpu = ((await readFile('/proc/cpuinfo', 'utf8')).match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU').trim();
    const header = [
      `## tapvpn vs OpenVPN (TAP over TCP) and wireguard-go — ${new Date().toISOString().slice(0, 16)}Z, Linux ${kernel}`,
      '',
      `${cpu}, ${(await run('nproc', [])).stdout.trim()} cores; Node ${process.version}; ${await versionOf('openvpn', ['--version'])}; ${await versionOf('wireguard-go', ['--version'])}; ${await describeTree()}.${baselineNote}`,
      `Medians of ${options.runs} interleaved runs of ${options.seconds} s iperf3 TCP each; load average ${load} at start, ${loadAfter} at the end. Ratios (×) against OpenVPN with the same cipher / against wireguard-go; for RTT lower is better. RTT under load: pings 0.2 s apart from 1 s into the transfer; "fast pings": 0.05 s apart idle, 0.1 s apart from the start of the transfer.`,
      '',
      '',
    ].join('\n');
    const output = `${header}${table(summaries, WIREGUARD)}\n`;
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
