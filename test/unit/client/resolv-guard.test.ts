import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { carriesPushedDns, restoreResolvConf, snapshotResolvConf } from '../../../src/client/resolv-guard.js';

const BEFORE = 'nameserver 192.0.2.53\nsearch home.example\n';
const PUSHED = { servers: ['10.77.0.53'], domain: 'corp.example' };

async function withDir(body: (dir: string, resolv: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tvt-resolv-'));
  try {
    await body(dir, join(dir, 'resolv.conf'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a resolver file still carrying the tunnel DNS is put back as it was', () =>
  withDir(async (dir, resolv) => {
    await writeFile(resolv, BEFORE);
    await snapshotResolvConf(dir, resolv);
    await writeFile(resolv, 'domain corp.example\nnameserver 10.77.0.53\n'); // what dhclient-script writes on bound
    assert.equal(await restoreResolvConf(dir, PUSHED, resolv), 'restored');
    assert.equal(await readFile(resolv, 'utf8'), BEFORE);
  }));

test('a file someone else changed meanwhile (no tunnel DNS in it) is left alone', () =>
  withDir(async (dir, resolv) => {
    await writeFile(resolv, BEFORE);
    await snapshotResolvConf(dir, resolv);
    const roamed = 'nameserver 198.51.100.1\n';
    await writeFile(resolv, roamed);
    assert.equal(await restoreResolvConf(dir, PUSHED, resolv), 'changed-by-others');
    assert.equal(await readFile(resolv, 'utf8'), roamed);
  }));

test('a file the hook already restored is not written again', () =>
  withDir(async (dir, resolv) => {
    await writeFile(resolv, BEFORE);
    await snapshotResolvConf(dir, resolv);
    assert.equal(await restoreResolvConf(dir, PUSHED, resolv), 'unchanged');
  }));

test('tunnel DNS that was already there before is not a reason to restore', () => {
  assert.equal(carriesPushedDns('nameserver 10.77.0.53\n', 'nameserver   10.77.0.53\n# x\n', PUSHED), false);
  assert.equal(carriesPushedDns('search corp.example\n', 'search a.example\n', PUSHED), true);
  assert.equal(carriesPushedDns('nameserver 10.77.0.5\n', '', PUSHED), false);
});
