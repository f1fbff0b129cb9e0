/**
 * Opening the relay's next-hop TCP connection: one dial with a connect
 * timeout, and a group dial that walks the members in select.ts order and
 * fails over to the next when a connect fails. Resolves with the connected
 * socket, or with the reasons every candidate failed; never rejects.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { splitHostPort } from '../protocol/frames/names.js';
import type { ServerGroups } from './groups.js';

export type DialResult = { ok: true; socket: Socket; address: string } | { ok: false; reason: string };

/** One TCP connect to host:port, given up after `timeoutMs`. */
export function dial(address: string, timeoutMs: number): Promise<DialResult> {
  return new Promise((resolve) => {
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(address));
    } catch (error) {
      return resolve({ ok: false, reason: (error as Error).message });
    }
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, reason: `connect to ${address} timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ ok: true, socket, address });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, reason: `connect to ${address}: ${error.message}` });
    });
  });
}

/** Dials `name`: a group's members in order with failover, or the address itself. */
export async function dialNextHop(name: string, groups: ServerGroups, timeoutMs: number, log: Logger): Promise<DialResult> {
  if (!groups.has(name)) return dial(name, timeoutMs);
  const failures: string[] = [];
  const candidates = groups.candidates(name);
  const order = candidates.map((m) => `${m.address}=${m.reportedTunnels}+${m.sentSinceAnswer}`).join(' ');
  for (const member of candidates) {
    const result = await dial(member.address, timeoutMs);
    if (result.ok) {
      groups.connected(member);
      log.info({ group: name, server: member.address, failedFirst: failures.length, order }, 'group member chosen');
      return result;
    }
    groups.connectFailed(member);
    failures.push(result.reason);
    log.warn({ group: name, server: member.address, reason: result.reason }, 'group member unreachable: failing over to the next');
  }
  return { ok: false, reason: `no member of group ${name} reachable (${failures.join('; ')})` };
}
