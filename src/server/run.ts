/**
 * `tapvpn server`: wiring only, in two phases.
 *
 * Privileged: open the TAP and give it its addresses, route the clients'
 * site networks into it (site-routes.ts), bind the tunnel port without
 * listening (a port below 1024 needs privileges; nothing can connect yet),
 * masquerade, the control socket. Then, with `user` set, drop to that user
 * and to no capabilities at all (src/util/privileges.ts).
 *
 * Unprivileged (with `user`): read the keys and the lease file as that user,
 * start the ServerCore (src/server/core.ts: tunnels, routing, replacement,
 * reload), the status endpoint, and only then listen on the bound port — no
 * connection is accepted before the drop. What needs privileges after
 * start-up cannot happen any more: a reload's site-network route changes
 * need a restart (the log says so), and at stop the routes go with the TAP.
 */
import { openTap, type LinuxTap } from '../../adapter/linux-tap.js';
import { addAddress, readLinkMac, setLinkUp } from '../../adapter/link.js';
import type { ServerConfig } from '../config/schema.js';
import type { Counters } from '../engine/counters.js';
import { processQueueing } from '../io/queueing.js';
import { bindTcp, closeBound, listenTcp, type BoundPort, type TcpListener } from '../io/tcp.js';
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
import { startStatusListener, type StatusListener } from '../io/status-exchange.js';
import { startDaemonOps, type DaemonOps } from '../ops/daemon.js';
import { serverBase } from './tunnel-view.js';
import { SiteRoutes, siteRouteList } from './site-routes.js';

export interface ServerHandle {
  readonly port: number;
  readonly counters: Counters;
  /** Authorized tunnels right now (what the status endpoint reports). */
  readonly activeTunnels: number;
  /** The configuration in force (what a reload is compared with). */
  readonly config: ServerConfig;
  reload(config: ServerConfig): void;
  stop(): Promise<void>;
}

/** What the privileged phase leaves for the rest: the configured TAP, the bound (not listening) port. */
interface Prepared {
  tap: LinuxTap;
  bound: BoundPort;
  siteRoutes: SiteRoutes;
  hostMac: string;
}

/** The privileged phase's network work; on failure nothing it made is left behind. */
async function prepareNetwork(config: ServerConfig, log: Logger): Promise<Prepared> {
  const { network } = config.tunnel;
  const offload = config.adapter.offload && processQueueing.offload;
  const txQueueLength = offload ? processQueueing.offloadTxqueuelen : processQueueing.txqueuelen;
  const tap = await openTap({ name: config.adapter.name, mtu: config.adapter.mtu, txQueueLength, gsoMaxSize: processQueueing.gsoMaxSize, offload });
  if (offload && !tap.offload) log.warn({ adapter: tap.name }, 'the kernel refused TAP offload (IFF_VNET_HDR, TUNSETOFFLOAD): super-frames from clients are segmented here');
  const siteRoutes = new SiteRoutes(tap.name);
  let bound: BoundPort | undefined;
  try {
    bound = bindTcp(config.listen.address, config.listen.port);
    await addAddress(tap.name, gatewayOf(config), network.prefixLength);
    const pool6 = ipv6PoolOf(config);
    // The whole network6 on-link: the kernel asks for client addresses by NS, which the adapter answers with the client MAC.
    if (pool6) await addAddress(tap.name, gateway6Of(pool6), pool6.network6.prefixLength);
    await setLinkUp(tap.name);
    await siteRoutes.apply(siteRouteList(config));
    if (siteRoutes.installed.length > 0) log.info({ adapter: tap.name, networks: siteRoutes.installed }, 'routing the clients\' site networks into the adapter');
    return { tap, bound, siteRoutes, hostMac: await readLinkMac(tap.name) };
  } catch (error) {
    if (bound) closeBound(bound);
    await tap.close();
    throw error;
  }
}

