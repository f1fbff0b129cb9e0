/**
 * The tunnel server's core, free of sockets and TAP set-up: it takes the
 * server's adapter as a FrameDevice and its clients as byte streams from a
 * ConnectionSource, runs a ServerMachine per connection through the one
 * driver, keeps the table of authorized tunnels (a newer connection of a
 * client replaces the older one once it has sent a frame its session
 * verified; a reload closes the tunnels of clients no longer allowed) and
 * moves datagrams by the pure Router's verdicts:
 *
 *   client DATA → session opens (FrameSocket) → Router.fromClient →
 *     the adapter (PseudoAdapter.deliverSoon) or another client's tunnel;
 *   adapter → PseudoAdapter → Router.toClient → that client's tunnel.
 *
 * IPv6 datagrams (EtherType 0x86DD, with `[tunnel] network6`) take the same
 * path through Router6 (router6.ts), over the same tunnel table.
 *
 * Every dropped datagram is counted as `route:drop:<reason>`. The core
 * itself is not on the datagram path: each tunnel's FrameSocket hands its
 * datagrams to the Router, which hands them on.
 */
import type { GsoInfo } from '../wire/gso.js';
import type { FrameDevice } from '../../adapter/device.js';
import type { ServerConfig } from '../config/schema.js';
import { Counters } from '../engine/counters.js';
import type { DhcpResponder } from '../../emulators/dhcp.js';
import { PseudoAdapter } from '../engine/pseudo-adapter.js';
import { peerLabel, type ByteStream, type ConnectionSource, type Peer } from '../io/byte-stream.js';
import { MachineDriver } from '../io/driver.js';
import { DEFAULT_CLIENT_MAC, type Lease } from '../lease.js';
import type { Logger } from '../log.js';
import type { ProtocolCrypto, ReplayGuard, StaticKeyPair } from '../crypto/port.js';
import { CloseCode, closeCodeName } from '../protocol/frames/close-codes.js';
import type { AuthorizedInfo } from '../protocol/machines/actions.js';
import { ServerMachine } from '../protocol/machines/server.js';
import { ipv4ToNumber, numberToIpv4, type MacAddress } from '../wire/addr.js';
import type { LeaseStore } from './leases.js';
import { gatewayOf, ServerPolicy, siteNetworks6Of, siteNetworksOf, type ClientPolicy } from './policy.js';
import { Router, type RouteEntry, type SiteNetwork } from './router.js';
import { ETHERTYPE_IPV6, Router6, type Route6Entry, type SiteNetwork6 } from './router6.js';
import { ipv6PoolOf } from './policy.js';
import { bytesToIpv6, ipv6ToBytes } from '../wire/addr6.js';
import { ServerMonitor, type TunnelView } from '../ops/server-monitor.js';
import { tunnelView } from './tunnel-view.js';
import { HandshakeGate, type HandshakeLimits } from './handshake-gate.js';
import type { CookieChecker } from '../crypto/port.js';

export const TICK_INTERVAL_MS = 1000;
/** How long a replaced tunnel still receives (its in-flight datagrams) before it is closed REPLACED. */
export const REPLACED_GRACE_MS = 1000;

/**
 * The age at which the server closes a session (sealed KEY_EXPIRED) that the
 * client has not re-handshaken: `[tunnel] session_max_age` plus a tenth of
 * it, at least a minute — room for a client that rotates at up to the same
 * age, and for its second connection to come up.
 */
export function sessionHardLimitMs(sessionMaxAgeSec: number): number {
  return (sessionMaxAgeSec + Math.max(60, sessionMaxAgeSec / 10)) * 1000;
}
const SHUTDOWN_GRACE_MS = 2000;

/** The server adapter serves no DHCP: its address is configured directly. */
const NO_DHCP: DhcpResponder = {
  hostMac: undefined,
  setLease: () => undefined,
  handle: () => ({ kind: 'ignored', reason: 'server-adapter' }),
};

