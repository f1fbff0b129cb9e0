/**
 * What the tunnel server knows about its tunnels, joined for operations:
 * name ↔ leased address ↔ MAC ↔ TCP peer ↔ relay path ↔ suite ↔ key
 * generation, with traffic per tunnel and per configured client over the
 * server's lifetime. The server core tells it when a tunnel opens and
 * closes and hands it a TunnelView to read counters from; the monitor logs
 * the tunnel events, notices rekeys (polled once a second, off the data
 * path) and builds the status snapshot. Client totals are kept for
 * configured names only, so they stay bounded.
 */
import type { Logger } from '../log.js';
import { logTunnelEvent, type TunnelIdentity } from './events.js';
import { refusalLineBudget } from '../engine/line-budget.js';
import { NO_TRAFFIC, addTraffic, type ClientTotals, type ServerSnapshot, type Traffic, type TunnelRow } from './snapshot.js';

export const REKEY_POLL_MS = 1000;

/** Live counters of one tunnel, read when needed (never per packet). */
export interface TunnelCounters {
  traffic: Traffic;
  keyGeneration: number;
  rekeys: number;
  lastActivityMs: number;
  drops: Record<string, number>;
  rttMs?: number;
}

/** One authorized tunnel, as the server core describes it. */
export interface TunnelView {
  readonly name: string;
  readonly address: string;
  readonly mac: string;
  readonly peer: string;
  readonly path: readonly string[];
  readonly suite: string;
  readonly connectedSinceMs: number;
  counters(): TunnelCounters;
}

interface Totals {
  address?: string;
  tunnelsOpened: number;
  rekeys: number;
  traffic: Traffic;
}

function identityOf(view: TunnelView): TunnelIdentity {
  return { client: view.name, address: view.address, mac: view.mac, peer: view.peer, path: view.path };
}

/** "AUTHENTICATION_FAILURE" → "authentication-failure": the label form of a close code name. */
export function reasonLabel(codeName: string): string {
  return codeName.toLowerCase().replace(/_/g, '-');
}

export type ServerBase = Omit<ServerSnapshot, 'tunnels' | 'clients' | 'handshakes' | 'nowMs'>;

export class ServerMonitor {
  readonly #live = new Set<TunnelView>();
  readonly #keyGenerations = new Map<TunnelView, number>();
  /** Totals of tunnels that have closed, by client name. */
  readonly #closed = new Map<string, Totals>();
  readonly #handshakes = new Map<string, number>();
  #configured: readonly string[];
  #timer: NodeJS.Timeout | undefined;
  readonly #refusalLines = refusalLineBudget();

  constructor(
    private readonly log: Logger,
    configuredClients: readonly string[],
  ) {
    this.#configured = configuredClients;
  }

  /** Starts the rekey poll. */
  start(): void {
    this.#timer = setInterval(() => this.checkRekeys(), REKEY_POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  setConfiguredClients(names: readonly string[]): void {
    this.#configured = names;
  }

  opened(view: TunnelView): void {
    this.#live.add(view);
    this.#keyGenerations.set(view, view.counters().keyGeneration);
    this.#count('ok');
    const totals = this.#totals(view.name);
    totals.address = view.address;
    totals.tunnelsOpened++;
    logTunnelEvent(this.log, identityOf(view), { event: 'tunnel.opened', suite: view.suite });
  }

  closed(view: TunnelView, code: string, reason: string, by: string, nowMs = Date.now()): void {
    if (!this.#live.delete(view)) return;
    this.#keyGenerations.delete(view);
    const counters = view.counters();
    const totals = this.#totals(view.name);
    totals.traffic = addTraffic(totals.traffic, counters.traffic);
    totals.rekeys += counters.rekeys;
    logTunnelEvent(this.log, identityOf(view), {
      event: 'tunnel.closed', code, reason, by, durationMs: nowMs - view.connectedSinceMs, bytesReceived: counters.traffic.bytesReceived, bytesSent: counters.traffic.bytesSent,
    });
  }

  /** A connection that ended without an authorized tunnel (refused, or failed during the handshake). */
  refused(identity: TunnelIdentity, code: string, reason: string, by: string, nowMs = Date.now()): void {
    this.#count(reasonLabel(code));
    const suppressed = this.#refusalLines.admit(nowMs);
    if (suppressed === undefined) return;
    logTunnelEvent(this.log, identity, { event: 'tunnel.refused', code, reason, by, ...(suppressed > 0 ? { suppressed } : {}) });
  }

  checkRekeys(): void {
    for (const view of this.#live) {
      const generation = view.counters().keyGeneration;
      if (generation === this.#keyGenerations.get(view)) continue;
      this.#keyGenerations.set(view, generation);
      logTunnelEvent(this.log, identityOf(view), { event: 'tunnel.rekeyed', keyGeneration: generation });
    }
  }

  snapshot(base: ServerBase, nowMs = Date.now()): ServerSnapshot {
    const rows: TunnelRow[] = [];
    const live = new Map<string, { row: TunnelRow; rekeys: number }>();
    for (const view of this.#live) {
      const c = view.counters();
      const row: TunnelRow = {
        name: view.name, address: view.address, mac: view.mac, peer: view.peer, path: [...view.path], suite: view.suite, keyGeneration: c.keyGeneration,
        connectedSinceMs: view.connectedSinceMs, lastActivityMs: c.lastActivityMs, ...(c.rttMs === undefined ? {} : { rttMs: c.rttMs }), traffic: c.traffic, drops: c.drops,
      };
      rows.push(row);
      live.set(view.name, { row, rekeys: c.rekeys });
    }
    rows.sort((a, b) => a.name.localeCompare(b.name));
    return { ...base, nowMs, tunnels: rows, clients: this.#clients(live), handshakes: Object.fromEntries(this.#handshakes) };
  }

  #clients(live: Map<string, { row: TunnelRow; rekeys: number }>): ClientTotals[] {
    return this.#configured.map((name) => {
      const closed = this.#closed.get(name);
      const now = live.get(name);
      const address = now?.row.address ?? closed?.address;
      return {
        name,
        ...(address === undefined ? {} : { address }),
        connected: now !== undefined,
        tunnelsOpened: closed?.tunnelsOpened ?? 0,
        rekeys: (closed?.rekeys ?? 0) + (now?.rekeys ?? 0),
        traffic: addTraffic(closed?.traffic ?? NO_TRAFFIC, now?.row.traffic ?? NO_TRAFFIC),
      };
    });
  }

  #totals(name: string): Totals {
    let totals = this.#closed.get(name);
    if (!totals) {
      totals = { tunnelsOpened: 0, rekeys: 0, traffic: { ...NO_TRAFFIC } };
      this.#closed.set(name, totals);
    }
    return totals;
  }

  #count(outcome: string): void {
    this.#handshakes.set(outcome, (this.#handshakes.get(outcome) ?? 0) + 1);
  }
}
