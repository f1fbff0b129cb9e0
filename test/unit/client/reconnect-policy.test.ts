import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReconnectPolicy, type ClosedConnection } from '../../../src/client/reconnect-policy.js';
import { CloseCode } from '../../../src/protocol/frames/close-codes.js';

const policy = (servers = 1): ReconnectPolicy => new ReconnectPolicy({ name: 'alice', publicKey: 'PUB=', servers, refusalsToProve: 3 });
const refusal: ClosedConnection = { code: CloseCode.AUTHENTICATION_FAILURE, reason: 'REQUEST did not decrypt', by: 'peer', wasAuthorized: false };

test('every transient fault is retried, with words that do not blame the key', () => {
  const p = policy();
  const cases: ClosedConnection[] = [
    { code: CloseCode.ROUTING_FAILURE, reason: 'connection lost: ECONNRESET', by: 'network', wasAuthorized: true },
    { code: CloseCode.INTEGRITY_FAILURE, reason: 'DATA digest mismatch', by: 'local', wasAuthorized: true },
    { code: CloseCode.PROTOCOL_ERROR, reason: 'bad frame', by: 'local', wasAuthorized: false },
    { code: CloseCode.TIMEOUT, reason: 'no RESPONSE within 10000 ms', by: 'local', wasAuthorized: false },
    { code: CloseCode.SHUTTING_DOWN, reason: 'server stopping', by: 'peer', wasAuthorized: true },
    { code: CloseCode.POLICY, reason: 'replaced by a newer tunnel', by: 'peer', wasAuthorized: true }, // after authorization: a forged or a replacing CLOSE
    { code: CloseCode.NORMAL, reason: 'bye', by: 'peer', wasAuthorized: true },
  ];
  for (const close of cases) {
    const verdict = p.onClose(close);
    assert.equal(verdict.kind, 'retry', JSON.stringify(close));
    assert.match(verdict.message, /reconnecting/);
    assert.doesNotMatch(verdict.message, /key/i);
  }
  assert.match(p.onClose(cases[0]!).message, /the adapter keeps its address/);
});

test('BUSY (a handshake budget spent, a server under load) is retried however often it comes, and says so', () => {
  const p = policy();
  for (let i = 0; i < 10; i++) {
    const verdict = p.onClose({ code: CloseCode.BUSY, reason: 'unauthenticated CLOSE BUSY: busy', by: 'network', wasAuthorized: false });
    assert.equal(verdict.kind, 'retry');
    assert.match(verdict.message, /the server is busy .* reconnecting/);
  }
  assert.equal(p.onClose(refusal).message.includes('1 of 3'), true, 'BUSY counted no strike');
});

test('a sealed REPLACED names the likely cause (one key on two devices) and the hold-off; a forged one reads as the path failing', () => {
  const p = policy();
  const sealed = p.onClose({ code: CloseCode.REPLACED, reason: 'replaced by a newer connection of the same client', by: 'peer', wasAuthorized: true });
  assert.equal(sealed.kind, 'retry');
  assert.match(sealed.message, /same key .* give each device its own key; reconnecting in 30 s/);
  const forged = p.onClose({ code: CloseCode.REPLACED, reason: 'unauthenticated CLOSE REPLACED', by: 'network', wasAuthorized: true });
  assert.equal(forged.kind, 'retry');
  assert.doesNotMatch(forged.message, /30 s/);
});

test('an unauthenticated refusal (a flipped handshake byte, a forged CLOSE) is retried, and counted', () => {
  const p = policy();
  const verdict = p.onClose(refusal);
  assert.equal(verdict.kind, 'retry');
  assert.match(verdict.message, /not trusted yet .* corrupted or forged .* reconnecting \(1 of 3 before giving up\)/);
});

test('the same refusal several times in a row proves a configuration fault: exit, saying what to fix', () => {
  const p = policy();
  assert.equal(p.onClose(refusal).kind, 'retry');
  assert.equal(p.onClose(refusal).kind, 'retry');
  const verdict = p.onClose(refusal);
  assert.equal(verdict.kind, 'exit');
  assert.match(verdict.message, /refused 3 times in a row/);
  assert.match(verdict.message, /name = "alice" with public_key = "PUB="/);
  assert.match(verdict.message, /server\.public_key here must be the server's key/);
});

test('once a tunnel has been up, no number of unauthenticated refusals ends the client (issue 10: forged CLOSEs)', () => {
  const p = policy();
  p.onClose(refusal);
  p.onClose(refusal);
  p.authorized();
  for (let i = 0; i < 1000; i++) {
    const verdict = p.onClose(i % 2 ? refusal : { ...refusal, code: CloseCode.POLICY, reason: 'forged' });
    assert.equal(verdict.kind, 'retry', `attempt ${i}`);
    assert.match(verdict.message, /keeps trying/);
  }
  const authenticated = p.onClose({ ...refusal, code: CloseCode.POLICY, reason: 'client "alice" is disabled', authenticated: true });
  assert.equal(authenticated.kind, 'exit', 'an authenticated refusal still ends it: the operator disabled the client');
});

test('with failover each server gets its share of refusals before the client gives up', () => {
  const two = policy(2);
  for (let i = 0; i < 5; i++) assert.equal(two.onClose(refusal).kind, 'retry');
  assert.equal(two.onClose(refusal).kind, 'exit');
});

test('an authenticated refusal exits at once: a disabled client is told to enable it', () => {
  const verdict = policy().onClose({ code: CloseCode.POLICY, reason: 'client "alice" is disabled', by: 'peer', wasAuthorized: false, authenticated: true });
  assert.equal(verdict.kind, 'exit');
  assert.match(verdict.message, /the server refused us .*enabled = true/);
});
