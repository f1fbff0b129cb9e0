/**
 * A relay whose privilege drop fails does not start, and leaves nothing
 * behind: the bound (not yet listening) port's socket is closed and the
 * control socket removed. The drop is made to fail for real — a user that
 * does not exist as root, NOT_ROOT otherwise.
 */
import assert from 'node:assert/strict';
import { readdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseConfigText } from '../../../src/config/load.js';
import { relayConfigSchema } from '../../../src/config/relay-schema.js';
import { startRelay } from '../../../src/relay/run.js';
import { PrivilegeError } from '../../../src/util/privileges.js';

const openDescriptors = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

test('a failed drop: the relay refuses to start, its bound port and control socket are gone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tvt-relay-start-'));
  try {
    const control = join(dir, 'relay.sock');
    const config = parseConfigText(relayConfigSchema, `name = "relay.tvt:7000"\nuser = "tvt-no-such-user"\n[listen]\naddress = "127.0.0.1"\n[control]\nsocket = "${control}"\n`, 'relay.toml');
    config.listen.port = 0; // any free port (the schema wants a real one)
    const before = await openDescriptors();
    await assert.rejects(startRelay(config, pino({ level: 'silent' })), (error: unknown) => {
      assert.ok(error instanceof PrivilegeError, String(error));
      assert.match(error.code, /^(UNKNOWN_USER|NOT_ROOT)$/);
      return true;
    });
    assert.equal(await openDescriptors(), before, 'no descriptor left open (the bound port, the control socket)');
    await assert.rejects(stat(control), /ENOENT/, 'the control socket is removed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
