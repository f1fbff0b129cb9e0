/**
 * The benchmark's instruments: iperf3 throughput, ping RTT, and the CPU time
 * and peak memory of processes read from /proc. No set-up or policy here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { run } from '../src/io/command.js';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every mainstream kernel). */
const CLOCK_TICKS_PER_SECOND = 100;
const STAT_UTIME_FIELD = 14;
const IPERF3_SLACK_MS = 20_000;
const IPERF3_GAP_MS = 500;
const IPERF3_ATTEMPTS = 3;

/** utime + stime of a process, in seconds; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const base = 3; // fields[0] is field 3 (state)
    return (Number(fields[STAT_UTIME_FIELD - base]) + Number(fields[STAT_UTIME_FIELD + 1 - base])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Peak resident set size (VmHWM) in MiB; NaN when unknown. */
export function peakRssMiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export interface IperfResult {
  mbitPerSecond: number;
  seconds: number;
  retransmits: number;
}

/**
 * One iperf3 TCP test from `netns` to `server`; reverse = server sends.
 * iperf3's server needs a moment between tests (a test started right after
 * another may be reset on its control connection), so a failed start is
 * retried after a pause.
 */
export async function iperf3(netns: string, server: string, seconds: number, streams: number, reverse: boolean, hooks: AttemptHooks = {}): Promise<IperfResult> {
  for (let attempt = 1; ; attempt++) {
    await new Promise((r) => setTimeout(r, IPERF3_GAP_MS));
    hooks.starting?.();
    try {
      return await iperf3Once(netns, server, seconds, streams, reverse);
    } catch (error) {
      await hooks.failed?.();
      if (attempt >= IPERF3_ATTEMPTS) throw error;
    }
  }
}

/** Called around each iperf3 attempt: probes that must line up with the transfer (pings under load) start and stop here. */
export interface AttemptHooks {
  /** Right before the iperf3 client is spawned. */
  starting?(): void;
  /** The attempt failed and will be retried (or given up): discard what `starting` began. */
  failed?(): Promise<void>;
}

async function iperf3Once(netns: string, server: string, seconds: number, streams: number, reverse: boolean): Promise<IperfResult> {
  const args = ['-c', server, '-t', String(seconds), '-P', String(streams), '-J', ...(reverse ? ['-R'] : [])];
  const out = await run('iperf3', args, { netns, timeoutMs: seconds * 1000 + IPERF3_SLACK_MS, allowFailure: true });
  let report: { error?: string; end?: { sum_received?: { bits_per_second: number; seconds: number }; sum_sent?: { retransmits?: number } } };
  try {
    report = JSON.parse(out.stdout) as typeof report;
  } catch {
    throw new Error(`iperf3 ${args.join(' ')}: no JSON report (${out.stderr.trim() || out.stdout.slice(0, 200)})`);
  }
  const received = report.end?.sum_received;
  if (report.error || !received) throw new Error(`iperf3 ${args.join(' ')}: ${report.error ?? 'no summary'}`);
  return { mbitPerSecond: received.bits_per_second / 1e6, seconds: received.seconds, retransmits: report.end?.sum_sent?.retransmits ?? 0 };
}

export function startIperf3Server(netns: string, bindAddress: string, children: ChildProcess[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', netns, 'iperf3', '-s', '-B', bindAddress], { stdio: 'ignore' });
  children.push(child);
  return child;
}

export interface PingResult {
  avgMs: number;
  maxMs: number;
  lossPercent: number;
}

/** `ping -c count -i interval` from `netns`; the summary line parsed. */
export async function ping(netns: string, target: string, count: number, intervalSeconds: number): Promise<PingResult> {
  const out = await run('ping', ['-q', '-n', '-c', String(count), '-i', String(intervalSeconds), '-W', '2', target], { netns, allowFailure: true, timeoutMs: count * intervalSeconds * 1000 + 10_000 });
  return parsePing(out.stdout);
}

export interface RunningPing {
  /** Stops the ping (or cancels it if it has not started yet) and returns its summary (NaN figures when no reply came). */
  stop(): Promise<PingResult>;
}

/** Starts a ping that runs until stopped (during a transfer), after `delayMs`; stop() returns its summary. */
export function pingDuring(netns: string, target: string, intervalSeconds: number, delayMs = 0): RunningPing {
  if (delayMs > 0) {
    let started: RunningPing | undefined;
    const timer = setTimeout(() => (started = pingDuring(netns, target, intervalSeconds)), delayMs);
    return {
      stop: async () => {
        clearTimeout(timer);
        return started ? started.stop() : { avgMs: NaN, maxMs: NaN, lossPercent: NaN };
      },
    };
  }
  const child = spawn('ip', ['netns', 'exec', netns, 'ping', '-q', '-n', '-i', String(intervalSeconds), '-W', '2', target], { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGINT'); // ping prints its summary on SIGINT
      await exited;
      return parsePing(output);
    },
  };
}

function parsePing(text: string): PingResult {
  const loss = /([\d.]+)% packet loss/.exec(text);
  const rtt = /= [\d.]+\/([\d.]+)\/([\d.]+)\//.exec(text);
  return { avgMs: rtt ? Number(rtt[1]) : NaN, maxMs: rtt ? Number(rtt[2]) : NaN, lossPercent: loss ? Number(loss[1]) : NaN };
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function kernelRelease(): Promise<string> {
  return (await run('uname', ['-r'])).stdout.trim();
}
