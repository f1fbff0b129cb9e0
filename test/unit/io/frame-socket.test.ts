/**
 * FrameSocket's receive clock: the dead-peer timer must see whole frames,
 * not bytes. A frame whose length field was corrupted swallows everything
 * after it; if bytes counted as life, the peer's keepalives arriving inside
 * that never-ending frame would keep a dead tunnel up for ever.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameSocket } from '../../../src/io/frame-socket.js';
import { memoryStreamPair } from '../../../src/io/memory-stream.js';
import { encodeClose } from '../../../src/protocol/frames/close.js';
import { createServer, type Socket } from 'node:net';
import { chunksReused, type DialOutcome } from '../../../src/io/byte-stream.js';
import { dialTcp } from '../../../src/io/tcp.js';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function socketAt(clock: { now: number }) {
  const [near, far] = memoryStreamPair();
  const frames: Uint8Array[] = [];
  const socket = new FrameSocket(near, { onControl: (f) => void frames.push(f.slice()), onDecodeError: () => undefined, onClose: () => undefined }, { now: () => clock.now });
  return { socket, far, frames };
}

test('a whole frame moves the receive clock', async () => {
  const clock = { now: 1_000 };
  const { socket, far, frames } = socketAt(clock);
  clock.now = 5_000;
  far.write(encodeClose({ status: 0, reason: 'bye' }));
  await settle();
  assert.equal(frames.length, 1);
  assert.equal(socket.lastReceivedMs, 5_000);
});

test('bytes of a frame that never completes (a corrupted length) do not move the receive clock', async () => {
  const clock = { now: 1_000 };
  const { socket, far, frames } = socketAt(clock);
  const whole = encodeClose({ status: 0, reason: 'bye' });
  const inflated = Buffer.from(whole);
  inflated.writeUInt32BE(4_000, 0); // the length field now claims 4,000 bytes
  far.write(inflated);
  for (let second = 2; second <= 30; second++) {
    clock.now = second * 1_000;
    far.write(whole); // the peer's frames keep coming, all swallowed by the inflated one
    await settle();
  }
  assert.equal(frames.length, 0, 'the inflated frame is still incomplete');
  assert.ok(socket.bytesIn > whole.length * 29, 'bytes did arrive');
  assert.equal(socket.lastReceivedMs, 1_000, 'but the clock still says when the last whole frame came');
});

test('over a dialled socket that reads into one reused buffer, the control frames handed on stay intact after later reads', async () => {
  const reasons = Array.from({ length: 8 }, (_, i) => `reason ${i} `.repeat(i + 1));
  const sent = reasons.map((reason) => encodeClose({ status: 0, reason }));
  let peer: Socket | undefined;
  const server = createServer((socket) => void (peer = socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const outcome = await new Promise<DialOutcome>((resolve) => dialTcp(2_000)(`127.0.0.1:${port}`, resolve));
    assert.ok(outcome.ok);
    assert.ok(chunksReused(outcome.stream), 'the dialled socket reads into one buffer (onread)');
    const kept: Uint8Array[] = []; // kept as handed on, no copy: a machine may do the same
    const socket = new FrameSocket(outcome.stream, { onControl: (f) => void kept.push(f), onDecodeError: () => undefined, onClose: () => undefined });
    for (let i = 0; i < 100 && !peer; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const [i, frame] of sent.entries()) {
      peer!.write(frame); // one read each: the next overwrites the buffer the previous frame came in
      for (let wait = 0; wait < 200 && kept.length <= i; wait++) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.deepEqual(kept.map((f) => Buffer.from(f).toString('hex')), sent.map((f) => Buffer.from(f).toString('hex')));
    socket.destroy();
  } finally {
    peer?.destroy();
    server.close();
  }
});
