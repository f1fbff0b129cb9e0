/**
 * The network-namespace test bed for end-to-end tests and benchmarks (root).
 * A TestBed creates `tvt-`-prefixed namespaces and veth pairs with unique
 * names, runs commands inside them (bounded by a timeout), spawns long-lived
 * processes in them, and on cleanup() — always, in reverse order — kills the
 * processes it started (by PID), runs registered clean-ups (close your TAP
 * here), deletes its veths and namespaces. `withNamespaces` wraps all that in
 * try/finally so a failing test leaves nothing behind. It never touches a
 * device or namespace it did not create.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CommandError, run, type RunResult } from '../../src/io/command.js';

const DEFAULT_TIMEOUT_MS = 15_000;
const KILL_WAIT_MS = 2_000;

/** A unique tvt- name: `tvt-<tag><6 hex>`; tags keep device names within IFNAMSIZ (15 bytes). */
export function uniqueName(tag = ''): string {
  const name = `tvt-${tag}${randomBytes(3).toString('hex')}`;
  if (name.length > 15) throw new RangeError(`"${name}" is longer than an interface name may be (15 bytes); use a shorter tag`);
  return name;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of rejecting. */
  allowFailure?: boolean;
}

/** Runs `program args` inside `netns` (`ip netns exec`), with a timeout. */
export function execIn(netns: string, program: string, args: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
  return run(program, args, { netns, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, allowFailure: options.allowFailure ?? false });
}

/** Runs `ip <args>`, as `ip -n <netns> <args>` when a namespace is given. */
export function ipCommand(args: readonly string[], netns?: string, options: ExecOptions = {}): Promise<RunResult> {
  return run('ip', netns ? ['-n', netns, ...args] : args, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, allowFailure: options.allowFailure ?? false });
}

/** Moves a device (a TAP we hold open, say) from our namespace into `netns`; the fd stays valid. */
export async function moveTapToNamespace(device: string, netns: string): Promise<void> {
  await ipCommand(['link', 'set', 'dev', device, 'netns', netns]);
}

export interface Namespace {
  readonly name: string;
  /** Runs a command inside; rejects on a non-zero exit unless allowFailure. */
  exec(program: string, args: readonly string[], options?: ExecOptions): Promise<RunResult>;
  /** `ip -n <name> ...` */
  ip(args: readonly string[], options?: ExecOptions): Promise<RunResult>;
  /** Starts a long-running process inside; the test bed kills it on cleanup. */
  spawn(program: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
}

export interface VethEnd {
  netns: Namespace;
  /** Defaults to a unique tvt- name. */
  name?: string;
  /** "10.1.0.1/24", configured and brought up when given. */
  address?: string;
}

export class TestBed {
  readonly #namespaces: string[] = [];
  readonly #veths: Array<{ name: string; netns: string }> = [];
  readonly #children: ChildProcess[] = [];
  readonly #cleanups: Array<() => unknown> = [];
  #cleaned = false;

  /** Creates a fresh namespace with its loopback up. */
  async namespace(tag = 'ns'): Promise<Namespace> {
    const name = uniqueName(tag);
    await ipCommand(['netns', 'add', name]);
    this.#namespaces.push(name);
    await ipCommand(['link', 'set', 'dev', 'lo', 'up'], name);
    return {
      name,
      exec: (program, args, options) => execIn(name, program, args, options),
      ip: (args, options) => ipCommand(args, name, options),
      spawn: (program, args, options) => this.spawnIn(name, program, args, options),
    };
  }

  /** Creates a veth pair with one end in each namespace, addressed and up when addresses are given. Returns the two names. */
  async veth(a: VethEnd, b: VethEnd): Promise<[string, string]> {
    const nameA = a.name ?? uniqueName('va');
    const nameB = b.name ?? uniqueName('vb');
    await ipCommand(['link', 'add', nameA, 'netns', a.netns.name, 'type', 'veth', 'peer', 'name', nameB, 'netns', b.netns.name]);
    this.#veths.push({ name: nameA, netns: a.netns.name });
    for (const [end, name] of [[a, nameA], [b, nameB]] as const) {
      if (end.address) await end.netns.ip(['addr', 'add', end.address, 'dev', name]);
      await end.netns.ip(['link', 'set', 'dev', name, 'up']);
    }
    return [nameA, nameB];
  }

  /** Spawns `program args` inside `netns` (ip netns exec execs it: the PID is the program's). Killed on cleanup. */
  spawnIn(netns: string, program: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    if (this.#cleaned) throw new Error('test bed already cleaned up');
    const child = spawn('ip', ['netns', 'exec', netns, program, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.#children.push(child);
    return child;
  }

  /** Registers a clean-up (e.g. `() => tap.close()`); clean-ups run last-in first-out, before namespaces go. */
  defer(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** Undoes everything, continuing past failures; throws an AggregateError of them at the end. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.#cleaned) return;
    this.#cleaned = true;
    const failures: unknown[] = [];
    const attempt = async (step: () => unknown): Promise<void> => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    await Promise.all(this.#children.map((child) => attempt(() => killChild(child))));
    for (const cleanup of this.#cleanups.reverse()) await attempt(cleanup);
    for (const veth of this.#veths) await attempt(() => deleteIfPresent(['link', 'del', 'dev', veth.name], veth.netns));
    for (const name of this.#namespaces.reverse()) await attempt(() => ipCommand(['netns', 'del', name]));
    if (failures.length > 0) throw new AggregateError(failures, `test bed clean-up: ${failures.length} step(s) failed`);
  }
}

/** Kills a child we started, by its PID, and waits (bounded) for it to exit. */
async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, KILL_WAIT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  child.kill('SIGKILL');
  await exited;
}

/** Deleting one veth end deletes both; a namespace deletion may have taken it already. */
async function deleteIfPresent(args: readonly string[], netns: string): Promise<void> {
  try {
    await ipCommand(args, netns);
  } catch (error) {
    if (error instanceof CommandError && /Cannot find device|does not exist|No such file/i.test(error.stderr)) return;
    throw error;
  }
}

/**
 * Creates `count` namespaces, runs `body`, and always cleans up — also when
 * body throws (its error wins over a clean-up error).
 */
export async function withNamespaces<T>(count: number, body: (namespaces: Namespace[], bed: TestBed) => Promise<T>): Promise<T> {
  const bed = new TestBed();
  let failed = false;
  try {
    const namespaces: Namespace[] = [];
    for (let i = 0; i < count; i++) namespaces.push(await bed.namespace(`n${i}`));
    return await body(namespaces, bed);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    try {
      await bed.cleanup();
    } catch (error) {
      if (!failed) throw error;
    }
  }
}
