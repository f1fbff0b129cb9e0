/**
 * dropPrivileges: the order of the calls and the verification, with fake
 * process ids; and, when the test runs as root, a real drop to nobody in a
 * child process (the test process itself keeps its ids).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { dropPrivileges, parseCapabilityLines, PrivilegeError, type PrivilegeDeps, type ProcessIds, type ThreadCapabilities } from '../../../src/util/privileges.js';

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

const NONE = { CapEff: 0n, CapPrm: 0n, CapAmb: 0n, CapBnd: 0n };

/** Fake ids and capability calls sharing one call log; `threads` is what /proc would show afterwards. */
function fakeDeps(opts: { ignoreSetuid?: boolean; threads?: ThreadCapabilities } = {}): PrivilegeDeps & { calls: string[] } {
  const ids = fakeIds(opts);
  return {
    calls: ids.calls,
    ids,
    capabilities: {
      dropBoundingSet: () => (ids.calls.push('no_new_privs, bounding set emptied'), true),
      clearCapabilities: () => void ids.calls.push('capset: all sets emptied'),
    },
    threads: () => opts.threads ?? new Map([['1', NONE], ['2', NONE]]),
  };
}

test('groups first, then the group, the bounding set while CAP_SETPCAP and CAP_SETUID are still there, the user, the rest; verified afterwards', () => {
  const deps = fakeDeps();
  assert.deepEqual(dropPrivileges(1000, 1001, deps), { uid: 1000, gid: 1001, boundingSetDropped: true });
  assert.deepEqual(deps.calls, ['setgroups 1001', 'setgid 1001', 'no_new_privs, bounding set emptied', 'setuid 1000', 'capset: all sets emptied']);
});

test('a drop that did not take effect is an error, not a silent success', () => {
  assert.throws(() => dropPrivileges(1000, 1000, fakeDeps({ ignoreSetuid: true })), (e: unknown) => e instanceof PrivilegeError && e.code === 'NOT_DROPPED');
});

test('a thread that still holds a capability afterwards is an error naming it', () => {
  const threads: ThreadCapabilities = new Map([['1', NONE], ['7', { ...NONE, CapEff: 1n << 12n, CapPrm: 1n << 12n }]]);
  assert.throws(() => dropPrivileges(1000, 1000, fakeDeps({ threads })), (e: unknown) => e instanceof PrivilegeError && e.code === 'NOT_DROPPED' && /thread 7: CapEff 1000/.test(e.message));
});

test('refuses when not root, and names an unknown user', () => {
  const deps = fakeDeps();
  deps.ids.setuid(5);
  assert.throws(() => dropPrivileges(1, 1, deps), (e: unknown) => e instanceof PrivilegeError && e.code === 'NOT_ROOT');
  assert.throws(() => dropPrivileges('no-such-user-tvt', 0, fakeDeps()), /no such user "no-such-user-tvt"/);
  assert.throws(() => dropPrivileges('no-such-user-tvt', undefined, fakeDeps()), /no such user "no-such-user-tvt"/);
});

test('the capability lines of a /proc status', () => {
  const status = 'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000001000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n';
  assert.deepEqual(parseCapabilityLines(status), { CapEff: 0x1000n, CapPrm: 0x1ffffffffffn, CapAmb: 0n, CapBnd: 0x1ffffffffffn });
});

test('as root: a child process really becomes nobody, with no capability in any thread', { skip: process.geteuid?.() !== 0 ? 'needs root' : false }, () => {
  const module = fileURLToPath(new URL('../../../src/util/privileges.ts', import.meta.url));
  // A file read first starts libuv's pool threads, so there are helper threads whose sets the drop must empty too.
  const script = `import { readFileSync } from 'node:fs'; import { readFile } from 'node:fs/promises'; import { dropPrivileges } from ${JSON.stringify(module)};
    await readFile('/proc/self/status');
    const r = dropPrivileges('nobody');
    const tasks = readFileSync('/proc/self/status', 'utf8');
    const threads = (await import('node:fs')).readdirSync('/proc/self/task').map((id) => readFileSync('/proc/self/task/' + id + '/status', 'utf8').split('\\n').filter((l) => /^(Cap|Uid|Gid|NoNewPrivs)/.test(l)).join(' '));
    console.log(JSON.stringify({ r, uid: process.getuid(), euid: process.geteuid(), groups: process.getgroups(), main: tasks, threads }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' }));
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
  assert.equal(out.uid, nobody);
  assert.equal(out.euid, nobody);
  assert.deepEqual(out.groups, [out.r.gid]);
  assert.equal(out.r.gid, Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })), 'nobody\'s primary group');
  const main = parseCapabilityLines(out.main);
  assert.deepEqual(main, { CapEff: 0n, CapPrm: 0n, CapAmb: 0n, CapBnd: 0n }, 'the main thread: no capability, and none to gain');
  assert.match(out.main, /NoNewPrivs:\s*1/);
  assert.ok(out.threads.length > 1, `helper threads exist: ${out.threads.length}`);
  for (const thread of out.threads as string[]) {
    assert.match(thread, /CapEff:\s*0{16}/, thread);
    assert.match(thread, /CapPrm:\s*0{16}/, thread);
    assert.match(thread, /CapAmb:\s*0{16}/, thread);
  }
});
