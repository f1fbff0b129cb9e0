/**
 * Opening the relay's next-hop TCP connection: one dial with a connect
 * timeout, and a group dial that walks the members in select.ts order and
 * fails over to the next when a connect fails. Resolves with the connected
 * socket, or with the reasons every candidate failed; never rejects.
 *
 * Only next hops the configuration names are dialled (a group, a group
 * member, `next_hops.servers`, `next_hops.relays`): anything else a RELAY
 * frame names — 127.0.0.1:22, an internal address, a DNS name — is refused
 * before any connect or name lookup, so the relay is no open proxy. The
 * failure's `reason` is for the log only; the peer is told
 * NEXT_HOP_UNAVAILABLE whether the hop was refused, unreachable or closed,
 * so the relay is no port scanner either.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { splitHostPort } from '../protocol/frames/names.js';
import type { ServerGroups } from './groups.js';

/** The one reason a peer hears for any next hop the relay did not connect (the detail is logged, not sent). */
export const NEXT_HOP_UNAVAILABLE = 'next hop unavailable';

export type DialRefusal = 'next-hop-not-allowed' | 'next-hop-unreachable';

/** `reason` is the detail for the log; never send it to the peer. */
export type DialResult = { ok: true; socket: Socket; address: string } | { ok: false; refusal: DialRefusal; reason: string };

/** One TCP connect to host:port, given up after `timeoutMs`. */
export function dial(address: string, timeoutMs: number): Promise<DialResult> {
  return new Promise((resolve) => {
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(address));
    } catch (error) {
      return resolve({ ok: false, refusal: 'next-hop-unreachable', reason: (error as Error).message });
    }
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, refusal: 'next-hop-unreachable', reason: `connect to ${address} timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ ok: true, socket, address });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, refusal: 'next-hop-unreachable', reason: `connect to ${address}: ${error.message}` });
    });
  });
}

/** Dials `name`: a group's members in order with failover, or the address itself when the configuration lists it. */
export async function dialNextHop(name: string, groups: ServerGroups, timeoutMs: number, log: Logger): Promise<DialResult> {
  if (!groups.has(name)) {
    if (groups.allowsDirect(name)) return dial(name, timeoutMs);
    return { ok: false, refusal: 'next-hop-not-allowed', reason: `${name} is not a group, a group member, nor in next_hops.servers or next_hops.relays: not dialled` };
  }
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
  return { ok: false, refusal: 'next-hop-unreachable', reason: `no member of group ${name} reachable (${failures.join('; ')})` };
}