interface ClientTunnel extends RouteEntry, Route6Entry {
  readonly driver: MachineDriver;
  readonly name: string;
  readonly publicKey: Uint8Array;
  /** What operations read about this tunnel (status, metrics, events). */
  readonly view: TunnelView;
  /**
   * Authorized while another tunnel of the same client is live: it takes the
   * address only once its peer proves itself on it (driver onPeerProven).
   */
  pending: boolean;
}

export interface ServerCoreOptions {
  config: ServerConfig;
  local: StaticKeyPair;
  crypto: ProtocolCrypto;
  replayGuard: ReplayGuard;
  leases: LeaseStore;
  /** The server's adapter (a TAP, or one end of a memory pair in tests) and its host-side MAC. */
  device: FrameDevice;
  hostMac: MacAddress;
  connections: ConnectionSource;
  log: Logger;
  counters?: Counters;
  /** Self-tick every TICK_INTERVAL_MS (default true); tests may tick by hand. */
  autoTick?: boolean;
  /** Connection caps (issue 10 item 3); defaults DEFAULT_CONNECTION_LIMITS. */
  limits?: Partial<ConnectionLimits>;
  /** Handshake flood limits; defaults from config.handshake_limits (tests may override). */
  handshakeLimits?: Partial<HandshakeLimits>;
  /** How long a connection may take to authorize before it is closed and freed (default: the machine's 10 s). */
  /** Negotiate OFFLOAD (TCP super-frames) with clients that offer it, when the config allows it; default false. */
  offload?: boolean;
  handshakeTimeoutMs?: number;
  /** How long a replaced tunnel still receives before it is closed (default REPLACED_GRACE_MS). */
  replacedGraceMs?: number;
  /** Tests: the session age at which the server closes a tunnel (default sessionHardLimitMs of the config). */
  sessionHardLimitMs?: number;
}

/**
 * What one server holds open at most. A connection over a cap is answered
 * with CLOSE and freed at once; each refusal is logged with its typed reason.
 */
export interface ConnectionLimits {
  maxConnections: number;
  /** Per source address: one address cannot take every slot. */
  maxPerSource: number;
  /** Connections not yet authorized (they cost a Diffie-Hellman and hold a slot until the handshake timeout). */
  maxHandshakes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxConnections: 4096, maxPerSource: 64, maxHandshakes: 512 };

export class ServerCore {
  private readonly perSource = new Map<string, number>();
  /** Authorized tunnels waiting for their peer's first authenticated frame to take over a live one (register). */
  private readonly pendingTunnels = new Set<ClientTunnel>();
  private handshakes = 0;
  /** The last reload's configuration; the start one (opts.config) until then. */
  #applied: ServerConfig | undefined;
  readonly counters: Counters;
  readonly policy: ServerPolicy;
  /** The tunnels joined with their identity, for status, metrics and the tunnel events. */
  readonly monitor: ServerMonitor;
  private readonly router: Router<ClientTunnel>;
  /** Undefined without `[tunnel] network6`: IPv6 datagrams are then dropped as route:drop:not-ipv4. */
  private readonly drivers = new Set<MachineDriver>();
  private readonly adapter: PseudoAdapter;
  private readonly ticker: NodeJS.Timeout | undefined;
  /** The clients' site networks the routers and the adapter have now. */
  private sites: readonly SiteNetwork[];
  /** Per-source handshake budgets and the load that makes mac2 required (before any DH). */
  readonly gate: HandshakeGate;
  /** mac1/mac2 and COOKIE replies: one for the server, so a cookie holds across connections. */
  private readonly cookies: CookieChecker;
  private sites6: readonly SiteNetwork6[];
  private readonly router6: Router6<ClientTunnel> | undefined;

