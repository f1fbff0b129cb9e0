/**
 * The real TAP device, moved into a fresh tvt- namespace: our process keeps
 * the fd while the link lives in the namespace, so the namespace's kernel is
 * the "host" on the other side of the wire. Frames are hand-crafted with fixed
 * RFC offsets (test/support/craft.ts), independent of the wire codecs.
 * Checks both directions (ARP request out, ARP reply in, the echo request that
 * follows; our echo request in, the kernel's echo reply out), batching, the
 * MAC, pausing reads (the ring holds txqueuelen frames, the kernel drops the
 * rest), the open errors, close() twice, and a device deleted under us.
 * Root and /dev/net/tun needed (scripts/test.sh enforces that).
 */
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/io/command.js';
import assert from 'node:assert/strict';
import { openTap, TapOpenError, type LinuxTap } from '../../adapter/linux-tap.js';
import { addAddress, addNeighbour, readLinkStats, setLinkUp } from '../../adapter/link.js';
import {
  arpReply, etherType, ETHERTYPE_ARP, ETHERTYPE_IPV4, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, icmpEcho,
  IP_PROTOCOL_ICMP, IP_PROTOCOL_UDP, ip, isArpRequestFor, mac, sameBytes,
} from '../support/craft.js';
import { FrameCollector } from '../support/frame-collector.js';
import { ipCommand, moveTapToNamespace, uniqueName, withNamespaces, type Namespace, type TestBed } from '../support/netns.js';

const HOST_IP = '10.99.0.1'; // the namespace's address on the TAP
const PEER_IP = '10.99.0.99'; // an address on the subnet that only we (the test) answer for
const OUR_MAC = '02:74:76:74:00:99';
const PREFIX_LENGTH = 24;
const BATCH_FRAMES = 64;

/** Opens a TAP, moves it into `ns` (IPv6 off, so no stray RS/MLD frames), addresses it and brings it up. */
async function tapInNamespace(bed: TestBed, ns: Namespace): Promise<LinuxTap> {
  await ns.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const tap = await openTap({ name: uniqueName('t'), mtu: 1400, batchFrames: BATCH_FRAMES });
  bed.defer(() => tap.close());
  await moveTapToNamespace(tap.name, ns.name);
  await addAddress(tap.name, HOST_IP, PREFIX_LENGTH, ns.name);
  await setLinkUp(tap.name, ns.name);
  return tap;
}

const isIcmp = (frame: Uint8Array, type: number): boolean =>
  etherType(frame) === ETHERTYPE_IPV4 && frame.length >= 42 && frame[23] === IP_PROTOCOL_ICMP && frame[34] === type;

test('kernel → TAP → kernel: the ARP request comes out, our reply goes in, the echo request follows to our MAC', () =>
  withNamespaces(1, async ([ns], bed) => {
    const tap = await tapInNamespace(bed, ns!);
    const frames = new FrameCollector(tap);
    const ping = ns!.exec('ping', ['-c', '1', '-W', '5', PEER_IP], { allowFailure: true });

    const request = await frames.waitFor(`the ARP request for ${PEER_IP}`, (f) => isArpRequestFor(f, ip(PEER_IP)));
    assert.equal(etherType(request), ETHERTYPE_ARP);
    assert.ok(sameBytes(request.subarray(0, 6), mac('ff:ff:ff:ff:ff:ff')), 'ARP requests are broadcast');
    assert.ok(sameBytes(request.subarray(6, 12), mac(tap.mac())), 'sent from the TAP link MAC');
    assert.ok(sameBytes(request.subarray(28, 32), ip(HOST_IP)), 'the namespace asks from its own address');
    assert.equal(tap.writeFrames([arpReply(request, mac(OUR_MAC))]), 1);

    const echo = await frames.waitFor('the ICMP echo request', (f) => isIcmp(f, ICMP_ECHO_REQUEST));
    assert.ok(sameBytes(echo.subarray(0, 6), mac(OUR_MAC)), 'the kernel used the MAC from our ARP reply');
    assert.ok(sameBytes(echo.subarray(26, 30), ip(HOST_IP)) && sameBytes(echo.subarray(30, 34), ip(PEER_IP)));
    // Answer it, so ping itself reports success: the kernel took our frame as an IP datagram.
    const reply = icmpEcho({
      dstMac: [...echo.subarray(6, 12)], srcMac: mac(OUR_MAC), src: ip(PEER_IP), dst: ip(HOST_IP), type: ICMP_ECHO_REPLY,
      id: (echo[38]! << 8) | echo[39]!, sequence: (echo[40]! << 8) | echo[41]!, data: echo.subarray(42),
    });
    assert.equal(tap.writeFrames([reply]), 1);
    const result = await ping;
    assert.equal(result.exitCode, 0, `ping got our reply: ${result.stdout}${result.stderr}`);
    assert.ok(tap.counters.framesRead >= 2 && tap.counters.batches >= 1 && tap.counters.framesWritten === 2);
  }));

