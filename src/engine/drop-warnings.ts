/**
 * At most one warning line per drop reason per interval, for frames the
 * host sends that the pseudo adapter cannot carry: the line says why and how
 * many were dropped since the last line for that reason, so a
 * misconfiguration shows at the default log level without flooding it.
 * Reasons every ordinary host produces in the background (IPv6, multicast,
 * non-IPv4 EtherTypes, broadcasts that are not DHCP) stay at debug level.
 * Pure (time injected); allocation-free per dropped frame except when a line
 * is due.
 */

export const DROP_WARNING_INTERVAL_MS = 60_000;

const BACKGROUND_REASONS: ReadonlySet<string> = new Set(['ipv6', 'not-ipv4', 'multicast', 'broadcast-not-dhcp']);

const EXPLANATIONS: Readonly<Record<string, string>> = {
  'too-big': 'datagrams larger than the tunnel MTU (the adapter MTU was raised above the lease MTU?); each sender gets ICMP "fragmentation needed" (IPv6: "packet too big")',
  'source-not-lease': 'datagrams from a source address that is not the leased one (another address on the adapter?)',
  'no-route': 'datagrams to networks the tunnel does not route (a route via the adapter that the lease does not push?)',
  'not-for-us': 'frames to a MAC address other than the gateway\'s (a static neighbour entry on the adapter?)',
  vlan: 'VLAN-tagged frames (the tunnel carries untagged frames only)',
  'not-ethernet-ii': '802.3 length-typed frames (only Ethernet II is carried)',
};

export function explainDrop(reason: string): string {
  if (reason.startsWith('malformed:')) return `malformed frames (${reason.slice('malformed:'.length)})`;
  return EXPLANATIONS[reason] ?? reason;
}

export function isBackgroundDrop(reason: string): boolean {
  return BACKGROUND_REASONS.has(reason);
}

interface Tally {
  lastLineMs: number;
  dropped: number;
}

export class DropWarnings {
  readonly #tallies = new Map<string, Tally>();

  constructor(readonly intervalMs = DROP_WARNING_INTERVAL_MS) {}

  /** Counts one drop; returns how many to report (this one included) when a line is due, else undefined. */
  note(reason: string, nowMs: number): number | undefined {
    if (isBackgroundDrop(reason)) return undefined;
    let tally = this.#tallies.get(reason);
    if (!tally) this.#tallies.set(reason, (tally = { lastLineMs: -Infinity, dropped: 0 }));
    tally.dropped++;
    if (nowMs - tally.lastLineMs < this.intervalMs) return undefined;
    const dropped = tally.dropped;
    tally.lastLineMs = nowMs;
    tally.dropped = 0;
    return dropped;
  }
}
