/**
 * Adapter benchmark: frames/s and Mbit/s through a real TAP device, in Node,
 * with 1400-byte frames. Root and /dev/net/tun needed. A script, not a test:
 *   node --import tsx bench/adapter-bench.ts [seconds-per-run]
 *
 * Method. A TAP (batchFrames 64) is moved into a fresh tvt- namespace with
 * 10.98.0.1/24, IPv6 off, and a permanent neighbour entry 10.98.0.2 → our
 * MAC (so no ARP traffic).
 * - write: we write prebuilt 1400-byte UDP frames (10.98.0.2 → 10.98.0.1:9)
 *   in batches of N, one writeFrames call per event-loop turn (setImmediate),
 *   for the run time. The link's rx counters (`ip -s link`) must grow by
 *   exactly the frames we report written; the namespace's UDP NoPorts count
 *   shows the kernel took them through IP into UDP.
 * - read: a flooder inside the namespace (`ip netns exec`) sends 1358-byte
 *   UDP payloads (1400-byte frames) to 10.98.0.2 as fast as it can for the
 *   run time: bench/udp-flood.c (sendmmsg, 64 per call, built here with cc),
 *   or a python3 loop when there is no compiler (about 100k/s, then the
 *   sender is the limit). We count the 1400-byte frames read. The TAP's
 *   tx_dropped shows frames the kernel dropped because its queue was full
 *   (we were slower than the sender); mean batch near 64 means we were busy.
 *   Run with the default txqueuelen (1000: the size of tun's frame ring) and
 *   with 8192, which absorbs the gaps when the reader is not scheduled.
 * The figures depend on the machine's load: run it on a quiet machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/io/command.js';
import { openTap, type LinuxTap } from '../adapter/linux-tap.js';
import { addAddress, addNeighbour, readLinkStats, setLinkUp } from '../adapter/link.js';
import { udpFrame, ip, mac, etherType, ETHERTYPE_IPV4 } from '../test/support/craft.js';
import { moveTapToNamespace, uniqueName, withNamespaces, type Namespace } from '../test/support/netns.js';

const FRAME_BYTES = 1400;
const BATCH_FRAMES = 64;
const RUN_SECONDS = Number(process.argv[2] ?? 3);
const HOST_IP = '10.98.0.1';
const OUR_IP = '10.98.0.2';
const OUR_MAC = '02:74:76:74:00:42';
const DISCARD_PORT = 9;
/** The TAP default (1000), then a deeper ring that rides out the reader's scheduling gaps. */
const READ_TX_QUEUE_LENS = [1000, 8192];

