/**
 * Watches a config file and reports each change of its content, so a
 * revocation takes effect without a signal. Two sources, either enough:
 * fs.watch on the file's directory (editors and `mv` replace the file, and
 * a watch on the file itself would lose it) debounced by DEBOUNCE_MS, and a
 * stat every `pollIntervalMs` for file systems whose notifications miss
 * (NFS, some overlay and container mounts). A change is a new SHA-256 of the
 * content: touching the file, or writing it unchanged, reports nothing.
 *
 * Bound: a change is reported at most pollIntervalMs + SETTLE_MS (plus the
 * read) after the last write, and usually DEBOUNCE_MS + SETTLE_MS after it.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export const DEBOUNCE_MS = 100;
/**
 * A version of the file must hold still this long before it is read: a
 * write in place truncates first, and a check between the truncate and the
 * write saw an empty or half file as a change (then the whole one as a
 * second), so the server reloaded twice and logged a bogus error between.
 */
export const SETTLE_MS = 50;

export interface ConfigWatchOptions {
  pollIntervalMs: number;
  /** A change of content: apply it (errors are the caller's to log). */
  onChange(): Promise<void> | void;
  /** The watch could not be set up (the poll still runs). */
  onWatchError?(error: Error): void;
  /** Use the file system's notifications (default true); false leaves the poll alone (tests of the fallback). */
  notifications?: boolean;
}

export interface ConfigWatcher {
  close(): void;
}

export async function watchConfigFile(file: string, options: ConfigWatchOptions): Promise<ConfigWatcher> {
  let lastStat = await statKey(file);
  let lastHash = await hashOf(file);
  let checking: Promise<void> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;

  const check = async (): Promise<void> => {
    const key = await statKey(file);
    if (key === undefined || key === lastStat) return; // gone for a moment (a rename under way), or not touched
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    if ((await statKey(file)) !== key) return; // still being written: the next notification or poll looks again
    lastStat = key;
    const hash = await hashOf(file);
    if (hash === undefined || hash === lastHash) return;
    lastHash = hash;
    await options.onChange();
  };
  /** One check at a time; a request during one runs another after it. */
  const requestCheck = (): void => {
    if (checking) return void (again = true);
    checking = check()
      .catch(() => undefined)
      .finally(() => {
        checking = undefined;
        if (again) {
          again = false;
          requestCheck();
        }
      });
  };

  const name = basename(file);
  let watcher: FSWatcher | undefined;
  if (options.notifications !== false) {
    try {
      watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== name) return;
        clearTimeout(debounce);
        debounce = setTimeout(requestCheck, DEBOUNCE_MS);
      });
      watcher.on('error', (error) => options.onWatchError?.(error));
    } catch (error) {
      options.onWatchError?.(error as Error);
    }
  }
  const poll = setInterval(requestCheck, options.pollIntervalMs);
  poll.unref();
  return {
    close() {
      clearInterval(poll);
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}

/** What identifies a version of the file without reading it (nanosecond times: two writes in one millisecond differ). */
async function statKey(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

async function hashOf(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    return undefined;
  }
}
