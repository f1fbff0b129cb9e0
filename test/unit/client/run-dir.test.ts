import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { snapshotResolvConf } from '../../../src/client/resolv-guard.js';
import { openRunDir, processStartTime, recordProcess, sweepGoneNamespaces } from '../../../src/client/run-dir.js';

test('a run folder left by a dead client: its recorded child is reaped, resolv.conf put back, the folder started afresh', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tvt-run-'));
  const orphan = spawn('sleep', ['60'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => orphan.once('exit', resolve));
  try {
    const resolvConf = join(root, 'resolv.conf');
    await writeFile(resolvConf, 'nameserver 192.0.2.53\n');
    const first = await openRunDir('tvt-a', { root, resolvConf });
    assert.equal(first.recovered, undefined);
    await snapshotResolvConf(first.path, resolvConf);
    await writeFile(resolvConf, 'nameserver 10.77.0.53\n');
    await first.update({ dns: { servers: ['10.77.0.53'] }, dhcpClient: (await recordProcess('sleep', orphan.pid!))! });
    await writeFile(join(first.path, 'dhclient.leases'), 'x');
    // The client dies here (nothing removed). The next start:
    const second = await openRunDir('tvt-a', { root, resolvConf });
    assert.equal(second.recovered?.reapedDhcpClient?.pid, orphan.pid);
    assert.equal(second.recovered?.resolvConf, 'restored');
    await exited;
    assert.equal(await processStartTime(orphan.pid!), undefined);
    assert.equal(await readFile(resolvConf, 'utf8'), 'nameserver 192.0.2.53\n');
    await assert.rejects(stat(join(second.path, 'dhclient.leases')), { code: 'ENOENT' });
    await second.remove();
  } finally {
    if (orphan.exitCode === null && orphan.signalCode === null) orphan.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
});

test('a recorded PID now belonging to another process (start time differs) is not touched', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tvt-run-'));
  const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const first = await openRunDir('tvt-b', { root });
    await first.update({ dhcpClient: { program: 'dhclient', pid: bystander.pid!, startTime: '1' } });
    const second = await openRunDir('tvt-b', { root });
    assert.equal(second.recovered?.reapedDhcpClient, undefined);
    assert.ok((await processStartTime(bystander.pid!)) !== undefined, 'the bystander still runs');
    await second.remove();
  } finally {
    bystander.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
});

test('folders of namespaces that no longer exist are swept; ours and unrelated files stay', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tvt-run-'));
  try {
    const ours = (await stat('/proc/self/ns/net')).ino;
    await mkdir(join(root, `client-tvt-x-net${ours}`));
    await mkdir(join(root, 'client-tvt-y-net1')); // inode 1 is never a network namespace
    await writeFile(join(root, 'client-tvt.sock'), '');
    assert.equal(await sweepGoneNamespaces(root), 1);
    assert.deepEqual((await readdir(root)).sort(), [`client-tvt-x-net${ours}`, 'client-tvt.sock']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
