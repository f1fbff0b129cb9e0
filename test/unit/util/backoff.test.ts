/** exponentialBackoff: doubling from minMs, capped at maxMs, jitter bounded, reset; all with an injected random source. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { backoffDelay, exponentialBackoff } from '../../../src/util/backoff.js';

test('without jitter the delays double from minMs and stop at maxMs; reset starts over', () => {
  const b = exponentialBackoff({ minMs: 100, maxMs: 1000, jitter: 0 });
  assert.deepEqual(Array.from({ length: 6 }, () => b.next()), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.attempts, 6);
  b.reset();
  assert.equal(b.next(), 100);
});

test('jitter spreads each delay by at most ±jitter/2 around the nominal value', () => {
  const low = exponentialBackoff({ minMs: 1000, maxMs: 60_000, jitter: 0.2, random: () => 0 });
  const high = exponentialBackoff({ minMs: 1000, maxMs: 60_000, jitter: 0.2, random: () => 0.999999 });
  assert.equal(low.next(), 900);
  assert.equal(high.next(), 1100);
  assert.equal(low.next(), 1800);
});

test('property: every delay lies in [0, maxMs] and within the jitter band of min(maxMs, minMs·2^n)', () => {
  fc.assert(
    fc.property(fc.nat(10_000), fc.nat(100_000), fc.nat(5000), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (minMs, extra, attempt, jitter, draw) => {
      const maxMs = minMs + extra;
      const delay = backoffDelay(attempt, { minMs, maxMs, jitter }, draw);
      const nominal = minMs === 0 ? 0 : attempt >= 64 ? maxMs : Math.min(maxMs, minMs * 2 ** attempt);
      assert.ok(Number.isFinite(delay) && delay >= 0 && delay <= maxMs, `${delay}`);
      assert.ok(Math.abs(delay - nominal) <= (nominal * jitter) / 2 + 1, `${delay} vs ${nominal}`);
    }),
  );
});

test('bad options are refused with what was expected', () => {
  assert.throws(() => exponentialBackoff({ minMs: 10, maxMs: 5 }), /expected 0 <= minMs <= maxMs, got minMs=10 maxMs=5/);
  assert.throws(() => exponentialBackoff({ minMs: 1, maxMs: 5, jitter: 2 }), /jitter in 0\.\.1, got 2/);
});
