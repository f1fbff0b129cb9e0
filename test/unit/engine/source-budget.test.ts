/**
 * Per-source budgets (src/engine/source-budget.ts) with injected time:
 * burst then rate, sources apart, an IPv6 /64 as one source, the special
 * sources' own budget, and the bounded table forgetting the least recently
 * used source (which comes back with a full bucket, by design).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceBudget } from '../../../src/engine/source-budget.js';

const spend = (budget: SourceBudget, source: string, times: number, nowMs: number): number => {
  let granted = 0;
  for (let i = 0; i < times; i++) if (budget.take(source, nowMs)) granted++;
  return granted;
};

test('a source gets its burst at once, then its rate; another source is not touched', () => {
  const budget = new SourceBudget({ burst: 4, rate: 2, maxSources: 16 });
  assert.equal(spend(budget, '192.0.2.1', 10, 0), 4);
  assert.equal(spend(budget, '192.0.2.1', 10, 1_000), 2, 'two a second later');
  assert.equal(spend(budget, '192.0.2.2', 10, 1_000), 4, 'a second source has its own burst');
});

test('the addresses of one IPv6 /64 share a budget; the next /64 has its own', () => {
  const budget = new SourceBudget({ burst: 3, rate: 1, maxSources: 16 });
  assert.equal(spend(budget, '2001:db8:1:2::1', 2, 0) + spend(budget, '2001:db8:1:2:ffff::9', 5, 0), 3);
  assert.equal(spend(budget, '2001:db8:1:3::1', 5, 0), 3);
  assert.equal(spend(budget, '::ffff:192.0.2.7', 2, 0) + spend(budget, '192.0.2.7', 5, 0), 3, 'an IPv4-mapped address is its IPv4 source');
});

test('special sources get their own, larger budget', () => {
  const budget = new SourceBudget({ burst: 2, rate: 1, maxSources: 16, special: { sources: ['198.51.100.9'], burst: 50, rate: 10 } });
  assert.equal(spend(budget, '198.51.100.9', 100, 0), 50);
  assert.equal(spend(budget, '198.51.100.8', 100, 0), 2);
});

test('at most maxSources buckets: the least recently used is forgotten, and comes back full', () => {
  const budget = new SourceBudget({ burst: 2, rate: 0.001, maxSources: 2 });
  spend(budget, 'a', 2, 0);
  spend(budget, 'b', 2, 0);
  spend(budget, 'a', 1, 0); // a is now the most recently used
  spend(budget, 'c', 1, 0); // evicts b
  assert.equal(budget.sources, 2);
  assert.equal(spend(budget, 'a', 1, 0), 0, 'a was kept, still empty');
  assert.equal(spend(budget, 'b', 5, 0), 2, 'b was forgotten: a full bucket again');
});