  constructor(private readonly opts: ServerCoreOptions) {
    const { config } = opts;
    this.gate = new HandshakeGate({ ...handshakeLimitsOf(config), ...opts.handshakeLimits });
    this.cookies = opts.crypto.createCookieChecker(opts.local);
    this.counters = opts.counters ?? new Counters();
    this.policy = new ServerPolicy(config, opts.leases);
    this.monitor = new ServerMonitor(opts.log, config.clients.map((c) => c.name));
    if (opts.autoTick !== false) this.monitor.start();
    const gateway = gatewayOf(config);
    const { network } = config.tunnel;
    const router = new Router<ClientTunnel>({ network: ipv4ToNumber(network.address), prefixLength: network.prefixLength }, ipv4ToNumber(gateway), this.counters);
    this.sites = siteNetworksOf(config);
    router.setSites(this.sites);
    const pool6 = ipv6PoolOf(config);
    const router6 = pool6 && new Router6<ClientTunnel>(pool6, router.tunnels, this.counters, (name) => router.tunnelNamed(name));
    this.sites6 = siteNetworks6Of(config);
    router6?.setSites(this.sites6);
    const toClient = (datagram: Uint8Array, etherType: number, gso?: GsoInfo): void => (etherType === ETHERTYPE_IPV6 ? router6?.toClient(datagram, gso) : router.toClient(datagram, gso));
    this.adapter = new PseudoAdapter({ device: opts.device, lease: this.serverLease(config), dhcp: NO_DHCP, forwarding: true, logger: opts.log, counters: this.counters, onDatagram: toClient });
    this.adapter.setHostMac(opts.hostMac);
    router.adapter = this.adapter;
    if (router6) router6.adapter = this.adapter;
    router.v6 = router6;
    this.router6 = router6;
    this.router = router;
    opts.connections.onConnection((stream, peer) => this.accept(stream, peer));
    if (opts.autoTick !== false) this.ticker = setInterval(() => this.tick(), TICK_INTERVAL_MS);
  }

  /**
   * The lease the server's own adapter works with: the tunnel network, and
   * as its routes the clients' site networks — so the kernel's datagrams to
   * a branch LAN pass the classifier, and its ARP for them is answered.
   */
  private serverLease(config: ServerConfig): Lease {
    const gateway = gatewayOf(config);
    const sites = this.sites.map((s) => ({ destination: numberToIpv4(s.network), prefixLength: s.prefixLength, gateway }));
    const lease = this.policy.leaseFor(gateway);
    const ipv6 = lease.ipv6 && { ...lease.ipv6, routes: this.sites6.map((s) => ({ prefix: bytesToIpv6(s.network), prefixLength: s.prefixLength })) };
    return { ...lease, routes: sites, gatewayMac: DEFAULT_CLIENT_MAC, ...(ipv6 && { ipv6 }) };
  }

  /** Authorized tunnels right now (what the status endpoint reports). */
  get activeTunnels(): number {
    return this.router.tunnels.size;
  }

  /** Connections open, in any state. */
  get connectionCount(): number {
    return this.drivers.size;
  }

  tick(): void {
    for (const driver of this.drivers) driver.tick();
    this.adapter.tick(); // the periodic router advertisements to the server's own kernel
  }

  /** The configuration in force: the start one, then the last reload's (src/server/reload-plan.ts keeps restart-only keys as they started). */
  get config(): ServerConfig {
    return this.#applied ?? this.opts.config;
  }

  /** SIGHUP: the new client list; tunnels of clients no longer allowed are closed. */
  reload(config: ServerConfig): void {
    this.#applied = config;
    this.policy.reload(config);
    const sites = siteNetworksOf(config);
    const sites6 = siteNetworks6Of(config);
    // Only when they changed: a new lease makes the adapter advertise again (IPv6), which a reload should not do for nothing.
    if (siteKey(sites, sites6) !== siteKey(this.sites, this.sites6)) {
      this.sites = sites;
      this.sites6 = sites6;
      this.router.setSites(sites);
      this.router6?.setSites(sites6);
      this.adapter.setLease(this.serverLease(config));
    }
    this.monitor.setConfiguredClients(config.clients.map((c) => c.name));
    for (const tunnel of [...this.router.tunnels.values(), ...this.pendingTunnels]) {
      if (this.policy.stillAllowed(tunnel.name, tunnel.publicKey)) continue;
      this.opts.log.info({ client: tunnel.name }, 'client no longer allowed after reload: closing its tunnel');
      tunnel.driver.handle({ type: 'closeRequested', code: CloseCode.POLICY, reason: 'client no longer authorized' });
    }
    this.opts.log.info({ clients: config.clients.length }, 'authorized clients reloaded');
  }

