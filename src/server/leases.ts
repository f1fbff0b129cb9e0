/**
 * The server's address leases: one address per client name, from the pool
 * (inside the tunnel network; network, broadcast and gateway excluded), or
 * the client's fixed address, which no other client is ever given.
 *
 * Guarantees:
 * - never the same address to two clients (two maps kept in step; property-tested);
 * - a client gets its address back on every reconnect: while the lease is
 *   valid, and after it expired too unless the pool ran short and it went
 *   to someone else (fresh addresses are handed out before expired ones,
 *   and a connected client's lease is never taken);
 * - the table is persisted after every change with an atomic replace
 *   (src/util/atomic-write.ts), so a restart keeps it; writes are coalesced;
 * - a corrupt file is moved aside to `<file>.corrupt-<time>` and reported
 *   (which file, what was wrong, where it went), never silently emptied.
 *
 * - the last handshake timestamp accepted from each authorized client key is
 *   kept with the leases (`recordHandshake`), so a REQUEST recorded before a
 *   restart is still refused as a replay after it (replay-guard.ts).
 *
 * File format (JSON): {"version": 1, "leases": {name: address}, "expires": {name: epoch ms},
 * "handshakes": {client public key hex: TAI64N timestamp hex}}.
 */
import { readFile, rename } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { inSubnet, ipv4ToNumber, numberToIpv4, type Ipv4Address } from '../wire/addr.js';

export const DEFAULT_LEASE_TIME_MS = 3600_000;
const LEASE_FILE_MODE = 0o640;

export interface LeasePool {
  network: Ipv4Address;
  prefixLength: number;
  gateway: Ipv4Address;
  /** name → fixed address, reserved for that client only. */
  fixed: ReadonlyMap<string, Ipv4Address>;
  /** Dynamic range, inclusive; default: every host of the network. */
  start?: Ipv4Address;
  end?: Ipv4Address;
  leaseTimeMs?: number;
}

export class LeaseError extends Error {
  override readonly name = 'LeaseError';
  constructor(
    readonly code: 'POOL_EXHAUSTED' | 'CORRUPT_FILE',
    message: string,
  ) {
    super(message);
  }
}

export interface OpenOptions {
  /** A corrupt file was moved aside: the message says which file, what was wrong and where it went. */
  onCorrupt?: (message: string) => void;
  /** A stored lease no longer fits the configuration (address outside the network, on the gateway or on another's fixed address) and was dropped. */
  onDropped?: (message: string) => void;
  nowMs?: () => number;
}

interface Binding {
  address: Ipv4Address;
  expiresAtMs: number;
  /** Held by a connected client: never reclaimed, whatever its expiry. */
  active: boolean;
}

interface LeaseFile {
  version: 1;
  leases: Record<string, Ipv4Address>;
  expires?: Record<string, number>;
  handshakes?: Record<string, string>;
}

const KEY_HEX = /^[0-9a-f]{64}$/;
const TAI64N_HEX = /^[0-9a-f]{24}$/;

export class LeaseStore {
  readonly #byName = new Map<string, Binding>();
  readonly #byAddress = new Map<Ipv4Address, string>();
  readonly #leaseTimeMs: number;
  readonly #first: number;
  readonly #last: number;
  readonly #reserved: Set<Ipv4Address>;
  /** client public key (hex) → last accepted handshake timestamp (TAI64N, hex). */
  readonly #handshakes = new Map<string, string>();
  #dirty = false;
  #writing: Promise<void> = Promise.resolve();
  #writeError: Error | undefined;

  private constructor(
    private readonly pool: LeasePool,
    private readonly file: string | undefined,
  ) {
    const network = ipv4ToNumber(pool.network);
    const size = 2 ** (32 - pool.prefixLength);
    this.#first = pool.start ? ipv4ToNumber(pool.start) : network + 1;
    this.#last = pool.end ? ipv4ToNumber(pool.end) : network + size - 2;
    this.#leaseTimeMs = pool.leaseTimeMs ?? DEFAULT_LEASE_TIME_MS;
    this.#reserved = new Set([pool.gateway, ...pool.fixed.values()]);
  }

