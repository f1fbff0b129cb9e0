/**
 * Private key files: created 0600 with O_EXCL (never chmod'ed afterwards, so
 * there is no moment at which they are readable by others, and an existing
 * key is never overwritten), and refused on read — with the chmod or chown
 * that fixes it — when group or others may read them, when another user owns
 * them, or when a directory on their path lets another user replace them
 * (as OpenSSH refuses such keys): owned by someone other than us or root, or
 * writable by group or others without the sticky bit (/tmp's 1777 is fine).
 * Reads stat the open descriptor, not the path, so the file checked is the
 * file read. The key text itself is src/crypto/keys.ts.
 */
import { constants, type Stats } from 'node:fs';
import { open, realpath, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeKey, encodeKey, KeyError } from '../crypto/keys.js';

/** Permission bits that must be clear on a private key file: group and others, any access. */
const GROUP_OTHER_BITS = 0o077;
/** A key file is 45 bytes; anything much larger is not a key file (and is not read into memory). */
const MAX_KEY_FILE_BYTES = 1024;
const ROOT_UID = 0;
const GROUP_OTHER_WRITE = 0o022;
/** S_ISVTX (not in Node's fs.constants): in a sticky directory only an entry's owner may rename or remove it. */
const STICKY_BIT = 0o1000;

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/** The owner check: the file or directory belongs to `euid` or to root. Returns the problem, or undefined. */
export function ownerProblem(info: Pick<Stats, 'uid'>, euid: number): string | undefined {
  if (info.uid === euid || info.uid === ROOT_UID) return undefined;
  return `owned by uid ${info.uid}, not by this user (uid ${euid}) or root`;
}

/** The directory check: no one but its owner may rename or replace entries (sticky bit excepted). */
export function directoryProblem(info: Pick<Stats, 'uid' | 'mode'>, euid: number): string | undefined {
  const owner = ownerProblem(info, euid);
  if (owner) return owner;
  if ((info.mode & GROUP_OTHER_WRITE) !== 0 && (info.mode & STICKY_BIT) === 0) return `writable by group or others (mode ${octal(info.mode)})`;
  return undefined;
}

const currentEuid = (): number => process.geteuid?.() ?? ROOT_UID;

/** Every directory from the key file's up to /, resolved (a symbolic link in the path is judged by its target). */
async function checkDirectories(path: string, euid: number): Promise<void> {
  let dir = await realpath(dirname(path));
  for (;;) {
    const problem = directoryProblem(await stat(dir), euid);
    if (problem) {
      const fix = problem.startsWith('owned') ? `chown ${euid} ${dir}` : `chmod go-w ${dir}`;
      throw new KeyError('INSECURE_DIRECTORY', `${path}: directory ${dir} is ${problem}, so another user could replace the key; fix with: ${fix} (or keep the key elsewhere)`);
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** Writes a new private key file with mode 0600; refuses to overwrite. */
export async function writePrivateKeyFile(path: string, privateKey: Uint8Array): Promise<void> {
  const text = `${encodeKey(privateKey)}\n`;
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new KeyError('EXISTS', `${path} already exists: not overwriting a key file (remove it first if you mean to replace the key)`);
    throw new KeyError('UNREADABLE', `${path}: cannot create the key file: ${(error as Error).message}`);
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined); // never leave a half-written key behind
    throw new KeyError('UNREADABLE', `${path}: cannot write the key file: ${(error as Error).message}`);
  }
  await handle.close();
}

/** Reads a private key file, refusing one that group or others may read, another user owns, or a directory above lets others replace. */
export async function readPrivateKeyFile(path: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (create one with: tapvpn genkey --out ' + path + ')' : code === 'ELOOP' ? ' (a symbolic link: point the config at the file itself)' : '';
    throw new KeyError('UNREADABLE', `${path}: cannot open the private key file: ${(error as Error).message}${hint}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new KeyError('NOT_A_FILE', `${path}: a private key must be a regular file`);
    if ((info.mode & GROUP_OTHER_BITS) !== 0) {
      throw new KeyError('INSECURE_MODE', `${path}: private key file is readable by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); fix with: chmod 600 ${path}`);
    }
    const euid = currentEuid();
    const owner = ownerProblem(info, euid);
    if (owner) throw new KeyError('INSECURE_OWNER', `${path}: private key file is ${owner}, who could replace the key; fix with: chown ${euid} ${path}`);
    await checkDirectories(path, euid);
    if (info.size > MAX_KEY_FILE_BYTES) throw new KeyError('BAD_KEY', `${path}: ${info.size} bytes is too large for a key file (a key is 44 characters)`);
    const text = await handle.readFile('utf8');
    return decodeKey(text, path);
  } catch (error) {
    if (error instanceof KeyError) throw error;
    throw new KeyError('UNREADABLE', `${path}: cannot read the private key file: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}
