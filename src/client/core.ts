/**
 * The road-warrior client's core, free of TAP and socket set-up: it runs
 * the InitiatorMachine through the one driver over streams from `dial`, and
 * on the first authorization opens the adapter with `openDevice(lease)` and
 * serves the lease to the host through the DHCP emulator. Across reconnects
 * the adapter and its lease stay (applications see a pause, not a new
 * interface or address); reconnect delays are the machine's (retry or not,
 * now or after a jittered backoff from src/util/backoff.ts). Whether a close
 * ends the client is the reconnect policy's call (reconnect-policy.ts: every
 * transient fault is retried, only an authenticated or proven refusal
 * exits); a close it retries that the machine does not (the machine ends
 * dead) is reconnected on the next tick, with the same kind of backoff.
 *
 * Sessions are renewed make-before-break (`sessionMaxAgeMs`, the config's
 * session_max_age): at a jittered 90-100 % of it a second connection makes a
 * full handshake (fresh ephemeral DH, authorization against the server's
 * current configuration) while the first keeps carrying datagrams; once the
 * second is authorized the data path moves to it (it sent a KEEPALIVE first,
 * so the server lets it take the tunnel over and closes the first with a
 * sealed REPLACED). The adapter, its lease and the host's routes stay.
 *
 * State is explicit: `lifecycle` (running → stopping → stopped),
 * `adapter` (none → opening → up), each a discriminated value, and the
 * connections: `current` (carries the data path), at most one `successor`
 * (a renewal under way) and the `retiring` ones (replaced, not yet closed).
 */
import type { GsoInfo } from '../wire/gso.js';
import type { FrameDevice } from '../../adapter/device.js';
import { DhcpServerEmulator } from '../../emulators/dhcp.js';
import { PseudoAdapter } from '../engine/pseudo-adapter.js';
import type { ByteStream, Dial } from '../io/byte-stream.js';
import { MachineDriver, type CloseAction } from '../io/driver.js';
import type { Lease } from '../lease.js';
import type { Logger } from '../log.js';
import { CloseCode, closeCodeName } from '../protocol/frames/close-codes.js';
import { encodeKey } from '../crypto/keys.js';
import { reconnectBackoff, type Backoff } from '../util/backoff.js';
import { ReconnectPolicy } from './reconnect-policy.js';
import type { AuthorizedInfo } from '../protocol/machines/actions.js';
import { DEFAULT_RECONNECT, InitiatorMachine, type InitiatorOptions, type InitiatorTarget } from '../protocol/machines/initiator.js';
import type { Socket } from 'node:net';
import { tcpRttMs } from '../io/tcp-rtt.js';
import { ClientMonitor, type ConnectionCounters } from '../ops/client-monitor.js';

export const TICK_INTERVAL_MS = 1000;
const STOP_GRACE_MS = 1000;
const STOP_POLL_MS = 20;

/** The adapter as the app opened it: a FrameDevice plus what starting and closing it takes. */
export interface ClientDevice {
  readonly device: FrameDevice;
  /** The adapter's own MAC, when known (for the tunnel events). */
  readonly mac?: string;
  /** Called after each datagram queued on `carrier` (the client's TAP pauses its reads while the carrier is behind). */
  afterSend?(carrier: ByteStream | undefined): void;
  /** Called once the adapter listens: bring the link up, configure or start the host's DHCP client. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ClientCoreOptions {
  /** The machine's options (`reconnect`: the backoff's bounds and random source). */
  machine: InitiatorOptions;
  openDevice(lease: Lease): Promise<ClientDevice>;
  /** Failover between servers: asked after each attempt whether to move on (src/client/server-rotation.ts). */
  rotation?: { readonly current: InitiatorTarget; afterAttempt(reachedAuthorization: boolean): boolean };
  dial: Dial;
  log: Logger;
  /** Self-tick every TICK_INTERVAL_MS (default true). */
  autoTick?: boolean;
  /** How many servers the rotation walks: a refusal must repeat that many times more to prove a fault. */
  servers?: number;
  /** A site gateway: the adapter takes datagrams from any source (its LAN's), not only the lease's; the server checks them. */
  forwarding?: boolean;
  /** Renew the session by a fresh handshake after a jittered 90-100 % of this (default: never). */
  sessionMaxAgeMs?: number;
  /** For the renewal jitter (default Math.random). */
  random?: () => number;
}

/** A replaced connection the server has not closed (it should, once the new one took over) is closed by us after this. */
export const RETIRE_AFTER_MS = 10_000;
/** After a renewal that failed, the current session goes on and a new attempt follows this long after (at least 1 s, at most 1 min). */
function renewalRetryMs(sessionMaxAgeMs: number): number {
  return Math.min(60_000, Math.max(1_000, sessionMaxAgeMs / 10));
}