test('TAP → kernel → TAP: a crafted echo request to the namespace is answered with an echo reply', () =>
  withNamespaces(1, async ([ns], bed) => {
    const tap = await tapInNamespace(bed, ns!);
    await addNeighbour(tap.name, PEER_IP, OUR_MAC, ns!.name); // the kernel replies without asking who we are
    const frames = new FrameCollector(tap);
    const data = new TextEncoder().encode('tapvpn adapter e2e ping payload');
    const request = icmpEcho({
      dstMac: mac(tap.mac()), srcMac: mac(OUR_MAC), src: ip(PEER_IP), dst: ip(HOST_IP), type: ICMP_ECHO_REQUEST, id: 0x7476, sequence: 1, data,
    });
    assert.equal(tap.writeFrames([request]), 1);

    const reply = await frames.waitFor('the ICMP echo reply', (f) => isIcmp(f, ICMP_ECHO_REPLY));
    assert.ok(sameBytes(reply.subarray(0, 6), mac(OUR_MAC)));
    assert.ok(sameBytes(reply.subarray(26, 30), ip(HOST_IP)) && sameBytes(reply.subarray(30, 34), ip(PEER_IP)));
    assert.deepEqual([...reply.subarray(38, 42)], [0x74, 0x76, 0x00, 0x01], 'identifier and sequence echoed');
    assert.deepEqual([...reply.subarray(42)], [...data], 'payload echoed');
    const stats = await readLinkStats(tap.name, ns!.name);
    assert.ok(stats.rxPackets >= 1, 'the link counted the frame we wrote');
  }));

test('frames queued while nobody reads arrive in batches of at most batchFrames', () =>
  withNamespaces(1, async ([ns], bed) => {
    const tap = await tapInNamespace(bed, ns!);
    await addNeighbour(tap.name, PEER_IP, OUR_MAC, ns!.name);
    const datagrams = 200;
    const sender = `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(${datagrams}): s.sendto(b'x' * 100, ('${PEER_IP}', 9))`;
    await ns!.exec('python3', ['-c', sender]);
    const frames = new FrameCollector(tap); // start reading only now: all 200 wait in the TAP's queue
    await frames.waitForCount(datagrams);
    assert.equal(frames.frames.filter((f) => etherType(f) === ETHERTYPE_IPV4 && f[23] === IP_PROTOCOL_UDP).length, datagrams);
    assert.equal(frames.batchSizes[0], BATCH_FRAMES, `the first wake-up reads a full batch: ${frames.batchSizes.join(',')}`);
    assert.ok(frames.batchSizes.every((size) => size <= BATCH_FRAMES));
    assert.equal(tap.counters.batches, frames.batchSizes.length);
  }));

test('while reads are paused the ring holds txqueuelen frames and the kernel drops the rest; resumed, they arrive', () =>
  withNamespaces(1, async ([ns], bed) => {
    const ringFrames = 50;
    const datagrams = 200;
    const tap = await tapInNamespace(bed, ns!);
    await ns!.exec('ip', ['link', 'set', 'dev', tap.name, 'txqueuelen', String(ringFrames)]);
    await addNeighbour(tap.name, PEER_IP, OUR_MAC, ns!.name);
    const frames = new FrameCollector(tap);
    tap.setReading(false);
    assert.equal(tap.reading, false);
    const before = await readLinkStats(tap.name, ns!.name);
    const sender = `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(${datagrams}): s.sendto(b'x' * 100, ('${PEER_IP}', 9))`;
    await ns!.exec('python3', ['-c', sender]);
    const paused = await readLinkStats(tap.name, ns!.name);
    assert.equal(frames.frames.length, 0, 'nothing is read while paused');
    assert.equal(paused.txDropped - before.txDropped, datagrams - ringFrames, 'the kernel dropped what the ring could not hold');
    tap.setReading(true);
    await frames.waitForCount(ringFrames);
    assert.equal(frames.frames.filter((f) => etherType(f) === ETHERTYPE_IPV4 && f[23] === IP_PROTOCOL_UDP).length, ringFrames);
  }));

test('the MAC read from the TAP fd is the link address the namespace sees', () =>
  withNamespaces(1, async ([ns], bed) => {
    const tap = await tapInNamespace(bed, ns!);
    const stats = await readLinkStats(tap.name, ns!.name);
    assert.equal(tap.mac(), stats.mac);
    assert.equal(stats.mtu, 1400);
  }));