  /** CLOSE SHUTTING_DOWN to everyone, a grace period for the CLOSEs to leave, then every stream closed. */
  async stop(): Promise<void> {
    clearInterval(this.ticker);
    this.adapter.close();
    this.monitor.stop();
    for (const driver of [...this.drivers]) driver.handle({ type: 'closeRequested', code: CloseCode.SHUTTING_DOWN, reason: 'server shutting down' });
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (this.drivers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const driver of this.drivers) driver.destroy();
  }

  private accept(stream: ByteStream, peer: Peer): void {
    const { config, log } = this.opts;
    const source = peerLabel(peer);
    let tunnel: ClientTunnel | undefined;
    let handshaking = true;
    const endHandshake = (): void => {
      if (handshaking) this.handshakes--;
      handshaking = false;
    };
    let requested: { client: string; path: string[] } | undefined; // who asked, for the refusal event
    const machine = new ServerMachine({
      crypto: this.opts.crypto,
      local: this.opts.local,
      replayGuard: this.opts.replayGuard,
      authorize: (request) => {
        requested = { client: request.name, path: request.path.hops.slice(0, -1) };
        return this.policy.authorize(request);
      },
      ...(config.name ? { names: [config.name] } : {}),
      ...(config.suites ? { suites: config.suites } : {}),
      offload: config.adapter.offload && this.opts.offload === true,
      timing: {
        keepaliveIntervalMs: config.keepalive.interval * 1000,
        deadPeerTimeoutMs: config.keepalive.timeout * 1000,
        ...(this.opts.handshakeTimeoutMs ? { handshakeTimeoutMs: this.opts.handshakeTimeoutMs } : {}),
      },
      lifetime: { maxAgeMs: config.key_lifetime.seconds * 1000, maxBytes: config.key_lifetime.bytes },
      cookies: this.cookies,
      source: peer.address,
      admit: ({ mac2Valid }, nowMs) => this.gate.admit(peer.address, mac2Valid, this.handshakes, nowMs),
      maxSessionAgeMs: this.opts.sessionHardLimitMs ?? sessionHardLimitMs(config.tunnel.session_max_age),
      stillAllowed: () => !tunnel || this.policy.stillAllowed(tunnel.name, tunnel.publicKey),
    });
    const driver: MachineDriver = new MachineDriver(machine, {
      onAuthorized: (info) => {
        endHandshake();
        tunnel = this.register(driver, machine, info, source);
        return this.router.receiverFor(tunnel); // what this tunnel's FrameSocket calls for each verified datagram
      },
      onPeerProven: () => {
        if (tunnel?.pending) this.takeOver(tunnel);
      },
      onClose: (close) => {
        endHandshake();
        if (tunnel) this.unregister(tunnel);
        if (tunnel) this.monitor.closed(tunnel.view, closeCodeName(close.code), close.reason, close.by);
        else this.monitor.refused({ ...requested, peer: source, path: requested?.path ?? [] }, closeCodeName(close.code), close.reason, close.by);
      },
      onDone: () => {
        this.drivers.delete(driver);
        const left = (this.perSource.get(peer.address) ?? 1) - 1;
        if (left > 0) this.perSource.set(peer.address, left);
        else this.perSource.delete(peer.address);
      },
    });
    this.drivers.add(driver);
    this.perSource.set(peer.address, (this.perSource.get(peer.address) ?? 0) + 1);
    this.handshakes++;
    driver.accept(stream);
    this.enforceLimits(driver, peer.address);
  }

  /** Counted before the check, so each cap is the number allowed at once. */
  private enforceLimits(driver: MachineDriver, address: string): void {
    const limits = { ...DEFAULT_CONNECTION_LIMITS, ...this.opts.limits };
    const refuse = (refusal: 'too-many-connections' | 'too-many-from-source' | 'too-many-handshakes', reason: string): void =>
      driver.handle({ type: 'closeRequested', code: CloseCode.ROUTING_FAILURE, reason, refusal });
    if (this.drivers.size > limits.maxConnections) return refuse('too-many-connections', 'server at capacity');
    if ((this.perSource.get(address) ?? 0) > limits.maxPerSource) return refuse('too-many-from-source', 'too many connections from this address');
    if (this.handshakes > limits.maxHandshakes) refuse('too-many-handshakes', 'too many handshakes under way');
  }

