/**
 * What `npm run bench` puts side by side: plain veth (the ceiling), tapvpn
 * (this work tree, optionally with queueing levers set through
 * TAPVPN_QUEUEING, see src/io/queueing.ts), tapvpn at another git ref (built
 * in a temporary worktree, for before/after tables), OpenVPN TAP/TCP and
 * wireguard-go. Each contender starts its tunnel in its own copy of the demo
 * topology and says which address iperf3 and ping aim at and which PIDs are
 * the tunnel's processes (CPU time and peak RSS are read from them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitForAddress } from '../src/demo/run.js';
import { TUNNEL_GATEWAY, type Topology } from '../src/demo/topology.js';
import { run } from '../src/io/command.js';
import { OPENVPN_SERVER_TUNNEL_ADDRESS, startOpenVpn } from './openvpn.js';
import { startWireGuard, WIREGUARD_SERVER_TUNNEL_ADDRESS } from './wireguard.js';

export const OPENVPN_AES = 'OpenVPN AES-256-GCM';
export const OPENVPN_CHACHA = 'OpenVPN CHACHA20-POLY1305';
export const WIREGUARD = 'wireguard-go';
const SERVER_START_MS = 1500;
/** Generous: on a loaded machine the lease can take tens of seconds. */
const ADDRESS_WAIT_MS = 120_000;
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Contender {
  name: string;
  /** The OpenVPN row with the same cipher (ratios are given against it and against wireguard-go). */
  reference?: string;
  /** Starts the tunnel; returns the address iperf3 and ping aim at (in the server namespace) and the tunnel PIDs. */
  start(topology: Topology, dir: string, children: ChildProcess[]): Promise<{ target: string; pids: number[] }>;
}

export const veth: Contender = { name: 'veth (ceiling)', start: async (topology) => ({ target: topology.serverAddressFor(0), pids: [] }) };

/** The demo module of a tapvpn tree: this one, or a baseline worktree's own (its config format may differ). */
interface DemoModule {
  writeDemoConfigs(dir: string, serverAddress: string, clients: string[]): Promise<{ server: string; clients: string[] }>;
}

export interface TapvpnOptions {
  suite: string;
  reference: string;
  /** Tunnel MTU pushed by the server (DHCP option 26). */
  mtu?: number;
  /** TAPVPN_QUEUEING for both daemons (src/io/queueing.ts), e.g. "txqueuelen=256,notsent_lowat=131072". */
  queueing?: string;
  /** Label instead of the default name. */
  label?: string;
  /** Node/V8 flags for both daemons instead of the command's own (bin/tapvpn.js's DAEMON_NODE_FLAGS). */
  nodeFlags?: string[];
  /** Another tapvpn tree (a baseline worktree); default: this one. */
  root?: string;
}

/** TAPVPN_BENCH_CPU_PROF=<dir>: tapvpn processes run with --cpu-prof, profiles written there on exit (bench/profile-summary.ts reads them). */
const PROFILE_DIR = process.env.TAPVPN_BENCH_CPU_PROF;

