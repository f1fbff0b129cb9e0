/**
 * How the tunnel server scales with clients: handshakes per second it
 * sustains, and memory per connected idle client. A real `tapvpn server`
 * (with its TAP) runs in a tvt- namespace; simulated clients — real
 * InitiatorMachines with the real crypto over real TCP, but no TAP each —
 * connect to it over that namespace's loopback from a second process.
 * A script, not a test. Usage (root): node --import tsx bench/server-scale.ts [clients] [concurrency]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realCrypto } from '../src/crypto/index.js';
import { run } from '../src/io/command.js';
import { MachineDriver } from '../src/io/driver.js';
import { dialTcp } from '../src/io/tcp.js';
import { encodeKey, generatePrivateKey, publicKeyOf } from '../src/crypto/keys.js';
import { writePrivateKeyFile } from '../src/io/key-file.js';
import { InitiatorMachine } from '../src/protocol/machines/initiator.js';
import { stopChildren } from '../src/demo/run.js';

const SELF = fileURLToPath(import.meta.url);
const BIN = fileURLToPath(new URL('../bin/tapvpn.js', import.meta.url));
const PORT = 5555;

function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** Child mode: connect `clients` initiators (at most `concurrency` handshaking at once), report, then idle until killed. */
async function simulate(dir: string, clients: number, concurrency: number): Promise<void> {
  const serverPublicKey = new Uint8Array(Buffer.from(readFileSync(join(dir, 'server.pub'), 'utf8').trim(), 'base64'));
  const keys = readFileSync(join(dir, 'clients.keys'), 'utf8').trim().split('\n');
  let next = 0;
  let authorized = 0;
  const links: MachineDriver[] = [];
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const launch = (): void => {
      const i = next++;
      if (i >= clients) return;
      const privateKey = new Uint8Array(Buffer.from(keys[i]!, 'base64'));
      const machine = new InitiatorMachine({ crypto: realCrypto, local: { privateKey, publicKey: publicKeyOf(privateKey) }, serverPublicKey, name: `c${i}`, path: [`127.0.0.1:${PORT}`], reconnect: false });
      const link = new MachineDriver(machine, {
        dial: dialTcp(),
        onAuthorized: () => {
          authorized++;
          if (authorized === clients) resolve();
          else launch();
        },
        onClose: (close) => reject(new Error(`client c${i} closed: ${close.code} ${close.reason}`)),
      });
      links.push(link);
      link.handle({ type: 'start' });
    };
    for (let k = 0; k < concurrency; k++) launch();
  });
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ authorized, seconds }));
  setInterval(() => links.forEach((link) => link.tick()), 1000); // keepalives, as idle clients send
}

async function main(): Promise<void> {
  const clients = Number(process.argv[2] ?? 500);
  const concurrency = Number(process.argv[3] ?? 32);
  const netns = `tvt-scale${process.pid % 10000}`;
  const dir = await mkdtemp(join(tmpdir(), 'tapvpn-scale-'));
  const children: ChildProcess[] = [];
  await run('ip', ['netns', 'add', netns]);
  try {
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const serverKey = generatePrivateKey();
    await writePrivateKeyFile(join(dir, 'server.key'), serverKey);
    await writeFile(join(dir, 'server.pub'), encodeKey(publicKeyOf(serverKey)));
    const clientKeys = Array.from({ length: clients }, () => generatePrivateKey());
    await writeFile(join(dir, 'clients.keys'), clientKeys.map(encodeKey).join('\n'));
    const entries = clientKeys.map((key, i) => `[[clients]]\nname = "c${i}"\npublic_key = "${encodeKey(publicKeyOf(key))}"\n`).join('\n');
    await writeFile(
      join(dir, 'server.toml'),
      `private_key_file = "${join(dir, 'server.key')}"\nlease_file = "${join(dir, 'leases.json')}"\nlog_level = "warn"\n[listen]\naddress = "127.0.0.1"\nport = ${PORT}\n[adapter]\nname = "tvtscale0"\n[tunnel]\nnetwork = "10.64.0.0/16"\n\n${entries}`,
    );
    const server = spawn('ip', ['netns', 'exec', netns, process.execPath, BIN, 'server', '--config', join(dir, 'server.toml')], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(server);
    await new Promise((r) => setTimeout(r, 2500));
    const serverPid = server.pid!; // `ip netns exec` execs node in place: same pid
    const before = rssKiB(serverPid);
    const sim = spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', SELF, '--simulate', dir, String(clients), String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(sim);
    const report = await new Promise<{ authorized: number; seconds: number }>((resolve, reject) => {
      sim.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
      sim.once('exit', (code) => reject(new Error(`simulator exited ${code}`)));
    });
    await new Promise((r) => setTimeout(r, 3000)); // idle: keepalives only
    const after = rssKiB(serverPid);
    console.log(`| clients | concurrency | handshakes/s (server, real crypto over TCP) | server RSS before → after | RSS per idle client |`);
    console.log(`|---:|---:|---:|---:|---:|`);
    console.log(`| ${report.authorized} | ${concurrency} | ${Math.round(report.authorized / report.seconds)} | ${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MiB | ${((after - before) / report.authorized).toFixed(1)} KiB |`);
  } finally {
    await stopChildren(children);
    await run('ip', ['netns', 'del', netns], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--simulate') await simulate(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
else await main();