  /**
   * A newly authorized tunnel takes the client's address at once when the
   * client has no live tunnel; otherwise it waits, pending, until its peer
   * sent a frame the session verified (takeOver). An authorized REQUEST alone
   * proves little: a replayed or duplicated one (a replay guard reset, a copy
   * sent to a second listener) must not knock the real client off.
   */
  private register(driver: MachineDriver, machine: ServerMachine, info: AuthorizedInfo, source: string): ClientTunnel {
    const policy = info.policy as ClientPolicy;
    const address = ipv4ToNumber(info.lease.address);
    const routes = policy.routes.map((r) => ({ network: ipv4ToNumber(r.address), prefixLength: r.prefixLength }));
    const routes6 = (info.lease.ipv6?.routes ?? []).map((r) => ({ network: ipv6ToBytes(r.prefix), prefixLength: r.prefixLength }));
    const drops = new Counters();
    const tunnel: ClientTunnel = {
      driver,
      drops,
      link: driver.socket!,
      name: policy.name,
      address,
      publicKey: info.peerPublicKey,
      view: tunnelView({ name: policy.name, info, peer: source, mac: DEFAULT_CLIENT_MAC, driver, machine, drops, nowMs: Date.now() }),
      clientToClient: policy.clientToClient,
      routes,
      routes6,
      pending: this.router.tunnels.has(address),
    };
    if (!tunnel.pending) this.router.add(tunnel);
    else this.pendingTunnels.add(tunnel);
    if (tunnel.pending) this.opts.log.info({ client: tunnel.name, peer: source }, 'new connection of a connected client: it replaces the live tunnel once it sends an authenticated frame');
    this.monitor.opened(tunnel.view);
    return tunnel;
  }

  /**
   * A pending tunnel's peer proved itself: it takes the address (datagrams
   * to the client go to it from now on), and the tunnel it replaces is
   * closed (sealed REPLACED, retryable) REPLACED_GRACE_MS later — a client
   * renewing its session sent datagrams on the old connection up to the
   * moment it moved, and those still in flight are delivered, not lost.
   */
  private takeOver(tunnel: ClientTunnel): void {
    tunnel.pending = false;
    this.pendingTunnels.delete(tunnel);
    const previous = this.router.add(tunnel);
    if (!previous) this.opts.leases.acquire(tunnel.name); // the live one went first and released the lease: in use again (same address, it had not expired)
    if (!previous || previous === tunnel) return;
    const close = (): void => previous.driver.handle({ type: 'closeRequested', code: CloseCode.REPLACED, reason: 'replaced by a newer connection of the same client' });
    setTimeout(close, this.opts.replacedGraceMs ?? REPLACED_GRACE_MS).unref();
  }

  private unregister(tunnel: ClientTunnel): void {
    this.pendingTunnels.delete(tunnel);
    if (!this.router.remove(tunnel)) return; // replaced (the newer one holds the address), or never took it (pending)
    this.opts.leases.release(tunnel.name); // the address stays this client's until the lease expires
  }
}

/** The site networks as one comparable text. */
function siteKey(sites: readonly SiteNetwork[], sites6: readonly SiteNetwork6[]): string {
  return [...sites.map((s) => `${s.client}=${s.network}/${s.prefixLength}`), ...sites6.map((s) => `${s.client}=${bytesToIpv6(s.network)}/${s.prefixLength}`)].join(',');
}

/** The config's [handshake_limits] as the gate takes them. */
function handshakeLimitsOf(config: ServerConfig): Partial<HandshakeLimits> {
  const l = config.handshake_limits;
  if (!l) return {};
  return {
    perSourceBurst: l.per_source_burst,
    perSourceRate: l.per_source_rate,
    relaySources: l.relay_sources,
    relayBurst: l.relay_burst,
    relayRate: l.relay_rate,
    loadRate: l.load_rate,
    loadHandshakes: l.load_handshakes,
  };
}
