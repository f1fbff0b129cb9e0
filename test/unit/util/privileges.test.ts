/**
 * dropPrivileges: the order of the calls and the verification, with fake
 * process ids; and, when the test runs as root, a real drop to nobody in a
 * child process (the test process itself keeps its ids).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { dropPrivileges, PrivilegeError, type ProcessIds } from '../../../src/util/privileges.js';

function fakeIds(opts: { ignoreSetuid?: boolean } = {}): ProcessIds & { calls: string[] } {
  const state = { uid: 0, gid: 0, groups: [0, 4] };
  const calls: string[] = [];
  return {
    calls,
    getuid: () => state.uid,
    geteuid: () => state.uid,
    getgid: () => state.gid,
    getegid: () => state.gid,
    getgroups: () => state.groups,
    setgroups: (g) => (calls.push(`setgroups ${g.join(',')}`), (state.groups = g.map(Number))),
    setgid: (id) => (calls.push(`setgid ${id}`), (state.gid = Number(id))),
    setuid: (id) => {
      calls.push(`setuid ${id}`);
      if (!opts.ignoreSetuid) state.uid = Number(id);
    },
  };
}

test('groups first, then the group, then the user; verified afterwards', () => {
  const ids = fakeIds();
  assert.deepEqual(dropPrivileges(1000, 1001, ids), { uid: 1000, gid: 1001 });
  assert.deepEqual(ids.calls, ['setgroups 1001', 'setgid 1001', 'setuid 1000']);
});

test('a drop that did not take effect is an error, not a silent success', () => {
  assert.throws(() => dropPrivileges(1000, 1000, fakeIds({ ignoreSetuid: true })), (e: unknown) => e instanceof PrivilegeError && e.code === 'NOT_DROPPED');
});

test('refuses when not root, and names an unknown user', () => {
  const ids = fakeIds();
  ids.setuid(5);
  assert.throws(() => dropPrivileges(1, 1, ids), (e: unknown) => e instanceof PrivilegeError && e.code === 'NOT_ROOT');
  assert.throws(() => dropPrivileges('no-such-user-tvt', 0, fakeIds()), /no such user "no-such-user-tvt"/);
});

test('as root: a child process really becomes nobody', { skip: process.geteuid?.() !== 0 ? 'needs root' : false }, () => {
  const module = fileURLToPath(new URL('../../../src/util/privileges.ts', import.meta.url));
  const group = execFileSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).trim();
  const script = `import { dropPrivileges } from ${JSON.stringify(module)}; const r = dropPrivileges('nobody', ${JSON.stringify(group)}); console.log(JSON.stringify({ r, uid: process.getuid(), euid: process.geteuid(), groups: process.getgroups() }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }));
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
  assert.equal(out.uid, nobody);
  assert.equal(out.euid, nobody);
  assert.deepEqual(out.groups, [out.r.gid]);
});
