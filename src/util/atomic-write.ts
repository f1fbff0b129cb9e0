/**
 * writeFileAtomic: replaces a file so that a reader (or a restart after a
 * crash or power loss) sees either the old contents or the new, never a
 * mix or an empty file. The steps are the classic ones: write a temporary
 * file in the same directory (rename is only atomic within one file
 * system), fsync it (the data is on disk before the name points at it),
 * rename it over the target, fsync the directory (the rename itself is
 * durable). On failure the temporary file is removed and the target is
 * untouched.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Mode of a newly created file; default 0o600 (lease and key data are nobody else's business). */
  mode?: number;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(file);
  // A random suffix, not just the pid: two writers in one process must not share a temp file.
  const temp = join(dir, `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await open(temp, 'wx', options.mode ?? 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/** fsync of a directory makes a rename or create in it durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
