/**
 * Adapter-only benchmark (issue 2, "Measured"): how many 1400-byte frames per
 * second Node moves through a real TAP device with our native binding, in
 * each direction, with no tunnel, crypto or TCP behind it.
 *
 *   node --import tsx bench/adapter-bench.ts [seconds-per-direction]   (root)
 *
 * Set-up: a TAP opened here and moved into namespace tvt-abench with
 * 10.201.0.1/24; a made-up peer 10.201.0.2 with a permanent neighbour entry
 * (so the kernel never ARPs and every frame is IPv4/UDP).
 * - WRITE: Node writes hand-built UDP/IPv4 frames (valid IPv4 and UDP
 *   checksums) from the peer to 10.201.0.1:9 (nobody listens: the kernel
 *   parses, looks up the socket and drops) in batches of 64, for a fixed time.
 *   The TAP's RX counter from `ip -s link` confirms what the kernel accepted.
 * - READ: a flooder in the namespace (bench/udp-flood.c, built here with cc;
 *   python3 when there is no compiler) sends UDP to the peer through the TAP; Node counts frames per second and the batch sizes per wake-up.
 * Everything is removed in finally, also on failure.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTap, type LinuxTap } from '../adapter/linux-tap.js';
import { addAddress, moveToNamespace, readLinkMac, setLinkUp } from '../adapter/link.js';
import { run } from '../src/io/command.js';
import { ipv4ToNumber, macToBytes } from '../src/wire/addr.js';
import { emitEthernetHeader, EtherType, ETHERNET_HEADER_LENGTH } from '../src/wire/ethernet.js';
import { emitIpv4Header, IpProtocol, IPV4_MIN_HEADER_LENGTH } from '../src/wire/ipv4.js';
import { emitUdpHeader, UDP_HEADER_LENGTH } from '../src/wire/udp.js';

const NAMESPACE = 'tvt-abench';
const DEVICE = 'tvt-ab0';
const LOCAL_ADDRESS = '10.201.0.1';
const PEER_ADDRESS = '10.201.0.2';
const PEER_MAC = '02:00:5e:10:be:01';
const FRAME_BYTES = 1400;
const PAYLOAD_BYTES = FRAME_BYTES - ETHERNET_HEADER_LENGTH - IPV4_MIN_HEADER_LENGTH - UDP_HEADER_LENGTH; // 1358
const WRITE_BATCH_FRAMES = 64;
const DISCARD_PORT = 9;
const DEFAULT_SECONDS = 5;
const SETTLE_MS = 300;

interface LinkStats {
  rxPackets: number;
  rxDropped: number;
  txPackets: number;
  txDropped: number;
}

async function linkStats(): Promise<LinkStats> {
  const out = await run('ip', ['-n', NAMESPACE, '-j', '-s', 'link', 'show', 'dev', DEVICE]);
  const [link] = JSON.parse(out.stdout) as Array<{ stats64: { rx: { packets: number; dropped: number }; tx: { packets: number; dropped: number } } }>;
  const s = link!.stats64;
  return { rxPackets: s.rx.packets, rxDropped: s.rx.dropped, txPackets: s.tx.packets, txDropped: s.tx.dropped };
}

/** One UDP/IPv4 frame peer → local, each with its own source port and IPv4 id (checksums differ, so each is built whole). */
function buildFrame(tapMac: string, index: number): Uint8Array {
  const frame = new Uint8Array(FRAME_BYTES);
  const source = ipv4ToNumber(PEER_ADDRESS);
  const destination = ipv4ToNumber(LOCAL_ADDRESS);
  frame.fill(0xa5, ETHERNET_HEADER_LENGTH + IPV4_MIN_HEADER_LENGTH + UDP_HEADER_LENGTH);
  emitEthernetHeader(macToBytes(tapMac), macToBytes(PEER_MAC), EtherType.IPV4, frame, 0);
  emitIpv4Header(
    { typeOfService: 0, identification: index, dontFragment: true, moreFragments: false, fragmentOffsetBytes: 0, timeToLive: 64, protocol: IpProtocol.UDP, source, destination, options: new Uint8Array(0), payload: new Uint8Array(0) },
    UDP_HEADER_LENGTH + PAYLOAD_BYTES,
    frame,
    ETHERNET_HEADER_LENGTH,
  );
  emitUdpHeader(40000 + index, DISCARD_PORT, PAYLOAD_BYTES, frame, ETHERNET_HEADER_LENGTH + IPV4_MIN_HEADER_LENGTH, source, destination);
  return frame;
}

interface Row {
  direction: string;
  frames: number;
  seconds: number;
  batch: string;
  kernel: string;
}

async function benchWrite(tap: LinuxTap, tapMac: string, seconds: number): Promise<Row> {
  const batch = Array.from({ length: WRITE_BATCH_FRAMES }, (_, i) => buildFrame(tapMac, i));
  const before = await linkStats();
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let written = 0;
  let refused = 0;
  // Synchronous batches; every 16 batches yield a turn so the loop stays a Node program, not a C one.
  while (performance.now() < deadline) {
    for (let i = 0; i < 16; i++) {
      const n = tap.writeFrames(batch);
      written += n;
      refused += batch.length - n;
    }
    await new Promise<void>((r) => setImmediate(r));
  }
  const elapsed = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const after = await linkStats();
  return {
    direction: 'write (Node → TAP → kernel)',
    frames: written,
    seconds: elapsed,
    batch: `${WRITE_BATCH_FRAMES} per writeFrames call`,
    kernel: `TAP RX +${after.rxPackets - before.rxPackets} (dropped +${after.rxDropped - before.rxDropped}); refused by write(): ${refused}`,
  };
}

