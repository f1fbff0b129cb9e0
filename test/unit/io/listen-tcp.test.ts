/**
 * listenTcp accepts through the addon and wraps each connection in a
 * net.Socket that reads into the process's one shared read buffer. What
 * could break: connections overwriting each other's bytes in that buffer,
 * the peer's address, and a listener that keeps accepting after close().
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { chunksReused, type ByteStream, type Peer } from '../../../src/io/byte-stream.js';
import { FrameSocket } from '../../../src/io/frame-socket.js';
import { listenTcp } from '../../../src/io/tcp.js';
import { parseClose, encodeClose } from '../../../src/protocol/frames/close.js';

const FRAMES_PER_CLIENT = 300;

/** Frame i of client c: 18–100 bytes, under the CLOSE reason's limit (MAX_REASON_LENGTH). */
const reason = (c: number, i: number): string => `client ${c} frame ${i} `.repeat(1 + (i % 5)).trimEnd();

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

test('connections read through one shared buffer each get exactly their own frames, intact and in order', async () => {
  const received = new Map<number, string[]>();
  const accepted: { stream: ByteStream; peer: Peer }[] = [];
  const listener = await listenTcp('127.0.0.1', 0, (error) => assert.fail(error));
  listener.onConnection((stream, peer) => {
    accepted.push({ stream, peer });
    const reasons: string[] = [];
    received.set(peer.port, reasons);
    new FrameSocket(stream, { onControl: (frame) => void reasons.push(parseClose(frame).reason), onDecodeError: (error) => assert.fail(error), onClose: () => undefined });
  });
  const clients = await Promise.all([dial(listener.port), dial(listener.port), dial(listener.port)]);
  try {
    // Every client writes its frames cut at odd places, all at once: reads of the three sockets interleave.
    await Promise.all(
      clients.map(async (client, c) => {
        const stream = Buffer.concat(Array.from({ length: FRAMES_PER_CLIENT }, (_, i) => encodeClose({ status: 0, reason: reason(c, i) })));
        for (let at = 0; at < stream.length; at += 997) {
          client.write(stream.subarray(at, at + 997));
          if (at % (997 * 16) === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    for (let wait = 0; wait < 200 && [...received.values()].reduce((n, r) => n + r.length, 0) < 3 * FRAMES_PER_CLIENT; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(accepted.length, 3);
    for (const { stream } of accepted) assert.ok(chunksReused(stream), 'an accepted stream is marked: its chunks are overwritten by the next read');
    clients.forEach((client, c) => {
      const reasons = received.get(client.localPort!);
      assert.ok(reasons, `client ${c}'s connection was accepted with its own port as the peer's`);
      assert.deepEqual(reasons, Array.from({ length: FRAMES_PER_CLIENT }, (_, i) => reason(c, i)));
    });
    for (const { peer } of accepted) assert.equal(peer.address, '127.0.0.1');
  } finally {
    for (const client of clients) client.destroy();
    for (const { stream } of accepted) stream.destroy();
    await listener.close();
  }
});

test('after close() nothing is accepted: the port refuses connections', async () => {
  const listener = await listenTcp('127.0.0.1', 0, () => undefined);
  let accepted = 0;
  listener.onConnection((stream) => (accepted++, stream.destroy()));
  (await dial(listener.port)).destroy();
  await listener.close();
  await assert.rejects(dial(listener.port), /ECONNREFUSED/);
  assert.equal(accepted, 1);
});

test('out of descriptors (EMFILE), the listener says so once, pauses, and accepts again once descriptors are free', { timeout: 30_000 }, async () => {
  const tcp = new URL('../../../src/io/tcp.ts', import.meta.url).href;
  // A child with at most 64 descriptors: it holds every connection it accepts until told to let them go.
  const script = `
    import { listenTcp } from ${JSON.stringify(tcp)};
    const held = [];
    const listener = await listenTcp('127.0.0.1', 0, (error) => console.log('error ' + error.code));
    listener.onConnection((stream) => { held.push(stream); console.log('accepted ' + held.length); });
    process.stdin.on('data', () => { for (const s of held.splice(0)) s.destroy(); console.log('released'); });
    console.log('port ' + listener.port);
  `;
  const child = spawn('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" --import tsx --input-type=module -e "$0"`, script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  const waitFor = async (pattern: RegExp, from = 0): Promise<RegExpMatchArray> => {
    for (let i = 0; i < 200; i++) {
      const match = pattern.exec(output.slice(from));
      if (match) return match;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`child never printed ${pattern}: ${output}`);
  };
  const clients: Socket[] = [];
  try {
    const port = Number((await waitFor(/port (\d+)/))[1]);
    for (let i = 0; i < 80; i++) clients.push(await dial(port)); // the kernel completes them all; the child runs out of descriptors
    await waitFor(/error EMFILE/);
    const acceptedBefore = Math.max(...[...output.matchAll(/accepted (\d+)/g)].map((m) => Number(m[1])));
    assert.ok(acceptedBefore < 80, `the child took ${acceptedBefore} of 80 with 64 descriptors`);
    await new Promise((resolve) => setTimeout(resolve, 500)); // several 100 ms retries, all still out of descriptors
    assert.equal(output.match(/error EMFILE/g)?.length, 1, 'a lasting EMFILE is reported once, not at every retry');
    const released = output.length;
    child.stdin!.write('release\n');
    await waitFor(/released/, released);
    // The connections left in the backlog are taken once the pause is over (the count restarts at 1): the listener did not give up.
    await waitFor(new RegExp(`accepted ${Math.min(80 - acceptedBefore, 20)}\\b`), output.indexOf('released', released));
    assert.equal(child.exitCode, null, 'the child is still running');
  } finally {
    for (const client of clients) client.destroy();
    child.kill();
  }
});
