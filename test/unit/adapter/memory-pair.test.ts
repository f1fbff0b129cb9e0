/**
 * The in-memory device pair: delivery is asynchronous, ordered, batched (at
 * most batchFrames per handler call), copied at write time, bounded by the
 * queue, and every refused frame is a counted drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createMemoryPair } from '../../../adapter/memory-pair.js';
import type { CountingDevice } from '../../../adapter/device.js';

/** Collects copies of everything `device` reads, and the batch sizes. */
function collect(device: CountingDevice): { frames: number[][]; batches: number[] } {
  const seen = { frames: [] as number[][], batches: [] as number[] };
  device.onFrames((batch) => {
    seen.batches.push(batch.length);
    for (const frame of batch) seen.frames.push([...frame]);
  });
  return seen;
}

/** Waits until no more deliveries are pending (each batch takes one setImmediate turn). */
async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

test('frames written on one side arrive at the other, later, and as copies', async () => {
  const [a, b] = createMemoryPair();
  const seen = collect(b);
  const frame = new Uint8Array([1, 2, 3]);
  assert.equal(a.writeFrames([frame, new Uint8Array([4])]), 2);
  assert.deepEqual(seen.frames, [], 'never delivered inside writeFrames');
  frame[0] = 99; // the writer reuses its buffer
  await settle();
  assert.deepEqual(seen.frames, [[1, 2, 3], [4]]);
  assert.deepEqual(seen.batches, [2]);
  assert.deepEqual(b.counters, { framesRead: 2, batches: 1, framesWritten: 0, writeDrops: 0 });
  assert.deepEqual(a.counters, { framesRead: 0, batches: 0, framesWritten: 2, writeDrops: 0 });
});

test('writes in the same turn share a batch; both directions are independent', async () => {
  const [a, b] = createMemoryPair();
  const atA = collect(a);
  const atB = collect(b);
  a.writeFrames([new Uint8Array([1])]);
  a.writeFrames([new Uint8Array([2])]);
  b.writeFrames([new Uint8Array([7])]);
  await settle();
  assert.deepEqual(atB.frames, [[1], [2]]);
  assert.deepEqual(atB.batches, [2]);
  assert.deepEqual(atA.frames, [[7]]);
});

test('frames written before a handler is registered wait for it', async () => {
  const [a, b] = createMemoryPair();
  a.writeFrames([new Uint8Array([5])]);
  await settle();
  const seen = collect(b);
  await settle();
  assert.deepEqual(seen.frames, [[5]]);
});

test('a handler call carries at most batchFrames frames, like one TAP wake-up', async () => {
  const [a, b] = createMemoryPair({ batchFrames: 4 });
  const seen = collect(b);
  a.writeFrames(Array.from({ length: 10 }, (_, i) => new Uint8Array([i])));
  await settle();
  assert.deepEqual(seen.batches, [4, 4, 2]);
  assert.deepEqual(seen.frames.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('past queueFrames pending frames, writes are counted drops', async () => {
  const [a, b] = createMemoryPair({ queueFrames: 3 });
  assert.equal(a.writeFrames(Array.from({ length: 5 }, () => new Uint8Array(1))), 3);
  assert.equal(a.counters.writeDrops, 2);
  const seen = collect(b);
  await settle();
  assert.equal(seen.frames.length, 3);
  assert.equal(a.writeFrames([new Uint8Array(1)]), 1, 'room again once delivered');
});

test('runts are delivered as written, so tests can inject malformed frames', async () => {
  const [a, b] = createMemoryPair();
  const seen = collect(b);
  a.writeFrames([new Uint8Array(0), new Uint8Array(5)]);
  await settle();
  assert.deepEqual(seen.frames, [[], [0, 0, 0, 0, 0]]);
});

test('after either side closes, writes are counted drops and nothing more is delivered; close is idempotent', async () => {
  const [a, b] = createMemoryPair();
  const seen = collect(b);
  a.writeFrames([new Uint8Array([1])]);
  await b.close();
  await b.close();
  assert.equal(a.writeFrames([new Uint8Array([2])]), 0);
  assert.equal(b.writeFrames([new Uint8Array([3])]), 0);
  await settle();
  assert.deepEqual(seen.frames, [], 'the frame pending at close is not delivered');
  assert.equal(a.counters.writeDrops, 1);
  assert.equal(b.counters.writeDrops, 1);
});

test('property: any sequence of writes arrives complete, in order, byte for byte, in bounded batches', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), { maxLength: 10 }),
      fc.integer({ min: 1, max: 16 }),
      async (writes, batchFrames) => {
        const [a, b] = createMemoryPair({ batchFrames, queueFrames: 10_000 });
        const seen = collect(b);
        for (const batch of writes) assert.equal(a.writeFrames(batch), batch.length);
        await settle(writes.flat().length + 5);
        assert.deepEqual(seen.frames, writes.flat().map((frame) => [...frame]));
        assert.ok(seen.batches.every((size) => size >= 1 && size <= batchFrames));
        assert.equal(b.counters.framesRead, seen.frames.length);
      },
    ),
    { numRuns: 100 },
  );
});