interface Row {
  what: string;
  frames: number;
  seconds: number;
  meanBatch: number;
  cpuPercent: number;
  note: string;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function udpNoPorts(ns: Namespace): Promise<number> {
  const lines = (await ns.exec('cat', ['/proc/net/snmp'])).stdout.split('\n').filter((line) => line.startsWith('Udp:'));
  const [names, values] = lines.map((line) => line.trim().split(/\s+/));
  return Number(values?.[names?.indexOf('NoPorts') ?? -1] ?? NaN);
}

async function benchWrite(tap: LinuxTap, ns: Namespace, batchFrames: number): Promise<Row> {
  const batch = Array.from({ length: batchFrames }, (_, i) =>
    udpFrame({ dstMac: mac(tap.mac()), srcMac: mac(OUR_MAC), src: ip(OUR_IP), dst: ip(HOST_IP), srcPort: 40000 + i, dstPort: DISCARD_PORT, frameLength: FRAME_BYTES }),
  );
  const before = await readLinkStats(tap.name, ns.name);
  const noPortsBefore = await udpNoPorts(ns);
  const { framesWritten: written0, writeDrops: drops0 } = tap.counters;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + RUN_SECONDS * 1000;
  while (performance.now() < deadline) {
    tap.writeFrames(batch);
    await nextTurn();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const frames = tap.counters.framesWritten - written0;
  const after = await readLinkStats(tap.name, ns.name);
  const rx = after.rxPackets - before.rxPackets;
  const noPorts = (await udpNoPorts(ns)) - noPortsBefore;
  return {
    what: `write, batch ${batchFrames}`,
    frames,
    seconds,
    meanBatch: batchFrames,
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    note: `link rx +${rx}${rx === frames ? ' (= written)' : ' (≠ written!)'}, UDP NoPorts +${noPorts}, drops ${tap.counters.writeDrops - drops0}`,
  };
}

const PAYLOAD_BYTES = FRAME_BYTES - 14 - 20 - 8; // Ethernet, IPv4, UDP headers

/** Fallback flooder, same arguments as udp-flood.c. */
const PYTHON_FLOODER = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b'\\x00' * int(sys.argv[3])
dest = (sys.argv[1], int(sys.argv[2]))
end = time.monotonic() + float(sys.argv[4])
sent = 0
while time.monotonic() < end:
    for _ in range(256):
        s.sendto(payload, dest)
    sent += 256
print(sent)
`;

/** Builds bench/udp-flood.c; undefined when there is no C compiler. */
async function buildFlooder(dir: string): Promise<string | undefined> {
  const out = join(dir, 'udp-flood');
  const source = fileURLToPath(new URL('./udp-flood.c', import.meta.url));
  const result = await run('cc', ['-O2', '-o', out, source], { allowFailure: true });
  return result.exitCode === 0 ? out : undefined;
}

async function benchRead(tap: LinuxTap, ns: Namespace, flooder: string | undefined, txQueueLen: number): Promise<Row> {
  await ns.ip(['link', 'set', 'dev', tap.name, 'txqueuelen', String(txQueueLen)]); // tun resizes its frame ring to this
  let frames = 0;
  let first = 0;
  let last = 0;
  const batches0 = tap.counters.batches;
  const read0 = tap.counters.framesRead;
  tap.onFrames((batch) => {
    const now = performance.now();
    if (frames === 0) first = now;
    last = now;
    for (const frame of batch) if (frame.length === FRAME_BYTES && etherType(frame) === ETHERTYPE_IPV4) frames++;
  });
  const before = await readLinkStats(tap.name, ns.name);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const args = [OUR_IP, String(DISCARD_PORT), String(PAYLOAD_BYTES), String(RUN_SECONDS)];
  const [program, argv] = flooder ? [flooder, args] : ['python3', ['-c', PYTHON_FLOODER, ...args]];
  const sent = Number((await ns.exec(program, argv, { timeoutMs: (RUN_SECONDS + 10) * 1000 })).stdout.trim());
  for (let i = 0; i < 100 && performance.now() - last < 200; i++) await new Promise((resolve) => setTimeout(resolve, 10)); // drain
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (performance.now() - wall0) / 1000;
  const after = await readLinkStats(tap.name, ns.name);
  const batches = tap.counters.batches - batches0;
  tap.onFrames(() => {});
  return {
    what: `read, ${flooder ? 'C sendmmsg' : 'python3'} flooder, txqueuelen ${txQueueLen}`,
    frames,
    seconds: (last - first) / 1000,
    meanBatch: batches > 0 ? (tap.counters.framesRead - read0) / batches : 0,
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / wallSeconds) * 100,
    note: `sender sent ${sent}, link tx +${after.txPackets - before.txPackets}, tx_dropped +${after.txDropped - before.txDropped}, ${batches} batches`,
  };
}

function table(rows: Row[]): string {
  const lines = [
    `| direction | frames | seconds | frames/s | Mbit/s (${FRAME_BYTES}-byte frames) | mean batch | Node CPU % | notes |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const rate = row.frames / row.seconds;
    lines.push(
      `| ${row.what} | ${row.frames} | ${row.seconds.toFixed(2)} | ${Math.round(rate)} | ${((rate * FRAME_BYTES * 8) / 1e6).toFixed(0)} | ${row.meanBatch.toFixed(1)} | ${row.cpuPercent.toFixed(0)} | ${row.note} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces and /dev/net/tun)');
  const rows = await withNamespaces(1, async ([ns], bed) => {
    const dir = await mkdtemp(join(tmpdir(), 'tvt-abench-'));
    bed.defer(() => rm(dir, { recursive: true, force: true }));
    await ns!.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    const tap = await openTap({ name: uniqueName('b'), batchFrames: BATCH_FRAMES });
    bed.defer(() => tap.close());
    await moveTapToNamespace(tap.name, ns!.name);
    await addAddress(tap.name, HOST_IP, 24, ns!.name);
    await setLinkUp(tap.name, ns!.name);
    await addNeighbour(tap.name, OUR_IP, OUR_MAC, ns!.name);
    const results: Row[] = [];
    for (const batchFrames of [1, 16, BATCH_FRAMES]) results.push(await benchWrite(tap, ns!, batchFrames));
    const flooder = await buildFlooder(dir);
    for (const txQueueLen of READ_TX_QUEUE_LENS) results.push(await benchRead(tap, ns!, flooder, txQueueLen));
    return results;
  });
  const kernel = (await run('uname', ['-r'])).stdout.trim();
  console.log(`## TAP adapter benchmark — Linux ${kernel}, Node ${process.version}, ${RUN_SECONDS} s per run, ${FRAME_BYTES}-byte frames\n`);
  console.log(table(rows));
}

main().catch((error: Error) => {
  console.error(`adapter-bench: ${error.message}`);
  process.exitCode = 1;
});
