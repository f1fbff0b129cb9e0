/** writeFileAtomic: replaces contents whole, sets the mode of a new file, leaves no temp file, and leaves the target alone on failure. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeFileAtomic } from '../../../src/util/atomic-write.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tvt-atomic-'));
  dirs.push(d);
  return d;
}

test('creates with the requested mode, replaces contents, leaves only the target', async () => {
  const dir = await freshDir();
  const file = join(dir, 'data.json');
  await writeFileAtomic(file, 'one', { mode: 0o640 });
  assert.equal(await readFile(file, 'utf8'), 'one');
  assert.equal((await stat(file)).mode & 0o777, 0o640);
  await writeFileAtomic(file, new TextEncoder().encode('two'));
  assert.equal(await readFile(file, 'utf8'), 'two');
  assert.deepEqual(await readdir(dir), ['data.json']);
});

test('concurrent writers each land whole (never a mix) and share no temp file', async () => {
  const dir = await freshDir();
  const file = join(dir, 'race.txt');
  const bodies = Array.from({ length: 20 }, (_, i) => String(i).repeat(10_000));
  await Promise.all(bodies.map((b) => writeFileAtomic(file, b)));
  assert.ok(bodies.includes(await readFile(file, 'utf8')));
  assert.deepEqual(await readdir(dir), ['race.txt']);
});

test('when the rename fails the old file is untouched and the temp file removed', async () => {
  const dir = await freshDir();
  const target = join(dir, 'occupied');
  await mkdir(target); // renaming a file over a directory fails (EISDIR)
  await writeFile(join(target, 'keep'), 'x');
  await assert.rejects(writeFileAtomic(target, 'new'));
  assert.deepEqual((await readdir(dir)).sort(), ['occupied']);
  assert.equal(await readFile(join(target, 'keep'), 'utf8'), 'x');
});
