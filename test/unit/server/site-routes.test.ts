/**
 * The server kernel's routes to site networks: apply() brings the kernel to
 * the configured list with the fewest commands (reload), clear() removes
 * them (stop), a failed command is reported and retried on the next apply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SiteRoutes, type RouteCommands } from '../../../src/server/site-routes.js';

function recorder(failOn?: string): { commands: RouteCommands; log: string[] } {
  const log: string[] = [];
  const change = (kind: string) => async (device: string, destination: string, prefixLength: number): Promise<void> => {
    const line = `${kind} ${destination}/${prefixLength} dev ${device}`;
    if (line === failOn) throw new Error(`\`ip route ${line}\` failed: Operation not permitted`);
    log.push(line);
  };
  return { commands: { add: change('add'), remove: change('remove') }, log };
}

test('start, reload and stop: only the differences reach the kernel', async () => {
  const { commands, log } = recorder();
  const routes = new SiteRoutes('tapvpn0', commands);
  assert.equal(await routes.apply(['10.20.0.0/24', '10.30.0.0/16']), 2);
  assert.equal(await routes.apply(['10.30.0.0/16', '10.40.0.0/24']), 2);
  assert.equal(await routes.apply(['10.30.0.0/16', '10.40.0.0/24']), 0);
  await routes.clear();
  assert.deepEqual(log, [
    'add 10.20.0.0/24 dev tapvpn0',
    'add 10.30.0.0/16 dev tapvpn0',
    'remove 10.20.0.0/24 dev tapvpn0',
    'add 10.40.0.0/24 dev tapvpn0',
    'remove 10.30.0.0/16 dev tapvpn0',
    'remove 10.40.0.0/24 dev tapvpn0',
  ]);
  assert.deepEqual(routes.installed, []);
});

test('a failed command is thrown after the others are done, and tried again next time', async () => {
  const failing = recorder('add 10.20.0.0/24 dev tapvpn0');
  const routes = new SiteRoutes('tapvpn0', failing.commands);
  await assert.rejects(routes.apply(['10.20.0.0/24', '10.30.0.0/16']), /Operation not permitted/);
  assert.deepEqual(routes.installed, ['10.30.0.0/16'], 'the other route is in');
  const working = recorder();
  const retry = new SiteRoutes('tapvpn0', working.commands);
  await retry.apply(['10.30.0.0/16']);
  await retry.apply(['10.20.0.0/24', '10.30.0.0/16']);
  assert.deepEqual(working.log, ['add 10.30.0.0/16 dev tapvpn0', 'add 10.20.0.0/24 dev tapvpn0']);
});