  /**
   * Opens the store, loading `file` if it exists (none: an empty table). A
   * corrupt file is renamed to `<file>.corrupt-<time>` and reported through
   * `onCorrupt`; the store then starts empty.
   */
  static async open(pool: LeasePool, file: string | undefined, options: OpenOptions | ((message: string) => void) = {}): Promise<LeaseStore> {
    const opts: OpenOptions = typeof options === 'function' ? { onCorrupt: options } : options;
    const store = new LeaseStore(pool, file);
    if (!file) return store;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw error;
    }
    const problem = store.#load(text, opts.onDropped);
    if (problem) {
      store.#byName.clear(); // nothing from a corrupt file is trusted, not even the part before the problem
      store.#byAddress.clear();
      const aside = `${file}.corrupt-${new Date(opts.nowMs?.() ?? Date.now()).toISOString().replace(/[:.]/g, '-')}`;
      await rename(file, aside);
      opts.onCorrupt?.(`${file}: corrupt lease file: ${problem}; moved it to ${aside} and started with an empty lease table`);
    }
    return store;
  }

  get size(): number {
    return this.#byName.size;
  }

  addressOf(name: string): Ipv4Address | undefined {
    return this.#byName.get(name)?.address;
  }

  holderOf(address: Ipv4Address): string | undefined {
    return this.#byAddress.get(address);
  }

  /** name → { address, expiresAtMs, active }, for status output and tests. */
  snapshot(): Map<string, Readonly<Binding>> {
    return new Map([...this.#byName].map(([name, b]) => [name, { ...b }]));
  }

  /**
   * The client's address, marked in use: its fixed address, its existing
   * lease, the lowest never-used address, or else the longest-expired
   * lease of a client that is not connected. Synchronous so authorization
   * answers at once; the table is written behind it (`flush()` awaits it).
   * Throws LeaseError POOL_EXHAUSTED when nothing is left.
   */
  acquire(name: string, nowMs: number = Date.now()): Ipv4Address {
    const fixed = this.pool.fixed.get(name);
    const current = this.#byName.get(name);
    let address: Ipv4Address;
    if (current && (!fixed || current.address === fixed)) {
      address = current.address;
    } else {
      if (current) this.#unbind(name);
      address = fixed ?? this.#firstFree() ?? this.#reclaim(nowMs);
      const holder = this.#byAddress.get(address);
      if (holder !== undefined) this.#unbind(holder); // only for a fixed address a stale dynamic lease sat on
    }
    this.#bind(name, { address, expiresAtMs: nowMs + this.#leaseTimeMs, active: true });
    return address;
  }

  /** Extends a connected client's lease (e.g. on DHCP renewal or periodically). */
  renew(name: string, nowMs: number = Date.now()): void {
    const binding = this.#byName.get(name);
    if (binding) this.#bind(name, { ...binding, expiresAtMs: nowMs + this.#leaseTimeMs });
  }

  /**
   * The client disconnected. Its lease stays valid until it expires (so a
   * reconnect gets the same address) and is reclaimed only after that, and
   * only when the pool has nothing fresh left.
   */
  release(name: string): void {
    const binding = this.#byName.get(name);
    if (binding?.active) this.#bind(name, { ...binding, active: false });
  }

  /** The last handshake timestamp accepted from `publicKey`, if any (persisted). */
  lastHandshake(publicKey: Uint8Array): Uint8Array | undefined {
    const hex = this.#handshakes.get(Buffer.from(publicKey).toString('hex'));
    return hex === undefined ? undefined : new Uint8Array(Buffer.from(hex, 'hex'));
  }

  /** Remembers `timestamp` as the last accepted from `publicKey`, written behind like every change. Call for authorized clients only. */
  recordHandshake(publicKey: Uint8Array, timestamp: Uint8Array): void {
    this.#handshakes.set(Buffer.from(publicKey).toString('hex'), Buffer.from(timestamp).toString('hex'));
    this.#persistSoon();
  }

  /** Removes a client's lease entirely (the client was deleted from the config). */
  forget(name: string): void {
    if (!this.#byName.has(name)) return;
    this.#unbind(name);
    this.#persistSoon();
  }

  /** Resolves once every change so far is on disk; rejects with the write error if one failed. */
  async flush(): Promise<void> {
    await this.#writing;
    if (this.#writeError) {
      const error = this.#writeError;
      this.#writeError = undefined;
      throw error;
    }
  }

  #bind(name: string, binding: Binding): void {
    this.#byName.set(name, binding);
    this.#byAddress.set(binding.address, name);
    this.#persistSoon();
  }

  #unbind(name: string): void {
    const binding = this.#byName.get(name);
    this.#byName.delete(name);
    if (binding && this.#byAddress.get(binding.address) === name) this.#byAddress.delete(binding.address);
  }

  #firstFree(): Ipv4Address | undefined {
    for (let n = this.#first; n <= this.#last; n++) {
      const address = numberToIpv4(n >>> 0);
      if (!this.#reserved.has(address) && !this.#byAddress.has(address)) return address;
    }
    return undefined;
  }

  /** The address of the disconnected client whose lease expired longest ago. */
  #reclaim(nowMs: number): Ipv4Address {
    let oldest: [string, Binding] | undefined;
    for (const entry of this.#byName) {
      const [name, b] = entry;
      if (b.active || b.expiresAtMs > nowMs || this.pool.fixed.get(name) === b.address) continue;
      const n = ipv4ToNumber(b.address);
      if (n < this.#first || n > this.#last) continue;
      if (!oldest || b.expiresAtMs < oldest[1].expiresAtMs) oldest = entry;
    }
    if (!oldest) {
      throw new LeaseError('POOL_EXHAUSTED', `no free address left in the pool ${numberToIpv4(this.#first)}-${numberToIpv4(this.#last)} (${this.#byName.size} leases, none expired): widen tunnel.network or the pool, or shorten tunnel.lease_time`);
    }
    this.#unbind(oldest[0]);
    return oldest[1].address;
  }

  /** Fills the table from `text`; returns what is wrong with it, or undefined when it loaded. */
  #load(text: string, onDropped?: (message: string) => void): string | undefined {
    const parsed = parseLeaseFile(text);
    if (typeof parsed === 'string') return parsed;
    const network = ipv4ToNumber(this.pool.network);
    for (const [name, address] of Object.entries(parsed.leases)) {
      const holder = this.#byAddress.get(address);
      if (holder !== undefined) return `"${name}" and "${holder}" both hold ${address}`;
      const fixedFor = [...this.pool.fixed].find(([, a]) => a === address)?.[0];
      const reason = !inSubnet(ipv4ToNumber(address), network, this.pool.prefixLength)
        ? `outside ${this.pool.network}/${this.pool.prefixLength}`
        : address === this.pool.gateway
          ? 'the gateway address'
          : fixedFor !== undefined && fixedFor !== name
            ? `the fixed address of "${fixedFor}"`
            : undefined;
      if (reason) {
        onDropped?.(`lease of "${name}" on ${address} dropped: ${reason} (the client gets a new address)`);
        continue;
      }
      this.#byName.set(name, { address, expiresAtMs: parsed.expires?.[name] ?? 0, active: false });
      this.#byAddress.set(address, name);
    }
    for (const [key, timestamp] of Object.entries(parsed.handshakes ?? {})) this.#handshakes.set(key, timestamp);
    return undefined;
  }

  #persistSoon(): void {
    if (!this.file || this.#dirty) return;
    this.#dirty = true;
    // One write after the current one, carrying every change made until it starts.
    this.#writing = this.#writing.then(() => this.#persist());
  }

  async #persist(): Promise<void> {
    this.#dirty = false;
    const data: LeaseFile = { version: 1, leases: {}, expires: {}, handshakes: Object.fromEntries(this.#handshakes) };
    for (const [name, b] of this.#byName) {
      data.leases[name] = b.address;
      data.expires![name] = b.expiresAtMs;
    }
    try {
      await writeFileAtomic(this.file!, `${JSON.stringify(data, null, 2)}\n`, { mode: LEASE_FILE_MODE });
    } catch (error) {
      this.#writeError = new Error(`${this.file}: cannot write the lease file: ${(error as Error).message}`);
    }
  }
}

/** Checks the file's shape; returns the parsed table or a description of the problem. */
export function parseLeaseFile(text: string): LeaseFile | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  const file = data as Partial<LeaseFile> | null;
  if (typeof file !== 'object' || file === null || Array.isArray(file)) return 'expected a JSON object {"version": 1, "leases": {...}}';
  if (file.version !== 1) return `expected "version": 1, got ${JSON.stringify(file.version)}`;
  if (typeof file.leases !== 'object' || file.leases === null || Array.isArray(file.leases)) return 'expected "leases" to be an object of client name → address';
  for (const [name, address] of Object.entries(file.leases)) {
    if (typeof address !== 'string') return `lease of "${name}": expected an IPv4 address string, got ${JSON.stringify(address)}`;
    try {
      ipv4ToNumber(address);
    } catch {
      return `lease of "${name}": expected an IPv4 address, got ${JSON.stringify(address)}`;
    }
  }
  if (file.expires !== undefined) {
    if (typeof file.expires !== 'object' || file.expires === null || Array.isArray(file.expires)) return 'expected "expires" to be an object of client name → time in ms';
    for (const [name, at] of Object.entries(file.expires)) {
      if (typeof at !== 'number' || !Number.isFinite(at)) return `expiry of "${name}": expected a time in ms, got ${JSON.stringify(at)}`;
    }
  }
  if (file.handshakes !== undefined) {
    if (typeof file.handshakes !== 'object' || file.handshakes === null || Array.isArray(file.handshakes)) return 'expected "handshakes" to be an object of client key (hex) → TAI64N timestamp (hex)';
    for (const [key, timestamp] of Object.entries(file.handshakes)) {
      if (!KEY_HEX.test(key)) return `handshakes: expected a 64-digit lowercase hex client key, got ${JSON.stringify(key)}`;
      if (typeof timestamp !== 'string' || !TAI64N_HEX.test(timestamp)) return `handshake of ${key}: expected a 24-digit lowercase hex TAI64N timestamp, got ${JSON.stringify(timestamp)}`;
    }
  }
  return file as LeaseFile;
}
