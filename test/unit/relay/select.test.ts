/**
 * Group selection (src/relay/select.ts): healthy members first by estimated
 * load, ties to the least recently chosen, members down or silent last; and
 * a fast-check property that the order is always a permutation with no
 * healthy member behind an unhealthy one and loads non-decreasing among the
 * healthy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { estimatedTunnels, isHealthy, newMemberState, orderCandidates, type MemberState } from '../../../src/relay/select.js';

const POLICY = { healthyForMs: 3000, failureHoldMs: 4000 };
const NOW = 100_000;

function member(address: string, fields: Partial<MemberState> = {}): MemberState {
  return { ...newMemberState(address, true), lastAnswerMs: NOW - 500, ...fields };
}
const order = (members: MemberState[]): string[] => orderCandidates(members, NOW, POLICY).map((m) => m.address);

describe('group selection', () => {
  it('prefers the member with the fewest tunnels', () => {
    assert.deepEqual(order([member('a:1', { reportedTunnels: 3 }), member('b:1', { reportedTunnels: 1 }), member('c:1', { reportedTunnels: 2 })]), ['b:1', 'c:1', 'a:1']);
  });

  it('counts tunnels sent since the last answer', () => {
    const a = member('a:1', { reportedTunnels: 1, sentSinceAnswer: 2 });
    assert.equal(estimatedTunnels(a), 3);
    assert.deepEqual(order([a, member('b:1', { reportedTunnels: 2 })]), ['b:1', 'a:1']);
  });

  it('breaks ties by least recently chosen, then config order', () => {
    assert.deepEqual(order([member('a:1', { lastChosenMs: NOW - 10 }), member('b:1', { lastChosenMs: NOW - 20 })]), ['b:1', 'a:1']);
    assert.deepEqual(order([member('a:1'), member('b:1')]), ['a:1', 'b:1']);
  });

  it('puts a member that stopped answering after every healthy one, even an idle one', () => {
    const silent = member('a:1', { lastAnswerMs: NOW - 3000 });
    assert.equal(isHealthy(silent, NOW, POLICY), false);
    assert.deepEqual(order([silent, member('b:1', { reportedTunnels: 50 })]), ['b:1', 'a:1']);
  });

  it('never-answered probed members are unhealthy; unprobed ones are healthy until a connect fails', () => {
    assert.equal(isHealthy(member('a:1', { lastAnswerMs: undefined }), NOW, POLICY), false);
    const unprobed = newMemberState('b:1', false);
    assert.equal(isHealthy(unprobed, NOW, POLICY), true);
    unprobed.lastConnectFailureMs = NOW - 1000;
    assert.equal(isHealthy(unprobed, NOW, POLICY), false);
    assert.equal(isHealthy(unprobed, NOW + POLICY.failureHoldMs, POLICY), true, 'tried again after the hold');
  });

  it('a connect failure holds a member down until a newer status answer', () => {
    const a = member('a:1', { lastConnectFailureMs: NOW - 100, lastAnswerMs: NOW - 200 });
    assert.equal(isHealthy(a, NOW, POLICY), false);
    a.lastAnswerMs = NOW - 50;
    assert.equal(isHealthy(a, NOW, POLICY), true);
  });

  it('property: a permutation, healthy first, loads non-decreasing among the healthy', () => {
    const arbMember = fc.record({
      probed: fc.boolean(),
      answerAge: fc.option(fc.integer({ min: 0, max: 10_000 })),
      failureAge: fc.option(fc.integer({ min: 0, max: 10_000 })),
      reportedTunnels: fc.nat(100),
      sentSinceAnswer: fc.nat(10),
      lastChosenMs: fc.integer({ min: 0, max: NOW }),
    });
    fc.assert(
      fc.property(fc.array(arbMember, { maxLength: 12 }), (specs) => {
        const members = specs.map((s, i) => ({
          ...newMemberState(`m${i}:1`, s.probed),
          lastAnswerMs: s.answerAge === null ? undefined : NOW - s.answerAge,
          lastConnectFailureMs: s.failureAge === null ? undefined : NOW - s.failureAge,
          reportedTunnels: s.reportedTunnels,
          sentSinceAnswer: s.sentSinceAnswer,
          lastChosenMs: s.lastChosenMs,
        }));
        const ordered = orderCandidates(members, NOW, POLICY);
        assert.deepEqual(new Set(ordered), new Set(members));
        assert.equal(ordered.length, members.length);
        const health = ordered.map((m) => isHealthy(m, NOW, POLICY));
        assert.ok(health.indexOf(false) < 0 || health.lastIndexOf(true) < health.indexOf(false), 'healthy before unhealthy');
        const healthyLoads = ordered.filter((_, i) => health[i]).map(estimatedTunnels);
        for (let i = 1; i < healthyLoads.length; i++) assert.ok(healthyLoads[i - 1]! <= healthyLoads[i]!);
      }),
    );
  });
});
