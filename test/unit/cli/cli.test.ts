/**
 * The tapvpn CLI through runCli with a fake io: exit codes (0 ok, 1 runtime,
 * 2 usage/config), help for every command, genkey/pubkey against RFC 7748
 * §6.1, check-config on the examples and on broken files, dispatch to run
 * modules through the typed table (signals, SIGHUP reload, a module
 * missing from the installation). One test runs bin/tapvpn.js for real.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { runCli } from '../../../src/cli/app.js';
import type { CliIo } from '../../../src/cli/io.js';
import type { RunModules } from '../../../src/cli/run-modules.js';
import { COMMANDS } from '../../../src/cli/usage.js';
import { encodeKey, generateKeyPair } from '../../../src/crypto/keys.js';
import { writePrivateKeyFile } from '../../../src/io/key-file.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// RFC 7748 §6.1: Alice's private and public key.
const ALICE_PRIVATE_B64 = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
const ALICE_PUBLIC_B64 = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');

interface FakeIo extends CliIo {
  stdout: string[];
  stderr: string[];
  signals: Map<string, () => void>;
  imported: string[];
}

const RUN_MODULE_KINDS = ['server', 'client', 'relay', 'demo'] as const;

/** A fake run-module table: `modules` by kind (only what a test needs); a kind not given is missing from the build. */
function fakeRunModules(io: { imported: string[] }, modules: Partial<Record<keyof RunModules, Record<string, unknown>>> = {}): RunModules {
  const entry = (kind: keyof RunModules) => async () => {
    io.imported.push(kind);
    const module = modules[kind];
    if (module) return module;
    throw Object.assign(new Error(`Cannot find module '${join(ROOT, 'dist', 'src', kind, 'run.js')}' imported from ${join(ROOT, 'dist', 'src', 'cli', 'run-modules.js')}`), { code: 'ERR_MODULE_NOT_FOUND' });
  };
  return Object.fromEntries(RUN_MODULE_KINDS.map((kind) => [kind, entry(kind)])) as unknown as RunModules;
}

function fakeIo(opts: { stdin?: string; modules?: Partial<Record<keyof RunModules, Record<string, unknown>>> } = {}): FakeIo {
  const io: FakeIo = {
    stdout: [],
    stderr: [],
    signals: new Map(),
    imported: [],
    out: (t) => void io.stdout.push(t),
    err: (t) => void io.stderr.push(t),
    readStdin: async () => opts.stdin ?? '',
    stdinIsTty: false,
    env: {},
    onSignal: (s, h) => void io.signals.set(s, h),
    runModules: undefined as unknown as RunModules,
  };
  io.runModules = fakeRunModules(io, opts.modules);
  return io;
}

let dir: string;
let serverToml: string;
let clientToml: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tvt-cli-'));
  const serverKey = join(dir, 'server.key');
  await writePrivateKeyFile(serverKey, generateKeyPair().privateKey);
  serverToml = join(dir, 'server.toml');
  await writeFile(serverToml, `private_key_file = "${serverKey}"\nlease_file = "${join(dir, 'leases.json')}"\n[tunnel]\nnetwork = "10.77.0.0/24"\n[[clients]]\nname = "a"\npublic_key = "${ALICE_PUBLIC_B64}"\n`);
  clientToml = join(dir, 'client.toml');
  await writeFile(clientToml, `name = "a"\nprivate_key_file = "${join(dir, 'client.key')}"\n[server]\naddress = "127.0.0.1"\npublic_key = "${ALICE_PUBLIC_B64}"\n`);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('no arguments: usage and 2; --help: usage and 0; --version: the package version', async () => {
  let io = fakeIo();
  assert.equal(await runCli([], io), 2);
  assert.match(io.stdout.join(''), /Usage: tapvpn <command>/);
  io = fakeIo();
  assert.equal(await runCli(['--help'], io), 0);
  io = fakeIo();
  assert.equal(await runCli(['--version'], io), 0);
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(io.stdout, [pkg.version]);
});

