import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { status } from '../../../src/cli/commands/status.js';
import type { CliIo } from '../../../src/cli/io.js';
import { RUN_MODULES } from '../../../src/cli/run-modules.js';
import { startControlSocket } from '../../../src/ops/control/server.js';
import { clientSnapshot, serverSnapshot } from './fixtures.js';

const log = pino({ level: 'silent' });

function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout, stderr,
    out: (t) => void stdout.push(t), err: (t) => void stderr.push(t),
    readStdin: async () => '', stdinIsTty: false, env: {}, onSignal: () => undefined, runModules: RUN_MODULES,
  };
}

test('tapvpn status: asks every daemon in the run directory; --json gives the snapshots; a dead socket is reported, the others still shown', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-status-'));
  const server = await startControlSocket({ path: join(dir, 'server-tapvpn0.sock'), commands: { status: () => serverSnapshot() } }, log);
  const client = await startControlSocket({ path: join(dir, 'client-alice.sock'), commands: { status: () => clientSnapshot() } }, log);
  try {
    const io = captureIo();
    assert.equal(await status(io, undefined, false, dir), 0);
    const text = io.stdout.join('\n');
    assert.match(text, /^client alice-laptop/m);
    assert.match(text, /^server tapvpn0/m);
    assert.match(text, /bob-phone\s+10\.77\.0\.6/);

    const json = captureIo();
    assert.equal(await status(json, join(dir, 'server-tapvpn0.sock'), true, dir), 0);
    assert.deepEqual(JSON.parse(json.stdout.join('\n')), serverSnapshot());

    await client.close();
    const { createServer } = await import('node:net');
    const silent = createServer((s) => s.destroy());
    await new Promise<void>((r) => silent.listen(join(dir, 'relay-gone.sock'), r));
    const partial = captureIo();
    assert.equal(await status(partial, undefined, true, dir), 1);
    assert.equal((JSON.parse(partial.stdout.join('\n')) as unknown[]).length, 1);
    assert.match(partial.stderr.join('\n'), /relay-gone\.sock closed without an answer/);
    silent.close();
  } finally {
    await server.close();
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('tapvpn status: no daemon is a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-status-'));
  try {
    await assert.rejects(status(captureIo(), undefined, false, dir), /no control sockets in .*is a tapvpn daemon running/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
