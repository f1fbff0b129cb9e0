/**
 * The `tapvpn` command as a user runs it: `node bin/tapvpn.js ...` in a
 * child process. Exit codes 0 ok / 2 usage or config error; errors are one
 * line naming what is wrong, never a stack trace (unless --debug).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/tapvpn.js');
const TIMEOUT_MS = 20_000;

// RFC 7748 §6.1: Alice's private key and public key, in base64.
const ALICE_PRIVATE_B64 = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
const ALICE_PUBLIC_B64 = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function tapvpn(args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.TAPVPN_DEBUG;
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

function assertNoStack(run: Run): void {
  assert.doesNotMatch(run.stderr, /\n\s+at .+[:(]\d+:\d+\)?/, `no stack trace in: ${run.stderr}`);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tvt-cli-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('--help: exit 0 with the command list; each command has its own --help', async () => {
  const run = await tapvpn(['--help']);
  assert.equal(run.code, 0, run.stderr);
  for (const command of ['genkey', 'pubkey', 'check-config', 'server', 'client', 'relay', 'demo']) assert.match(run.stdout, new RegExp(`^  ${command}\\b`, 'm'));
  const runs = await Promise.all(['genkey', 'pubkey', 'check-config', 'server', 'client', 'relay', 'demo'].map((c) => tapvpn([c, '--help'])));
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: tapvpn \S+/);
  }
});

test('an unknown command or option: exit 2, one message, no stack', async () => {
  const [command, option] = await Promise.all([tapvpn(['frobnicate']), tapvpn(['genkey', '--frob'])]);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /^tapvpn: unknown command "frobnicate"/);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /^tapvpn: .*--frob/);
  assertNoStack(command);
  assertNoStack(option);
});

test('genkey | pubkey: a fresh key round trips, and the RFC 7748 §6.1 key gives its published public key', async () => {
  const genkey = await tapvpn(['genkey']);
  assert.equal(genkey.code, 0, genkey.stderr);
  assert.match(genkey.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
  const [pub1, pub2, alice] = await Promise.all([tapvpn(['pubkey'], genkey.stdout), tapvpn(['pubkey'], genkey.stdout), tapvpn(['pubkey'], `${ALICE_PRIVATE_B64}\n`)]);
  assert.equal(pub1.code, 0, pub1.stderr);
  assert.match(pub1.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
  assert.notEqual(pub1.stdout, genkey.stdout);
  assert.equal(pub2.stdout, pub1.stdout, 'pubkey is a function of the private key');
  assert.equal(alice.stdout, `${ALICE_PUBLIC_B64}\n`);
});

test('pubkey with garbage on stdin: exit 2, names stdin, does not echo the input', async () => {
  const run = await tapvpn(['pubkey'], 'my secret password\n');
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^tapvpn: stdin: expected a base64 X25519 key/);
  assert.doesNotMatch(run.stderr, /secret password/);
  assertNoStack(run);
});

test('genkey --out FILE: mode 0600, a usable key, never overwrites', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'client.key');
    const first = await tapvpn(['genkey', '--out', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '', 'the key is not printed');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = await readFile(file, 'utf8');
    assert.equal((await tapvpn(['pubkey'], text)).code, 0);
    const second = await tapvpn(['genkey', '--out', file]);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /already exists: not overwriting/);
    assert.equal(await readFile(file, 'utf8'), text);
    assertNoStack(second);
  });
});

test('check-config on every example: exit 0', async () => {
  const files = (await readdir(join(ROOT, 'examples'))).filter((f) => /^(server|client|relay)\.toml$/.test(f));
  assert.ok(files.length >= 2);
  const runs = await Promise.all(files.map((f) => tapvpn(['check-config', f.replace('.toml', ''), `examples/${f}`])));
  runs.forEach((run, i) => {
    assert.equal(run.code, 0, `${files[i]}: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^examples/${files[i]}: valid`));
  });
});

test('check-config with a broken config: exit 2, the file and key path on stderr, no stack', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'server.toml');
    const example = await readFile(join(ROOT, 'examples/server.toml'), 'utf8');
    // Break the second client's key and the listen port.
    const broken = example.replace('public_key = "azdlFgnT36uOofR8d2METSgLUC1YJLXYH1rNlyJXIhQ="', 'public_key = "azdlFgnT36uOofR8d2METSgLUC1YJLXYH1rNlyJXIhQ"').replace('port = 5555', 'port = 70000');
    assert.notEqual(broken, example);
    await writeFile(file, broken);
    const run = await tapvpn(['check-config', 'server', file]);
    assert.equal(run.code, 2, run.stdout);
    assert.ok(run.stderr.includes(file));
    assert.match(run.stderr, /clients\[1\]\.public_key: expected a base64 X25519 public key/);
    assert.match(run.stderr, /listen\.port: expected .*got 70000/);
    assert.equal(run.stdout, '');
    assertNoStack(run);
  });
});

test('check-config with a TOML syntax error: exit 2 with file:line:column', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'client.toml');
    await writeFile(file, 'name = "a"\nprivate_key_file = \n');
    const run = await tapvpn(['check-config', 'client', file]);
    assert.equal(run.code, 2);
    assert.ok(run.stderr.startsWith(`tapvpn: ${file}:2:`), run.stderr);
    assertNoStack(run);
  });
});

test('check-config usage errors and a missing file: exit 2', async () => {
  const [noKind, missing] = await Promise.all([tapvpn(['check-config', 'examples/server.toml']), tapvpn(['check-config', 'server', '/nonexistent/tvt.toml'])]);
  assert.equal(noKind.code, 2);
  assert.match(noKind.stderr, /Usage: tapvpn check-config/);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\/nonexistent\/tvt\.toml: cannot read the config file/);
  assertNoStack(missing);
});

test('server with a config whose key file is missing: exit 2 and the genkey hint, no stack', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'server.toml');
    await writeFile(file, `private_key_file = "${join(dir, 'none.key')}"\nlease_file = "${join(dir, 'leases.json')}"\n[tunnel]\nnetwork = "10.77.0.0/24"\n`);
    const run = await tapvpn(['server', '--config', file]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /tapvpn genkey --out/);
    assertNoStack(run);
  });
});
