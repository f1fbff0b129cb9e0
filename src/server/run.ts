/**
 * `tapvpn server`: wiring only. Opens the TAP and gives it its address,
 * listens for TCP, routes the clients' site networks into the TAP
 * (site-routes.ts), starts the ServerCore (src/server/core.ts: tunnels,
 * routing, replacement, reload) over the two, then the status endpoint and
 * masquerading, and drops privileges once everything that needs root is done.
 */
import { openTap } from '../../adapter/linux-tap.js';
import { addAddress, readLinkMac, setLinkUp } from '../../adapter/link.js';
import type { ServerConfig } from '../config/schema.js';
import type { Counters } from '../engine/counters.js';
import { processQueueing } from '../io/queueing.js';
import { listenTcp } from '../io/tcp.js';
import { peerLabel } from '../io/byte-stream.js';
import { publicKeyOf } from '../crypto/keys.js';
import { readPrivateKeyFile } from '../io/key-file.js';
import type { Logger } from '../log.js';
import { realCrypto } from '../crypto/index.js';
import { enableMasquerade, type Masquerade } from '../util/masquerade.js';
import { dropPrivileges } from '../util/privileges.js';
import { ServerCore } from './core.js';
import { LeaseStore } from './leases.js';
import { LeaseReplayGuard } from './replay-guard.js';
import { gatewayOf, ipv6PoolOf, leasePoolOf } from './policy.js';
import { gateway6Of } from './pool6.js';
import { startStatusListener } from '../io/status-exchange.js';
import { startDaemonOps } from '../ops/daemon.js';
import { serverBase } from './tunnel-view.js';
import { SiteRoutes, siteRouteList } from './site-routes.js';

export interface ServerHandle {
  readonly port: number;
  readonly counters: Counters;
  /** Authorized tunnels right now (what the status endpoint reports). */
  readonly activeTunnels: number;
  reload(config: ServerConfig): void;
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig, log: Logger): Promise<ServerHandle> {
  const privateKey = await readPrivateKeyFile(config.private_key_file);
  const local = { privateKey, publicKey: publicKeyOf(privateKey) };
  const gateway = gatewayOf(config);
  const { network } = config.tunnel;
  const leases = await LeaseStore.open(leasePoolOf(config), config.lease_file, (message) => log.error(message));
  const tap = await openTap({ name: config.adapter.name, mtu: config.adapter.mtu, txQueueLength: processQueueing.txqueuelen });
  let core: ServerCore;
  const siteRoutes = new SiteRoutes(tap.name);
  const listener = await listenTcp(config.listen.address, config.listen.port, (error) => log.error({ error: error.message }, 'listener error')).catch(async (error: Error) => {
    await tap.close();
    throw error;
  });
  try {
    await addAddress(tap.name, gateway, network.prefixLength);
    const pool6 = ipv6PoolOf(config);
    // The whole network6 on-link: the kernel asks for client addresses by NS, which the adapter answers with the client MAC.
    if (pool6) await addAddress(tap.name, gateway6Of(pool6), pool6.network6.prefixLength);
    await setLinkUp(tap.name);
    await siteRoutes.apply(siteRouteList(config));
    if (siteRoutes.installed.length > 0) log.info({ adapter: tap.name, networks: siteRoutes.installed }, 'routing the clients\' site networks into the adapter');
    const hostMac = await readLinkMac(tap.name);
    core = new ServerCore({ config, local, crypto: realCrypto, replayGuard: new LeaseReplayGuard(leases), leases, device: tap, hostMac, connections: listener, log });
  } catch (error) {
    await listener.close();
    await tap.close();
    throw error;
  }
  const status = config.status.enabled
    ? await startStatusListener({ address: config.status.address, port: config.status.port, key: await readPrivateKeyFile(config.status.key_file!) }, () => ({ activeTunnels: core.activeTunnels }), log)
    : undefined;
  const startedAtMs = Date.now();
  let listening = true;
  const snapshot = () => core.monitor.snapshot(serverBase(config, tap.name, startedAtMs, { address: config.listen.address, port: listener.port, listening }, leases.snapshot().size, core.counters));
  const ops = await startDaemonOps('server', tap.name, config, snapshot, log);
  let masquerade: Masquerade | undefined;
  if (config.masquerade.enabled) {
    masquerade = await enableMasquerade({ network: network.address, prefixLength: network.prefixLength, adapter: tap.name, ...(config.masquerade.out_interface ? { outInterface: config.masquerade.out_interface } : {}) });
    log.info({ table: masquerade.table, outInterface: config.masquerade.out_interface }, 'masquerading the tunnel network');
  }
  if (config.user) {
    // Everything that needs root is done: the TAP is open, its address set, the sockets bound.
    const ids = dropPrivileges(config.user, config.user);
    log.info({ user: config.user, ...ids }, 'dropped privileges');
  }
  log.info({ listen: peerLabel({ address: config.listen.address, port: listener.port }), adapter: tap.name, gateway, network: `${network.address}/${network.prefixLength}`, publicKey: Buffer.from(local.publicKey).toString('base64') }, 'tunnel server ready');

  return {
    port: listener.port,
    counters: core.counters,
    get activeTunnels() {
      return core.activeTunnels;
    },
    reload: (next) => {
      core.reload(next);
      // A server that dropped privileges cannot change routes: it says so, and a restart applies them.
      void siteRoutes
        .apply(siteRouteList(next))
        .then((changes) => changes > 0 && log.info({ adapter: tap.name, networks: siteRoutes.installed }, 'site network routes reloaded'))
        .catch((error: Error) => log.error({ error: error.message, installed: siteRoutes.installed }, 'could not update the site network routes (restart the server to apply them)'));
    },
    async stop() {
      await listener.close();
      listening = false;
      await status?.close();
      await ops.close();
      await core.stop();
      await leases.flush().catch((error: Error) => log.error({ error: error.message }, 'could not write the lease file'));
      await masquerade?.remove().catch((error: Error) => log.error({ error: error.message }, 'could not remove the masquerade table'));
      // Unprivileged by now (user = ...), this fails: closing the adapter removes them all the same.
      await siteRoutes.clear().catch((error: Error) => log.debug({ error: error.message }, 'site network routes left to go with the adapter'));
      await tap.close(); // a non-persistent TAP disappears with its fd, and its address and routes with it
      log.info({ counters: core.counters.snapshot() }, 'tunnel server stopped');
    },
  };
}
