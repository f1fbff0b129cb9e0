import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryPair } from '../../../adapter/memory-pair.js';

function nextBatch(device: ReturnType<typeof createMemoryPair>[0]): Promise<Uint8Array[]> {
  return new Promise((resolve) => device.onFrames((frames) => resolve(frames.map((f) => f.slice()))));
}

test('frames written on one side arrive at the other, batched and copied', async () => {
  const [a, b] = createMemoryPair();
  const received = nextBatch(b);
  const frame = new Uint8Array([1, 2, 3]);
  assert.equal(a.writeFrames([frame, new Uint8Array([4])]), 2);
  frame[0] = 99; // the writer reuses its buffer
  const batch = await received;
  assert.deepEqual(batch.map((f) => [...f]), [[1, 2, 3], [4]]);
  assert.equal(b.counters.framesRead, 2);
  assert.equal(b.counters.batchesRead, 1);
});

test('both directions are independent', async () => {
  const [a, b] = createMemoryPair();
  const atA = nextBatch(a);
  b.writeFrames([new Uint8Array([7])]);
  assert.deepEqual((await atA).map((f) => [...f]), [[7]]);
});

test('after close, writes are counted drops', async () => {
  const [a, b] = createMemoryPair();
  await b.close();
  assert.equal(a.writeFrames([new Uint8Array([1])]), 0);
  assert.equal(a.counters.writeDrops, 1);
});
