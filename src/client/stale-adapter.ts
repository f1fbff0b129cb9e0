/**
 * What to do with a network interface that already has the adapter's name
 * when the client starts (checked while holding the adapter lock, so no
 * client of ours is using it):
 * - none: nothing to do;
 * - a TAP we marked as ours (its alias starts with "tapvpn client", set when
 *   the client brings its adapter up): a leftover, deleted so the new
 *   adapter starts clean;
 * - anything else (an admin's persistent TAP, one carrying another address,
 *   another kind of device): refused, because attaching to it silently
 *   would keep its old address primary and break the tunnel's traffic.
 */
import { CommandError, run } from '../io/command.js';

export const ADAPTER_ALIAS_PREFIX = 'tapvpn client';

export function adapterAlias(clientName: string): string {
  return `${ADAPTER_ALIAS_PREFIX} ${clientName}`;
}

export class ForeignAdapterError extends Error {
  override readonly name = 'ForeignAdapterError';
  readonly code = 'FOREIGN_ADAPTER';
}

interface LinkJson {
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { type?: string; persist?: boolean } };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

/** A short description of the link for the refusal: "a persistent TAP with 192.0.2.5/24". */
export function describeLink(link: LinkJson): string {
  const kind = link.linkinfo?.info_kind;
  const type = kind === 'tun' ? (link.linkinfo?.info_data?.type ?? 'tun').toUpperCase() : (kind ?? 'physical or unknown');
  const persistent = link.linkinfo?.info_data?.persist ? 'a persistent ' : 'a ';
  const addresses = (link.addr_info ?? []).filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`);
  const alias = link.ifalias ? ` (alias "${link.ifalias}")` : '';
  return `${persistent}${type} device${alias}${addresses.length ? ` with ${addresses.join(', ')}` : ''}`;
}

export function isOurs(link: LinkJson): boolean {
  return link.linkinfo?.info_kind === 'tun' && link.linkinfo.info_data?.type === 'tap' && (link.ifalias ?? '').startsWith(ADAPTER_ALIAS_PREFIX);
}

async function showLink(name: string): Promise<LinkJson | undefined> {
  try {
    const [link] = JSON.parse((await run('ip', ['-d', '-j', 'addr', 'show', 'dev', name])).stdout) as LinkJson[];
    return link;
  } catch (error) {
    if (error instanceof CommandError && /does not exist/i.test(error.stderr)) return undefined;
    throw error;
  }
}

/** Clears a leftover adapter of ours; refuses a foreign one. Returns what it found. */
export async function clearStaleAdapter(name: string): Promise<'none' | 'removed'> {
  const link = await showLink(name);
  if (!link) return 'none';
  if (!isOurs(link)) {
    throw new ForeignAdapterError(
      `a network interface named "${name}" already exists and is not a tapvpn adapter: ${describeLink(link)}. ` +
        `Remove it (ip link del ${name}) if it is a leftover, or set adapter.name to another name`,
    );
  }
  await run('ip', ['link', 'del', 'dev', name]);
  return 'removed';
}
