/**
 * The config watch's poll alone (a file system whose notifications miss):
 * a new content is reported within a few polls; touching the file, or
 * writing the same bytes, is not; a file replaced by rename is followed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { watchConfigFile } from '../../../src/io/config-watch.js';
import { eventually } from '../../support/eventually.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('polling only: content changes are reported once each, touches and identical rewrites are not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-poll-'));
  const file = join(dir, 'server.toml');
  await writeFile(file, 'a = 1\n');
  let changes = 0;
  const watcher = await watchConfigFile(file, { pollIntervalMs: 100, notifications: false, onChange: () => void changes++ });
  try {
    await writeFile(file, 'a = 2\n');
    await eventually('the change seen by the poll', () => changes === 1, 5_000);
    await utimes(file, new Date(), new Date());
    await writeFile(file, 'a = 2\n');
    await sleep(500);
    assert.equal(changes, 1, 'a touch and the same bytes again are no change');
    await writeFile(`${file}.new`, 'a = 3\n');
    await rename(`${file}.new`, file);
    await eventually('the replaced file seen', () => changes === 2, 5_000);
  } finally {
    watcher.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file written in place (truncate, then the bytes) is reported whole, never empty or half-written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-poll-'));
  const file = join(dir, 'server.toml');
  await writeFile(file, 'a = 0\n');
  const seen: string[] = [];
  const watcher = await watchConfigFile(file, { pollIntervalMs: 10, notifications: false, onChange: async () => void seen.push(await readFile(file, 'utf8')) });
  try {
    for (let i = 1; i <= 20; i++) {
      await truncate(file, 0); // what an editor saving in place does first
      await sleep(5);
      await writeFile(file, `a = ${i}\n`);
      await sleep(5);
    }
    await eventually('the last version seen', () => seen.at(-1) === 'a = 20\n', 5_000);
    assert.deepEqual(seen.filter((text) => !/^a = \d+\n$/.test(text)), [], 'no empty or partial version reported');
  } finally {
    watcher.close();
    await rm(dir, { recursive: true, force: true });
  }
});
