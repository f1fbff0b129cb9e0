/**
 * The tunnel server: accepts clients over TCP, runs a ServerMachine for
 * each, leases addresses, and joins the tunnels to its own pseudo adapter.
 *
 * Routing, per datagram from a client: its source must be the client's
 * leased address (no spoofing); a destination inside the tunnel network goes
 * straight into the other client's tunnel when policy allows client-to-client,
 * and is dropped otherwise; anything else goes to the server's TAP, where its
 * kernel routes it to the private LAN. Datagrams the kernel sends to a
 * client address come out of the TAP (our ARP emulator answers for every
 * client address) and go into that client's tunnel.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { openTap, type LinuxTap } from '../../adapter/linux-tap.js';
import { addAddress, readLinkMac, setLinkUp } from '../../adapter/link.js';
import type { ServerConfig } from '../config/schema.js';
import { Counters } from '../engine/counters.js';
import type { DhcpResponder } from '../../emulators/dhcp.js';
import { PseudoAdapter } from '../engine/pseudo-adapter.js';
import { processQueueing } from '../io/queueing.js';
import { TunnelLink } from '../io/tunnel-link.js';
import { publicKeyOf } from '../crypto/keys.js';
import { readPrivateKeyFile } from '../io/key-file.js';
import { DEFAULT_CLIENT_MAC, type Lease } from '../lease.js';
import type { Logger } from '../log.js';
import { CloseCode, closeCodeName } from '../protocol/frames/close-codes.js';
import type { AuthorizedInfo } from '../protocol/machines/actions.js';
import { ServerMachine } from '../protocol/machines/server.js';
import { realCrypto, TimestampGuard } from '../crypto/index.js';
import { inSubnet, ipv4ToNumber, readIpv4Number } from '../wire/addr.js';
import { LeaseStore } from './leases.js';
import { gatewayOf, leasePoolOf, ServerPolicy, type ClientPolicy } from './policy.js';
import { startStatusListener } from '../io/status-exchange.js';
import { enableMasquerade, type Masquerade } from '../util/masquerade.js';
import { dropPrivileges } from '../util/privileges.js';

const TICK_INTERVAL_MS = 1000;
const SHUTDOWN_GRACE_MS = 2000;
const ETHERTYPE_IPV4 = 0x0800;
const IPV4_SOURCE_OFFSET = 12;
const IPV4_DESTINATION_OFFSET = 16;
const IPV4_MIN_HEADER = 20;

/** The server adapter serves no DHCP: its address is configured directly. */
const NO_DHCP: DhcpResponder = {
  hostMac: undefined,
  setLease: () => undefined,
  handle: () => ({ kind: 'ignored', reason: 'server-adapter' }),
};