type Lifecycle = { kind: 'running'; reachedAuthorization: boolean } | { kind: 'stopping' } | { kind: 'stopped' };
type AdapterState =
  | { kind: 'none' }
  | { kind: 'opening'; lease: Lease }
  | { kind: 'up'; lease: Lease; device: ClientDevice; adapter: PseudoAdapter };

export class ClientCore {
  /** The connection carrying the data path. */
  private current: MachineDriver;
  /** A renewal under way: a second connection making a fresh handshake. */
  private successor: MachineDriver | undefined;
  /** Connections replaced by a renewal, with when we close them if the server has not. */
  private readonly retiring = new Map<MachineDriver, number>();
  /** When the current session is renewed (undefined: never, or not up). */
  private renewAtMs: number | undefined;
  /** State, lease, traffic and the tunnel events, for status and metrics. */
  readonly monitor: ClientMonitor;
  /** Resolves when the client has stopped for good (stop(), or a refusal retrying cannot fix). */
  readonly done: Promise<void>;
  private lifecycle: Lifecycle = { kind: 'running', reachedAuthorization: false };
  private adapter: AdapterState = { kind: 'none' };
  private readonly ticker: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly policy: ReconnectPolicy;
  /** For reconnects the policy owes after closes the machine does not retry. */
  private readonly backoff: Backoff;
  /** The current connection reached authorization (the policy judges refusals only before it). */
  private connectionAuthorized = false;
  private retryOwed = false;
  private finish!: () => void;

