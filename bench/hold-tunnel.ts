/**
 * Starts one tapvpn tunnel (the benchmark's aes-256-gcm contender) in tvt-h-
 * namespaces and keeps it up until Ctrl-C, printing the namespaces and PIDs:
 * for traces and profiles by hand (strace, perf, ping) without a whole bench.
 *
 *   node --import tsx bench/hold-tunnel.ts [TAPVPN_QUEUEING spec]   (root)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChildren } from '../src/demo/run.js';
import { buildTopology } from '../src/demo/topology.js';
import { OPENVPN_AES, tapvpn } from './contenders.js';

const dir = await mkdtemp(join(tmpdir(), 'tvt-hold-'));
const children: ChildProcess[] = [];
const topology = await buildTopology('tvt-h-', 1);
const stop = async (): Promise<void> => {
  await stopChildren(children);
  await topology.destroy();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
try {
  const { target, pids } = await tapvpn({ suite: 'aes-256-gcm', reference: OPENVPN_AES, queueing: process.argv[2] ?? '' }).start(topology, dir, children);
  console.log(JSON.stringify({ client: topology.clients[0], server: topology.server, target, clientPid: pids[0], serverPid: pids[1] }));
} catch (error) {
  console.error(`hold-tunnel: ${(error as Error).message}`);
  await stop();
}
