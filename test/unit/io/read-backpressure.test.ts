/**
 * ReadBackpressure over a real loopback TCP connection whose far end does not
 * read: reads pause once the socket holds more than the threshold in user
 * space, stay paused while it is behind, and resume when it drains (the far
 * end reads) or closes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { ReadBackpressure } from '../../../src/io/read-backpressure.js';
import { eventually } from '../../support/eventually.js';

const CHUNK = Buffer.alloc(64 * 1024);
const THRESHOLD_BYTES = 256 * 1024;

class FakeDevice {
  readonly calls: boolean[] = [];
  setReading(on: boolean): void {
    this.calls.push(on);
  }
}

async function pair(): Promise<{ server: Server; near: Socket; far: Socket }> {
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const near = connect({ host: '127.0.0.1', port });
  await once(near, 'connect');
  const [far] = await accepted;
  return { server, near, far };
}

/** Writes until more than `bytes` wait in user space (the far end reads nothing, so the kernel buffers fill first). */
async function fillBeyond(socket: Socket, bytes: number): Promise<void> {
  await eventually('the socket to hold more than the threshold in user space', () => {
    for (let i = 0; i < 16 && socket.writableLength <= bytes; i++) socket.write(CHUNK);
    return socket.writableLength > bytes;
  });
}

test('pauses once the socket is behind, only once, and resumes when it drains', async () => {
  const { server, near, far } = await pair();
  try {
    const device = new FakeDevice();
    const backpressure = new ReadBackpressure(device, THRESHOLD_BYTES);
    backpressure.check(near);
    assert.deepEqual(device.calls, [], 'an empty socket does not pause');
    await fillBeyond(near, THRESHOLD_BYTES);
    backpressure.check(near);
    backpressure.check(near);
    assert.deepEqual(device.calls, [false], 'paused once');
    assert.equal(backpressure.paused, true);
    far.resume(); // the far end reads: the socket drains
    await eventually('reads to resume after the drain', () => !backpressure.paused);
    assert.deepEqual(device.calls, [false, true]);
    assert.equal(backpressure.pauses, 1);
  } finally {
    near.destroy();
    far.destroy();
    server.close();
  }
});

test('a socket that closes while behind resumes reads', async () => {
  const { server, near, far } = await pair();
  try {
    const device = new FakeDevice();
    const backpressure = new ReadBackpressure(device, THRESHOLD_BYTES);
    await fillBeyond(near, THRESHOLD_BYTES);
    backpressure.check(near);
    assert.deepEqual(device.calls, [false]);
    near.destroy();
    await eventually('reads to resume after the close', () => !backpressure.paused);
    assert.deepEqual(device.calls, [false, true]);
  } finally {
    far.destroy();
    server.close();
  }
});