export async function startServer(config: ServerConfig, log: Logger): Promise<ServerHandle> {
  const gateway = gatewayOf(config);
  const { network } = config.tunnel;
  const { tap, bound, siteRoutes, hostMac } = await prepareNetwork(config, log);
  let core: ServerCore | undefined;
  let leases: LeaseStore | undefined;
  let listener: TcpListener | undefined;
  let status: StatusListener | undefined;
  let ops: DaemonOps | undefined;
  let masquerade: Masquerade | undefined;
  let publicKey: Uint8Array | undefined;
  const startedAtMs = Date.now();
  let listening = false;
  const snapshot = () => {
    if (!core || !leases) throw new Error('the server is still starting');
    return core.monitor.snapshot(serverBase(config, tap.name, startedAtMs, { address: config.listen.address, port: bound.port, listening }, leases.snapshot().size, core.counters));
  };
  try {
    ops = await startDaemonOps('server', tap.name, config, snapshot, log);
    if (config.masquerade.enabled) {
      masquerade = await enableMasquerade({ network: network.address, prefixLength: network.prefixLength, adapter: tap.name, ...(config.masquerade.out_interface ? { outInterface: config.masquerade.out_interface } : {}) });
      log.info({ table: masquerade.table, outInterface: config.masquerade.out_interface }, 'masquerading the tunnel network');
    }
    if (config.user) {
      // Everything that needs root is done: the TAP is open and configured, the port bound (nothing listens yet).
      const dropped = dropPrivileges(config.user);
      log.info({ user: config.user, ...dropped }, 'dropped privileges: no capabilities left');
    }
    // Read as the daemon's own user: the key files and the lease file belong to it.
    const privateKey = await readPrivateKeyFile(config.private_key_file);
    publicKey = publicKeyOf(privateKey);
    const local = { privateKey, publicKey };
    leases = await LeaseStore.open(leasePoolOf(config), config.lease_file, (message) => log.error(message));
    listener = await listenTcp(config.listen.address, bound.port, (error) => log.error({ error: error.message }, 'listener error'), bound);
    listening = true;
    core = new ServerCore({ config, local, crypto: realCrypto, replayGuard: new LeaseReplayGuard(leases), leases, device: tap, hostMac, connections: listener, log, offload: config.adapter.offload && processQueueing.offload });
    const liveCore = core;
    if (config.status.enabled) status = await startStatusListener({ address: config.status.address, port: config.status.port, key: await readPrivateKeyFile(config.status.key_file!) }, () => ({ activeTunnels: liveCore.activeTunnels }), log);
  } catch (error) {
    await core?.stop();
    if (listener) await listener.close();
    else closeBound(bound);
    await ops?.close();
    await masquerade?.remove().catch(() => undefined);
    await tap.close();
    throw error;
  }
  const running = { core, leases, listener };
  log.info({ listen: peerLabel({ address: config.listen.address, port: listener.port }), adapter: tap.name, gateway, network: `${network.address}/${network.prefixLength}`, publicKey: Buffer.from(publicKey).toString('base64') }, 'tunnel server ready');

  return {
    port: listener.port,
    counters: running.core.counters,
    get activeTunnels() {
      return running.core.activeTunnels;
    },
    get config() {
      return running.core.config;
    },
    reload: (next) => {
      running.core.reload(next);
      // A server that dropped privileges cannot change routes: it says so, and a restart applies them.
      void siteRoutes
        .apply(siteRouteList(next))
        .then((changes) => changes > 0 && log.info({ adapter: tap.name, networks: siteRoutes.installed }, 'site network routes reloaded'))
        .catch((error: Error) => log.error({ error: error.message, installed: siteRoutes.installed }, 'could not update the site network routes (restart the server to apply them)'));
    },
    async stop() {
      await running.listener.close();
      listening = false;
      await status?.close();
      await ops?.close();
      await running.core.stop();
      await running.leases.flush().catch((error: Error) => log.error({ error: error.message }, 'could not write the lease file'));
      await masquerade?.remove().catch((error: Error) => log.error({ error: error.message }, 'could not remove the masquerade table'));
      // Unprivileged by now (user = ...), this fails: closing the adapter removes them all the same.
      await siteRoutes.clear().catch((error: Error) => log.debug({ error: error.message }, 'site network routes left to go with the adapter'));
      await tap.close(); // a non-persistent TAP disappears with its fd, and its address and routes with it
      log.info({ counters: running.core.counters.snapshot() }, 'tunnel server stopped');
    },
  };
}
