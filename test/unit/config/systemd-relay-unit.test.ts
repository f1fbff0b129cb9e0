/**
 * examples/systemd/tapvpn-relay.service: a relay forwards TCP only, so its
 * unit grants less than the server's: no CAP_NET_ADMIN, no devices, no
 * netlink; the same read-only system and no-retry-on-config-error rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const UNIT = fileURLToPath(new URL('../../../examples/systemd/tapvpn-relay.service', import.meta.url));

function serviceKeys(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let inService = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inService = line === '[Service]';
    if (!inService || !line || line.startsWith('#') || !line.includes('=')) continue;
    const eq = line.indexOf('=');
    out.set(line.slice(0, eq), [...(out.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

test('tapvpn-relay.service: least privilege for a TCP forwarder', async () => {
  const service = serviceKeys(await readFile(UNIT, 'utf8'));
  const one = (key: string): string => {
    const values = service.get(key);
    assert.ok(values && values.length === 1, `${key} set once, got ${JSON.stringify(values)}`);
    return values[0]!;
  };
  assert.equal(one('CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  assert.equal(one('AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('PrivateDevices'), 'yes');
  assert.ok(!service.has('DeviceAllow'), 'a relay opens no device');
  assert.doesNotMatch(one('RestrictAddressFamilies'), /AF_NETLINK/);
  assert.equal(one('RestartPreventExitStatus'), '2');
  assert.equal(one('ExecStart'), '/usr/bin/tapvpn relay --config /etc/tapvpn/relay.toml');
  assert.equal(one('ExecStartPre'), '/usr/bin/tapvpn check-config relay /etc/tapvpn/relay.toml');
  assert.ok(!service.has('MemoryDenyWriteExecute'), 'would break the Node JIT');
});

test('tapvpn-relay.service: systemd-analyze verify finds nothing but the missing binary', async (t) => {
  const run = promisify(execFile);
  if (!(await run('systemd-analyze', ['--version']).then(() => true, () => false))) return t.skip('systemd-analyze is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'tvt-units-'));
  try {
    const file = join(dir, 'tapvpn-relay.service');
    await copyFile(UNIT, file);
    const stderr = await run('systemd-analyze', ['verify', file]).then((r) => r.stderr, (e: { stderr?: string }) => e.stderr ?? String(e));
    const problems = stderr.split('\n').filter((l) => l.trim() && !/\/usr\/bin\/tapvpn is not executable/.test(l));
    assert.deepEqual(problems, [], stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
