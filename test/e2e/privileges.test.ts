/**
 * The server's privilege drop, on the real binary (dist/, as installed) in a
 * pv- namespace: `user = "nobody"`, the tunnel port 443 (a privileged one).
 *
 * - No connection is accepted before the drop: a prober connects to the
 *   port every few milliseconds from before the server starts; its first
 *   accepted connection comes after the log line of the drop (the port was
 *   bound while privileged, but listened on only afterwards).
 * - The running server is nobody (uid, gid, no supplementary group) with no
 *   capability in any thread (CapEff, CapPrm, CapAmb all zero), an empty
 *   bounding set and no_new_privs on its main thread.
 * - It serves (a junk frame gets a CLOSE), reloads on SIGHUP as nobody, and
 *   stops cleanly on SIGTERM (the TAP gone).
 * - A relay with `user = "nobody"` on port 444: the same probe, the same
 *   /proc check, a clean stop (relay.test.ts carries tunnels through one).
 * Root and /dev/net/tun needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/io/command.js';
import { spawnTapvpn, stopChildren } from '../../src/demo/run.js';
import { encodeKey, generatePrivateKey, publicKeyOf } from '../../src/crypto/keys.js';
import { writePrivateKeyFile } from '../../src/io/key-file.js';
import { assertDropped, idsOf, type UserIds } from '../support/dropped.js';
import { eventually } from '../support/eventually.js';

const PORT = 443;
const netns = `pv-${process.pid % 10000}`;
const adapter = `pv-srv${process.pid % 1000}`;
const children: ChildProcess[] = [];
let dir: string;
let nobody: UserIds;
let server: ChildProcess;
let output = '';
let prober: ChildProcess;
let proberOutput = '';

/** Connects every 2 ms until one connection is accepted; prints when (ms since the epoch). Bounded: 60 s. */
const proberScript = (port: number): string => `
const net = require('node:net');
const deadline = Date.now() + 60000;
(function attempt() {
  if (Date.now() > deadline) return console.log(JSON.stringify({ timedOut: true }));
  const socket = net.connect(${port}, '127.0.0.1');
  socket.once('connect', () => { console.log(JSON.stringify({ acceptedAtMs: Date.now() })); socket.destroy(); });
  socket.once('error', () => setTimeout(attempt, 2));
})();
console.log('probing');
`;

function logLines(text = output): Array<{ msg?: string; time?: number; [key: string]: unknown }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; time?: number });
}

