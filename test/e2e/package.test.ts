/**
 * The package as a user gets it: `npm pack` of this checkout (prepack: a
 * clean dist/ and the addons prebuilt by prebuildify), `npm install -g` of
 * the tarball into a temporary prefix with install scripts ignored (npm 11
 * runs none unless allowed, so the prebuilt binaries must do), then, from
 * that install only: genkey, pubkey, check-config, and a tunnel server and a
 * client in tvt- namespaces whose tunnel carries a ping to the LAN host.
 * Root and /dev/net/tun needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { run } from '../../src/io/command.js';
import { stopChildren, waitForAddress, writeDemoConfigs } from '../../src/demo/run.js';
import { buildTopology, LAN_HOST_ADDRESS, type Topology } from '../../src/demo/topology.js';
import { eventually } from '../support/eventually.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACK_TIMEOUT_MS = 8 * 60_000; // a full tsc build and two node-gyp builds on a busy 2-core machine
const INSTALL_TIMEOUT_MS = 4 * 60_000;
const STEP_TIMEOUT_MS = 60_000;
const execFileAsync = promisify(execFile);

let dir: string;
let prefix: string;
let installed: string;
let tapvpn: string;
let topology: Topology | undefined;
const children: ChildProcess[] = [];

/** Every file under `folder`, relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(folder.length + 1));
}

/** Starts the installed `tapvpn <args>` in a namespace; its output is kept for the assertions. */
function startInstalled(netns: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('ip', ['netns', 'exec', netns, tapvpn, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TAPVPN_LOG_JSON: '1' } });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  children.push(child);
  return { child, output: () => text };
}

describe('the npm package, installed from its tarball', { timeout: PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS + 4 * STEP_TIMEOUT_MS }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tvt-package-'));
    prefix = join(dir, 'prefix');
    const packed = await execFileAsync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, timeout: PACK_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
    const tarball = join(dir, packed.stdout.trim().split('\n').pop()!);
    await execFileAsync('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: dir, timeout: INSTALL_TIMEOUT_MS });
    installed = join(prefix, 'lib', 'node_modules', 'tapvpn');
    tapvpn = join(prefix, 'bin', 'tapvpn');
  });

  after(async () => {
    await stopChildren(children);
    await topology?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('compiled JavaScript and prebuilt addons only: no TypeScript, tests, benches or dev dependencies', async () => {
    const files = await filesUnder(installed);
    const own = files.filter((f) => !f.startsWith('node_modules/'));
    assert.ok(own.includes('dist/src/cli/main.js'), 'the compiled CLI');
    assert.deepEqual(own.filter((f) => /\.ts$|(^|\/)(test|bench)\//.test(f)), [], 'no sources, tests or benches');
    assert.ok(own.includes('adapter/native/prebuilds/linux-x64/tapvpn_tap.glibc.node'), `the prebuilt TAP addon (files: ${own.filter((f) => f.includes('native')).join(', ')})`);
    assert.ok(own.includes('src/crypto/native/prebuilds/linux-x64/tapvpn_aead.glibc.node'), 'the prebuilt AEAD addon');
    assert.ok(own.includes('src/io/native/prebuilds/linux-x64/tapvpn_tcpinfo.glibc.node'), 'the prebuilt TCP_INFO addon (tunnel RTT in tapvpn status)');
    assert.equal(own.some((f) => f.includes('/build/')), false, 'no source build: install scripts were ignored');
    const dependencies = await readdir(join(installed, 'node_modules'));
    for (const dev of ['tsx', 'typescript', 'fast-check', 'prebuildify', 'esbuild', 'playwright-core']) assert.ok(!dependencies.includes(dev), `${dev} is not installed`);
  });

  test('genkey, pubkey and check-config from the install', { timeout: STEP_TIMEOUT_MS }, async () => {
    const key = join(dir, 'fresh.key');
    const made = await run(tapvpn, ['genkey', '--out', key]);
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    const pub = await run(tapvpn, ['pubkey', '--in', key]);
    assert.equal(pub.stdout, made.stdout, 'genkey printed the public key of the key it wrote');
    assert.match(pub.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
    // The shipped example, pointed at the fresh key (check-config refuses a missing key file).
    const example = await readFile(join(installed, 'examples', 'server.toml'), 'utf8');
    const config = join(dir, 'example-server.toml');
    await writeFile(config, example.replaceAll('/var/lib/tapvpn/server.key', key).replaceAll('/var/lib/tapvpn/', `${dir}/`));
    const checked = await run(tapvpn, ['check-config', 'server', config]);
    assert.match(checked.stdout, /valid server config/);
    const broken = await run(tapvpn, ['check-config', 'client', join(installed, 'package.json')], { allowFailure: true });
    assert.equal(broken.exitCode, 2, 'a config error exits 2');
  });

  test('a server and a client started from the install: the client takes its lease and pings the LAN host', { timeout: 3 * STEP_TIMEOUT_MS }, async () => {
    topology = await buildTopology(`tvt-p${process.pid % 1000}`, 1);
    const configs = await writeDemoConfigs(dir, topology.serverAddressFor(0), ['alice']);
    for (const [kind, file] of [['server', configs.server], ['client', configs.clients[0]!]] as const) {
      assert.match((await run(tapvpn, ['check-config', kind, file])).stdout, new RegExp(`valid ${kind} config`));
    }
    const server = startInstalled(topology.server, ['server', '--config', configs.server]);
    await eventually('the installed server to listen', () => server.output().includes('tunnel server ready'), 30_000);
    const client = startInstalled(topology.clients[0]!, ['client', '--config', configs.clients[0]!]);
    const address = await waitForAddress(topology.clients[0]!, 'tapvpn0');
    assert.match(address, /^10\.77\.0\.\d+\/24$/);
    const ping = await run('ping', ['-c', '2', '-W', '2', LAN_HOST_ADDRESS], { netns: topology.clients[0]!, allowFailure: true });
    assert.equal(ping.exitCode, 0, `ping through the tunnel: ${ping.stdout}\nserver: ${server.output()}\nclient: ${client.output()}`);
    // ip netns exec and the #! line exec in place: the child's PID is the server's node process.
    const maps = await readFile(`/proc/${server.child.pid}/maps`, 'utf8');
    const addons = [...new Set(maps.split('\n').map((line) => line.split(/\s+/)[5] ?? '').filter((path) => path.endsWith('.node')))];
    const prebuilt = ['adapter/native/prebuilds/linux-x64/tapvpn_tap.glibc.node', 'src/crypto/native/prebuilds/linux-x64/tapvpn_aead.glibc.node', 'src/io/native/prebuilds/linux-x64/tapvpn_tcpinfo.glibc.node'];
    assert.deepEqual(addons.sort(), prebuilt.map((path) => join(installed, path)).sort(), 'the server runs the installed prebuilt addons');
  });
});
