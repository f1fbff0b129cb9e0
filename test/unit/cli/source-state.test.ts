/**
 * bin/source-state.js, which decides whether bin/tapvpn.js may run a
 * checkout's dist/: an edited, added or removed .ts file makes a build
 * stale; the addons' build/ and prebuilds/ folders and non-TypeScript
 * files do not.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sourceState as state } from '../../../bin/source-state.js';

const PAST = new Date('2026-01-01T00:00:00Z');
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tvt-source-state-'));
  await mkdir(join(root, 'src', 'cli'), { recursive: true });
  await mkdir(join(root, 'adapter', 'native'), { recursive: true });
  for (const file of ['src/cli/main.ts', 'adapter/device.ts']) {
    await writeFile(join(root, file), '// source\n');
    await utimes(join(root, file), PAST, PAST);
  }
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('an edit moves newestMs; an added or removed .ts file changes the paths digest', async () => {
  const before = state(root);
  assert.equal(before.newestMs, PAST.getTime());
  await utimes(join(root, 'adapter', 'device.ts'), new Date(), new Date());
  assert.ok(state(root).newestMs > PAST.getTime(), 'an edit is newer than the build');
  await utimes(join(root, 'adapter', 'device.ts'), PAST, PAST);
  await writeFile(join(root, 'src', 'cli', 'extra.ts'), '');
  assert.notEqual(state(root).pathsDigest, before.pathsDigest, 'an added file');
  await rm(join(root, 'src', 'cli', 'extra.ts'));
  assert.equal(state(root).pathsDigest, before.pathsDigest);
  await rm(join(root, 'adapter', 'device.ts'));
  assert.notEqual(state(root).pathsDigest, before.pathsDigest, 'a removed file');
  await writeFile(join(root, 'adapter', 'device.ts'), '// source\n');
  await utimes(join(root, 'adapter', 'device.ts'), PAST, PAST);
});

test('addon build output and other files do not count', async () => {
  const before = state(root);
  await mkdir(join(root, 'adapter', 'native', 'prebuilds', 'linux-x64'), { recursive: true });
  await writeFile(join(root, 'adapter', 'native', 'prebuilds', 'linux-x64', 'tapvpn_tap.glibc.node'), '');
  await writeFile(join(root, 'adapter', 'native', 'tap.c'), '');
  assert.deepEqual(state(root), before);
});
