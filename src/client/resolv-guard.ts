/**
 * Puts the host's resolv.conf back as the client found it. The DHCP client's
 * own release path runs first (its hook undoes its DNS change where the
 * distribution's hook can: with resolvconf, or dhcpcd's own merging); many
 * stock hooks cannot (Debian's dhclient-script and udhcpc's default.script
 * without resolvconf write the file on bound and never restore it). So the
 * client keeps the file's contents from before the DHCP client started in
 * its run folder, and after the release — or at the next start, after a
 * kill -9 — writes them back when the file differs from them and names no
 * nameserver but the old ones and the tunnel's: that covers a file still
 * carrying the tunnel's DNS and one a hook rebuilt without the old servers
 * (dhcpcd's 20-resolv.conf without resolvconf leaves an empty file), while a
 * change someone else made meanwhile (a new network's nameserver) is left
 * alone.
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

/** Is every nameserver in `current` either one from `before` or one the tunnel pushed (nobody else changed the file)? */
export function onlyOldOrTunnelServers(current: string, before: string, pushed: PushedDns): boolean {
  const known = new Set([...entries(before, 'nameserver'), ...pushed.servers]);
  return [...entries(current, 'nameserver')].every((server) => known.has(server));
}

/** Writes the snapshot back unless someone else changed the file meanwhile (see the module comment). */
export async function restoreResolvConf(runDir: string, pushed: PushedDns, resolvConf = RESOLV_CONF): Promise<RestoreOutcome> {
  const before = await readIfPresent(join(runDir, SNAPSHOT_FILE));
  if (before === undefined) return 'no-snapshot';
  const current = (await readIfPresent(resolvConf)) ?? '';
  if (current === before) return 'unchanged';
  if (!onlyOldOrTunnelServers(current, before, pushed)) return 'changed-by-others';
  await writeFile(resolvConf, before);
  return 'restored';
}
