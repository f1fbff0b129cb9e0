/** Polls `check` every 200 ms until it holds; fails the test with `what` after `timeoutMs` (every wait in an e2e test is bounded). */
import assert from 'node:assert/strict';

const POLL_MS = 200;

export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  assert.fail(`timed out after ${timeoutMs / 1000} s waiting for: ${what}`);
}
