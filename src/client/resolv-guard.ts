/**
 * Puts the host's resolv.conf back as the client found it. The DHCP client's
 * own release path runs first (its hook undoes its DNS change where the
 * distribution's hook can: with resolvconf, or dhcpcd's own merging); many
 * stock hooks cannot (Debian's dhclient-script and udhcpc's default.script
 * without resolvconf write the file on bound and never restore it). So the
 * client keeps the file's contents from before the DHCP client started in
 * its run folder, and after the release — or at the next start, after a
 * kill -9 — writes them back, but only when the file still carries a
 * nameserver or domain the tunnel pushed and the old contents did not:
 * a change someone else made meanwhile is left alone.
 *
 * The file is rewritten in place (truncate and write, not rename), which
 * keeps a symlink, a bind mount (`ip netns exec` binds
 * /etc/netns/NAME/resolv.conf there) and the file's owner and mode.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const RESOLV_CONF = '/etc/resolv.conf';
const SNAPSHOT_FILE = 'resolv.conf.before';

/** What the tunnel pushes to the host's resolver: DHCP options 6 and 15. */
export interface PushedDns {
  servers: readonly string[];
  domain?: string;
}

export type RestoreOutcome = 'no-snapshot' | 'unchanged' | 'restored' | 'changed-by-others';

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Keeps the resolver file's current contents in the run folder (before any DHCP client may change it). */
export async function snapshotResolvConf(runDir: string, resolvConf = RESOLV_CONF): Promise<void> {
  const contents = await readIfPresent(resolvConf);
  if (contents !== undefined) await writeFile(join(runDir, SNAPSHOT_FILE), contents, { mode: 0o600 });
}

/** The tokens of each `keyword value...` line, for comparing resolver files line by line whatever the spacing. */
function entries(contents: string, keyword: string): Set<string> {
  const values = new Set<string>();
  for (const line of contents.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === keyword) rest.forEach((value) => values.add(value));
  }
  return values;
}

/** Does `current` carry something the tunnel pushed that `before` did not? */
export function carriesPushedDns(current: string, before: string, pushed: PushedDns): boolean {
  const nowServers = entries(current, 'nameserver');
  const oldServers = entries(before, 'nameserver');
  if (pushed.servers.some((server) => nowServers.has(server) && !oldServers.has(server))) return true;
  if (!pushed.domain) return false;
  const nowDomains = new Set([...entries(current, 'search'), ...entries(current, 'domain')]);
  const oldDomains = new Set([...entries(before, 'search'), ...entries(before, 'domain')]);
  return nowDomains.has(pushed.domain) && !oldDomains.has(pushed.domain);
}

/** Writes the snapshot back when the tunnel's DNS is still in the file (see the module comment). */
export async function restoreResolvConf(runDir: string, pushed: PushedDns, resolvConf = RESOLV_CONF): Promise<RestoreOutcome> {
  const before = await readIfPresent(join(runDir, SNAPSHOT_FILE));
  if (before === undefined) return 'no-snapshot';
  const current = (await readIfPresent(resolvConf)) ?? '';
  if (current === before) return 'unchanged';
  if (!carriesPushedDns(current, before, pushed)) return 'changed-by-others';
  await writeFile(resolvConf, before);
  return 'restored';
}