  constructor(private readonly opts: ClientCoreOptions) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.policy = new ReconnectPolicy({ name: opts.machine.name, publicKey: encodeKey(opts.machine.local.publicKey), ...(opts.servers ? { servers: opts.servers } : {}) });
    const reconnect = opts.machine.reconnect || DEFAULT_RECONNECT;
    this.backoff = reconnectBackoff({ minMs: reconnect.minDelayMs, maxMs: reconnect.maxDelayMs, ...(reconnect.random ? { random: reconnect.random } : {}) });
    this.monitor = new ClientMonitor({ name: opts.machine.name, path: () => (opts.rotation?.current ?? opts.machine).path, log: opts.log });
    if (opts.autoTick !== false) this.monitor.start();
    this.current = this.newConnection(opts.machine);
    if (opts.autoTick !== false) this.ticker = setInterval(() => this.tick(), TICK_INTERVAL_MS);
    this.current.handle({ type: 'start' });
  }

  /** The connection carrying the data path (replaced by each reconnect-free renewal). */
  get driver(): MachineDriver {
    return this.current;
  }

  private get machine(): InitiatorMachine {
    return this.current.machine as InitiatorMachine;
  }

  /**
   * A connection and its machine. Its hooks act for the client while it is
   * `current`; a successor's report to the renewal, a retiring one's only
   * end it.
   */
  private newConnection(options: InitiatorOptions): MachineDriver {
    const driver: MachineDriver = new MachineDriver(new InitiatorMachine(options), {
      dial: (address, done) => {
        if (driver === this.current) this.connectionAuthorized = false;
        this.opts.log.info({ server: address, renewal: driver === this.successor }, 'connecting');
        this.opts.dial(address, done);
      },
      onAuthorized: (info) => (driver === this.current ? this.onAuthorized(info) : this.onRenewed(driver, info)),
      onClose: (close) => {
        if (driver === this.current) this.onClose(close);
        else if (driver === this.successor) this.onRenewalFailed(close);
      },
      onReconnect: (delayMs) => {
        if (driver === this.current) this.scheduleReconnect(delayMs);
      },
    });
    return driver;
  }

  /** The lease the adapter serves (undefined before the first authorization). */
  get lease(): Lease | undefined {
    return this.adapter.kind === 'none' ? undefined : this.adapter.lease;
  }

  get pseudoAdapter(): PseudoAdapter | undefined {
    return this.adapter.kind === 'up' ? this.adapter.adapter : undefined;
  }

  async stop(): Promise<void> {
    if (this.lifecycle.kind !== 'running') return this.done;
    this.lifecycle = { kind: 'stopping' };
    clearInterval(this.ticker);
    clearTimeout(this.reconnectTimer);
    this.monitor.stopped();
    const drivers = [this.current, ...(this.successor ? [this.successor] : []), ...this.retiring.keys()];
    for (const driver of drivers) driver.handle({ type: 'closeRequested', code: CloseCode.NORMAL, reason: 'client stopping' });
    // The CLOSE is queued and the stream waits for the server's FIN (frame-socket.ts closeSoon): until then, at most STOP_GRACE_MS.
    const deadline = Date.now() + STOP_GRACE_MS;
    while (drivers.some((d) => d.socket?.isOpen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, STOP_POLL_MS));
    for (const driver of drivers) driver.destroy();
    const adapter = this.adapter;
    if (adapter.kind === 'up') {
      adapter.adapter.close(); // no more router advertisements
      await adapter.device.close(); // the kernel removes the device, its address and its routes
    }
    this.opts.log.info({ counters: adapter.kind === 'up' ? adapter.adapter.counters.snapshot() : undefined, link: this.driver.counters }, 'client stopped');
    this.lifecycle = { kind: 'stopped' };
    this.finish();
  }

  /** Verified datagrams go to the adapter once it is up (before that, the host has no address to take them). */
  private readonly deliver = (_etherType: number, datagram: Uint8Array, gso?: GsoInfo): void => {
    if (this.adapter.kind === 'up') this.adapter.adapter.deliverSoon(datagram, gso);
  };

  private onAuthorized(info: AuthorizedInfo): (etherType: number, datagram: Uint8Array, gso?: GsoInfo) => void {
    this.settleAuthorized(info);
    this.monitor.authorized(info.lease, info.suite, this.countersOf(this.current));
    return this.deliver;
  }

  /** What every authorized current connection does: the reconnect policy and backoff hear of it, the lease goes to the adapter, the next renewal is set. */
  private settleAuthorized(info: AuthorizedInfo): void {
    if (this.lifecycle.kind === 'running') this.lifecycle.reachedAuthorization = true;
    this.connectionAuthorized = true;
    this.policy.authorized();
    this.backoff.reset();
    const maxAgeMs = this.opts.sessionMaxAgeMs;
    this.renewAtMs = maxAgeMs === undefined ? undefined : Date.now() + maxAgeMs * (0.9 + 0.1 * (this.opts.random ?? Math.random)());
    if (this.adapter.kind === 'none') void this.openAdapter(info.lease);
    else if (this.adapter.kind === 'up') this.adapter.adapter.setLease(info.lease); // normally the same: the server keeps it for us
  }

  private countersOf(driver: MachineDriver): () => ConnectionCounters {
    const socket = driver.socket;
    const machine = driver.machine as InitiatorMachine;
    return () => {
      const stats = machine.session?.stats;
      return {
        traffic: { bytesReceived: stats?.bytesReceived ?? 0, bytesSent: stats?.bytesSent ?? 0, datagramsReceived: socket?.counters.datagramsReceived ?? 0, datagramsSent: socket?.counters.datagramsSent ?? 0 },
        keyGeneration: machine.session?.sendKeyId ?? 0,
        rttMs: tcpRttMs(socket?.stream as Socket | undefined),
      };
    };
  }

  /** The session is due for renewal: a second connection to the same server makes a full handshake beside the current one. */
  private renew(): void {
    this.renewAtMs = undefined;
    this.opts.log.info({ sessionMaxAgeMs: this.opts.sessionMaxAgeMs }, 'renewing the session: a fresh handshake on a second connection');
    this.successor = this.newConnection({ ...this.opts.machine, ...this.opts.rotation?.current });
    this.successor.handle({ type: 'start' });
  }

  /**
   * The renewal's connection is authorized (its machine sent a KEEPALIVE
   * first, so the server hands it the tunnel): it carries the data path from
   * now on. The replaced one keeps delivering what the server still sends on
   * it until the server closes it (sealed REPLACED), or we do after
   * RETIRE_AFTER_MS.
   */
  private onRenewed(driver: MachineDriver, info: AuthorizedInfo): (etherType: number, datagram: Uint8Array) => void {
    this.retiring.set(this.current, Date.now() + RETIRE_AFTER_MS);
    this.current = driver;
    this.successor = undefined;
    this.settleAuthorized(info);
    this.monitor.renewed(info.lease, info.suite, this.countersOf(driver));
    this.opts.log.info({ suite: info.suite, address: info.lease.address }, 'session renewed: the data path moved to the new connection');
    return this.deliver;
  }

  /** The renewal did not come up: the current session goes on, and we try again later (the server's hard limit still bounds its age). */
  private onRenewalFailed(close: CloseAction): void {
    this.retiring.set(this.successor!, Date.now()); // ticked until its stream is gone
    this.successor = undefined;
    const retryMs = renewalRetryMs(this.opts.sessionMaxAgeMs ?? 0);
    this.renewAtMs = Date.now() + retryMs;
    this.opts.log.warn({ code: closeCodeName(close.code), reason: close.reason, by: close.by, retryMs }, 'session renewal failed: the current session goes on');
  }

  /** Replaced connections: ticked until dead, closed by us if the server did not within RETIRE_AFTER_MS. */
  private tickRetiring(nowMs: number): void {
    for (const [driver, closeAtMs] of this.retiring) {
      driver.tick();
      if (driver.machine.state === 'dead') {
        driver.destroy();
        this.retiring.delete(driver);
      } else if (nowMs >= closeAtMs && driver.machine.state === 'authorized') {
        driver.handle({ type: 'closeRequested', code: CloseCode.NORMAL, reason: 'replaced by a renewed session' });
      }
    }
  }

  private async openAdapter(lease: Lease): Promise<void> {
    this.adapter = { kind: 'opening', lease };
    try {
      const device = await this.opts.openDevice(lease);
      if (this.lifecycle.kind !== 'running') return void (await device.close());
      const adapter = new PseudoAdapter({ device: device.device, lease, dhcp: new DhcpServerEmulator(lease), forwarding: this.opts.forwarding ?? false, logger: this.opts.log, onDatagram: this.sendFrom(device) });
      this.adapter = { kind: 'up', lease, device, adapter };
      this.monitor.setMac(device.mac);
      await device.start();
    } catch (error) {
      this.opts.log.error({ error: (error as Error).message }, 'could not bring up the adapter');
      void this.stop();
    }
  }

  /** The adapter's datagram handler: straight into the driver, unless the device wants to see each send. */
  private sendFrom(device: ClientDevice): (datagram: Uint8Array, etherType: number, gso?: GsoInfo) => void {
    const afterSend = device.afterSend?.bind(device);
    if (!afterSend) return this.sendFromAdapter;
    return (datagram, etherType, gso) => {
      this.current.sendDatagram(etherType, datagram, gso);
      afterSend(this.current.socket?.stream);
    };
  }

  /** The adapter's datagrams go to whichever connection is current (a renewal moves them). */
  private readonly sendFromAdapter = (datagram: Uint8Array, etherType: number, gso?: GsoInfo): void => void this.current.sendDatagram(etherType, datagram, gso);

  private onClose(close: CloseAction): void {
    this.monitor.closed(closeCodeName(close.code), close.reason, close.by);
    this.renewAtMs = undefined;
    const successor = this.successor;
    if (successor) {
      // The current connection ended first: the ordinary reconnect takes over, not a half-made renewal.
      this.successor = undefined;
      this.retiring.set(successor, Date.now());
      successor.handle({ type: 'closeRequested', code: CloseCode.NORMAL, reason: 'the session it was renewing ended' });
    }
    if (this.lifecycle.kind !== 'running') return;
    const entry = { code: closeCodeName(close.code), reason: close.reason, by: close.by };
    // `final`: the machine authenticated this close (a refusal in the RESPONSE, a SEALED_CLOSE) — the one kind the policy may believe at once.
    const verdict = this.policy.onClose({ ...close, wasAuthorized: this.connectionAuthorized, authenticated: close.final === true });
    if (verdict.kind === 'exit') {
      this.opts.log.error(entry, verdict.message);
      void this.stop();
      return;
    }
    this.opts.log.warn(entry, verdict.message);
    this.retryOwed = true; // settled by the machine's reconnect, or by tick() when the machine ends dead without one
  }

  /** Time passes: the machine's timers, then a reconnect the policy owes for a close the machine does not retry. */
  tick(): void {
    const nowMs = Date.now();
    this.current.tick();
    this.successor?.tick();
    this.tickRetiring(nowMs);
    if (this.adapter.kind === 'up') this.adapter.adapter.tick(); // the periodic router advertisements
    if (this.renewAtMs !== undefined && nowMs >= this.renewAtMs && !this.successor && this.lifecycle.kind === 'running' && this.machine.state === 'authorized') this.renew();
    if (this.retryOwed && this.lifecycle.kind === 'running' && this.machine.state === 'dead') this.scheduleReconnect(this.backoff.next());
  }

  /** The machine says when a retry is due: at once after key expiry, else after its jittered backoff. */
  private scheduleReconnect(delayMs: number): void {
    if (this.lifecycle.kind !== 'running') return;
    this.retryOwed = false;
    const rotation = this.opts.rotation;
    if (rotation?.afterAttempt(this.lifecycle.reachedAuthorization)) {
      this.machine.retarget(rotation.current);
      this.opts.log.info({ server: rotation.current.path.at(-1) }, 'failing over to the next server');
    }
    this.lifecycle.reachedAuthorization = false;
    this.opts.log.info({ delayMs }, 'reconnect scheduled');
    this.monitor.backingOff(delayMs);
    this.reconnectTimer = setTimeout(() => {
      this.monitor.connecting();
      this.driver.handle({ type: 'start' });
    }, delayMs);
  }
}
