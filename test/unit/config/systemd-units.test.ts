/**
 * The example systemd units: the hardening they promise is there, they run
 * the CLI commands that exist, and (when systemd-analyze is installed) they
 * verify with nothing but the absent /usr/bin/tapvpn to complain about.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RUN_DIRECTORY } from '../../../src/config/fields.js';

const SYSTEMD = fileURLToPath(new URL('../../../examples/systemd/', import.meta.url));
const UNITS = ['tapvpn-server.service', 'tapvpn-client@.service'];
const RELAY_UNIT = 'tapvpn-relay.service';

/** The [Service] section as key → values (a key may repeat). */
function serviceSection(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!;
    else if (section === 'Service') {
      const eq = line.indexOf('=');
      const key = line.slice(0, eq);
      out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
    }
  }
  return out;
}

for (const unit of UNITS) {
  test(`${unit}: hardened (capabilities bounded, no new privileges, read-only system)`, async () => {
    const service = serviceSection(await readFile(join(SYSTEMD, unit), 'utf8'));
    const one = (key: string): string => {
      const values = service.get(key);
      assert.ok(values && values.length === 1, `${key} set once, got ${JSON.stringify(values)}`);
      return values[0]!;
    };
    const server = unit.startsWith('tapvpn-server');
    // The server drops to its user and to no capabilities itself (by setuid): nothing ambient, and the bounding set lets it drop.
    for (const key of server ? ['CapabilityBoundingSet'] : ['AmbientCapabilities', 'CapabilityBoundingSet']) {
      const caps = one(key).split(/\s+/);
      assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_NET_BIND_SERVICE'), `${key}: ${caps.join(' ')}`);
      assert.ok(!caps.includes('CAP_SYS_ADMIN') && !caps.includes('CAP_DAC_OVERRIDE'));
      if (server) assert.deepEqual(caps.filter((c) => !['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE'].includes(c)).sort(), ['CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID']);
    }
    if (server) {
      assert.ok(!service.has('AmbientCapabilities') && !service.has('User'), 'root until the server drops to its user');
      assert.ok(!service.has('StateDirectory'), 'would hand /var/lib/tapvpn to root');
    }
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('ReadWritePaths'), '/var/lib/tapvpn');
    assert.equal(one('ProtectHome'), 'yes');
    assert.equal(one('PrivateTmp'), 'yes');
    assert.equal(one('DeviceAllow'), '/dev/net/tun rw');
    assert.equal(one('RestartPreventExitStatus'), '2', 'a config error is not retried');
    assert.ok(!service.has('MemoryDenyWriteExecute'), 'would break the Node JIT');
    const start = one('ExecStart');
    assert.match(start, server ? /^\/usr\/bin\/tapvpn server --config \/etc\/tapvpn\/server\.toml$/ : /^\/usr\/bin\/tapvpn client --config \/etc\/tapvpn\/%i\.toml$/);
    assert.match(one('ExecStartPre'), server ? /^\/usr\/bin\/setpriv --reuid=tapvpn --regid=tapvpn --init-groups \/usr\/bin\/tapvpn check-config server / : /^\/usr\/bin\/tapvpn check-config client /);
  });
}

test(`${RELAY_UNIT}: root bounded to binding a low port and dropping, no devices, check-config as the user`, async () => {
  const service = serviceSection(await readFile(join(SYSTEMD, RELAY_UNIT), 'utf8'));
  const one = (key: string): string => {
    const values = service.get(key);
    assert.ok(values && values.length === 1, `${key} set once, got ${JSON.stringify(values)}`);
    return values[0]!;
  };
  // The relay drops to its user and to no capabilities itself (by setuid): nothing ambient, no User=.
  assert.deepEqual(one('CapabilityBoundingSet').split(/\s+/).sort(), ['CAP_NET_BIND_SERVICE', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID']);
  assert.ok(!service.has('AmbientCapabilities') && !service.has('User') && !service.has('StateDirectory'), 'root until the relay drops to its user');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.equal(one('PrivateDevices'), 'yes');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.ok(!one('RestrictAddressFamilies').includes('AF_NETLINK'), 'it configures nothing');
  assert.match(one('ExecStart'), /^\/usr\/bin\/tapvpn relay --config \/etc\/tapvpn\/relay\.toml$/);
  assert.match(one('ExecStartPre'), /^\/usr\/bin\/setpriv --reuid=tapvpn --regid=tapvpn --init-groups \/usr\/bin\/tapvpn check-config relay /);
});

for (const unit of [...UNITS, RELAY_UNIT]) {
  test(`${unit}: /run/tapvpn (the default control socket's folder) is writable under ProtectSystem=strict, and survives another unit's stop`, async () => {
    const service = serviceSection(await readFile(join(SYSTEMD, unit), 'utf8'));
    assert.deepEqual(service.get('ProtectSystem'), ['strict']);
    assert.deepEqual(service.get('RuntimeDirectory'), [RUN_DIRECTORY.replace(/^\/run\//, '')]);
    assert.deepEqual(service.get('RuntimeDirectoryPreserve'), ['yes']);
  });
}

test('systemd-analyze verify finds nothing but the missing binary', async (t) => {
  const run = promisify(execFile);
  try {
    await run('systemd-analyze', ['--version']);
  } catch {
    t.skip('systemd-analyze is not installed');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'tvt-units-'));
  try {
    for (const unit of [...UNITS, RELAY_UNIT]) {
      const file = join(dir, unit.replace('@.', '@example.'));
      await copyFile(join(SYSTEMD, unit), file);
      const result = await run('systemd-analyze', ['verify', file]).then(
        (r) => r.stderr,
        (error: { stderr?: string }) => error.stderr ?? String(error),
      );
      const problems = result.split('\n').filter((line) => line.trim() && !/\/usr\/bin\/tapvpn is not executable/.test(line));
      assert.deepEqual(problems, [], `${unit}: ${result}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tapvpn-client@.service leaves /proc/sys writable: the client sets IPv6 sysctls on its own TAP, and a read-only /proc/sys would lose its pushed IPv6 routes', async () => {
  const service = serviceSection(await readFile(join(SYSTEMD, 'tapvpn-client@.service'), 'utf8'));
  const source = await readFile(fileURLToPath(new URL('../../../src/client/run.ts', import.meta.url)), 'utf8');
  assert.match(source, /writeFile\(`\/proc\/sys\/net\/ipv6\/conf\/\$\{device\}\/accept_ra/, 'the client writes per-TAP IPv6 sysctls (if it stops, this test and the unit comment can go)');
  assert.notDeepEqual(service.get('ProtectKernelTunables'), ['yes']);
});
