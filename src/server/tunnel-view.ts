/**
 * The server's side of the operations monitor (src/ops/server-monitor.ts):
 * a TunnelView over one authorized tunnel's driver and session, and the
 * server's part of the status snapshot (listener, pool, counters).
 * Everything here is read on demand — a status request, a scrape, the
 * once-a-second rekey check — never on the data path.
 */
import type { Socket } from 'node:net';
import type { ServerConfig } from '../config/schema.js';
import type { Counters } from '../engine/counters.js';
import type { MachineDriver } from '../io/driver.js';
import { tcpRttMs } from '../io/tcp-rtt.js';
import type { ServerBase, TunnelView } from '../ops/server-monitor.js';
import type { AuthorizedInfo } from '../protocol/machines/actions.js';
import type { ServerMachine } from '../protocol/machines/server.js';
import { packageVersion } from '../version.js';
import { ipv4ToNumber } from '../wire/addr.js';

export interface TunnelParts {
  name: string;
  info: AuthorizedInfo;
  peer: string;
  /** The MAC the client's address answers with on the server's adapter. */
  mac: string;
  driver: MachineDriver;
  machine: ServerMachine;
  /** The router's drops of this tunnel's datagrams, by reason. */
  drops: Counters;
  nowMs: number;
}

export function tunnelView(parts: TunnelParts): TunnelView {
  const { driver, machine, info } = parts;
  const hops = info.path?.hops ?? [];
  return {
    name: parts.name,
    address: info.lease.address,
    mac: parts.mac,
    peer: parts.peer,
    path: hops.slice(0, -1), // the last hop is this server
    suite: info.suite,
    connectedSinceMs: parts.nowMs,
    counters() {
      const stats = machine.session?.stats;
      const socket = driver.socket;
      const sendDrops = socket?.counters.sendDrops ?? 0;
      const rttMs = tcpRttMs(socket?.stream as Socket | undefined);
      return {
        traffic: { bytesReceived: stats?.bytesReceived ?? 0, bytesSent: stats?.bytesSent ?? 0, datagramsReceived: socket?.counters.datagramsReceived ?? 0, datagramsSent: socket?.counters.datagramsSent ?? 0 },
        keyGeneration: machine.session?.sendKeyId ?? 0,
        rekeys: (stats?.rekeysSent ?? 0) + (stats?.rekeysReceived ?? 0),
        lastActivityMs: socket?.lastReceivedMs ?? parts.nowMs,
        drops: { ...parts.drops.snapshot(), ...(sendDrops > 0 ? { 'tunnel:drop:send': sendDrops } : {}) },
        ...(rttMs === undefined ? {} : { rttMs }),
      };
    },
  };
}

/** Addresses a client can get: the dynamic range plus fixed addresses outside it. */
function poolSize(config: ServerConfig): number {
  const start = ipv4ToNumber(config.tunnel.pool.start);
  const end = ipv4ToNumber(config.tunnel.pool.end);
  const fixedOutside = config.clients.filter((c) => c.fixed_address !== undefined && (ipv4ToNumber(c.fixed_address) < start || ipv4ToNumber(c.fixed_address) > end)).length;
  return end - start + 1 + fixedOutside;
}

export function serverBase(config: ServerConfig, adapterName: string, startedAtMs: number, listener: { address: string; port: number; listening: boolean }, leased: number, counters: Counters): ServerBase {
  return { role: 'server', name: adapterName, version: packageVersion(), startedAtMs, listener, pool: { size: poolSize(config), leased }, counters: counters.snapshot() };
}