test('every command has its own --help, exit 0, and imports nothing', async () => {
  for (const command of COMMANDS) {
    const io = fakeIo();
    assert.equal(await runCli([command, '--help'], io), 0, command);
    assert.match(io.stdout.join(''), new RegExp(`^Usage: tapvpn ${command}`), command);
    assert.deepEqual(io.imported, []);
  }
});

test('usage errors exit 2 with one line naming the problem', async () => {
  for (const [args, pattern] of [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['genkey', '--bogus'], /genkey: Unknown option '--bogus' \(see tapvpn genkey --help\)/],
    [['genkey', 'extra'], /genkey: unexpected argument "extra"/],
    [['server'], /server needs --config FILE/],
    [['check-config', 'router', 'x.toml'], /check-config needs a kind/],
  ] as const) {
    const io = fakeIo();
    assert.equal(await runCli(args, io), 2, args.join(' '));
    assert.match(io.stderr[0]!, /^tapvpn: /);
    assert.match(io.stderr[0]!, pattern);
    assert.doesNotMatch(io.stderr.join('\n'), /\n\s+at /, 'no stack trace without --debug');
  }
});

test('genkey | pubkey: RFC 7748 §6.1 Alice; a fresh key pairs with its pubkey', async () => {
  let io = fakeIo({ stdin: `${ALICE_PRIVATE_B64}\n` });
  assert.equal(await runCli(['pubkey'], io), 0);
  assert.deepEqual(io.stdout, [ALICE_PUBLIC_B64]);
  io = fakeIo();
  assert.equal(await runCli(['genkey'], io), 0);
  assert.match(io.stdout[0]!, /^[A-Za-z0-9+/]{43}=$/);
  const pub = fakeIo({ stdin: io.stdout[0]! });
  assert.equal(await runCli(['pubkey'], pub), 0);
  assert.notEqual(pub.stdout[0], io.stdout[0]);
});

test('genkey --out writes 0600, prints the public key, refuses to overwrite; pubkey --in reads it back', async () => {
  const file = join(dir, 'new.key');
  const io = fakeIo();
  assert.equal(await runCli(['genkey', '--out', file], io), 0);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const again = fakeIo();
  assert.equal(await runCli(['genkey', '--out', file], again), 2);
  assert.match(again.stderr[0]!, /already exists/);
  const pub = fakeIo();
  assert.equal(await runCli(['pubkey', '--in', file], pub), 0);
  assert.deepEqual(pub.stdout, io.stdout);
  const viaStdin = fakeIo({ stdin: await readFile(file, 'utf8') });
  await runCli(['pubkey'], viaStdin);
  assert.deepEqual(viaStdin.stdout, io.stdout);
});

test('pubkey of garbage: exit 2, and the input is not echoed', async () => {
  const io = fakeIo({ stdin: 'correct horse battery staple' });
  assert.equal(await runCli(['pubkey'], io), 2);
  assert.match(io.stderr[0]!, /^tapvpn: stdin: expected a base64 X25519 key/);
  assert.doesNotMatch(io.stderr[0]!, /horse/);
});

