/**
 * The namespace test bed itself (test/support/netns.ts): veths carry traffic
 * between its namespaces, spawned processes run inside them, and clean-up
 * removes every namespace and kills every process — also when the body throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { run } from '../../src/io/command.js';
import { withNamespaces } from '../support/netns.js';

async function namespaceExists(name: string): Promise<boolean> {
  return (await run('ip', ['netns', 'list'])).stdout.split('\n').some((line) => line.split(' ')[0] === name);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('two namespaces joined by a veth ping each other; a spawned process runs inside', async () => {
  let names: string[] = [];
  let child: ChildProcess | undefined;
  await withNamespaces(2, async ([left, right], bed) => {
    names = [left!.name, right!.name];
    assert.ok(names.every((name) => name.startsWith('tvt-')));
    await bed.veth({ netns: left!, address: '10.97.0.1/24' }, { netns: right!, address: '10.97.0.2/24' });
    const ping = await left!.exec('ping', ['-c', '1', '-W', '3', '10.97.0.2']);
    assert.equal(ping.exitCode, 0);
    child = right!.spawn('sleep', ['60']);
    const inside = await right!.exec('sh', ['-c', `ip netns identify ${child.pid}`]);
    assert.equal(inside.stdout.trim(), right!.name);
  });
  for (const name of names) assert.equal(await namespaceExists(name), false, `${name} deleted`);
  assert.equal(processAlive(child!.pid!), false, 'the spawned process was killed');
});

test('clean-up happens when the body throws, and the body\'s error wins', async () => {
  let name = '';
  let deferredRan = false;
  await assert.rejects(
    withNamespaces(1, async ([ns], bed) => {
      name = ns!.name;
      bed.defer(() => (deferredRan = true));
      throw new Error('test body failed');
    }),
    /test body failed/,
  );
  assert.equal(deferredRan, true);
  assert.equal(await namespaceExists(name), false);
});

test('a command that runs too long is cut off by its timeout', () =>
  withNamespaces(1, async ([ns]) => {
    const started = Date.now();
    await assert.rejects(ns!.exec('sleep', ['10'], { timeoutMs: 300 }));
    assert.ok(Date.now() - started < 5_000);
  }));
