/**
 * A reload that changes what only a restart applies (src/server/reload-plan.ts),
 * through the config watch: one save renumbers the tunnel and revokes a
 * client. The revocation is applied (it must not wait for a restart); the
 * renumbering is not — the log names it with its values, and a client that
 * connects afterwards still gets its lease from the pool the server started
 * with, which is the one its adapter and lease store were made for. A
 * corrected file later reloads without the complaint.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { encodeKey } from '../../../src/crypto/keys.js';
import type { ConfigWatcher } from '../../../src/io/config-watch.js';
import { startConfigWatch } from '../../../src/server/config-reload.js';
import { eventually } from '../../support/eventually.js';
import { startHarness, type Harness, type RunningClient } from '../../support/tunnel-harness.js';

describe('a reload that changes restart-only keys', () => {
  let harness: Harness;
  let dir: string;
  let file: string;
  let watcher: ConfigWatcher | undefined;
  let alice: RunningClient;
  let bob: RunningClient;
  const lines: Array<{ level: number; msg: string; restartOnly?: string[] }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const restartComplaints = (): typeof lines => lines.filter((l) => l.msg.startsWith('restart the server to apply'));

  /** The harness's own config as a file (its network and routes), with these clients. */
  const toml = (names: string[], network = '10.97.0.0/24'): string =>
    [
      'private_key_file = "/unused/server.key"',
      '[tunnel]',
      `network = "${network}"`,
      'routes = ["192.168.60.0/24"]',
      ...names.flatMap((n) => ['[[clients]]', `name = "${n}"`, `public_key = "${encodeKey(harness.keys[n]!.publicKey)}"`]),
    ].join('\n');
  const save = async (text: string): Promise<void> => {
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  };

  before(async () => {
    harness = await startHarness(['alice', 'bob', 'carol']);
    dir = await mkdtemp(join(tmpdir(), 'tapvpn-reloadsafe-'));
    file = join(dir, 'server.toml');
    await writeFile(file, toml(['alice', 'bob', 'carol']));
    watcher = await startConfigWatch(file, harness.server.config, log, harness.server);
    alice = harness.startClient('alice', '198.51.100.1');
    bob = harness.startClient('bob', '198.51.100.2');
    await eventually('both up', () => harness.server.activeTunnels === 2, 10_000);
  });

  after(async () => {
    watcher?.close();
    await harness.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('names tunnel.network with its values, revokes the removed client all the same, and keeps leasing from the pool it started with', async () => {
    await save(toml(['alice', 'carol'], '10.98.0.0/24'));
    await eventually('the restart-only change logged', () => restartComplaints().length > 0, 5_000);
    const complaint = restartComplaints()[0]!;
    assert.equal(complaint.level, 50, 'an error: the file and the running server disagree until a restart');
    assert.match(complaint.msg, /tunnel\.network \(10\.97\.0\.0\/24 → 10\.98\.0\.0\/24\)/);
    assert.deepEqual(complaint.restartOnly, ['tunnel.network', 'tunnel.gateway']);
    // The revocation in the same save is not blocked by the renumbering.
    await eventually('bob closed POLICY by the server', () => bob.core.monitor.snapshot({}).lastClose?.code === 'POLICY', 5_000);
    assert.equal(alice.core.driver.machine.state, 'authorized');
    assert.equal(harness.server.config.tunnel.network.address, '10.97.0.0', 'the running network stays');
    // A client connecting now is leased from the running pool, and pushed the running gateway.
    const carol = harness.startClient('carol', '198.51.100.3');
    await eventually('carol up', () => carol.core.lease !== undefined, 10_000);
    assert.match(carol.core.lease!.address, /^10\.97\.0\./);
    assert.equal(carol.core.lease!.gateway, '10.97.0.1');
  });

  it('a corrected file reloads without the complaint', async () => {
    const complaints = restartComplaints().length;
    const reloads = lines.filter((l) => l.msg.startsWith('reloading')).length;
    await save(toml(['alice', 'carol']));
    await eventually('the corrected file reloaded', () => lines.filter((l) => l.msg.startsWith('reloading')).length > reloads, 5_000);
    assert.equal(restartComplaints().length, complaints);
    assert.equal(alice.core.driver.machine.state, 'authorized');
  });
});
