/**
 * What the client changes on the host, and how it puts it back. In order:
 * `prepareHost` (before dialing) takes the adapter lock, clears what a
 * killed predecessor left (its DHCP child, resolv.conf, run folder) and a
 * leftover TAP of ours, and refuses a foreign device of the adapter's name;
 * `adapterUp` marks the new TAP as ours and starts the DHCP client, the
 * resolver file kept first; `releaseDhcp` (adapter still open) releases the
 * lease through the DHCP client's own path and restores resolv.conf if its
 * hook did not; `close` (adapter closed) removes the run folder and frees
 * the lock.
 */
import { setAlias } from '../../adapter/link.js';
import type { ClientConfig } from '../config/schema.js';
import type { Lease } from '../lease.js';
import type { Logger } from '../log.js';
import { lockAdapter, type AdapterLock } from './adapter-lock.js';
import { startDhcpClient, type DhcpClientProcess } from './dhcp-client.js';
import { restoreResolvConf, snapshotResolvConf, type PushedDns } from './resolv-guard.js';
import { openRunDir, recordProcess, type RunDir } from './run-dir.js';
import { adapterAlias, clearStaleAdapter } from './stale-adapter.js';

export interface ClientHost {
  readonly runDir: RunDir;
  adapterUp(device: string, lease: Lease): Promise<void>;
  releaseDhcp(): Promise<void>;
  close(): Promise<void>;
}

type HostConfig = Pick<ClientConfig, 'name' | 'adapter' | 'address_mode' | 'dhcp_client'>;

function pushedDns(lease: Lease): PushedDns {
  return { servers: lease.dnsServers, ...(lease.searchDomain ? { domain: lease.searchDomain } : {}) };
}

export async function prepareHost(config: HostConfig, log: Logger): Promise<ClientHost> {
  const lock: AdapterLock = await lockAdapter(config.adapter.name, config.name);
  let runDir: RunDir;
  try {
    runDir = await openRunDir(config.adapter.name);
    if (runDir.recovered) log.warn({ adapter: config.adapter.name, ...runDir.recovered }, 'cleared what an earlier client of this adapter left when it died');
    if ((await clearStaleAdapter(config.adapter.name)) === 'removed') log.warn({ adapter: config.adapter.name }, 'removed a leftover tapvpn adapter of this name');
  } catch (error) {
    await lock.release();
    throw error;
  }
  let dhcp: DhcpClientProcess | undefined;
  let dns: PushedDns | undefined;
  let stopping = false;

  return {
    runDir,
    async adapterUp(device, lease) {
      await setAlias(device, adapterAlias(config.name));
      if (config.address_mode !== 'dhcp' || config.dhcp_client === 'none') return;
      dns = pushedDns(lease);
      await snapshotResolvConf(runDir.path);
      await runDir.update({ dns });
      dhcp = await startDhcpClient(config.dhcp_client, device, runDir.path);
      const started = dhcp;
      const recorded = await recordProcess(started.name, started.pid);
      if (recorded) await runDir.update({ dhcpClient: recorded });
      started.child.on('exit', (code, signal) => {
        if (!stopping) log.warn({ dhcpClient: started.name, code, signal }, 'DHCP client exited; the adapter keeps the address it had');
      });
      log.info({ adapter: device, dhcpClient: started.name, lease: `${lease.address}/${lease.prefixLength}` }, 'adapter up; the host takes the lease over DHCP');
    },
    async releaseDhcp() {
      stopping = true;
      if (!dhcp) return;
      await dhcp.release();
      const resolvConf = dns ? await restoreResolvConf(runDir.path, dns) : 'no-snapshot';
      log.info({ dhcpClient: dhcp.name, resolvConf }, 'lease released');
    },
    async close() {
      stopping = true;
      await runDir.remove();
      await lock.release();
    },
  };
}
