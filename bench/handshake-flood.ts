/**
 * What a handshake flood costs the server (issue 10 item 8). A ServerCore
 * (memory adapter, one configured client "alice") runs in a child process on
 * a loopback listener; this process floods it with REQUESTs from loopback
 * addresses and reads the child's CPU time from /proc:
 *
 *   junk        REQUESTs of random bytes (with the MAC fields too: a bad mac1)
 *   unknown-key well-formed Noise REQUESTs under keys the server does not
 *               know, with a valid mac1 where the protocol has one
 *
 * each from one source (127.0.0.1) and from 32 sources (127.0.1.1–32). Every
 * attack connection sends RELAY + REQUEST, waits for the first byte of the
 * answer (or the close) and hangs up; `concurrency` such connections run at
 * once. Meanwhile "alice" connects from 127.0.0.2 with the real initiator
 * (which answers a COOKIE where the protocol has one): does she get in, and
 * how long did it take? First, without sockets, the server machine's own
 * CPU per REQUEST (µs) for each kind of junk — what the carrier does not
 * blur. A script, not a test. Usage:
 *   node --import tsx bench/handshake-flood.ts [seconds per scenario] [concurrency]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createMemoryPair } from '../adapter/memory-pair.js';
import { serverConfigSchema } from '../src/config/schema.js';
import { realCrypto, TimestampGuard } from '../src/crypto/index.js';
import { encodeKey, generateKeyPair, generatePrivateKey, publicKeyOf } from '../src/crypto/keys.js';
import type { Dial } from '../src/io/byte-stream.js';
import { MachineDriver } from '../src/io/driver.js';
import { listenTcp } from '../src/io/tcp.js';
import { encodeRelay } from '../src/protocol/frames/relay.js';
import { encodeRequest, encodeRequestBody } from '../src/protocol/frames/request.js';
import { InitiatorMachine } from '../src/protocol/machines/initiator.js';
import { ServerMachine } from '../src/protocol/machines/server.js';
import { handshakePrologue } from '../src/protocol/prologue.js';
import { ServerCore } from '../src/server/core.js';
import { LeaseStore } from '../src/server/leases.js';
import { leasePoolOf } from '../src/server/policy.js';

const SELF = fileURLToPath(import.meta.url);
const CLK_TCK = 100;
const SOURCES = 32;

/** The server process: listens on 127.0.0.1 (port 0), prints the port, serves until killed. */
async function serve(dir: string): Promise<void> {
  const privateKey = new Uint8Array(Buffer.from(readFileSync(join(dir, 'server.key'), 'utf8'), 'base64'));
  const alice = readFileSync(join(dir, 'alice.pub'), 'utf8');
  const config = serverConfigSchema.parse({ private_key_file: '/unused', tunnel: { network: '10.97.0.0/24' }, clients: [{ name: 'alice', public_key: alice }] });
  const listener = await listenTcp('127.0.0.1', 0, () => undefined);
  const [device] = createMemoryPair();
  const leases = await LeaseStore.open(leasePoolOf(config), undefined);
  const server = new ServerCore({
    config, local: { privateKey, publicKey: publicKeyOf(privateKey) }, crypto: realCrypto, replayGuard: new TimestampGuard(), leases, device,
    hostMac: '02:00:00:00:00:54', connections: listener, log: pino({ level: 'silent' }),
  });
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
  console.log(JSON.stringify({ port: listener.port }));
}

/** mac1 where this tree's protocol has one (it is stamped by the crypto layer), otherwise the REQUEST as it is. */
async function mac1Stamper(serverPublicKey: Uint8Array): Promise<(frame: Uint8Array) => Uint8Array> {
  const cookie = (await import('../src/crypto/cookie.js' as string).catch(() => undefined)) as
    | { CookieGenerator: new (key: Uint8Array) => { stamp(frame: Uint8Array): void } }
    | undefined;
  if (!cookie) return (frame) => frame;
  const generator = new cookie.CookieGenerator(serverPublicKey);
  return (frame) => (generator.stamp(frame), frame);
}

interface Attempt {
  relay: Uint8Array;
  request: Uint8Array;
}

/** Well-formed REQUESTs under fresh keys the server does not know (replayed in turn: an unknown key never reaches the replay table). */
async function unknownKeyRequests(serverPublicKey: Uint8Array, destination: string, count: number): Promise<Attempt[]> {
  const stamp = await mac1Stamper(serverPublicKey);
  return Array.from({ length: count }, (_, i) => {
    const relay = encodeRelay({ origin: `flood${i}`, hops: [destination] });
    const initiator = realCrypto.createInitiator({ local: generateKeyPair(), remoteStaticPublic: serverPublicKey, prologue: handshakePrologue(relay, destination) });
    const body = encodeRequestBody({ flags: 1, initiatorName: 'alice', suites: [2], clientData: new Uint8Array(0) });
    return { relay, request: stamp(encodeRequest({ destination, handshake: initiator.writeRequest(body) })) };
  });
}

/** The same frames with everything after the destination random: junk to any server (and a bad mac1). */
function junkRequests(template: Attempt[]): Attempt[] {
  return template.map(({ relay, request }) => {
    const junk = request.slice();
    const start = 7 + junk[6]!;
    globalThis.crypto.getRandomValues(junk.subarray(start));
    return { relay, request: junk };
  });
}

