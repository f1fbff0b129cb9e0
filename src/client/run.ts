/**
 * `tapvpn client`: wiring only. Reads the keys, prepares the host (the
 * adapter lock, what a killed predecessor left: src/client/host.ts), then
 * runs the ClientCore (src/client/core.ts: connect, authorize, reconnect,
 * keep the adapter and lease) with a TCP dialer and an `openDevice` that
 * creates the TAP and lets the host take the lease — through its DHCP client
 * against our emulator, or set directly in static mode.
 */
import { writeFile } from 'node:fs/promises';
import { openTap } from '../../adapter/linux-tap.js';
import { addAddress, addRoute, readLinkMac, setLinkUp } from '../../adapter/link.js';
import { startDaemonOps } from '../ops/daemon.js';
import type { ClientConfig } from '../config/schema.js';
import type { Socket } from 'node:net';
import { processQueueing } from '../io/queueing.js';
import { ReadBackpressure } from '../io/read-backpressure.js';
import { dialTcp } from '../io/tcp.js';
import { publicKeyOf } from '../crypto/keys.js';
import { readPrivateKeyFile } from '../io/key-file.js';
import type { Lease } from '../lease.js';
import type { Logger } from '../log.js';
import { realCrypto } from '../crypto/index.js';
import { ClientCore, type ClientDevice } from './core.js';
import { checkForwarding } from './forwarding.js';
import { prepareHost, type ClientHost } from './host.js';
import { serverTarget, ServerRotation } from './server-rotation.js';

export interface ClientHandle {
  /** Resolves when the client has stopped for good (stop(), or a refusal that retrying cannot fix). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function startClient(config: ClientConfig, log: Logger): Promise<ClientHandle> {
  const privateKey = await readPrivateKeyFile(config.private_key_file);
  if (config.forward) await checkForwarding(); // before anything on the host changes
  // Before dialing: one client per adapter, and whatever a killed predecessor left is cleared.
  const host = await prepareHost(config, log);
  // Every server's key is decoded now, so a bad one is reported at start, not at failover.
  const targets = config.servers.map((entry, i) => serverTarget(entry, config.relays, config.servers.length > 1 ? `servers[${i}].public_key` : 'server.public_key'));
  const rotation = new ServerRotation(targets, config.server_order);
  const core = new ClientCore({
    machine: {
      crypto: realCrypto,
      local: { privateKey, publicKey: publicKeyOf(privateKey) },
      ...rotation.current,
      name: config.name,
      ...(config.suites ? { suites: config.suites } : {}),
      offload: config.adapter.offload && processQueueing.offload,
      timing: { keepaliveIntervalMs: config.keepalive.interval * 1000, deadPeerTimeoutMs: config.keepalive.timeout * 1000 },
      reconnect: { minDelayMs: config.reconnect.min_delay * 1000, maxDelayMs: config.reconnect.max_delay * 1000 },
    },
    rotation,
    servers: targets.length,
    forwarding: config.forward,
    sessionMaxAgeMs: config.session_max_age * 1000,
    openDevice: (lease) => openDevice(config, lease, host, log),
    dial: dialTcp(),
    log,
  });
  const ops = await startDaemonOps('client', config.name, config, () => core.monitor.snapshot(core.pseudoAdapter?.counters.snapshot() ?? {}), log).catch(async (error: Error) => {
    await core.stop();
    await host.close();
    throw error;
  });
  const done = core.done.then(() => ops.close()).then(() => host.close());
  return {
    done,
    async stop() {
      await core.stop();
      await done;
    },
  };
}

/**
 * Pushed IPv6 routes reach the host as RFC 4191 route information, which
 * Linux takes only up to accept_ra_rt_info_max_plen (default 0): raised on
 * our own TAP, before it comes up, and gone with it. Nothing else changes.
 */
async function acceptRouteInformation(device: string, lease: Lease, log: Logger): Promise<void> {
  if (!lease.ipv6?.routes.some((r) => r.prefixLength > 0)) return;
  await writeFile(`/proc/sys/net/ipv6/conf/${device}/accept_ra_rt_info_max_plen`, '128\n').catch((error: Error) =>
    log.warn({ adapter: device, error: error.message }, 'could not let the adapter accept IPv6 route information: pushed IPv6 routes will be missing'),
  );
}

/**
 * A site gateway (forward = true) forwards IPv6 too, and a forwarding Linux
 * host ignores router advertisements unless accept_ra is 2: raised on our
 * own TAP only, before it comes up, so the adapter still takes its address
 * and routes from our NDP emulator. Gone with the TAP.
 */
async function acceptRouterAdvertisements(device: string, lease: Lease, forward: boolean, log: Logger): Promise<void> {
  if (!forward || !lease.ipv6) return;
  await writeFile(`/proc/sys/net/ipv6/conf/${device}/accept_ra`, '2\n').catch((error: Error) =>
    log.warn({ adapter: device, error: error.message }, 'could not let the forwarding adapter accept router advertisements: IPv6 in the tunnel may stay unconfigured'),
  );
}

/** The TAP for `lease`; started, it is up with the lease set (static) or taken by the host's DHCP client. */
async function openDevice(config: ClientConfig, lease: Lease, host: ClientHost, log: Logger): Promise<ClientDevice> {
  const offload = config.adapter.offload && processQueueing.offload;
  const txQueueLength = offload ? processQueueing.offloadTxqueuelen : processQueueing.txqueuelen;
  const tap = await openTap({ name: config.adapter.name, mtu: lease.mtu, txQueueLength, gsoMaxSize: processQueueing.gsoMaxSize, offload });
  const backpressure = processQueueing.backpressure ? new ReadBackpressure(tap, processQueueing.backpressureBytes) : undefined;
  const mac = await readLinkMac(tap.name).catch(() => undefined);
  return {
    device: tap,
    ...(mac ? { mac } : {}),
    ...(backpressure ? { afterSend: (carrier) => backpressure.check(carrier as Socket | undefined) } : {}),
    async start() {
      await acceptRouteInformation(tap.name, lease, log);
      await acceptRouterAdvertisements(tap.name, lease, config.forward, log);
      await setLinkUp(tap.name);
      if (config.address_mode === 'static') {
        await addAddress(tap.name, lease.address, lease.prefixLength);
        for (const route of lease.routes) await addRoute(tap.name, route.destination, route.prefixLength, route.gateway);
        log.info({ adapter: tap.name, address: `${lease.address}/${lease.prefixLength}` }, 'adapter configured (static)');
      }
      await host.adapterUp(tap.name, lease);
    },
    async close() {
      await host.releaseDhcp().catch((error: Error) => log.warn({ error: error.message }, 'could not release the lease cleanly'));
      await tap.close(); // the kernel removes the device, its address and its routes
    },
  };
}
