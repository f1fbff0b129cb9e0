/**
 * Masquerade (source NAT) of the tunnel network behind the server's own
 * address, for `[masquerade] enabled = true`: the LAN then needs no route
 * back to the tunnel network. The rules live in an nftables table of their
 * own (`ip tapvpn_<adapter>`), created in one transaction and removed by
 * deleting that table, so they never touch the admin's rules, and a table
 * left behind by a crash is replaced rather than duplicated.
 */
import { run } from '../io/command.js';

export interface MasqueradeOptions {
  /** Tunnel network (host bits zero) and prefix. */
  network: string;
  prefixLength: number;
  /** Only traffic leaving through this interface; default: any interface except back into the tunnel network. */
  outInterface?: string;
  /** Names the table: tapvpn_<adapter>. */
  adapter: string;
  /** Apply inside this network namespace (tests, the demo). */
  netns?: string;
}

export interface Masquerade {
  readonly table: string;
  /** Deletes the table; safe to call twice. */
  remove(): Promise<void>;
}

export function masqueradeTableName(adapter: string): string {
  return `tapvpn_${adapter.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The nft commands as one transaction (one argument, `;`-separated). */
export function masqueradeScript(options: MasqueradeOptions): string {
  const table = masqueradeTableName(options.adapter);
  const net = `${options.network}/${options.prefixLength}`;
  const out = options.outInterface ? ` oifname "${options.outInterface}"` : '';
  return [
    `add table ip ${table}`, // exists afterwards whether or not it did before ...
    `delete table ip ${table}`, // ... so this never fails, and a stale table goes
    `add table ip ${table}`,
    `add chain ip ${table} postrouting { type nat hook postrouting priority srcnat ; policy accept ; }`,
    `add rule ip ${table} postrouting ip saddr ${net} ip daddr != ${net}${out} masquerade`,
  ].join(' ; ');
}

export async function enableMasquerade(options: MasqueradeOptions): Promise<Masquerade> {
  if (options.outInterface !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(options.outInterface)) {
    throw new RangeError(`masquerade.out_interface: expected an interface name, got "${options.outInterface}"`);
  }
  const table = masqueradeTableName(options.adapter);
  const runOptions = options.netns ? { netns: options.netns } : {};
  await run('nft', [masqueradeScript(options)], runOptions);
  let removed = false;
  return {
    table,
    async remove() {
      if (removed) return;
      removed = true;
      await run('nft', ['delete', 'table', 'ip', table], { ...runOptions, allowFailure: true });
    },
  };
}
