/**
 * dropPrivileges: after a daemon has done what needs root (opened its TAP,
 * bound its port), it becomes an ordinary user. Order matters: supplementary
 * groups and the group first, the user last (after setuid we could no longer
 * change groups). Each step is verified afterwards, because a silent
 * partial drop is worse than a loud failure.
 */
import { execFileSync } from 'node:child_process';

export class PrivilegeError extends Error {
  override readonly name = 'PrivilegeError';
  constructor(
    readonly code: 'NOT_ROOT' | 'UNKNOWN_USER' | 'UNKNOWN_GROUP' | 'NOT_DROPPED' | 'UNSUPPORTED',
    message: string,
  ) {
    super(message);
  }
}

/** The process APIs used; injectable so tests can check the order without being root. */
export interface ProcessIds {
  getuid(): number;
  geteuid(): number;
  getgid(): number;
  getegid(): number;
  getgroups(): number[];
  setgroups(groups: Array<number | string>): void;
  setgid(id: number | string): void;
  setuid(id: number | string): void;
}

function processIds(): ProcessIds {
  const p = process;
  if (!p.setuid || !p.setgid || !p.setgroups || !p.getuid || !p.geteuid || !p.getgid || !p.getegid || !p.getgroups) {
    throw new PrivilegeError('UNSUPPORTED', 'dropping privileges needs POSIX process ids (not available on this platform)');
  }
  return p as unknown as ProcessIds;
}

/** Resolves a user or group name to its id with `id`/`getent`, so the check afterwards compares numbers. */
export function resolveId(kind: 'user' | 'group', name: string | number): number {
  if (typeof name === 'number' || /^\d+$/.test(name)) return Number(name);
  try {
    const out = execFileSync('getent', [kind === 'user' ? 'passwd' : 'group', name], { encoding: 'utf8' });
    const id = Number(out.split(':')[2]);
    if (Number.isInteger(id)) return id;
  } catch {
    // fall through to the error below
  }
  throw new PrivilegeError(kind === 'user' ? 'UNKNOWN_USER' : 'UNKNOWN_GROUP', `no such ${kind} "${name}" (getent ${kind === 'user' ? 'passwd' : 'group'} ${name} found nothing)`);
}

/**
 * Drops to `user` and `group` (names or numeric ids). Throws NOT_ROOT unless
 * running as root, NOT_DROPPED if any id is still 0 afterwards.
 */
export function dropPrivileges(user: string | number, group: string | number, ids: ProcessIds = processIds()): { uid: number; gid: number } {
  if (ids.geteuid() !== 0) throw new PrivilegeError('NOT_ROOT', `cannot switch to ${user}:${group}: not running as root (euid ${ids.geteuid()})`);
  const uid = resolveId('user', user);
  const gid = resolveId('group', group);
  ids.setgroups([gid]); // drop root's supplementary groups (e.g. disk, adm)
  ids.setgid(gid);
  ids.setuid(uid);
  const groups = ids.getgroups();
  const ok = ids.getuid() === uid && ids.geteuid() === uid && ids.getgid() === gid && ids.getegid() === gid && groups.every((g) => g === gid);
  if (!ok || (uid !== 0 && ids.geteuid() === 0)) {
    throw new PrivilegeError('NOT_DROPPED', `privilege drop to ${uid}:${gid} did not take effect (uid ${ids.getuid()}, euid ${ids.geteuid()}, gid ${ids.getgid()}, groups ${groups.join(',')})`);
  }
  return { uid, gid };
}
