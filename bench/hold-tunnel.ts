/**
 * Starts one tunnel (tapvpn aes-256-gcm, OpenVPN AES-256-GCM or wireguard-go,
 * as the benchmark does) in tvt-h- namespaces and keeps it up until Ctrl-C,
 * printing the namespaces, target and PIDs: for traces and profiles by hand
 * (strace, perf, /proc/<pid>/schedstat, ping) without a whole bench.
 *
 *   node --import tsx bench/hold-tunnel.ts [tapvpn|openvpn|wireguard] [TAPVPN_QUEUEING spec]   (root)
 *
 * HOLD_NODE_FLAGS="--trace-deopt --perf-basic-prof" gives tapvpn's daemons
 * Node/V8 flags (their output goes to the daemons' logs in its tvt-hold- temp folder,
 * removed when the tunnel stops).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChildren } from '../src/demo/run.js';
import { buildTopology } from '../src/demo/topology.js';
import { openvpn, OPENVPN_AES, tapvpn, wireguard, type Contender } from './contenders.js';
import { makePki } from './openvpn.js';

const dir = await mkdtemp(join(tmpdir(), 'tvt-hold-'));
const children: ChildProcess[] = [];
const topology = await buildTopology(`tvt-h${process.pid % 1000}-`, 1);
const stop = async (): Promise<void> => {
  await stopChildren(children);
  await topology.destroy();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
try {
  const kind = process.argv[2] ?? 'tapvpn';
  const contenders: Record<string, () => Contender> = {
    tapvpn: () => tapvpn({ suite: 'aes-256-gcm', reference: OPENVPN_AES, queueing: process.argv[3] ?? '', nodeFlags: (process.env.HOLD_NODE_FLAGS ?? '').split(' ').filter(Boolean) }),
    openvpn: () => openvpn('AES-256-GCM'),
    wireguard: () => wireguard,
  };
  const make = contenders[kind];
  if (!make) throw new Error(`unknown tunnel "${kind}": pick ${Object.keys(contenders).join(', ')}`);
  if (kind === 'openvpn') await makePki(dir);
  const { target, pids } = await make().start(topology, dir, children);
  console.log(JSON.stringify({ client: topology.clients[0], server: topology.server, target, clientPid: pids[0], serverPid: pids[1] }));
} catch (error) {
  console.error(`hold-tunnel: ${(error as Error).message}`);
  await stop();
}
