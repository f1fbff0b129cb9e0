/**
 * What the road-warrior client reports for operations: its state
 * (connecting, up, backing off until a time, stopped), the server and path,
 * the lease, traffic over every connection since it started, reconnects and
 * the last close — and the tunnel events with the joined identity. The
 * client core calls it at each transition and hands it a reader of the
 * current connection's counters; nothing here runs per packet.
 */
import type { Lease } from '../lease.js';
import type { Logger } from '../log.js';
import { packageVersion } from '../version.js';
import { logTunnelEvent, type TunnelIdentity } from './events.js';
import { NO_TRAFFIC, addTraffic, type ClientSnapshot, type ClientState, type Traffic } from './snapshot.js';

export const REKEY_POLL_MS = 1000;

export interface ConnectionCounters {
  traffic: Traffic;
  keyGeneration: number;
  rttMs?: number;
}

export interface ClientMonitorOptions {
  name: string;
  /** The hops of the current attempt, relays first, the server last (it changes on failover). */
  path: () => readonly string[];
  log: Logger;
}

export class ClientMonitor {
  readonly #startedAtMs = Date.now();
  #state: ClientState = 'connecting';
  #retryAtMs: number | undefined;
  #lease: { lease: Lease; grantedAtMs: number } | undefined;
  #suite: string | undefined;
  #connectedSinceMs: number | undefined;
  #previous: Traffic = { ...NO_TRAFFIC };
  #current: (() => ConnectionCounters) | undefined;
  #keyGeneration = 0;
  #reconnects = 0;
  #renewals = 0;
  #lastClose: ClientSnapshot['lastClose'];
  #mac: string | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ClientMonitorOptions) {}

  start(): void {
    this.#timer = setInterval(() => this.checkRekey(), REKEY_POLL_MS);
    this.#timer.unref();
  }

  /** The adapter's own MAC, once it exists (for the events' identity). */
  setMac(mac: string | undefined): void {
    this.#mac = mac;
  }

  connecting(): void {
    this.#state = 'connecting';
    this.#retryAtMs = undefined;
  }

  authorized(lease: Lease, suite: string, counters: () => ConnectionCounters, nowMs = Date.now()): void {
    this.#state = 'up';
    this.#lease = { lease, grantedAtMs: nowMs };
    this.#suite = suite;
    this.#connectedSinceMs = nowMs;
    this.#current = counters;
    this.#keyGeneration = counters().keyGeneration;
    logTunnelEvent(this.opts.log, this.#identity(), { event: 'tunnel.opened', suite });
  }

  /** The session was renewed by a fresh handshake on a second connection; the tunnel stayed up (no closed event). */
  renewed(lease: Lease, suite: string, counters: () => ConnectionCounters, nowMs = Date.now()): void {
    this.#previous = addTraffic(this.#previous, this.#current?.().traffic ?? NO_TRAFFIC);
    this.#renewals++;
    this.#lease = { lease, grantedAtMs: nowMs };
    this.#suite = suite;
    this.#current = counters;
    this.#keyGeneration = counters().keyGeneration;
    logTunnelEvent(this.opts.log, this.#identity(), { event: 'tunnel.renewed', suite, renewals: this.#renewals });
  }

  closed(code: string, reason: string, by: string, nowMs = Date.now()): void {
    const wasUp = this.#current !== undefined;
    const traffic = this.#current?.().traffic ?? NO_TRAFFIC;
    this.#previous = addTraffic(this.#previous, traffic);
    this.#current = undefined;
    this.#lastClose = { code, reason, by, atMs: nowMs };
    const since = this.#connectedSinceMs ?? nowMs;
    this.#connectedSinceMs = undefined;
    if (wasUp) logTunnelEvent(this.opts.log, this.#identity(), { event: 'tunnel.closed', code, reason, by, durationMs: nowMs - since, bytesReceived: traffic.bytesReceived, bytesSent: traffic.bytesSent });
    else logTunnelEvent(this.opts.log, this.#identity(), { event: 'tunnel.refused', code, reason, by });
  }

  backingOff(delayMs: number, nowMs = Date.now()): void {
    this.#state = 'backing-off';
    this.#reconnects++;
    this.#retryAtMs = nowMs + delayMs;
  }

  stopped(): void {
    this.#state = 'stopped';
    this.#retryAtMs = undefined;
    clearInterval(this.#timer);
  }

  checkRekey(): void {
    const generation = this.#current?.().keyGeneration;
    if (generation === undefined || generation === this.#keyGeneration) return;
    this.#keyGeneration = generation;
    logTunnelEvent(this.opts.log, this.#identity(), { event: 'tunnel.rekeyed', keyGeneration: generation });
  }

  snapshot(counters: Record<string, number>, nowMs = Date.now()): ClientSnapshot {
    const live = this.#current?.();
    const current = live?.traffic ?? NO_TRAFFIC;
    const lease = this.#lease?.lease;
    return {
      role: 'client',
      name: this.opts.name,
      version: packageVersion(),
      startedAtMs: this.#startedAtMs,
      nowMs,
      state: this.#state,
      ...(this.#retryAtMs === undefined ? {} : { retryAtMs: this.#retryAtMs }),
      server: this.opts.path().at(-1) ?? '',
      path: this.opts.path().slice(0, -1),
      ...(lease
        ? {
            lease: {
              address: lease.address, prefixLength: lease.prefixLength, gateway: lease.gateway, mtu: lease.mtu,
              routes: lease.routes.map((r) => `${r.destination}/${r.prefixLength}`), dns: [...lease.dnsServers], expiresAtMs: this.#lease!.grantedAtMs + lease.leaseTimeSec * 1000,
            },
          }
        : {}),
      ...(this.#suite && this.#state === 'up' ? { suite: this.#suite } : {}),
      ...(this.#connectedSinceMs === undefined ? {} : { connectedSinceMs: this.#connectedSinceMs }),
      ...(live?.rttMs === undefined ? {} : { rttMs: live.rttMs }),
      traffic: addTraffic(this.#previous, current),
      reconnects: this.#reconnects,
      renewals: this.#renewals,
      ...(this.#lastClose ? { lastClose: this.#lastClose } : {}),
      counters,
    };
  }

  #identity(): TunnelIdentity {
    const hops = this.opts.path();
    return { client: this.opts.name, ...(this.#lease ? { address: this.#lease.lease.address } : {}), ...(this.#mac ? { mac: this.#mac } : {}), peer: hops.at(-1) ?? '', path: hops.slice(0, -1) };
  }
}
