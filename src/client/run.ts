/**
 * The road-warrior client: connects (through relays when configured),
 * authenticates the server by its pinned key, and on the first authorization
 * creates its TAP and lets the host take the lease through the DHCP emulator.
 * On a lost connection it reconnects with backoff while the TAP stays up with
 * the same lease: applications see a pause, not a new interface or address.
 */
import { connect } from 'node:net';
import { openTap, type LinuxTap } from '../../adapter/linux-tap.js';
import { addAddress, addRoute, setLinkUp } from '../../adapter/link.js';
import type { ClientConfig } from '../config/schema.js';
import { DhcpServerEmulator } from '../../emulators/dhcp.js';
import { PseudoAdapter } from '../engine/pseudo-adapter.js';
import { processQueueing } from '../io/queueing.js';
import { ReadBackpressure } from '../io/read-backpressure.js';
import { TunnelLink } from '../io/tunnel-link.js';
import { publicKeyOf } from '../crypto/keys.js';
import { readPrivateKeyFile } from '../io/key-file.js';
import type { Lease } from '../lease.js';
import type { Logger } from '../log.js';
import { CloseCode, closeCodeName, isRetryable } from '../protocol/frames/close-codes.js';
import { InitiatorMachine } from '../protocol/machines/initiator.js';
import { splitHostPort } from '../protocol/frames/names.js';
import { realCrypto } from '../crypto/index.js';
import { prepareHost } from './host.js';
import { serverTarget, ServerRotation } from './server-rotation.js';

const TICK_INTERVAL_MS = 1000;
const STOP_GRACE_MS = 1000;

export interface ClientHandle {
  /** Resolves when the client has stopped for good (stop(), or a refusal that retrying cannot fix). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function startClient(config: ClientConfig, log: Logger): Promise<ClientHandle> {
  const privateKey = await readPrivateKeyFile(config.private_key_file);
  const local = { privateKey, publicKey: publicKeyOf(privateKey) };
  // Every server's key is decoded now, so a bad one is reported at start, not at failover.
  const targets = config.servers.map((entry, i) => serverTarget(entry, config.relays, config.servers.length > 1 ? `servers[${i}].public_key` : 'server.public_key'));
  const rotation = new ServerRotation(targets, config.server_order);
  const machine = new InitiatorMachine({
    crypto: realCrypto,
    local,
    ...rotation.current,
    name: config.name,
    ...(config.suites ? { suites: config.suites } : {}),
    timing: { keepaliveIntervalMs: config.keepalive.interval * 1000, deadPeerTimeoutMs: config.keepalive.timeout * 1000 },
    reconnect: { minDelayMs: config.reconnect.min_delay * 1000, maxDelayMs: config.reconnect.max_delay * 1000 },
  });

  // Before dialing: one client per adapter, and whatever a killed predecessor left is cleared.
  const host = await prepareHost(config, log);
  let tap: LinuxTap | undefined;
  let adapter: PseudoAdapter | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reachedAuthorization = false;
  let stopping = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));

  async function bringUpAdapter(lease: Lease): Promise<void> {
    tap = await openTap({ name: config.adapter.name, mtu: lease.mtu, txQueueLength: processQueueing.txqueuelen });
    const backpressure = processQueueing.backpressure ? new ReadBackpressure(tap, processQueueing.backpressureBytes) : undefined;
    const dhcp = new DhcpServerEmulator(lease);
    adapter = new PseudoAdapter({
      device: tap,
      lease,
      dhcp,
      logger: log,
      onDatagram: (datagram, etherType) => {
        link.sendDatagram(etherType, datagram);
        backpressure?.check(link.frames?.socket);
      },
    });
    await setLinkUp(tap.name);
    if (config.address_mode === 'static') {
      await addAddress(tap.name, lease.address, lease.prefixLength);
      for (const route of lease.routes) await addRoute(tap.name, route.destination, route.prefixLength, route.gateway);
      log.info({ adapter: tap.name, address: `${lease.address}/${lease.prefixLength}` }, 'adapter configured (static)');
    }
    await host.adapterUp(tap.name, lease);
  }

  const link: TunnelLink = new TunnelLink(machine, {
    onConnect: (address) => {
      const { host, port } = splitHostPort(address);
      log.info({ server: address }, 'connecting');
      const socket = connect({ host, port });
      link.attach(socket);
      socket.once('connect', () => link.handle({ type: 'tcpOpened' }));
    },
    onAuthorized: (info) => {
      reachedAuthorization = true;
      log.info({ address: info.lease.address, suite: info.suite, inBandRekey: info.inBandRekey }, 'tunnel authorized');
      if (!adapter) {
        bringUpAdapter(info.lease).catch((error: Error) => {
          log.error({ error: error.message }, 'could not bring up the adapter');
          void stop();
        });
      } else {
        adapter.setLease(info.lease); // normally the same lease: the server keeps it for us
      }
    },
    onDeliver: (_etherType, datagram) => {
      adapter?.deliverSoon(datagram);
    },
    onClosed: (code, reason, by) => {
      const entry = { code: closeCodeName(code), reason, by };
      if (stopping) return;
      if (!isRetryable(code) && by !== 'network') {
        log.error(entry, code === CloseCode.AUTHENTICATION_FAILURE ? 'the server refused us: check this client\'s name and key in the server config, and the server\'s public key here' : 'tunnel closed for good');
        void stop();
        return;
      }
      log.warn(entry, 'tunnel lost; reconnecting (the adapter stays up)');
    },
    onReconnect: (delayMs) => {
      if (stopping) return;
      if (rotation.afterAttempt(reachedAuthorization)) {
        machine.retarget(rotation.current);
        log.info({ server: rotation.current.path.at(-1) }, 'failing over to the next server');
      }
      reachedAuthorization = false;
      log.info({ delayMs }, 'reconnect scheduled');
      reconnectTimer = setTimeout(() => link.handle({ type: 'start' }), delayMs);
    },
  });

  const ticker = setInterval(() => link.handle({ type: 'tick' }), TICK_INTERVAL_MS);
  link.handle({ type: 'start' });

  async function stop(): Promise<void> {
    if (stopping) return done;
    stopping = true;
    clearInterval(ticker);
    clearTimeout(reconnectTimer);
    link.handle({ type: 'closeRequested', code: CloseCode.NORMAL, reason: 'client stopping' });
    await new Promise((r) => setTimeout(r, link.frames?.isOpen ? STOP_GRACE_MS : 0));
    link.frames?.destroy();
    await host.releaseDhcp().catch((error: Error) => log.warn({ error: error.message }, 'could not release the lease cleanly'));
    if (tap) await tap.close(); // the kernel removes the device, its address and its routes
    await host.close();
    log.info({ counters: adapter?.counters.snapshot(), link: link.counters }, 'client stopped');
    finish();
  }

  return { done, stop };
}
