/**
 * Relays end to end, on real TAP devices and kernel stacks in tvt-
 * namespaces:
 *
 *   c0 ─┐                            ┌─ s1 ── lan (172.31.99.10)
 *       r1 (198.18.20.1:700) ─── r2 ─┤
 *   c1 ─┘                            └─ s2
 *
 * alice (c0) reaches the LAN host through r1 → r2 → s1: ping and a checked
 * transfer. Bad RELAY frames sent with a raw socket are refused with a clear
 * log line and CLOSE, and the relay keeps serving. bob (c1) names the group
 * "pool.tvt:5555" that r2 balances over s1 and s2 by their authenticated
 * status answers: he lands on the less loaded one, and when it stops he
 * comes back through the relays on the other. A proxy in front of r2 (its
 * second name) flips a bit: the server closes with INTEGRITY_FAILURE and the
 * client reconnects. r1 runs as nobody: it binds its port (700, a
 * privileged one) as root, drops to nobody with no capability in any
 * thread, and only then listens — every tunnel above passes through it.
 * Relays and servers also route
 * IP (ip_forward), so the same clients can dial s1 directly for the
 * benchmark (TVT_RELAY_BENCH=1). Root and /dev/net/tun needed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/io/command.js';
import { HTTP_PORT, spawnTapvpn, stopChildren, waitForAddress, writeDemoConfigs } from '../../src/demo/run.js';
import { LAN_HOST_ADDRESS } from '../../src/demo/topology.js';
import { generatePrivateKey } from '../../src/crypto/keys.js';
import { writePrivateKeyFile } from '../../src/io/key-file.js';
import { CloseCode, closeCodeName } from '../../src/protocol/frames/close-codes.js';
import { parseClose } from '../../src/protocol/frames/close.js';
import { encodeRelay } from '../../src/protocol/frames/relay.js';
import { assertDropped, idsOf } from '../support/dropped.js';
import { eventually } from '../support/eventually.js';
import { startHttpServer } from '../support/http-server.js';

const P = `tvt-r${process.pid % 1000}-`;
const NS = { c0: `${P}c0`, c1: `${P}c1`, r1: `${P}r1`, r2: `${P}r2`, s1: `${P}s1`, s2: `${P}s2`, lan: `${P}lan` };
/** Below 1024: r1 binds it as root, then serves as nobody. */
const R1_PORT = 700;
const R1 = `198.18.20.1:${R1_PORT}`;
const R1_ALIAS = `198.18.21.1:${R1_PORT}`;
const R2 = '198.18.11.2:7000';
/** r2's second name, where a tampering proxy stands in front of it. */
const R2_VIA_PROXY = '198.18.11.2:7001';
const PROXY_SCRIPT = fileURLToPath(new URL('../support/tcp-proxy.ts', import.meta.url));
const S1 = '198.18.12.2:5555';
const S2 = '198.18.13.2:5555';
const GROUP = 'pool.tvt:5555';
const STATUS_PORT = 5556;
const R1_MAX_PATH = 4;
const R1_MAX_PER_SOURCE = 6;
const FIXED = { alice: '10.77.0.50', bob: '10.77.0.60' };
const TRANSFER_BYTES = 3 * 1024 * 1024;
const STEP_TIMEOUT_MS = 60_000;

interface Proc {
  child: ChildProcess;
  output: () => string;
}

const children: ChildProcess[] = [];
const created: string[] = [];
let dir: string;
let transferSha256: string;
let configs: { server: string; clients: string[] };
const procs: Record<string, Proc> = {};