/** The server machine alone: CPU µs to take one RELAY + REQUEST (a new machine each, as per connection), median of 5 rounds. */
function machineCostUs(serverKey: Uint8Array, attempts: Attempt[], rounds = 5, perRound = 400): number {
  const local = { privateKey: serverKey, publicKey: publicKeyOf(serverKey) };
  // One cookie checker for all connections, as ServerCore holds it (a tree without one ignores the option).
  const cookies = 'createCookieChecker' in realCrypto ? { cookies: realCrypto.createCookieChecker(local) } : {};
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < perRound; i++) {
      const attempt = attempts[i % attempts.length]!;
      const machine = new ServerMachine({ crypto: realCrypto, local, replayGuard: new TimestampGuard(), authorize: () => ({ ok: false, code: 5, reason: 'unknown client or wrong key' }), ...cookies });
      machine.handle({ type: 'accepted' }, 0);
      machine.handle({ type: 'frame', frame: attempt.relay }, 0);
      machine.handle({ type: 'frame', frame: attempt.request }, 0);
    }
    const used = process.cpuUsage(start);
    results.push((used.user + used.system) / perRound);
  }
  return Math.round(results.sort((a, b) => a - b)[Math.floor(rounds / 2)]!);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
}

/** Runs `concurrency` attack connections at a time for `ms`; returns how many REQUESTs were answered. */
async function flood(port: number, attempts: Attempt[], sources: string[], ms: number, concurrency: number): Promise<number> {
  const deadline = performance.now() + ms;
  let done = 0;
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const attempt = attempts[next % attempts.length]!;
      const source = sources[next++ % sources.length]!;
      const socket = connect({ host: '127.0.0.1', port, localAddress: source });
      const finish = (): void => {
        socket.destroy();
        resolve();
      };
      socket.once('connect', () => {
        socket.write(attempt.relay);
        socket.write(attempt.request);
      });
      socket.once('data', () => (done++, finish()));
      socket.once('close', finish);
      socket.once('error', finish);
    });
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done;
}

/** Alice connects from 127.0.0.2 while the flood runs: ms until authorized, or the reason she was not. */
function legitimateClient(port: number, dir: string, serverPublicKey: Uint8Array, timeoutMs: number): Promise<{ ok: boolean; ms: number; reason?: string }> {
  const privateKey = new Uint8Array(Buffer.from(readFileSync(join(dir, 'alice.key'), 'utf8'), 'base64'));
  const dial: Dial = (_address, done) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    socket.once('connect', () => done({ ok: true, stream: socket }));
    socket.once('error', (error) => done({ ok: false, reason: error.message }));
  };
  const started = performance.now();
  return new Promise((resolve) => {
    const machine = new InitiatorMachine({ crypto: realCrypto, local: { privateKey, publicKey: publicKeyOf(privateKey) }, serverPublicKey, name: 'alice', path: [`127.0.0.1:${port}`], reconnect: false });
    const timer = setTimeout(() => (driver.destroy(), resolve({ ok: false, ms: timeoutMs, reason: 'timed out' })), timeoutMs);
    const driver: MachineDriver = new MachineDriver(machine, {
      dial,
      onAuthorized: () => {
        clearTimeout(timer);
        resolve({ ok: true, ms: Math.round(performance.now() - started) });
        driver.handle({ type: 'closeRequested' });
      },
      onClose: (close) => (clearTimeout(timer), resolve({ ok: false, ms: Math.round(performance.now() - started), reason: `${close.code} ${close.reason}` })),
    });
    driver.handle({ type: 'start' });
  });
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const concurrency = Number(process.argv[3] ?? 32);
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-flood-'));
  const serverKey = generatePrivateKey();
  const aliceKey = generatePrivateKey();
  await writeFile(join(dir, 'server.key'), encodeKey(serverKey));
  await writeFile(join(dir, 'alice.key'), encodeKey(aliceKey));
  await writeFile(join(dir, 'alice.pub'), encodeKey(publicKeyOf(aliceKey)));
  const serverPublicKey = publicKeyOf(serverKey);
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const destination = `127.0.0.1:${port}`;
    const wellFormed = await unknownKeyRequests(serverPublicKey, destination, 64);
    const scenarios = { junk: junkRequests(wellFormed), 'unknown-key': wellFormed };
    console.log(JSON.stringify({ machineCpuMicrosecondsPerRequest: { junk: machineCostUs(serverKey, scenarios.junk), 'unknown-key': machineCostUs(serverKey, scenarios['unknown-key']) } }));
    const many = Array.from({ length: SOURCES }, (_, i) => `127.0.1.${i + 1}`);
    const idleCpu = cpuSeconds(child.pid!);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = cpuSeconds(child.pid!) - idleCpu;
    console.log(JSON.stringify({ idleCpuSecondsPerSecond: idle }));
    for (const [name, attempts] of Object.entries(scenarios)) {
      for (const [label, sources] of [['1 source', ['127.0.0.1']], [`${SOURCES} sources`, many]] as const) {
        const cpuBefore = cpuSeconds(child.pid!);
        const start = performance.now();
        const floodDone = flood(port, attempts, [...sources], seconds * 1000, concurrency);
        await new Promise((r) => setTimeout(r, 500));
        const alice = await legitimateClient(port, dir, serverPublicKey, seconds * 1000);
        const answered = await floodDone;
        const wall = (performance.now() - start) / 1000;
        const cpu = cpuSeconds(child.pid!) - cpuBefore;
        console.log(JSON.stringify({
          scenario: name, sources: label, seconds: +wall.toFixed(2), answered, handshakesPerSecond: Math.round(answered / wall),
          serverCpuSeconds: +cpu.toFixed(2), serverCpuShare: +(cpu / wall).toFixed(2), cpuSecondsPer1000: +((cpu / Math.max(1, answered)) * 1000).toFixed(3), alice,
        }));
        await new Promise((r) => setTimeout(r, 1500)); // let the server drain between scenarios
      }
    }
  } finally {
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
else await main();
