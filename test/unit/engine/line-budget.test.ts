/**
 * The log-line budget (src/engine/line-budget.ts) with injected time: a
 * burst of lines, then the rate; what is held back is counted and reported
 * by the next line let through, and only once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineBudget } from '../../../src/engine/line-budget.js';

test('lets a burst through, holds the rest back, and the next line says how many were held', () => {
  const budget = new LineBudget(2, 3);
  assert.deepEqual([0, 0, 0].map(() => budget.admit(0)), [0, 0, 0], 'the burst, nothing held back yet');
  assert.deepEqual([0, 0, 0, 0, 0].map(() => budget.admit(0)), [undefined, undefined, undefined, undefined, undefined]);
  assert.equal(budget.admit(500), 5, 'half a second later one line, saying five were held back');
  assert.equal(budget.admit(500), undefined);
  assert.equal(budget.admit(1_000), 1, 'the count restarts after each line');
  assert.equal(budget.admit(2_000), 0);
});