test('check-config: the examples are valid, the summary shows the server public key and no private key', async () => {
  for (const kind of ['server', 'client', 'relay'] as const) {
    const file = join(ROOT, 'examples', `${kind}.toml`);
    const exists = await stat(file).then(() => true, () => false);
    if (!exists) continue; // examples/relay.toml may land separately
    // The examples name key files under /etc and /var/lib; point them at real ones (check-config reads them).
    const copy = join(dir, `example-${kind}.toml`);
    await writeFile(copy, (await readFile(file, 'utf8')).replace(/^(\s*(?:private_)?key_file = )"[^"]*"/gm, `$1"${join(dir, 'server.key')}"`));
    const io = fakeIo();
    assert.equal(await runCli(['check-config', kind, copy], io), 0, io.stderr.join('\n'));
    assert.match(io.stdout[0]!, new RegExp(`valid ${kind} config`));
  }
  const io = fakeIo();
  assert.equal(await runCli(['check-config', 'server', serverToml], io), 0, io.stderr.join('\n'));
  const keyText = (await readFile(join(dir, 'server.key'), 'utf8')).trim();
  const out = io.stdout.join('\n');
  assert.match(out, /public key [A-Za-z0-9+/]{43}=/);
  assert.ok(!out.includes(keyText), 'the private key is never printed');
  assert.match(out, /pool 10\.77\.0\.2-10\.77\.0\.254/);
});

test('check-config: a missing or world-readable key file is an error naming the config, exit 2 as when the daemon starts', async () => {
  const io = fakeIo();
  assert.equal(await runCli(['check-config', 'client', clientToml], io), 2);
  assert.match(io.stderr.join('\n'), new RegExp(`^tapvpn: ${clientToml}: .*client\\.key.*tapvpn genkey --out`));
  const loose = join(dir, 'loose.key');
  await writeFile(loose, `${ALICE_PRIVATE_B64}\n`, { mode: 0o644 });
  const file = join(dir, 'loose-client.toml');
  await writeFile(file, (await readFile(clientToml, 'utf8')).replace(join(dir, 'client.key'), loose));
  const bad = fakeIo();
  assert.equal(await runCli(['check-config', 'client', file], bad), 2);
  assert.match(bad.stderr[0]!, new RegExp(`^tapvpn: ${file}: ${loose}: private key file is readable by group or others.*chmod 600`));
});

test('check-config: the server\'s private key reused as the status key is refused (same file, or a copy); a separate key is fine', async () => {
  const serverKey = join(dir, 'server.key');
  const copy = join(dir, 'status-copy.key');
  await writeFile(copy, await readFile(serverKey, 'utf8'), { mode: 0o600 });
  const separate = join(dir, 'status-separate.key');
  await writePrivateKeyFile(separate, generateKeyPair().privateKey);
  const base = await readFile(serverToml, 'utf8');
  for (const statusKey of [serverKey, copy]) {
    const file = join(dir, 'reused-status.toml');
    await writeFile(file, base.replace('[tunnel]', `[status]\nenabled = true\nkey_file = "${statusKey}"\n[tunnel]`));
    const io = fakeIo();
    assert.equal(await runCli(['check-config', 'server', file], io), 2, statusKey);
    assert.match(io.stderr[0]!, new RegExp(`^tapvpn: ${file}: status\\.key_file: ${statusKey} holds the same key as private_key_file .*tapvpn genkey --out status\\.key`));
  }
  const file = join(dir, 'separate-status.toml');
  await writeFile(file, base.replace('[tunnel]', `[status]\nenabled = true\nkey_file = "${separate}"\n[tunnel]`));
  const io = fakeIo();
  assert.equal(await runCli(['check-config', 'server', file], io), 0, io.stderr.join('\n'));
  assert.match(io.stdout[0]!, new RegExp(`status key: +${separate}, endpoint 127\\.0\\.0\\.1:5556`));
});

test('check-config: every problem listed, exit 2; --json prints the parsed config', async () => {
  const broken = join(dir, 'broken.toml');
  await writeFile(broken, `private_key_file = 7\n[tunnel]\nnetwork = "10.77.0.0/33"\n`);
  const io = fakeIo();
  assert.equal(await runCli(['check-config', 'server', broken], io), 2);
  assert.match(io.stderr[0]!, /broken\.toml: 2 problems:\n {2}private_key_file: expected .*got 7\n {2}tunnel\.network: expected a network/);
  const json = fakeIo();
  assert.equal(await runCli(['check-config', 'server', serverToml, '--json'], json), 0);
  assert.equal(JSON.parse(json.stdout[0]!).tunnel.gateway, '10.77.0.1');
});

test('server: dispatches to startServer, stops with 0 on SIGTERM, reloads on SIGHUP', async () => {
  const calls: string[] = [];
  const modules = {
    server: {
      startServer: async (config: { tunnel: { gateway: string } }) => {
        calls.push(`start ${config.tunnel.gateway}`);
        // `config`: the configuration in force, which a reload compares the file with (restart-only keys).
        return { config, stop: async () => void calls.push('stop'), reload: (c: { clients: unknown[] }) => void calls.push(`reload ${c.clients.length}`) };
      },
    },
  };
  const io = fakeIo({ modules });
  const exit = runCli(['server', '--config', serverToml], io);
  while (!io.signals.has('SIGTERM')) await new Promise((r) => setImmediate(r));
  io.signals.get('SIGHUP')!();
  await new Promise((r) => setTimeout(r, 50));
  io.signals.get('SIGTERM')!();
  assert.equal(await exit, 0);
  assert.deepEqual(calls, ['start 10.77.0.1', 'reload 1', 'stop']);
});

test('client: exit 1 when the run ends on its own (refused for good); relay: stops with 0 on SIGTERM', async () => {
  const io = fakeIo({ modules: { client: { startClient: async () => ({ stop: async () => undefined, done: Promise.resolve() }) } } });
  assert.equal(await runCli(['client', '--config', clientToml], io), 1);
  const relayToml = join(dir, 'relay.toml');
  await writeFile(relayToml, 'name = "relay1.example:7000"\n');
  let stopped = false;
  const relay = fakeIo({ modules: { relay: { startRelay: async () => ({ stop: async () => void (stopped = true) }) } } });
  const exit = runCli(['relay', '--config', relayToml], relay);
  while (!relay.signals.has('SIGTERM')) await new Promise((r) => setImmediate(r));
  assert.equal(relay.signals.has('SIGHUP'), false, 'only the server reloads');
  relay.signals.get('SIGTERM')!();
  assert.equal(await exit, 0);
  assert.equal(stopped, true);
  assert.deepEqual(relay.imported, ['relay']);
});

test('a run module missing from the installation: exit 1 and a plain "not available in this installation"', async () => {
  const io = fakeIo();
  assert.equal(await runCli(['server', '--config', serverToml], io), 1);
  assert.match(io.stderr[0]!, /^tapvpn: the tunnel server is not available in this installation \(Cannot find module '.*server\/run\.js'.*\); reinstall tapvpn/);
  const demo = fakeIo();
  assert.equal(await runCli(['demo'], demo), 1);
  assert.match(demo.stderr[0]!, /the demo is not available in this installation/);
});

test('a config error never reaches the run module; --debug adds the stack', async () => {
  const broken = join(dir, 'broken-client.toml');
  await writeFile(broken, 'name = "a"\n');
  const io = fakeIo();
  assert.equal(await runCli(['client', '--config', broken, '--debug'], io), 2);
  assert.deepEqual(io.imported, []);
  assert.match(io.stderr[0]!, /^tapvpn: .*broken-client\.toml: 2 problems/);
  assert.match(io.stderr[0]!, /\n\s+at /);
});

test('bin/tapvpn.js: genkey | pubkey as processes, exit status of a usage error', () => {
  const bin = join(ROOT, 'bin', 'tapvpn.js');
  const key = execFileSync(process.execPath, [bin, 'genkey'], { encoding: 'utf8' });
  const pub = execFileSync(process.execPath, [bin, 'pubkey'], { input: key, encoding: 'utf8' });
  assert.match(pub, /^[A-Za-z0-9+/]{43}=\n$/);
  const bad = spawnSync(process.execPath, [bin, 'nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^tapvpn: unknown command "nope"/);
  assert.equal(encodeKey(Buffer.from(pub.trim(), 'base64')), pub.trim());
});
