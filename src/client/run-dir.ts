/**
 * The client's run folder: one per adapter and network namespace,
 * `<root>/client-<adapter>-net<namespace inode>`, where root is
 * TAPVPN_RUN_DIR, else /run/tapvpn (root; the control sockets live there too), else <tmpdir>/tapvpn-<uid>. It
 * holds the DHCP client's files, the resolver file as it was before, and
 * state.json: the DHCP child's PID and start time and the DNS the tunnel
 * pushed. Only a client holding the adapter lock (adapter-lock.ts) opens it,
 * so a folder found at start was left by a client that died: `openRunDir`
 * reaps its DHCP child (when the recorded PID is still that very process),
 * puts resolv.conf back, and starts a fresh folder. Folders of namespaces
 * that no longer exist (no process and no /run/netns name holds them, so
 * nothing of theirs can still run) are removed at the same time.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RUN_DIRECTORY } from '../config/fields.js';
import { restoreResolvConf, type PushedDns, type RestoreOutcome } from './resolv-guard.js';

const STATE_FILE = 'state.json';
const REAP_WAIT_MS = 2_000;
const REAP_POLL_MS = 50;

export interface RecordedProcess {
  program: string;
  pid: number;
  /** /proc/PID/stat field 22 (start time in clock ticks since boot): tells a recycled PID from ours. */
  startTime: string;
}

export interface RunState {
  clientPid: number;
  dhcpClient?: RecordedProcess;
  dns?: PushedDns;
}

/** What openRunDir found and undid, for one log line. */
export interface Recovery {
  reapedDhcpClient?: RecordedProcess;
  resolvConf?: RestoreOutcome;
}

export interface RunDir {
  readonly path: string;
  /** What a dead predecessor left and was cleared, when there was one. */
  readonly recovered: Recovery | undefined;
  update(change: Partial<RunState>): Promise<void>;
  remove(): Promise<void>;
}

async function defaultRoot(): Promise<string> {
  if (process.env.TAPVPN_RUN_DIR) return process.env.TAPVPN_RUN_DIR;
  if (process.getuid?.() === 0) return RUN_DIRECTORY;
  return join(tmpdir(), `tapvpn-${process.getuid?.() ?? 'user'}`);
}

/** The run folder's path for `adapter` in this process's network namespace. */
export async function runDirPath(adapter: string, root?: string): Promise<string> {
  const netns = (await stat('/proc/self/ns/net')).ino;
  return join(root ?? (await defaultRoot()), `client-${adapter}-net${netns}`);
}

/** A process's start time, or undefined when it no longer exists (or is a zombie: it has exited). */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

async function isSameProcess(recorded: RecordedProcess): Promise<boolean> {
  return (await processStartTime(recorded.pid)) === recorded.startTime;
}

/** Ends a recorded process if it is still that process: SIGTERM, then SIGKILL after a bounded wait. */
async function reap(recorded: RecordedProcess): Promise<boolean> {
  if (!(await isSameProcess(recorded))) return false;
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(recorded.pid, signal);
    } catch {
      return true; // gone between the check and the signal
    }
    for (let waited = 0; waited < REAP_WAIT_MS; waited += REAP_POLL_MS) {
      if (!(await isSameProcess(recorded))) return true;
      await new Promise((r) => setTimeout(r, REAP_POLL_MS));
    }
  }
  return true;
}

async function readState(path: string): Promise<RunState | undefined> {
  try {
    return JSON.parse(await readFile(join(path, STATE_FILE), 'utf8')) as RunState;
  } catch {
    return undefined; // no state or a torn one: nothing recorded to undo
  }
}

/** Clears what a dead client left in `path`, then removes it. */
async function recover(path: string, resolvConf?: string): Promise<Recovery> {
  const state = await readState(path);
  const recovery: Recovery = {};
  if (state?.dhcpClient && (await reap(state.dhcpClient))) recovery.reapedDhcpClient = state.dhcpClient;
  if (state?.dns) recovery.resolvConf = await restoreResolvConf(path, state.dns, resolvConf);
  await rm(path, { recursive: true, force: true });
  return recovery;
}

const RUN_DIR_NAME = /^client-.+-net(\d+)$/;

/** Inodes of every network namespace still alive: those of running processes and of named ones (/run/netns). */
async function liveNamespaces(): Promise<Set<number>> {
  const live = new Set<number>();
  const add = (path: string): Promise<void> => stat(path).then((s) => void live.add(s.ino), () => undefined);
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  await Promise.all(pids.map((pid) => add(`/proc/${pid}/ns/net`)));
  const named = await readdir('/run/netns').catch(() => [] as string[]);
  await Promise.all(named.map((name) => add(join('/run/netns', name))));
  return live;
}

/** Removes run folders whose network namespace is gone (their clients and DHCP children went with it). Returns how many. */
export async function sweepGoneNamespaces(root: string): Promise<number> {
  const folders = (await readdir(root).catch(() => [] as string[])).filter((name) => RUN_DIR_NAME.test(name));
  if (folders.length === 0) return 0;
  const live = await liveNamespaces();
  const gone = folders.filter((name) => !live.has(Number(RUN_DIR_NAME.exec(name)![1])));
  await Promise.all(gone.map((name) => rm(join(root, name), { recursive: true, force: true })));
  return gone.length;
}

export interface OpenRunDirOptions {
  root?: string;
  /** The resolver file to guard (tests point it elsewhere). */
  resolvConf?: string;
}

/** Opens a fresh run folder for `adapter`, clearing a dead predecessor's first. Call only while holding the adapter lock. */
export async function openRunDir(adapter: string, options: OpenRunDirOptions = {}): Promise<RunDir> {
  const path = await runDirPath(adapter, options.root);
  await sweepGoneNamespaces(dirname(path));
  const leftover = await stat(path).then(() => true, () => false);
  const recovered = leftover ? await recover(path, options.resolvConf) : undefined;
  await mkdir(dirname(path), { recursive: true, mode: 0o755 }); // shared with the control sockets (src/ops/control)
  await mkdir(path, { mode: 0o700 });
  let state: RunState = { clientPid: process.pid };
  const save = (): Promise<void> => writeFile(join(path, STATE_FILE), JSON.stringify(state), { mode: 0o600 });
  await save();
  return {
    path,
    recovered,
    update: async (change) => {
      state = { ...state, ...change };
      await save();
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** The record of a process we started, for state.json. */
export async function recordProcess(program: string, pid: number): Promise<RecordedProcess | undefined> {
  const startTime = await processStartTime(pid);
  return startTime === undefined ? undefined : { program, pid, startTime };
}