function capture(child: ChildProcess): Proc {
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

function startTapvpn(netns: string, args: string[]): Proc {
  return capture(spawnTapvpn(netns, args, netns, children, true));
}

function startServer(netns: string, config: string): Proc {
  return startTapvpn(netns, ['server', '--config', config]);
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

async function pingOk(netns: string, address: string): Promise<boolean> {
  return (await run('ping', ['-c', '2', '-W', '2', address], { netns, allowFailure: true })).exitCode === 0;
}

async function fetchSha256(netns: string): Promise<string> {
  const out = join(dir, `download-${netns}`);
  await run('curl', ['-sS', '-m', '40', '-o', out, `http://${LAN_HOST_ADDRESS}:${HTTP_PORT}/payload.bin`], { netns, timeoutMs: 45_000 });
  return createHash('sha256').update(await readFile(out)).digest('hex');
}

async function addNamespace(ns: string): Promise<void> {
  await run('ip', ['netns', 'add', ns]);
  created.push(ns);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

async function link(nsA: string, addressA: string, nsB: string, addressB: string, tag: string): Promise<void> {
  await run('ip', ['-n', nsA, 'link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', nsB]);
  await run('ip', ['-n', nsA, 'addr', 'add', addressA, 'dev', `${tag}a`]);
  await run('ip', ['-n', nsB, 'addr', 'add', addressB, 'dev', `${tag}b`]);
  await run('ip', ['-n', nsA, 'link', 'set', `${tag}a`, 'up']);
  await run('ip', ['-n', nsB, 'link', 'set', `${tag}b`, 'up']);
}

async function route(ns: string, ...args: string[]): Promise<void> {
  await run('ip', ['-n', ns, 'route', 'add', ...args]);
}

async function buildNamespaces(): Promise<void> {
  for (const ns of Object.values(NS)) await addNamespace(ns);
  await link(NS.r1, '198.18.20.1/24', NS.c0, '198.18.20.2/24', 'c0');
  await link(NS.r1, '198.18.21.1/24', NS.c1, '198.18.21.2/24', 'c1');
  await link(NS.r1, '198.18.11.1/24', NS.r2, '198.18.11.2/24', 'rr');
  await link(NS.r2, '198.18.12.1/24', NS.s1, '198.18.12.2/24', 's1');
  await link(NS.r2, '198.18.13.1/24', NS.s2, '198.18.13.2/24', 's2');
  await link(NS.s1, '172.31.99.1/24', NS.lan, `${LAN_HOST_ADDRESS}/24`, 'ln');
  // Plain IP routing along the same chain, for the direct-path baseline; no client has a route to the LAN.
  await route(NS.c0, 'default', 'via', '198.18.20.1');
  await route(NS.c1, 'default', 'via', '198.18.21.1');
  await route(NS.r1, '198.18.12.0/23', 'via', '198.18.11.2');
  await route(NS.r2, '198.18.20.0/23', 'via', '198.18.11.1');
  await route(NS.s1, '198.18.0.0/16', 'via', '198.18.12.1');
  await route(NS.s2, '198.18.0.0/16', 'via', '198.18.13.1');
  await route(NS.lan, 'default', 'via', '172.31.99.1');
}

async function writeConfigs(): Promise<void> {
  configs = await writeDemoConfigs(dir, '198.18.12.2', ['alice', 'bob']);
  await writePrivateKeyFile(join(dir, 'status.key'), generatePrivateKey());
  // Fixed addresses, so a client keeps its address on whichever group member serves it.
  let server = await readFile(configs.server, 'utf8');
  for (const [name, address] of Object.entries(FIXED)) server = server.replace(new RegExp(`(name = "${name}"\\npublic_key = "[^"]+"\\n)`), `$1fixed_address = "${address}"\n`);
  // Each member answers the relays' authenticated load probes (src/io/status-exchange.ts).
  // Not loopback (the default): the relays probe from their own namespaces, the management network here.
  server += `\n[status]\nenabled = true\naddress = "0.0.0.0"\nport = ${STATUS_PORT}\nkey_file = "${join(dir, 'status.key')}"\n`;
  await writeFile(configs.server, server);
  // s2: the same service key and clients (the group is one service), its own lease file.
  await writeFile(join(dir, 'server2.toml'), server.replace(join(dir, 'leases.json'), join(dir, 'leases2.json')).replace(join(dir, 'server.sock'), join(dir, 'server2.sock')));
  await setClientPath(configs.clients[0]!, [R1, R2], S1);
  await setClientPath(configs.clients[1]!, [R1_ALIAS, R2], GROUP);
  await writeFile(join(dir, 'r1.toml'), `name = "${R1}"\naliases = ["${R1_ALIAS}"]\nuser = "nobody"\n[control]\nsocket = "${join(dir, 'r1.sock')}"\n[listen]\nport = ${R1_PORT}\n[limits]\nmax_path_length = ${R1_MAX_PATH}\nmax_connections_per_source = ${R1_MAX_PER_SOURCE}\nconnect_timeout = 2\n[next_hops]\nservers = ["${S1}"]\nrelays = ["${R2}", "${R2_VIA_PROXY}"]\n`);
  await writeFile(
    join(dir, 'r2.toml'),
    `name = "${R2}"\naliases = ["${R2_VIA_PROXY}"]\n[control]\nsocket = "${join(dir, 'r2.sock')}"\n[listen]\nport = 7000\n[limits]\nconnect_timeout = 2\n[status]\nkey_file = "${join(dir, 'status.key')}"\nprobe_interval = 0.5\nhealthy_for = 3\n` +
      `[[groups]]\nname = "${GROUP}"\nservers = [ { address = "${S1}", status_port = ${STATUS_PORT} }, { address = "${S2}", status_port = ${STATUS_PORT} } ]\n`,
  );
}

/** Rewrites a client config's path: relays, then the server (or group) name. */
async function setClientPath(file: string, relays: string[], server: string): Promise<void> {
  const [host, port] = server.split(':') as [string, string];
  let text = await readFile(file, 'utf8');
  text = text.replace(/^relays = .*\n/m, '').replace(/^address = .*$/m, `address = "${host}"`).replace(/^port = \d+$/m, `port = ${port}`);
  text = text.replace(/^(private_key_file = .*\n)/m, `$1relays = [${relays.map((r) => `"${r}"`).join(', ')}]\n`);
  await writeFile(file, text);
}

/** Sends raw bytes to a relay from inside `netns`; returns what came back before the relay closed. */
async function rawExchange(netns: string, address: string, bytes: Uint8Array, endAfter: boolean): Promise<Buffer> {
  const [host, port] = address.split(':') as [string, string];
  const script = `const s=require('net').connect(${port},'${host}');let b=[];s.on('connect',()=>{s.write(Buffer.from(process.argv[1],'hex'));${endAfter ? 's.end();' : ''}});s.on('data',d=>b.push(d));s.on('error',()=>{});s.on('close',()=>{process.stdout.write(Buffer.concat(b).toString('hex'));});setTimeout(()=>s.destroy(),8000).unref();`;
  const out = await run(process.execPath, ['-e', script, Buffer.from(bytes).toString('hex')], { netns, timeoutMs: 15_000 });
  return Buffer.from(out.stdout.trim(), 'hex');
}

function closeStatusOf(reply: Buffer): string {
  assert.ok(reply.length >= 9, `expected a CLOSE frame back, got ${reply.length} bytes`);
  return closeCodeName(parseClose(reply.subarray(0, reply.readUInt32BE(0))).status);
}

describe('relays end to end', { timeout: 12 * STEP_TIMEOUT_MS }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tapvpn-relay-e2e-'));
    await buildNamespaces();
    await writeConfigs();
    const payload = randomBytes(TRANSFER_BYTES);
    await writeFile(join(dir, 'payload.bin'), payload);
    transferSha256 = createHash('sha256').update(payload).digest('hex');
    await startHttpServer(NS.lan, LAN_HOST_ADDRESS, HTTP_PORT, dir, children);
    procs.s1 = startServer(NS.s1, configs.server);
    procs.r1 = startTapvpn(NS.r1, ['relay', '--config', join(dir, 'r1.toml')]);
    procs.r2 = startTapvpn(NS.r2, ['relay', '--config', join(dir, 'r2.toml')]);
    await eventually('s1 and the relays to listen', () => procs.s1!.output().includes('status endpoint ready') && procs.r1!.output().includes('relay ready') && procs.r2!.output().includes('relay ready'));
  });

  after(async () => {
    await stopChildren(children);
    for (const ns of created.reverse()) await run('ip', ['netns', 'del', ns], { allowFailure: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('client → relay → relay → server → LAN host: ping and a checked TCP transfer', { timeout: STEP_TIMEOUT_MS }, async () => {
    procs.alice = startTapvpn(NS.c0, ['client', '--config', configs.clients[0]!]);
    assert.equal(await waitForAddress(NS.c0, 'tapvpn0'), `${FIXED.alice}/24`);
    assert.ok(await pingOk(NS.c0, LAN_HOST_ADDRESS), 'ping the LAN host through two relays');
    assert.equal(await fetchSha256(NS.c0), transferSha256, 'the downloaded bytes are the served bytes');
    assert.match(procs.r1!.output(), /"next":"198\.18\.11\.2:7000"[^\n]*"msg":"forwarding"/);
    assert.match(procs.r2!.output(), /"next":"198\.18\.12\.2:5555"[^\n]*"msg":"forwarding"/);
  });

  test('r1 serves as nobody: no capability in any thread, an empty bounding set, no_new_privs; it listened only after the drop', { timeout: STEP_TIMEOUT_MS }, async () => {
    await assertDropped(procs.r1!.child.pid!, await idsOf('nobody'));
    const messages = procs.r1!.output().split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '');
    const dropped = messages.findIndex((msg) => msg.startsWith('dropped privileges'));
    assert.ok(dropped >= 0 && dropped < messages.indexOf('relay ready'), messages.join(' | '));
  });

  test('bad RELAY frames are refused with a reason, CLOSE, and the relay keeps serving', { timeout: STEP_TIMEOUT_MS }, async () => {
    const notOnPath = encodeRelay({ origin: 'mallory', hops: ['10.9.9.9:1', '10.9.9.8:2'] });
    const tooLong = encodeRelay({ origin: 'mallory', hops: [R1, 'a.tvt:1', 'b.tvt:1', 'c.tvt:1', S1] });
    const aliasLoop = encodeRelay({ origin: 'mallory', hops: [R1, R1_ALIAS, S1] });
    // Duplicate hops cannot be emitted: point hop 2's offset at hop 0's name.
    const dupLoop = encodeRelay({ origin: 'mallory', hops: [R1, '10.1.1.1:1', S1] });
    const view = new DataView(dupLoop.buffer, dupLoop.byteOffset);
    view.setUint16(14, view.getUint16(10)); // hopOffsets[2] = hopOffsets[0]
    const tooLarge = Buffer.from(encodeRelay({ origin: 'mallory', hops: [R1, S1] }));
    tooLarge.writeUInt32BE(5000, 0);
    const truncated = encodeRelay({ origin: 'mallory', hops: [R1, S1] }).subarray(0, 20);
    const cases: Array<[string, Uint8Array, boolean, string | undefined]> = [
      ['not-on-path', notOnPath, false, 'ROUTING_FAILURE'],
      ['path-too-long', tooLong, false, 'POLICY'],
      ['loop', aliasLoop, false, 'ROUTING_FAILURE'],
      ['loop', dupLoop, false, 'PROTOCOL_ERROR'],
      ['frame-too-large', tooLarge.subarray(0, 6), false, 'FRAME_TOO_LARGE'],
      ['truncated', truncated, true, undefined],
    ];
    for (const [reason, bytes, endAfter, status] of cases) {
      const before = count(procs.r1!.output(), `relay refused connection: ${reason}`);
      const reply = await rawExchange(NS.c0, R1, bytes, endAfter);
      if (status) assert.equal(closeStatusOf(reply), status, `${reason}: CLOSE status`);
      await eventually(`r1 to log the ${reason} refusal`, () => count(procs.r1!.output(), `relay refused connection: ${reason}`) > before, 5000);
    }
    assert.equal(procs.r1!.child.exitCode, null, 'the relay is still running');
    assert.ok(await pingOk(NS.c0, LAN_HOST_ADDRESS), 'the existing tunnel still works');
  });

  test('connections over max_connections_per_source are refused', { timeout: STEP_TIMEOUT_MS }, async () => {
    const script = `const net=require('net');const n=${R1_MAX_PER_SOURCE + 2};let closed=0;const socks=[];for(let i=0;i<n;i++){const s=net.connect(${R1_PORT},'198.18.20.1');s.on('data',()=>{closed++;});s.on('error',()=>{});socks.push(s);}setTimeout(()=>{console.log(closed);socks.forEach(s=>s.destroy());},1500);`;
    const out = await run(process.execPath, ['-e', script], { netns: NS.c0, timeoutMs: 10_000 });
    // alice's tunnel holds one slot: of the n new ones, 3 are over the limit and get a CLOSE at once.
    assert.equal(Number(out.stdout.trim()), 3);
    assert.match(procs.r1!.output(), /relay refused connection: too-many-from-source/);
    assert.ok(await pingOk(NS.c0, LAN_HOST_ADDRESS), 'alice is unaffected');
  });

  test('a server group: a new tunnel goes to the less loaded member; when it stops, the client fails over to the other', { timeout: 2 * STEP_TIMEOUT_MS }, async () => {
    procs.s2 = startServer(NS.s2, join(dir, 'server2.toml'));
    await eventually('r2 to see both members healthy', () => count(procs.r2!.output(), 'group member healthy') >= 2 && procs.s2!.output().includes('status endpoint ready'));
    await new Promise((r) => setTimeout(r, 1500)); // a probe round after alice's tunnel is counted on s1
    procs.bob = startTapvpn(NS.c1, ['client', '--config', configs.clients[1]!]);
    assert.equal(await waitForAddress(NS.c1, 'tapvpn0'), `${FIXED.bob}/24`);
    const groupLog = (): string => procs.r2!.output().split('\n').filter((line) => line.includes('group')).join('\n');
    assert.match(procs.r2!.output(), /"group":"pool\.tvt:5555","server":"198\.18\.13\.2:5555"[^\n]*group member chosen/, `s1 carries alice: bob goes to s2; r2 said:\n${groupLog()}`);
    assert.match(procs.s2!.output(), /"client":"bob"[^\n]*tunnel opened/);
    assert.ok(await pingOk(NS.c1, '10.77.0.1'), 'bob reaches his server through the group');
    await stopChildren([procs.s2!.child]);
    await eventually('bob to be authorized by s1', () => /"client":"bob"[^\n]*tunnel opened/.test(procs.s1!.output()), 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\nr2 said:\n${groupLog()}\nbob said:\n${procs.bob!.output().slice(-2000)}`);
    });
    assert.ok(await pingOk(NS.c1, '10.77.0.1'), 'bob reaches the surviving server with the same address');
    assert.equal(await waitForAddress(NS.c1, 'tapvpn0'), `${FIXED.bob}/24`);
  });

  test('a hop that flips a bit in a DATA frame: the server detects it (INTEGRITY_FAILURE), the client reconnects', { timeout: STEP_TIMEOUT_MS }, async () => {
    const proxy = spawn('ip', ['netns', 'exec', NS.r2, process.execPath, '--import', 'tsx', PROXY_SCRIPT, '198.18.11.2', '7001', '127.0.0.1', '7000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(proxy);
    let proxyOutput = '';
    proxy.stdout!.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
    await eventually('the proxy to listen', () => proxyOutput.includes('listening'));
    await stopChildren([procs.alice!.child]);
    await setClientPath(configs.clients[0]!, [R1, R2_VIA_PROXY], S1);
    procs.alice = startTapvpn(NS.c0, ['client', '--config', configs.clients[0]!]);
    await waitForAddress(NS.c0, 'tapvpn0');
    await eventually('traffic through the proxied hop', () => pingOk(NS.c0, LAN_HOST_ADDRESS));
    proxy.stdin!.write('flip\n');
    await run('ping', ['-c', '3', '-s', '400', '-W', '1', LAN_HOST_ADDRESS], { netns: NS.c0, allowFailure: true });
    await eventually('the flip to be detected', () => proxyOutput.includes('flipped') && /INTEGRITY_FAILURE/.test(procs.s1!.output()), 20_000);
    await eventually('traffic to flow again', () => pingOk(NS.c0, LAN_HOST_ADDRESS));
    await stopChildren([proxy]);
  });

  test('benchmark: throughput and latency, direct vs one and two relay hops (TVT_RELAY_BENCH=1)', { timeout: 4 * STEP_TIMEOUT_MS, skip: !process.env.TVT_RELAY_BENCH }, async () => {
    children.push(spawn('ip', ['netns', 'exec', NS.lan, 'iperf3', '-s', '-B', LAN_HOST_ADDRESS], { stdio: 'ignore' }));
    const results: string[] = [];
    for (const [label, relays] of [['direct (IP-routed through r1, r2)', []], ['1 relay (r1)', [R1]], ['2 relays (r1, r2)', [R1, R2]]] as Array<[string, string[]]>) {
      await stopChildren([procs.alice!.child]);
      await setClientPath(configs.clients[0]!, relays, S1);
      procs.alice = startTapvpn(NS.c0, ['client', '--config', configs.clients[0]!]);
      await waitForAddress(NS.c0, 'tapvpn0');
      await eventually('the tunnel to carry pings', () => pingOk(NS.c0, LAN_HOST_ADDRESS));
      const ping = (await run('ping', ['-c', '20', '-i', '0.1', '-q', LAN_HOST_ADDRESS], { netns: NS.c0 })).stdout;
      const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(ping)!;
      const mbps = async (reverse: boolean): Promise<number> => {
        const out = await run('iperf3', ['-c', LAN_HOST_ADDRESS, '-t', '5', '-J', ...(reverse ? ['-R'] : [])], { netns: NS.c0, timeoutMs: 30_000 });
        return (JSON.parse(out.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6;
      };
      const up = await mbps(false);
      const down = await mbps(true);
      results.push(`| ${label} | ${rtt[2]} | ${up.toFixed(0)} | ${down.toFixed(0)} |`);
    }
    console.log(['| path | ping RTT avg (ms) | client→LAN (Mbit/s) | LAN→client (Mbit/s) |', '| --- | --- | --- | --- |', ...results].join('\n'));
  });
});
