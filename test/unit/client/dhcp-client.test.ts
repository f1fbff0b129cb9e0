import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { dhcpClientArgs, udhcpcHookPath } from '../../../src/client/dhcp-client.js';

const optionsAfter = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

test('udhcpc asks for options 121 and 249, runs in the foreground, releases on exit and uses our RFC 3442 hook', () => {
  const args = dhcpClientArgs('udhcpc', 'tap9', '/run/x');
  const asked = optionsAfter(args, '-O');
  assert.ok(asked.includes('staticroutes') && asked.includes('msstaticroutes'), `asked: ${asked.join(' ')}`);
  assert.ok(args.includes('-f') && args.includes('-R'));
  assert.deepEqual(optionsAfter(args, '-i'), ['tap9']);
  assert.deepEqual(optionsAfter(args, '-s'), [udhcpcHookPath()]);
  assert.ok(existsSync(udhcpcHookPath()) && (statSync(udhcpcHookPath()).mode & 0o111) !== 0, 'the hook exists and is executable');
});

test('dhcpcd asks for both classless route options, IPv4 only, in the foreground', () => {
  const args = dhcpClientArgs('dhcpcd', 'tap9', '/run/x');
  const asked = optionsAfter(args, '-o');
  assert.ok(asked.includes('classless_static_routes') && asked.includes('ms_classless_static_routes'));
  assert.ok(args.includes('-B') && args.includes('-4'));
  assert.equal(args.at(-1), 'tap9');
});

test('dhclient keeps its config, PID file and leases in the run folder (dhclient -r finds it there)', () => {
  const args = dhcpClientArgs('dhclient', 'tap9', '/run/x');
  assert.deepEqual(optionsAfter(args, '-cf'), ['/run/x/dhclient.conf']);
  assert.deepEqual(optionsAfter(args, '-pf'), ['/run/x/dhclient.pid']);
  assert.deepEqual(optionsAfter(args, '-lf'), ['/run/x/dhclient.leases']);
  assert.ok(args.includes('-d'));
});
