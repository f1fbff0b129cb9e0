/**
 * What a daemon that dropped its privileges looks like from outside, in
 * /proc/PID: the user's uid and gid (real, effective, saved, filesystem), no
 * supplementary group but its own, no capability in any set of the main
 * thread (the bounding set emptied too), no_new_privs, and no effective,
 * permitted or ambient capability in any thread. Root needed to read it.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { run } from '../../src/io/command.js';
import { parseCapabilityLines } from '../../src/util/privileges.js';

export interface UserIds {
  uid: number;
  gid: number;
}

/** The uid and primary gid of `user` (id -u, id -g). */
export async function idsOf(user: string): Promise<UserIds> {
  return { uid: Number((await run('id', ['-u', user])).stdout.trim()), gid: Number((await run('id', ['-g', user])).stdout.trim()) };
}

export async function assertDropped(pid: number, ids: UserIds): Promise<void> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  assert.match(status, new RegExp(`^Uid:\\s+${ids.uid}\\s+${ids.uid}\\s+${ids.uid}\\s+${ids.uid}$`, 'm'));
  assert.match(status, new RegExp(`^Gid:\\s+${ids.gid}\\s+${ids.gid}\\s+${ids.gid}\\s+${ids.gid}$`, 'm'));
  assert.match(status, new RegExp(`^Groups:\\s*${ids.gid}\\s*$`, 'm'));
  assert.deepEqual(parseCapabilityLines(status), { CapEff: 0n, CapPrm: 0n, CapAmb: 0n, CapBnd: 0n }, status);
  assert.match(status, /^NoNewPrivs:\s*1$/m);
  const threads = await readdir(`/proc/${pid}/task`);
  assert.ok(threads.length > 1, 'a Node process has helper threads');
  for (const id of threads) {
    const text = await readFile(`/proc/${pid}/task/${id}/status`, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // the thread ended meanwhile
    const caps = parseCapabilityLines(text);
    assert.deepEqual([caps.CapEff, caps.CapPrm, caps.CapAmb], [0n, 0n, 0n], `thread ${id}`);
  }
}
