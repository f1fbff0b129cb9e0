/**
 * reconnectBackoff (decorrelated jitter): every delay in [minMs, min(maxMs,
 * 3 · previous)], the ends of the range reachable, reset back to a first
 * draw, bad options refused, and a crowd of clients spread out rather than
 * in lockstep — all with injected random sources.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decorrelatedDelay, reconnectBackoff } from '../../../src/util/backoff.js';
import { seeded } from '../../support/seeded.js';


test('the lowest draw always gives minMs; the highest grows ×3 per attempt up to maxMs', () => {
  const low = reconnectBackoff({ minMs: 1000, maxMs: 60_000, random: () => 0 });
  assert.deepEqual(Array.from({ length: 4 }, () => low.next()), [1000, 1000, 1000, 1000]);
  const high = reconnectBackoff({ minMs: 1000, maxMs: 60_000, random: () => 0.999_999_999 });
  assert.deepEqual(Array.from({ length: 6 }, () => high.next()), [3000, 9000, 27_000, 60_000, 60_000, 60_000]);
  assert.equal(high.attempts, 6);
});

test('the first delay is already spread over [minMs, 3·minMs] (a crowd does not return together)', () => {
  assert.equal(decorrelatedDelay(undefined, { minMs: 1000, maxMs: 60_000 }, 0.5), 2000);
  assert.equal(decorrelatedDelay(undefined, { minMs: 1000, maxMs: 1500 }, 0.999_999), 1500, 'capped below 3·minMs');
});

test('reset: after a success the next delay is a first one again', () => {
  const b = reconnectBackoff({ minMs: 100, maxMs: 10_000, random: () => 0.999_999 });
  b.next();
  b.next();
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 300);
});

test('property: every delay is an integer in [minMs, min(maxMs, 3·max(minMs, previous))]', () => {
  fc.assert(
    fc.property(fc.nat(10_000), fc.nat(1_000_000), fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 40 }), (minMs, extra, draws) => {
      const maxMs = minMs + extra;
      let i = 0;
      const b = reconnectBackoff({ minMs, maxMs, random: () => draws[i++ % draws.length]! });
      let previous = minMs;
      for (let n = 0; n < draws.length; n++) {
        const delay = b.next();
        assert.ok(Number.isInteger(delay), `${delay}`);
        assert.ok(delay >= minMs && delay <= Math.min(maxMs, 3 * Math.max(minMs, previous)), `${delay} after ${previous} in [${minMs}, ${maxMs}]`);
        previous = delay;
      }
    }),
  );
});

test('a crowd of 1000 clients cut off together spreads out on every attempt, also at the cap', () => {
  const random = seeded(42);
  const clients = Array.from({ length: 1000 }, () => reconnectBackoff({ minMs: 1000, maxMs: 60_000, random }));
  for (let attempt = 0; attempt < 12; attempt++) {
    const delays = clients.map((c) => c.next());
    const distinct = new Set(delays).size;
    // Uniform draws over a range of >= 2000 integers: hundreds of distinct values; lockstep would be 1.
    assert.ok(distinct > 300, `attempt ${attempt}: only ${distinct} distinct delays`);
    const atCap = delays.filter((d) => d === 60_000).length;
    assert.ok(atCap < 50, `attempt ${attempt}: ${atCap} clients at exactly the cap`);
  }
});

test('options it cannot honour are refused with the values', () => {
  assert.throws(() => reconnectBackoff({ minMs: 10, maxMs: 5 }), /0 <= minMs <= maxMs \(finite\), got minMs=10 maxMs=5/);
  assert.throws(() => reconnectBackoff({ minMs: -1, maxMs: 5 }), RangeError);
  assert.throws(() => reconnectBackoff({ minMs: Number.NaN, maxMs: 5 }), RangeError);
  assert.throws(() => reconnectBackoff({ minMs: 0, maxMs: Number.POSITIVE_INFINITY }), RangeError);
});

test('fractional config seconds (1.1 s × 1000 = 1100.0000000000002 ms) give whole milliseconds', () => {
  const b = reconnectBackoff({ minMs: 1.1 * 1000, maxMs: 2.3 * 1000, random: () => 0 });
  assert.equal(b.next(), 1100);
  const high = reconnectBackoff({ minMs: 1.1 * 1000, maxMs: 2.3 * 1000, random: () => 0.999_999 });
  assert.equal(high.next(), 2300);
});