export function tapvpn(options: TapvpnOptions): Contender {
  const root = options.root ?? REPO_ROOT;
  const name = options.label ?? `tapvpn ${options.suite}${options.mtu ? ` MTU ${options.mtu}` : ''}${options.queueing ? ` [${options.queueing}]` : ''}`;
  return {
    name,
    reference: options.reference,
    start: async (topology, dir, children) => {
      const demo = (await import(pathToFileURL(join(root, 'src/demo/run.ts')).href)) as DemoModule;
      const sub = await mkdtemp(join(dir, 'tapvpn-'));
      const configs = await demo.writeDemoConfigs(sub, topology.serverAddressFor(0), ['bench']);
      // Bind the listener to the namespace's address, and pin the suite on the client (top-level keys go first in TOML).
      await editFile(configs.server, (text) => text.replace('address = "0.0.0.0"', `address = "${topology.serverAddressFor(0)}"`));
      await editFile(configs.clients[0]!, (text) => `suites = ["${options.suite}"]\n${text}`);
      if (options.mtu) await editFile(configs.server, (text) => text.replace(/^mtu = \d+$/m, `mtu = ${options.mtu}`));
      const env = { ...process.env, TAPVPN_QUEUEING: options.queueing ?? '', TAPVPN_LOG_PRETTY: '' };
      const logs = { server: join(sub, 'server.log'), client: join(sub, 'client.log') };
      const server = startTapvpn(root, topology.server, ['server', '--config', configs.server], env, logs.server, children, options.nodeFlags);
      await new Promise((r) => setTimeout(r, SERVER_START_MS));
      const client = startTapvpn(root, topology.clients[0]!, ['client', '--config', configs.clients[0]!], env, logs.client, children, options.nodeFlags);
      if (PROFILE_DIR) console.error(`  profiling ${name}: client pid ${client.pid}, server pid ${server.pid} → ${PROFILE_DIR}`);
      try {
        await waitForAddress(topology.clients[0]!, 'tapvpn0', ADDRESS_WAIT_MS);
      } catch (error) {
        const tail = async (file: string): Promise<string> => (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(-8).join('\n');
        throw new Error(`${name}: ${(error as Error).message}\n  server log:\n${await tail(logs.server)}\n  client log:\n${await tail(logs.client)}`);
      }
      return { target: TUNNEL_GATEWAY, pids: [client.pid!, server.pid!] };
    },
  };
}

/** `node [--cpu-prof] <root>/bin/tapvpn.js <args>` in the namespace (`ip netns exec` execs, so the PID is node's); output to `logFile`. */
function startTapvpn(root: string, netns: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, children: ChildProcess[], nodeFlags: string[] = []): ChildProcess {
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, ...nodeFlags, ...profile, join(root, 'bin/tapvpn.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  children.push(child);
  return child;
}

async function editFile(path: string, edit: (text: string) => string): Promise<void> {
  await writeFile(path, edit(await readFile(path, 'utf8')));
}

export function openvpn(cipher: string): Contender {
  return {
    name: `OpenVPN ${cipher}`,
    start: async (topology, dir, children) => {
      const pair = await startOpenVpn(dir, topology.server, topology.serverAddressFor(0), topology.clients[0]!, cipher, children);
      return { target: OPENVPN_SERVER_TUNNEL_ADDRESS, pids: [pair.client.pid!, pair.server.pid!] };
    },
  };
}

export const wireguard: Contender = {
  name: WIREGUARD,
  start: async (topology, dir, children) => {
    const pair = await startWireGuard(dir, topology.prefix, topology.server, topology.serverAddressFor(0), topology.clients[0]!, children);
    return { target: WIREGUARD_SERVER_TUNNEL_ADDRESS, pids: [pair.client.pid!, pair.server.pid!] };
  },
};

/**
 * A worktree of `ref` under `dir` with its dependencies and native addons
 * built (npm ci); built to dist/ as well when this tree runs from dist/, so
 * both sides run the same way. Returns its path and the short commit.
 */
export async function prepareBaseline(ref: string, dir: string): Promise<{ root: string; commit: string }> {
  const commit = (await run('git', ['-C', REPO_ROOT, 'rev-parse', '--short', `${ref}^{commit}`])).stdout.trim();
  const root = join(dir, `baseline-${commit}`);
  console.error(`bench: building tapvpn at ${ref} (${commit}) in ${root}`);
  await run('git', ['-C', REPO_ROOT, 'worktree', 'add', '--detach', root, commit]);
  await run('npm', ['--prefix', root, 'ci', '--no-audit', '--no-fund'], { timeoutMs: 600_000 });
  if (existsSync(join(REPO_ROOT, 'dist'))) await run('npm', ['--prefix', root, 'run', 'build'], { timeoutMs: 600_000, allowFailure: true });
  return { root, commit };
}

export async function removeBaseline(root: string): Promise<void> {
  await run('git', ['-C', REPO_ROOT, 'worktree', 'remove', '--force', root], { allowFailure: true });
}
