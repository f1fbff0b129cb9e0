/**
 * Revocation without a signal (issue 10 item 9): the server watches its
 * config file. A client removed from the file is closed (sealed POLICY) and
 * refused when it retries, within the watch's bound while another keeps its tunnel; a
 * file that does not load is refused with a precise log line and the server
 * goes on with the configuration it had; touching the file reloads nothing.
 * The watch runs here with the poll only a fallback (fs.watch on /tmp).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { encodeKey } from '../../../src/crypto/keys.js';
import type { ConfigWatcher } from '../../../src/io/config-watch.js';
import { startConfigWatch } from '../../../src/server/config-reload.js';
import { eventually } from '../../support/eventually.js';
import { startHarness, type Harness, type RunningClient } from '../../support/tunnel-harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the server applies its config file when it changes', () => {
  let harness: Harness;
  let dir: string;
  let file: string;
  let watcher: ConfigWatcher | undefined;
  let alice: RunningClient;
  let bob: RunningClient;
  const lines: Array<{ level: number; msg: string; error?: string; trigger?: string }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });

  const toml = (names: string[], extra = ''): string =>
    [
      'private_key_file = "/unused/server.key"',
      '[tunnel]',
      'network = "10.97.0.0/24"',
      'routes = ["192.168.60.0/24"]',
      '[reload]',
      'poll_interval = 0.5',
      extra,
      ...names.flatMap((n) => ['[[clients]]', `name = "${n}"`, `public_key = "${encodeKey(harness.keys[n]!.publicKey)}"`]),
    ].join('\n');
  /** As an editor saves: a new file renamed over the old one. */
  const save = async (text: string): Promise<void> => {
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  };

  before(async () => {
    harness = await startHarness(['alice', 'bob']);
    dir = await mkdtemp(join(tmpdir(), 'tapvpn-watch-'));
    file = join(dir, 'server.toml');
    await writeFile(file, toml(['alice', 'bob']));
    watcher = await startConfigWatch(file, harness.configWith({ alice: {}, bob: {} }) as never, log, harness.server);
    assert.ok(watcher, 'reload.watch is on by default');
    alice = harness.startClient('alice', '198.51.100.1');
    bob = harness.startClient('bob', '198.51.100.2');
    await eventually('both up', () => harness.server.activeTunnels === 2, 10_000);
  });

  after(async () => {
    watcher?.close();
    await harness.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('touching the file, or saving it unchanged, reloads nothing', async () => {
    await utimes(file, new Date(), new Date());
    await save(toml(['alice', 'bob']));
    await sleep(1200); // more than two polls
    assert.equal(lines.filter((l) => l.msg.startsWith('reloading')).length, 0);
  });

  it('a file that does not load is refused with what is wrong, and the server keeps serving', async () => {
    await save(toml(['alice', 'bob'], 'mystery_key = 1'));
    await eventually('the refusal logged', () => lines.some((l) => l.msg.startsWith('reload refused')), 5_000);
    const refusal = lines.find((l) => l.msg.startsWith('reload refused'))!;
    assert.equal(refusal.trigger, 'file changed');
    assert.match(refusal.error ?? '', /mystery_key/);
    assert.equal(harness.server.activeTunnels, 2);
    assert.equal(alice.core.driver.machine.state, 'authorized');
  });

  it('a client removed from the file is closed, sealed, without a signal, and cannot come back; the other stays', async () => {
    const savedAtMs = Date.now();
    await save(toml(['bob']));
    await eventually('alice closed POLICY by the server', () => alice.core.monitor.snapshot({}).lastClose?.code === 'POLICY', 5_000);
    const tookMs = Date.now() - savedAtMs;
    assert.equal(alice.core.monitor.snapshot({}).lastClose?.by, 'peer', 'sealed: she can believe it');
    // She retries (a close after authorization is retried) and is refused each time: an unknown key gets no tunnel.
    for (let i = 0; i < 10; i++) {
      alice.core.tick();
      await sleep(100);
    }
    assert.notEqual(alice.core.driver.machine.state, 'authorized');
    assert.ok(alice.core.monitor.snapshot({}).reconnects >= 1, 'she did try again');
    assert.equal(bob.core.driver.machine.state, 'authorized');
    assert.equal(harness.server.activeTunnels, 1);
    // Not asserted (timing): reported for the bound OPERATIONS.md states.
    console.log(`# revocation took ${tookMs} ms after the save`);
  });
});
