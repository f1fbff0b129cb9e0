/**
 * The benchmark's figures and table: per-run figures, their medians per
 * contender, and one markdown table with ratios against both anchors
 * (OpenVPN TAP/TCP with the same cipher, and wireguard-go).
 */
import { median } from './measure.js';

export const TESTS = [
  { key: 'up1', streams: 1, reverse: false, label: '1 stream c→s' },
  { key: 'down1', streams: 1, reverse: true, label: '1 stream s→c' },
  { key: 'up4', streams: 4, reverse: false, label: '4 streams c→s' },
  { key: 'down4', streams: 4, reverse: true, label: '4 streams s→c' },
] as const;
export type TestKey = (typeof TESTS)[number]['key'];
export type Test = (typeof TESTS)[number];

export interface Rtt {
  avgMs: number;
  maxMs: number;
}

export interface RunFigures {
  mbit: Partial<Record<TestKey, number>>;
  /** Megabits moved per CPU-second of the tunnel processes. */
  mbitPerCpuSecond: Partial<Record<TestKey, number>>;
  cpuShare: Partial<Record<TestKey, number>>;
  /** Pings 0.2 s apart on an idle tunnel (what an interactive user sees). */
  idleRtt: Rtt;
  /** Pings 0.05 s apart (the older, warmer figure). */
  idleFastRtt: Rtt;
  /** Pings 0.2 s apart starting 1 s into each transfer, once queues have filled. */
  loadedRtt: Partial<Record<TestKey, Rtt>>;
  /** Pings 0.1 s apart from the start of each transfer (the older figure). */
  loadedFastRtt: Partial<Record<TestKey, Rtt>>;
}

export interface Summary {
  name: string;
  reference: string | undefined;
  mbit: Record<TestKey, number>;
  mbitPerCpuSecond: number;
  cpuShare: number;
  idleRtt: Rtt;
  idleFastRtt: Rtt;
  loadedRtt: Record<TestKey, Rtt>;
  loadedFastRtt: Record<TestKey, Rtt>;
  rssMiB: number[];
}

const NO_RTT: Rtt = { avgMs: NaN, maxMs: NaN };

export function summarize(name: string, reference: string | undefined, runs: RunFigures[], rssMiB: number[]): Summary {
  const med = (pick: (f: RunFigures) => number | undefined): number => median(runs.map((f) => pick(f) ?? NaN));
  const rtt = (pick: (f: RunFigures) => Rtt | undefined): Rtt => ({ avgMs: med((f) => (pick(f) ?? NO_RTT).avgMs), maxMs: med((f) => (pick(f) ?? NO_RTT).maxMs) });
  const perTest = <T>(pick: (key: TestKey) => T): Record<TestKey, T> => Object.fromEntries(TESTS.map((t) => [t.key, pick(t.key)])) as Record<TestKey, T>;
  return {
    name,
    reference,
    mbit: perTest((key) => med((f) => f.mbit[key])),
    mbitPerCpuSecond: med((f) => f.mbitPerCpuSecond.up1),
    cpuShare: med((f) => f.cpuShare.up1),
    idleRtt: rtt((f) => f.idleRtt),
    idleFastRtt: rtt((f) => f.idleFastRtt),
    loadedRtt: perTest((key) => rtt((f) => f.loadedRtt[key])),
    loadedFastRtt: perTest((key) => rtt((f) => f.loadedFastRtt[key])),
    rssMiB,
  };
}

export function fmt(value: number, digits = 0): string {
  return Number.isNaN(value) ? '—' : value.toFixed(digits);
}

/** " (1.70× / 1.52×)": value over each anchor's (for RTT and memory: lower is better, still value / anchor). */
function ratios(value: number, anchors: Array<number | undefined>): string {
  const parts = anchors.map((a) => (a === undefined || Number.isNaN(a) || a === 0 || Number.isNaN(value) ? '–' : `${(value / a).toFixed(2)}×`));
  return parts.every((p) => p === '–') ? '' : ` (${parts.join(' / ')})`;
}

export function table(rows: Summary[], anchorName: string): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const wg = byName.get(anchorName);
  const head = [
    'contender',
    ...TESTS.map((t) => `${t.label} Mbit/s`),
    'Mbit per CPU-s (1 stream c→s)',
    'tunnel CPU cores (1 stream c→s)',
    'RTT idle ms (0.2 s apart)',
    'RTT under load c→s ms avg / max',
    'RTT under load s→c ms avg / max',
    'RTT idle, fast pings ms',
    'RTT under load c→s, fast pings ms',
    'peak RSS MiB (client / server)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const ref = r.reference ? byName.get(r.reference) : undefined;
    const anchored = r.reference !== undefined;
    const vs = (pick: (s: Summary) => number): string => (anchored ? ratios(pick(r), [ref ? pick(ref) : undefined, wg ? pick(wg) : undefined]) : '');
    lines.push(
      `| ${[
        r.name,
        ...TESTS.map((t) => fmt(r.mbit[t.key]) + (t.streams === 1 ? vs((s) => s.mbit[t.key]) : '')),
        fmt(r.mbitPerCpuSecond) + vs((s) => s.mbitPerCpuSecond),
        fmt(r.cpuShare, 2),
        fmt(r.idleRtt.avgMs, 2) + vs((s) => s.idleRtt.avgMs),
        `${fmt(r.loadedRtt.up1.avgMs, 1)} / ${fmt(r.loadedRtt.up1.maxMs, 1)}` + vs((s) => s.loadedRtt.up1.avgMs),
        `${fmt(r.loadedRtt.down1.avgMs, 1)} / ${fmt(r.loadedRtt.down1.maxMs, 1)}` + vs((s) => s.loadedRtt.down1.avgMs),
        fmt(r.idleFastRtt.avgMs, 2),
        `${fmt(r.loadedFastRtt.up1.avgMs, 1)} / ${fmt(r.loadedFastRtt.up1.maxMs, 1)}`,
        r.rssMiB.length ? r.rssMiB.map((v) => fmt(v, 1)).join(' / ') : '—',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