describe('server privilege drop', { timeout: 180_000 }, () => {
  before(async () => {
    nobody = await idsOf('nobody');
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    dir = await mkdtemp('/tmp/tapvpn-pv-');
    const serverKey = generatePrivateKey();
    await writePrivateKeyFile(join(dir, 'server.key'), serverKey);
    const config = join(dir, 'server.toml');
    await writeFile(
      config,
      `private_key_file = "${join(dir, 'server.key')}"\nlease_file = "${join(dir, 'leases.json')}"\nuser = "nobody"\n[listen]\naddress = "127.0.0.1"\nport = ${PORT}\n[adapter]\nname = "${adapter}"\n[tunnel]\nnetwork = "10.231.0.0/24"\n[control]\nsocket = "${join(dir, 'server.sock')}"\n\n[[clients]]\nname = "alice"\npublic_key = "${encodeKey(publicKeyOf(generatePrivateKey()))}"\n`,
    );
    // The daemon's files belong to the user it runs as (the key-file checks want that, and it writes the lease file).
    for (const path of [dir, join(dir, 'server.key'), config]) await chown(path, nobody.uid, nobody.gid);

    prober = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', proberScript(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(prober);
    prober.stdout!.on('data', (chunk: Buffer) => (proberOutput += chunk.toString()));
    await eventually('the prober to start', () => proberOutput.includes('probing'), 30_000);
    process.env.TAPVPN_LOG_JSON = '1';
    server = spawnTapvpn(netns, ['server', '--config', config], 'server', children, true);
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually('the server to listen', () => output.includes('tunnel server ready') || server.exitCode !== null, 60_000);
    assert.equal(server.exitCode, null, `the server exited: ${output}`);
  });

  after(async () => {
    await stopChildren(children);
    await run('ip', ['netns', 'del', netns], { allowFailure: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('no connection is accepted before the drop: the port listens only afterwards', async () => {
    await eventually('the prober to get through', () => proberOutput.includes('acceptedAtMs') || proberOutput.includes('timedOut'), 30_000);
    const accepted = JSON.parse(proberOutput.split('\n').find((line) => line.includes('acceptedAtMs'))!) as { acceptedAtMs: number };
    const lines = logLines();
    const dropped = lines.find((line) => line.msg?.startsWith('dropped privileges'));
    assert.ok(dropped?.time, `the drop is logged: ${output}`);
    assert.ok(accepted.acceptedAtMs >= dropped.time, `first connection accepted at ${accepted.acceptedAtMs}, ${dropped.time - accepted.acceptedAtMs} ms before the drop was logged`);
    const order = lines.map((line) => line.msg);
    assert.ok(order.indexOf('tunnel server ready') > order.findIndex((msg) => msg?.startsWith('dropped privileges')), order.join(' | '));
    assert.equal(dropped.uid, nobody.uid);
    assert.equal(dropped.boundingSetDropped, true);
  });

  test('the running server is nobody with no capability in any thread', async () => {
    await assertDropped(server.pid!, nobody);
  });

  test('it serves, reloads as nobody, and stops cleanly', async () => {
    const answer = await run('ip', ['netns', 'exec', netns, process.execPath, '-e', `
      const s = require('node:net').connect(${PORT}, '127.0.0.1', () => s.write(Buffer.from([0, 0, 0, 6, 9, 1])));
      const got = []; s.on('data', (c) => got.push(c)); s.on('close', () => console.log(Buffer.concat(got).toString('hex')));
      s.setTimeout(10000, () => s.destroy());`]);
    assert.equal(Buffer.from(answer.stdout.trim(), 'hex')[4], 5, `a CLOSE frame (type 5) answers a junk frame: ${answer.stdout}`);

    server.kill('SIGHUP');
    await eventually('the reload', () => output.includes('authorized clients reloaded') || server.exitCode !== null, 20_000);
    assert.equal(server.exitCode, null, output);

    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    const links = await run('ip', ['-n', netns, '-o', 'link', 'show'], { allowFailure: true });
    assert.ok(!links.stdout.includes(adapter), 'the TAP is gone');
  });
});

/**
 * The relay, the same way: `user = "nobody"`, port 444 bound as root, a
 * prober from before the start whose first accepted connection comes after
 * the drop's log line; then nobody with no capability, and a clean stop.
 */
describe('relay privilege drop', { timeout: 120_000 }, () => {
  const RELAY_PORT = 444;
  const relayNetns = `pv-r${process.pid % 10000}`;
  const relayChildren: ChildProcess[] = [];
  let relayDir: string;
  let relay: ChildProcess;
  let relayOutput = '';
  let relayProberOutput = '';

  before(async () => {
    await run('ip', ['netns', 'add', relayNetns]);
    await run('ip', ['-n', relayNetns, 'link', 'set', 'lo', 'up']);
    relayDir = await mkdtemp('/tmp/tapvpn-pv-relay-');
    const config = join(relayDir, 'relay.toml');
    await writeFile(config, `name = "relay.pv:${RELAY_PORT}"\nuser = "nobody"\n[listen]\naddress = "127.0.0.1"\nport = ${RELAY_PORT}\n[control]\nsocket = "${join(relayDir, 'relay.sock')}"\n`);
    const relayProber = spawn('ip', ['netns', 'exec', relayNetns, process.execPath, '-e', proberScript(RELAY_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    relayChildren.push(relayProber);
    relayProber.stdout!.on('data', (chunk: Buffer) => (relayProberOutput += chunk.toString()));
    await eventually('the prober to start', () => relayProberOutput.includes('probing'), 30_000);
    process.env.TAPVPN_LOG_JSON = '1';
    relay = spawnTapvpn(relayNetns, ['relay', '--config', config], 'relay', relayChildren, true);
    relay.stdout!.on('data', (chunk: Buffer) => (relayOutput += chunk.toString()));
    relay.stderr!.on('data', (chunk: Buffer) => (relayOutput += chunk.toString()));
    await eventually('the relay to listen', () => relayOutput.includes('relay ready') || relay.exitCode !== null, 60_000);
    assert.equal(relay.exitCode, null, `the relay exited: ${relayOutput}`);
  });

  after(async () => {
    await stopChildren(relayChildren);
    await run('ip', ['netns', 'del', relayNetns], { allowFailure: true });
    if (relayDir) await rm(relayDir, { recursive: true, force: true });
  });

  test('no connection is accepted before the drop; the relay runs as nobody with no capability; it stops cleanly', async () => {
    await eventually('the prober to get through', () => relayProberOutput.includes('acceptedAtMs') || relayProberOutput.includes('timedOut'), 30_000);
    const accepted = JSON.parse(relayProberOutput.split('\n').find((line) => line.includes('acceptedAtMs'))!) as { acceptedAtMs: number };
    const dropped = logLines(relayOutput).find((line) => line.msg?.startsWith('dropped privileges'));
    assert.ok(dropped?.time, `the drop is logged: ${relayOutput}`);
    assert.ok(accepted.acceptedAtMs >= dropped.time, `first connection accepted at ${accepted.acceptedAtMs}, ${dropped.time - accepted.acceptedAtMs} ms before the drop was logged`);
    assert.equal(dropped.boundingSetDropped, true);
    await assertDropped(relay.pid!, await idsOf('nobody'));

    const exited = new Promise<number | null>((resolve) => relay.once('exit', (code) => resolve(code)));
    relay.kill('SIGTERM');
    assert.equal(await exited, 0, relayOutput);
  });
});
