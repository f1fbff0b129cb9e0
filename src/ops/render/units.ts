/**
 * Human units for `tapvpn status`: bytes in binary multiples (as `wg show`),
 * counts with k/M, durations as the two largest units, and a column aligner.
 * Pure.
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(2)} ${BYTE_UNITS[unit]}`;
}

export function formatCount(count: number): string {
  if (count < 10_000) return String(count);
  if (count < 10_000_000) return `${(count / 1000).toFixed(1)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

const DURATION_UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** "2d 03h", "5m 07s", "12s"; under a second "0s". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms));
  for (let i = 0; i < DURATION_UNITS.length - 1; i++) {
    const [unit, size] = DURATION_UNITS[i]!;
    if (total >= size) {
      const [nextUnit, nextSize] = DURATION_UNITS[i + 1]!;
      const rest = Math.floor((total % size) / nextSize);
      return `${Math.floor(total / size)}${unit} ${String(rest).padStart(2, '0')}${nextUnit}`;
    }
  }
  return `${Math.floor(total / 1000)}s`;
}

/** An instant as UTC "2026-12-01 21:30:05Z". */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** "name 3, other 1", or "none". */
export function formatReasons(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length === 0 ? 'none' : entries.map(([reason, n]) => `${reason} ${n}`).join(', ');
}

/** Rows as columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function alignColumns(rows: string[][], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}
