/**
 * Loads the annotated hex fixtures of test/fixtures/protocol: '#' starts a
 * comment, the rest of each line is whitespace-separated hex bytes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../fixtures/protocol/', import.meta.url));

export function fixture(name: string): Uint8Array {
  const text = readFileSync(DIR + name, 'utf8');
  const hex = text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join(' ')
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
  return Uint8Array.from(hex, (t) => {
    if (!/^[0-9a-f]{2}$/i.test(t)) throw new Error(`${name}: "${t}" is not a hex byte`);
    return parseInt(t, 16);
  });
}

export function range(start: number, count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (start + i) & 255);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
