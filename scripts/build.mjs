#!/usr/bin/env node
// `npm run build`: compiles src/, adapter/ and emulators/ into dist/ (tsconfig.build.json)
// from a clean dist/, so a deleted source never lingers as a stale .js. Then writes
// dist/build.json: the time the build started and the digest of the source paths
// (bin/source-state.js). bin/tapvpn.js, in a checkout, runs dist/ only while no source
// is newer than that and none was added or removed (an edit during the build counts as newer).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceState } from '../bin/source-state.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const startedMs = Date.now();
const { pathsDigest } = sourceState(root);
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error('build: tsc failed; dist/ is incomplete and bin/tapvpn.js will not use it');
  process.exit(result.status ?? 1);
}
writeFileSync(join(root, 'dist', 'build.json'), `${JSON.stringify({ sourcesAsOfMs: startedMs, pathsDigest })}\n`);