async function benchRead(tap: LinuxTap, seconds: number, flooderPath: string | undefined): Promise<Row> {
  let frames = 0;
  let batches = 0;
  let maxBatch = 0;
  const histogram = new Map<string, number>();
  const bucket = (n: number): string => (n === 1 ? '1' : n <= 4 ? '2-4' : n <= 16 ? '5-16' : n <= 63 ? '17-63' : '64');
  let counting = false;
  let startMs = 0;
  let endMs = 0;
  tap.onFrames((batch) => {
    if (!counting) return;
    frames += batch.length;
    batches++;
    if (batch.length > maxBatch) maxBatch = batch.length;
    const key = bucket(batch.length);
    histogram.set(key, (histogram.get(key) ?? 0) + 1);
    endMs = performance.now();
  });
  const before = await linkStats();
  const args = [PEER_ADDRESS, String(DISCARD_PORT), String(PAYLOAD_BYTES), String(seconds)];
  const command = flooderPath ? [flooderPath, ...args] : ['python3', '-c', PYTHON_FLOODER, ...args];
  const flooder = spawn('ip', ['netns', 'exec', NAMESPACE, ...command], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sentText = '';
  flooder.stdout!.on('data', (chunk: Buffer) => (sentText += chunk.toString()));
  counting = true;
  startMs = performance.now();
  const exited = new Promise<void>((resolve) => flooder.once('exit', () => resolve()));
  await exited;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  counting = false;
  const after = await linkStats();
  const elapsed = ((endMs || performance.now()) - startMs) / 1000;
  const shares = [...histogram.entries()].map(([k, v]) => `${k}: ${((100 * v) / Math.max(1, batches)).toFixed(0)}%`).join(', ');
  return {
    direction: `read (kernel → TAP → Node), ${flooderPath ? 'C sendmmsg flooder' : 'Python flooder'}`,
    frames,
    seconds: elapsed,
    batch: `mean ${(frames / Math.max(1, batches)).toFixed(1)}, max ${maxBatch} (${shares})`,
    kernel: `flooder sent ${sentText.trim() || '?'}; TAP TX +${after.txPackets - before.txPackets}, TX dropped +${after.txDropped - before.txDropped}`,
  };
}

/** Builds bench/udp-flood.c (sendmmsg, 64 per call); undefined when no C compiler is there. */
async function buildFlooder(dir: string): Promise<string | undefined> {
  const out = join(dir, 'udp-flood');
  const source = fileURLToPath(new URL('./udp-flood.c', import.meta.url));
  const result = await run('cc', ['-O2', '-o', out, source], { allowFailure: true });
  return result.exitCode === 0 ? out : undefined;
}

/** Fallback flooder: as fast as one Python thread can (about 100k datagrams/s, below what Node reads). */
const PYTHON_FLOODER = `
import socket, sys, time
host, port, size, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b'\\x5a' * size
sent = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    for _ in range(256):
        try:
            s.sendto(payload, (host, port)); sent += 1
        except OSError:
            pass
print(sent)
`;

function table(rows: Row[]): string {
  const lines = ['| direction | frames | seconds | frames/s | Mbit/s (1400-byte frames) | batch size | kernel counters |', '|---|---:|---:|---:|---:|---|---|'];
  for (const r of rows) {
    const fps = r.frames / r.seconds;
    lines.push(`| ${r.direction} | ${r.frames} | ${r.seconds.toFixed(2)} | ${Math.round(fps).toLocaleString('en')} | ${((fps * FRAME_BYTES * 8) / 1e6).toFixed(0)} | ${r.batch} | ${r.kernel} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces and /dev/net/tun)');
  const seconds = Number(process.argv[2] ?? DEFAULT_SECONDS);
  let tap: LinuxTap | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'tvt-abench-'));
  await run('ip', ['netns', 'del', NAMESPACE], { allowFailure: true });
  try {
    await run('ip', ['netns', 'add', NAMESPACE]);
    await run('ip', ['netns', 'exec', NAMESPACE, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    tap = await openTap({ name: DEVICE, mtu: 1500 });
    await moveToNamespace(DEVICE, NAMESPACE);
    await addAddress(DEVICE, LOCAL_ADDRESS, 24, NAMESPACE);
    await setLinkUp(DEVICE, NAMESPACE);
    await run('ip', ['-n', NAMESPACE, 'neigh', 'replace', PEER_ADDRESS, 'lladdr', PEER_MAC, 'dev', DEVICE, 'nud', 'permanent']);
    const tapMac = await readLinkMac(DEVICE, NAMESPACE);
    const flooderPath = await buildFlooder(dir);
    const rows = [await benchWrite(tap, tapMac, seconds), await benchRead(tap, seconds, flooderPath)];
    const kernel = (await run('uname', ['-r'])).stdout.trim();
    console.log(`\n## TAP adapter benchmark — ${new Date().toISOString().slice(0, 10)}, Linux ${kernel}, Node ${process.version}\n`);
    console.log(table(rows));
  } finally {
    await tap?.close();
    await run('ip', ['netns', 'del', NAMESPACE], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`adapter-bench: ${error.message}`);
  process.exitCode = 1;
});
