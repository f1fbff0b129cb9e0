import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { AdapterLockedError, lockAdapter } from '../../../src/client/adapter-lock.js';

test('a second lock on the same adapter is refused, naming the holder by PID and client name; released, it is free again', async () => {
  const adapter = `tvt-${randomBytes(3).toString('hex')}`;
  const first = await lockAdapter(adapter, 'alice');
  try {
    await assert.rejects(lockAdapter(adapter, 'bob'), (error: unknown) => {
      assert.ok(error instanceof AdapterLockedError);
      assert.match(error.message, new RegExp(`PID ${process.pid}, client "alice"`));
      assert.match(error.message, new RegExp(`adapter "${adapter}"`));
      return true;
    });
    const other = await lockAdapter(`${adapter}x`, 'bob'); // another adapter is another lock
    await other.release();
  } finally {
    await first.release();
  }
  const again = await lockAdapter(adapter, 'bob');
  await again.release();
});
