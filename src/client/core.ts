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
 * State is explicit: `lifecycle` (running → stopping → stopped) and
 * `adapter` (none → opening → up), each a discriminated value.
 */
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
import { ClientMonitor } from '../ops/client-monitor.js';

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
}

type Lifecycle = { kind: 'running'; reachedAuthorization: boolean } | { kind: 'stopping' } | { kind: 'stopped' };
type AdapterState =
  | { kind: 'none' }
  | { kind: 'opening'; lease: Lease }
  | { kind: 'up'; lease: Lease; device: ClientDevice; adapter: PseudoAdapter };

export class ClientCore {
  readonly driver: MachineDriver;
  /** State, lease, traffic and the tunnel events, for status and metrics. */
  readonly monitor: ClientMonitor;
  /** Resolves when the client has stopped for good (stop(), or a refusal retrying cannot fix). */
  readonly done: Promise<void>;
  private lifecycle: Lifecycle = { kind: 'running', reachedAuthorization: false };
  private readonly machine: InitiatorMachine;
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
    this.machine = new InitiatorMachine(opts.machine);
    this.policy = new ReconnectPolicy({ name: opts.machine.name, publicKey: encodeKey(opts.machine.local.publicKey), ...(opts.servers ? { servers: opts.servers } : {}) });
    const reconnect = opts.machine.reconnect || DEFAULT_RECONNECT;
    this.backoff = reconnectBackoff({ minMs: reconnect.minDelayMs, maxMs: reconnect.maxDelayMs, ...(reconnect.random ? { random: reconnect.random } : {}) });
    this.monitor = new ClientMonitor({ name: opts.machine.name, path: () => (opts.rotation?.current ?? opts.machine).path, log: opts.log });
    if (opts.autoTick !== false) this.monitor.start();
    this.driver = new MachineDriver(this.machine, {
      dial: (address, done) => {
        this.connectionAuthorized = false;
        opts.log.info({ server: address }, 'connecting');
        opts.dial(address, done);
      },
      onAuthorized: (info) => this.onAuthorized(info),
      onClose: (close) => this.onClose(close),
      onReconnect: (delayMs) => this.scheduleReconnect(delayMs),
    });
    if (opts.autoTick !== false) this.ticker = setInterval(() => this.tick(), TICK_INTERVAL_MS);
    this.driver.handle({ type: 'start' });
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
    this.driver.handle({ type: 'closeRequested', code: CloseCode.NORMAL, reason: 'client stopping' });
    // The CLOSE is queued and the stream waits for the server's FIN (frame-socket.ts closeSoon): until then, at most STOP_GRACE_MS.
    const deadline = Date.now() + STOP_GRACE_MS;
    while (this.driver.socket?.isOpen && Date.now() < deadline) await new Promise((r) => setTimeout(r, STOP_POLL_MS));
    this.driver.destroy();
    const adapter = this.adapter;
    if (adapter.kind === 'up') await adapter.device.close(); // the kernel removes the device, its address and its routes
    this.opts.log.info({ counters: adapter.kind === 'up' ? adapter.adapter.counters.snapshot() : undefined, link: this.driver.counters }, 'client stopped');
    this.lifecycle = { kind: 'stopped' };
    this.finish();
  }

  /** Verified datagrams go to the adapter once it is up (before that, the host has no address to take them). */
  private readonly deliver = (_etherType: number, datagram: Uint8Array): void => {
    if (this.adapter.kind === 'up') this.adapter.adapter.deliverSoon(datagram);
  };

  private onAuthorized(info: AuthorizedInfo): (etherType: number, datagram: Uint8Array) => void {
    if (this.lifecycle.kind === 'running') this.lifecycle.reachedAuthorization = true;
    this.connectionAuthorized = true;
    this.policy.authorized();
    this.backoff.reset();
    const socket = this.driver.socket;
    this.monitor.authorized(info.lease, info.suite, () => {
      const stats = this.machine.session?.stats;
      return {
        traffic: { bytesReceived: stats?.bytesReceived ?? 0, bytesSent: stats?.bytesSent ?? 0, datagramsReceived: socket?.counters.datagramsReceived ?? 0, datagramsSent: socket?.counters.datagramsSent ?? 0 },
        keyGeneration: this.machine.session?.sendKeyId ?? 0,
        rttMs: tcpRttMs(socket?.stream as Socket | undefined),
      };
    });
    if (this.adapter.kind === 'none') void this.openAdapter(info.lease);
    else if (this.adapter.kind === 'up') this.adapter.adapter.setLease(info.lease); // normally the same: the server keeps it for us
    return this.deliver;
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
  private sendFrom(device: ClientDevice): (datagram: Uint8Array, etherType: number) => void {
    const afterSend = device.afterSend?.bind(device);
    if (!afterSend) return this.driver.sendFromAdapter;
    return (datagram, etherType) => {
      this.driver.sendDatagram(etherType, datagram);
      afterSend(this.driver.socket?.stream);
    };
  }

  private onClose(close: CloseAction): void {
    this.monitor.closed(closeCodeName(close.code), close.reason, close.by);
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
    this.driver.tick();
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
