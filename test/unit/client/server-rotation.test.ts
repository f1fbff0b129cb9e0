import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ServerRotation } from '../../../src/client/server-rotation.js';

test('in order: a failed attempt moves to the next server, wrapping around; a tunnel that was up retries the same one', () => {
  const rotation = new ServerRotation(['a', 'b', 'c'], 'in-order');
  const seen = [rotation.current];
  for (const authorized of [false, false, true, false, false]) {
    rotation.afterAttempt(authorized);
    seen.push(rotation.current);
  }
  assert.deepEqual(seen, ['a', 'b', 'c', 'c', 'a', 'b']);
});

test('one server: never moves', () => {
  const rotation = new ServerRotation(['only'], 'random', () => 0.99);
  assert.equal(rotation.afterAttempt(false), false);
  assert.equal(rotation.current, 'only');
});

test('property: random order always moves to another server after a failure, and reaches every server', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 16 }), fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 1, maxLength: 50 }), (count, draws) => {
      let i = 0;
      const rotation = new ServerRotation(Array.from({ length: count }, (_, k) => k), 'random', () => draws[i++ % draws.length]!);
      for (let step = 0; step < draws.length; step++) {
        const before = rotation.current;
        assert.equal(rotation.afterAttempt(false), true);
        assert.notEqual(rotation.current, before);
        assert.ok(rotation.current >= 0 && rotation.current < count);
      }
    }),
  );
});

test('random order reaches every server', () => {
  let seed = 12345; // a small LCG (Numerical Recipes constants): repeatable, not periodic over these steps
  const random = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const rotation = new ServerRotation([0, 1, 2, 3], 'random', random);
  const reached = new Set([rotation.current]);
  for (let step = 0; step < 12; step++) {
    rotation.afterAttempt(false);
    reached.add(rotation.current);
  }
  assert.deepEqual([...reached].sort(), [0, 1, 2, 3]);
});
