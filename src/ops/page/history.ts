/**
 * Per-series throughput over the last minutes, for the live status page:
 * sampled from the daemon's running byte totals every few seconds, kept in
 * a bounded ring per series (series are configured clients, so their number
 * is bounded too). Pure over the totals and the time it is given.
 */

export interface ThroughputPoint {
  atMs: number;
  /** Bits per second over the interval ending at atMs. */
  receivedBps: number;
  sentBps: number;
}

export interface ByteTotals {
  key: string;
  bytesReceived: number;
  bytesSent: number;
}

interface LastSample {
  atMs: number;
  received: number;
  sent: number;
}

function rate(bytesNow: number, bytesBefore: number, ms: number): number {
  return bytesNow < bytesBefore || ms <= 0 ? 0 : ((bytesNow - bytesBefore) * 8 * 1000) / ms;
}

export class ThroughputHistory {
  readonly #last = new Map<string, LastSample>();
  readonly #points = new Map<string, ThroughputPoint[]>();

  constructor(readonly capacity: number) {}

  /** Adds one point per series from the current totals; series no longer reported are forgotten. */
  record(totals: readonly ByteTotals[], nowMs: number): void {
    const seen = new Set<string>();
    for (const { key, bytesReceived, bytesSent } of totals) {
      seen.add(key);
      const last = this.#last.get(key);
      this.#last.set(key, { atMs: nowMs, received: bytesReceived, sent: bytesSent });
      if (!last) continue;
      const points = this.#points.get(key) ?? [];
      points.push({ atMs: nowMs, receivedBps: rate(bytesReceived, last.received, nowMs - last.atMs), sentBps: rate(bytesSent, last.sent, nowMs - last.atMs) });
      if (points.length > this.capacity) points.shift();
      this.#points.set(key, points);
    }
    for (const key of [...this.#last.keys()]) {
      if (!seen.has(key)) {
        this.#last.delete(key);
        this.#points.delete(key);
      }
    }
  }

  snapshot(): Record<string, ThroughputPoint[]> {
    return Object.fromEntries([...this.#points.entries()].map(([key, points]) => [key, [...points]]));
  }
}
