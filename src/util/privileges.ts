/**
 * dropPrivileges: after a daemon has done what needs root (opened its TAP,
 * configured it, bound its port without listening), it becomes an ordinary
 * user with no capabilities at all. Order matters:
 *
 * 1. supplementary groups, then the group (after setuid we could not);
 * 2. no_new_privs and the bounding set emptied (needs CAP_SETPCAP, so
 *    before setuid; it leaves CAP_SETUID in the effective set, which the
 *    next step needs — glibc aborts on a setuid that fails in one thread);
 * 3. setuid: glibc applies it to every thread, and the kernel empties each
 *    thread's effective, permitted and ambient sets on leaving uid 0;
 * 4. the calling thread's sets cleared explicitly (capset), for certainty.
 *
 * Capability sets, the bounding set and no_new_privs are per thread: Node's
 * helper threads that exist already (V8 platform, libuv pool) keep their
 * bounding set and no_new_privs as they were (systemd's NoNewPrivileges=
 * and CapabilityBoundingSet= cover them from the start), but step 3 empties
 * their effective and permitted sets like the main thread's. Threads and
 * children made later come from the main thread and inherit its empty sets.
 *
 * Each step is verified afterwards — the ids, and every thread's CapEff,
 * CapPrm and CapAmb in /proc/self/task/N/status — because a silent partial
 * drop is worse than a loud failure.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadTapBinding } from '../../adapter/native-binding.js';

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

/** The two native calls around setuid (adapter/native/tap.c); injectable so tests can check the order without being root. */
export interface CapabilityControl {
  /** Calling thread: no_new_privs, the bounding set emptied; false when CAP_SETPCAP was missing. */
  dropBoundingSet(): boolean;
  /** Calling thread: ambient, effective, permitted and inheritable sets emptied. */
  clearCapabilities(): void;
}

/** The capability lines of each thread's /proc status (CapEff, CapPrm, CapAmb, CapBnd), by thread id. */
export type ThreadCapabilities = Map<string, Record<'CapEff' | 'CapPrm' | 'CapAmb' | 'CapBnd', bigint>>;

export interface PrivilegeDeps {
  ids: ProcessIds;
  capabilities: CapabilityControl;
  threads: () => ThreadCapabilities;
}

function defaultDeps(): PrivilegeDeps {
  return { ids: processIds(), capabilities: loadTapBinding(), threads: readThreadCapabilities };
}

/** Reads every thread's capability sets from /proc/self/task/N/status. */
export function readThreadCapabilities(): ThreadCapabilities {
  const threads: ThreadCapabilities = new Map();
  for (const id of readdirSync('/proc/self/task')) {
    let status: string;
    try {
      status = readFileSync(`/proc/self/task/${id}/status`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    threads.set(id, parseCapabilityLines(status));
  }
  return threads;
}

/** CapEff, CapPrm, CapAmb and CapBnd of one /proc status text (hex masks). */
export function parseCapabilityLines(status: string): Record<'CapEff' | 'CapPrm' | 'CapAmb' | 'CapBnd', bigint> {
  const read = (name: string): bigint => {
    const match = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    if (!match) throw new PrivilegeError('UNSUPPORTED', `no ${name} line in /proc/self/task/N/status`);
    return BigInt(`0x${match[1]}`);
  };
  return { CapEff: read('CapEff'), CapPrm: read('CapPrm'), CapAmb: read('CapAmb'), CapBnd: read('CapBnd') };
}

/** The primary group of `user` (passwd's fourth field). */
export function primaryGroupOf(user: string | number): number {
  const key = String(user);
  try {
    const gid = Number(execFileSync('getent', ['passwd', key], { encoding: 'utf8' }).split(':')[3]);
    if (Number.isInteger(gid)) return gid;
  } catch {
    // fall through
  }
  throw new PrivilegeError('UNKNOWN_USER', `no such user "${key}" (getent passwd ${key} found nothing)`);
}

export interface Dropped {
  uid: number;
  gid: number;
  /** The main thread's bounding set was emptied (false: no CAP_SETPCAP, it stays what the service manager gave). */
  boundingSetDropped: boolean;
}

/**
 * Drops to `user` and `group` (names or numeric ids; the group defaults to
 * the user's primary group) and to no capabilities. Throws NOT_ROOT unless
 * running as root, NOT_DROPPED if an id is still 0 or any thread still holds
 * a capability afterwards.
 */
export function dropPrivileges(user: string | number, group?: string | number, deps: PrivilegeDeps = defaultDeps()): Dropped {
  const { ids } = deps;
  if (ids.geteuid() !== 0) throw new PrivilegeError('NOT_ROOT', `cannot switch to ${user}:${group ?? '(its group)'}: not running as root (euid ${ids.geteuid()})`);
  const uid = resolveId('user', user);
  const gid = group === undefined ? primaryGroupOf(user) : resolveId('group', group);
  ids.setgroups([gid]); // drop root's supplementary groups (e.g. disk, adm)
  ids.setgid(gid);
  const boundingSetDropped = deps.capabilities.dropBoundingSet();
  ids.setuid(uid);
  deps.capabilities.clearCapabilities();
  const groups = ids.getgroups();
  const ok = ids.getuid() === uid && ids.geteuid() === uid && ids.getgid() === gid && ids.getegid() === gid && groups.every((g) => g === gid);
  if (!ok || (uid !== 0 && ids.geteuid() === 0)) {
    throw new PrivilegeError('NOT_DROPPED', `privilege drop to ${uid}:${gid} did not take effect (uid ${ids.getuid()}, euid ${ids.geteuid()}, gid ${ids.getgid()}, groups ${groups.join(',')})`);
  }
  const holding = [...deps.threads()].filter(([, caps]) => caps.CapEff !== 0n || caps.CapPrm !== 0n || caps.CapAmb !== 0n);
  if (holding.length > 0) {
    const [id, caps] = holding[0]!;
    throw new PrivilegeError('NOT_DROPPED', `${holding.length} thread(s) still hold capabilities after the drop to ${uid}:${gid} (thread ${id}: CapEff ${caps.CapEff.toString(16)}, CapPrm ${caps.CapPrm.toString(16)}, CapAmb ${caps.CapAmb.toString(16)})`);
  }
  return { uid, gid, boundingSetDropped };
}