interface ClientTunnel {
  link: TunnelLink;
  machine: ServerMachine;
  name: string;
  address: number;
  publicKey: Uint8Array;
  policy: ClientPolicy;
}

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
  const networkNumber = ipv4ToNumber(network.address);
  const gatewayNumber = ipv4ToNumber(gateway);
  const leases = await LeaseStore.open(leasePoolOf(config), config.lease_file, (message) => log.error(message));
  const policy = new ServerPolicy(config, leases);
  const counters = new Counters();
  const tunnels = new Map<number, ClientTunnel>(); // by client address
  const connections = new Set<TunnelLink>();
  const replayGuard = new TimestampGuard();

  const tap = await openTap({ name: config.adapter.name, mtu: config.adapter.mtu, txQueueLength: processQueueing.txqueuelen });
  let adapter: PseudoAdapter;
  try {
    await addAddress(tap.name, gateway, network.prefixLength);
    await setLinkUp(tap.name);
    const serverLease: Lease = { ...policy.leaseFor(gateway), routes: [], gatewayMac: DEFAULT_CLIENT_MAC };
    adapter = new PseudoAdapter({ device: tap, lease: serverLease, dhcp: NO_DHCP, forwarding: true, logger: log, counters, onDatagram: (datagram) => toClient(datagram) });
    adapter.setHostMac(await readLinkMac(tap.name));
  } catch (error) {
    await tap.close();
    throw error;
  }

  /** A datagram from the server's kernel: into the tunnel of the client it is addressed to. */
  function toClient(datagram: Uint8Array): void {
    const tunnel = tunnels.get(readIpv4Number(datagram, IPV4_DESTINATION_OFFSET));
    if (!tunnel) return counters.increment('route:drop:no-client');
    if (!tunnel.link.sendDatagram(ETHERTYPE_IPV4, datagram)) counters.increment('route:drop:congested');
  }

  /** A verified datagram from a client. */
  function fromClient(tunnel: ClientTunnel, etherType: number, datagram: Uint8Array): void {
    if (etherType !== ETHERTYPE_IPV4 || datagram.length < IPV4_MIN_HEADER) return counters.increment('route:drop:not-ipv4');
    if (readIpv4Number(datagram, IPV4_SOURCE_OFFSET) !== tunnel.address) return counters.increment('route:drop:spoofed-source');
    const destination = readIpv4Number(datagram, IPV4_DESTINATION_OFFSET);
    if (destination !== gatewayNumber && inSubnet(destination, networkNumber, network.prefixLength)) {
      const peer = tunnels.get(destination);
      if (!peer) return counters.increment('route:drop:no-client');
      if (!tunnel.policy.clientToClient || !peer.policy.clientToClient) return counters.increment('route:drop:client-to-client-denied');
      if (!peer.link.sendDatagram(etherType, datagram)) counters.increment('route:drop:congested');
      return counters.increment('route:client-to-client');
    }
    adapter.deliverSoon(datagram);
  }

  function accept(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let tunnel: ClientTunnel | undefined;
    const machine = new ServerMachine({
      crypto: realCrypto,
      local,
      replayGuard,
      authorize: (request) => {
        const result = policy.authorize(request);
        if (!result.ok) log.warn({ peer, client: request.name, code: closeCodeName(result.code), reason: result.reason }, 'client refused');
        return result;
      },
      ...(config.name ? { names: [config.name] } : {}),
      ...(config.suites ? { suites: config.suites } : {}),
      timing: { keepaliveIntervalMs: config.keepalive.interval * 1000, deadPeerTimeoutMs: config.keepalive.timeout * 1000 },
      lifetime: { maxAgeMs: config.key_lifetime.seconds * 1000, maxBytes: config.key_lifetime.bytes },
    });
    const link: TunnelLink = new TunnelLink(machine, {
      onAuthorized: (info: AuthorizedInfo) => {
        const clientPolicy = info.policy as ClientPolicy;
        const address = ipv4ToNumber(info.lease.address);
        const previous = tunnels.get(address);
        if (previous) previous.link.handle({ type: 'closeRequested', code: CloseCode.POLICY, reason: 'replaced by a newer connection of the same client' });
        tunnel = { link, machine, name: clientPolicy.name, address, publicKey: info.peerPublicKey, policy: clientPolicy };
        tunnels.set(address, tunnel);
        log.info({ peer, client: tunnel.name, address: info.lease.address, suite: info.suite }, 'client authorized');
      },
      onDeliver: (etherType, datagram) => {
        if (tunnel) fromClient(tunnel, etherType, datagram);
      },
      onClosed: (code, reason, by) => {
        connections.delete(link);
        if (tunnel && tunnels.get(tunnel.address) === tunnel) {
          tunnels.delete(tunnel.address);
          leases.release(tunnel.name); // the address stays this client's until the lease expires
        }
        log.info({ peer, client: tunnel?.name, code: closeCodeName(code), reason, by }, 'tunnel closed');
      },
    });
    connections.add(link);
    link.attach(socket);
    link.handle({ type: 'accepted' });
  }

  const server: Server = createServer(accept);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.address, () => resolve());
  });
  server.on('error', (error) => log.error({ error: error.message }, 'listener error'));
  const port = (server.address() as { port: number }).port;
  const status = config.status.enabled
    ? await startStatusListener({ address: config.status.address, port: config.status.port, key: await readPrivateKeyFile(config.status.key_file!) }, () => ({ activeTunnels: tunnels.size }), log)
    : undefined;
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
  const ticker = setInterval(() => {
    for (const link of connections) link.handle({ type: 'tick' });
  }, TICK_INTERVAL_MS);
  log.info({ listen: `${config.listen.address}:${port}`, adapter: tap.name, gateway, network: `${network.address}/${network.prefixLength}`, publicKey: Buffer.from(local.publicKey).toString('base64') }, 'tunnel server ready');

  return {
    port,
    counters,
    get activeTunnels() {
      return tunnels.size;
    },
    reload(next: ServerConfig) {
      policy.reload(next);
      for (const tunnel of [...tunnels.values()]) {
        if (!policy.stillAllowed(tunnel.name, tunnel.publicKey)) {
          log.info({ client: tunnel.name }, 'client no longer allowed after reload: closing its tunnel');
          tunnel.link.handle({ type: 'closeRequested', code: CloseCode.POLICY, reason: 'client no longer authorized' });
        }
      }
      log.info({ clients: next.clients.length }, 'authorized clients reloaded');
    },
    async stop() {
      clearInterval(ticker);
      server.close();
      await status?.close();
      for (const link of [...connections]) link.handle({ type: 'closeRequested', code: CloseCode.SHUTTING_DOWN, reason: 'server shutting down' });
      const deadline = Date.now() + SHUTDOWN_GRACE_MS;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const link of connections) link.frames?.destroy();
      await leases.flush().catch((error: Error) => log.error({ error: error.message }, 'could not write the lease file'));
      await masquerade?.remove().catch((error: Error) => log.error({ error: error.message }, 'could not remove the masquerade table'));
      await closeTap(tap);
      log.info({ counters: counters.snapshot() }, 'tunnel server stopped');
    },
  };
}

async function closeTap(tap: LinuxTap): Promise<void> {
  await tap.close(); // a non-persistent TAP disappears with its fd, and its address and routes with it
}
