/**
 * The unsolicited router advertisement schedule (RFC 4861 §6.2.4, §6.2.6),
 * with the time and the random source injected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_INITIAL_RTR_ADVERT_INTERVAL_MS,
  MAX_INITIAL_RTR_ADVERTISEMENTS,
  MAX_RTR_ADV_INTERVAL_MS,
  MIN_RTR_ADV_INTERVAL_MS,
  RouterAdvertisementSchedule,
} from '../../../emulators/ra-schedule.js';

/** Runs the schedule as the responder does (send when due, report it) and returns the gaps between sends. */
function gaps(schedule: RouterAdvertisementSchedule, sends: number, startMs = 5_000): number[] {
  schedule.start(startMs);
  const result: number[] = [];
  let last = startMs;
  for (let i = 0; i < sends; i++) {
    const at = schedule.nextAtMs!;
    assert.equal(schedule.due(at - 1), false, 'not due a millisecond early');
    assert.equal(schedule.due(at), true);
    schedule.advertised(at);
    result.push(at - last);
    last = at;
  }
  return result;
}

test('RFC 4861 defaults: MinRtrAdvInterval is 0.33 × MaxRtrAdvInterval, the initial ones at most 16 s apart, three of them', () => {
  assert.equal(MAX_RTR_ADV_INTERVAL_MS, 600_000);
  assert.equal(MIN_RTR_ADV_INTERVAL_MS, Math.round(0.33 * MAX_RTR_ADV_INTERVAL_MS));
  assert.deepEqual([MAX_INITIAL_RTR_ADVERT_INTERVAL_MS, MAX_INITIAL_RTR_ADVERTISEMENTS], [16_000, 3]);
});

test('the first three come within 16 s of each other, then every [Min, Max] — for any random draws', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 10, maxLength: 10 }), (draws) => {
      let i = 0;
      const result = gaps(new RouterAdvertisementSchedule(() => draws[i++]!), 10);
      for (const gap of result.slice(0, 3)) assert.ok(gap <= MAX_INITIAL_RTR_ADVERT_INTERVAL_MS, `initial gap ${gap}`);
      for (const gap of result.slice(3)) assert.ok(gap >= MIN_RTR_ADV_INTERVAL_MS && gap < MAX_RTR_ADV_INTERVAL_MS, `gap ${gap}`);
    }),
  );
});

test('the draw picks the interval: the lowest gives Min, the highest nearly Max (capped while initial)', () => {
  assert.deepEqual(gaps(new RouterAdvertisementSchedule(() => 0), 5), [16_000, 16_000, 16_000, MIN_RTR_ADV_INTERVAL_MS, MIN_RTR_ADV_INTERVAL_MS]);
  const high = gaps(new RouterAdvertisementSchedule(() => 0.999_999), 5).slice(3);
  assert.ok(high.every((gap) => gap === MAX_RTR_ADV_INTERVAL_MS - 1), String(high));
  assert.deepEqual(gaps(new RouterAdvertisementSchedule(() => 0.5, { minMs: 4_000, maxMs: 8_000 }), 4), [6_000, 6_000, 6_000, 6_000], 'custom bounds under the initial cap');
});

test('an advertisement sent out of turn (an answered RS) restarts the wait from it (§6.2.6)', () => {
  const schedule = new RouterAdvertisementSchedule(() => 0);
  gaps(schedule, 3); // past the initial ones
  const solicitedAt = schedule.nextAtMs! - 100_000;
  schedule.advertised(solicitedAt);
  assert.equal(schedule.nextAtMs, solicitedAt + MIN_RTR_ADV_INTERVAL_MS);
});

test('stopped: never due, and a new start has the quick initial ones again; start while running changes nothing', () => {
  const schedule = new RouterAdvertisementSchedule(() => 0);
  gaps(schedule, 4);
  const next = schedule.nextAtMs;
  schedule.start(0);
  assert.equal(schedule.nextAtMs, next);
  schedule.stop();
  assert.equal(schedule.running, false);
  assert.equal(schedule.due(Number.MAX_SAFE_INTEGER), false);
  assert.deepEqual(gaps(schedule, 4, 1_000_000), [16_000, 16_000, 16_000, MIN_RTR_ADV_INTERVAL_MS]);
});