test('openTap applies txQueueLength', async () => {
  const tap = await openTap({ name: uniqueName('q'), txQueueLength: 4096 });
  try {
    const [link] = JSON.parse((await ipCommand(['-j', 'link', 'show', 'dev', tap.name])).stdout) as Array<{ txqlen?: number }>;
    assert.equal(link?.txqlen, 4096);
  } finally {
    await tap.close();
  }
});

test('the kernel numbers a "%d" name', async () => {
  const pattern = `${uniqueName('k')}%d`;
  const tap = await openTap({ name: pattern });
  try {
    assert.equal(tap.name, pattern.replace('%d', '0'));
  } finally {
    await tap.close();
  }
});

test('open errors say what is wrong and what to do', async () => {
  await assert.rejects(openTap({ name: 'this-name-is-far-too-long' }), (error: unknown) => {
    assert.ok(error instanceof TapOpenError);
    assert.equal(error.code, 'BAD_NAME');
    assert.match(error.message, /at most 15 bytes/);
    return true;
  });
  const name = uniqueName('b');
  const first = await openTap({ name });
  try {
    await assert.rejects(openTap({ name }), (error: unknown) => {
      assert.ok(error instanceof TapOpenError);
      assert.equal(error.code, 'NAME_IN_USE');
      assert.equal(error.errno, 'EBUSY');
      assert.match(error.message, new RegExp(`"${name}".*another process has it open`));
      return true;
    });
  } finally {
    await first.close();
  }
});

test('without privileges, openTap says to run as root or grant CAP_NET_ADMIN', async () => {
  // The probe starts as root, so it loads the modules and the addon wherever this checkout lives
  // (a 0700 home is fine), then drops to nobody with our own dropPrivileges: setuid away from 0
  // clears every capability, as for a process that never had one.
  const module = (path: string): string => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));
  const script = `const { openTap } = await import(${module('../../adapter/linux-tap.ts')});
    const { loadTapBinding } = await import(${module('../../adapter/native-binding.ts')});
    const { dropPrivileges } = await import(${module('../../src/util/privileges.ts')});
    loadTapBinding();
    dropPrivileges(65534, 65534);
    const ids = { uid: process.geteuid(), gid: process.getegid() };
    try { await openTap({ name: 'tvt-noperm0' }); console.log(JSON.stringify({ ids, opened: true })); }
    catch (e) { console.log(JSON.stringify({ ids, code: e.code, message: e.message })); }`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeoutMs: 30_000 });
  const result = JSON.parse(stdout.trim()) as { ids: { uid: number; gid: number }; code: string; message: string };
  assert.deepEqual(result.ids, { uid: 65534, gid: 65534 }, 'the probe runs as nobody');
  assert.equal(result.code, 'PERMISSION_DENIED');
  assert.match(result.message, /permission denied — run as root or grant CAP_NET_ADMIN \(setcap cap_net_admin\+ep/);
});

test('close() is idempotent; afterwards writes are counted drops', async () => {
  const tap = await openTap({ name: uniqueName('c') });
  tap.onFrames(() => {});
  await tap.close();
  await tap.close();
  assert.equal(tap.writeFrames([new Uint8Array(60), new Uint8Array(60)]), 0);
  assert.equal(tap.counters.writeDrops, 2);
  assert.throws(() => tap.mac(), /closed/);
});

test('a runt frame is a counted drop, not an exception', async () => {
  const tap = await openTap({ name: uniqueName('r') });
  try {
    assert.equal(tap.writeFrames([new Uint8Array(3), new Uint8Array(0)]), 0);
    assert.equal(tap.counters.writeDrops, 2);
  } finally {
    await tap.close();
  }
});

test('a device deleted under us stops reading with one error, not a busy loop', () =>
  withNamespaces(1, async ([ns], bed) => {
    const tap = await tapInNamespace(bed, ns!);
    tap.onFrames(() => {});
    const errors: NodeJS.ErrnoException[] = [];
    const stopped = new Promise<void>((resolve) => tap.onError((error) => (errors.push(error), resolve())));
    await ns!.ip(['link', 'del', 'dev', tap.name]);
    await Promise.race([stopped, new Promise((_, reject) => setTimeout(() => reject(new Error('no read error reported')), 5_000))]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a spinning poll would report again
    assert.equal(errors.length, 1);
    assert.equal(tap.readError, errors[0]);
    assert.ok(errors[0]!.code, `the error names its errno: ${errors[0]!.message}`);
  }));
