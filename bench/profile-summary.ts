/**
 * Summarizes V8 .cpuprofile files (node --cpu-prof): self time per function
 * and per source file, largest first, as markdown. Used to say where the
 * tunnel processes spend their time during a transfer:
 *
 *   TAPVPN_BENCH_CPU_PROF=/tmp/prof npm run bench -- --only "tapvpn aes" --runs 1
 *   node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const TOP_FUNCTIONS = 25;
const TOP_FILES = 12;

function shortUrl(url: string): string {
  if (!url) return '(native/VM)';
  const inRepo = url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '');
  return inRepo.startsWith('node:') ? inRepo : inRepo.replace(/^.*node_modules\//, 'node_modules/');
}

function summarize(file: string): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const where = shortUrl(frame.url);
    const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    files.set(where, (files.get(where) ?? 0) + us);
  }
  const rows = (map: Map<string, number>, top: number): string =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `| ${name.replace(/\|/g, '\\|')} | ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)} |`)
      .join('\n');
  return [
    `### ${basename(file)} — ${(total / 1e6).toFixed(1)} s sampled`,
    '',
    '| function (self time) | ms | % |',
    '|---|---:|---:|',
    rows(functions, TOP_FUNCTIONS),
    '',
    '| file (self time) | ms | % |',
    '|---|---:|---:|',
    rows(files, TOP_FILES),
    '',
  ].join('\n');
}

for (const file of process.argv.slice(2)) console.log(summarize(file));
