/**
 * `forward = true`: the client checks IPv4 forwarding and never turns it on
 * itself; off (or unreadable), it refuses with what to run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkForwarding, ForwardingError, IP_FORWARD_PATH } from '../../../src/client/forwarding.js';

test('on: nothing to say; only the sysctl file is read', async () => {
  const read: string[] = [];
  await checkForwarding(async (path) => (read.push(path), '1\n'));
  assert.deepEqual(read, [IP_FORWARD_PATH]);
});

test('off: FORWARDING_OFF naming the command that turns it on and the alternative', async () => {
  await assert.rejects(checkForwarding(async () => '0\n'), (error: unknown) => {
    assert.ok(error instanceof ForwardingError);
    assert.equal(error.code, 'FORWARDING_OFF');
    assert.match(error.message, /sysctl -w net\.ipv4\.ip_forward=1/);
    assert.match(error.message, /set forward = false/);
    return true;
  });
});

test('unreadable: FORWARDING_UNKNOWN with the reason', async () => {
  await assert.rejects(checkForwarding(async () => Promise.reject(new Error('ENOENT: no such file'))), /could not be read: ENOENT/);
});
