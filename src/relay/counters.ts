/**
 * The relay's forwarding counters: connections, bytes each way (after the
 * path is up, RELAY frame included), and refusals by reason. Keys are stable
 * strings; status() returns a plain copy for logs, tests and the status
 * interface.
 */
import type { Side } from '../protocol/machines/actions.js';

export interface RelayStatus {
  connectionsAccepted: number;
  connectionsActive: number;
  tunnelsForwarded: number;
  /** Bytes forwarded toward the server (previous → next) and toward the client. */
  bytesToNext: number;
  bytesToPrevious: number;
  refusals: Record<string, number>;
}

export class RelayCounters {
  connectionsAccepted = 0;
  connectionsActive = 0;
  tunnelsForwarded = 0;
  bytesToNext = 0;
  bytesToPrevious = 0;
  private readonly refusals = new Map<string, number>();

  forwarded(to: Side, bytes: number): void {
    if (to === 'next') this.bytesToNext += bytes;
    else this.bytesToPrevious += bytes;
  }

  tunnelOpened(): void {
    this.tunnelsForwarded++;
  }

  refused(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  snapshot(): RelayStatus {
    const refusals = Object.fromEntries([...this.refusals.entries()].sort(([a], [b]) => a.localeCompare(b)));
    const { connectionsAccepted, connectionsActive, tunnelsForwarded, bytesToNext, bytesToPrevious } = this;
    return { connectionsAccepted, connectionsActive, tunnelsForwarded, bytesToNext, bytesToPrevious, refusals };
  }
}
