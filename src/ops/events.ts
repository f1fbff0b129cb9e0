/**
 * Tunnel events as structured log lines: one per tunnel opened, closed,
 * refused or rekeyed, each carrying the joined identity (client name,
 * leased address, MAC, TCP peer, relay path) so a log pipeline can follow a
 * user by any of them. The `event` key is stable: tunnel.opened,
 * tunnel.closed, tunnel.refused, tunnel.rekeyed (docs/OPERATIONS.md).
 */
import type { Logger } from '../log.js';

export interface TunnelIdentity {
  client?: string;
  address?: string;
  mac?: string;
  peer: string;
  path: readonly string[];
}

export type TunnelEvent =
  | { event: 'tunnel.opened'; suite: string }
  | { event: 'tunnel.closed'; code: string; reason: string; by: string; durationMs: number; bytesReceived: number; bytesSent: number }
  /** `suppressed`: refusals not logged since the last line (a flood is counted, not logged line by line). */
  | { event: 'tunnel.refused'; code: string; reason: string; by: string; suppressed?: number }
  | { event: 'tunnel.rekeyed'; keyGeneration: number }
  /** A fresh handshake on a second connection took the tunnel over (session_max_age): new keys, same lease and adapter. */
  | { event: 'tunnel.renewed'; suite: string; renewals: number };

const MESSAGES: Record<TunnelEvent['event'], string> = {
  'tunnel.opened': 'tunnel opened',
  'tunnel.closed': 'tunnel closed',
  'tunnel.refused': 'tunnel refused',
  'tunnel.rekeyed': 'tunnel rekeyed',
  'tunnel.renewed': 'tunnel renewed by a fresh handshake',
};

export function logTunnelEvent(log: Logger, identity: TunnelIdentity, detail: TunnelEvent): void {
  const entry = { ...detail, ...identity, path: identity.path.length === 0 ? 'direct' : identity.path.join('>') };
  if (detail.event === 'tunnel.refused') log.warn(entry, MESSAGES[detail.event]);
  else log.info(entry, MESSAGES[detail.event]);
}
