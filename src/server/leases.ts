/**
 * The server's address leases: one address per client name, from the tunnel
 * network (network, broadcast and gateway excluded), or the client's fixed
 * address. A client gets the same address back on every reconnect; an
 * address is never given to two clients. The table is persisted with an
 * atomic replace (temp file, fsync, rename, fsync of the directory) after
 * every change, so a restart keeps it; a corrupt file is moved aside and
 * reported, never silently emptied.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ipv4ToNumber, numberToIpv4, prefixToMask, type Ipv4Address } from '../wire/addr.js';

export interface LeasePool {
  network: Ipv4Address;
  prefixLength: number;
  gateway: Ipv4Address;
  /** name → fixed address, reserved for that client only. */
  fixed: ReadonlyMap<string, Ipv4Address>;
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

interface LeaseFile {
  version: 1;
  leases: Record<string, Ipv4Address>;
}

export class LeaseStore {
  readonly #byName = new Map<string, Ipv4Address>();
  readonly #byAddress = new Map<Ipv4Address, string>();

  private constructor(
    private readonly pool: LeasePool,
    private readonly file: string | undefined,
  ) {}

  /**
   * Opens the store, loading `file` if it exists. A corrupt file is renamed to
   * `<file>.corrupt-<time>` and `onCorrupt` is told where it went.
   */
  static async open(pool: LeasePool, file: string | undefined, onCorrupt?: (message: string) => void): Promise<LeaseStore> {
    const store = new LeaseStore(pool, file);
    if (!file) return store;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw error;
    }
    const problem = store.#load(text);
    if (problem) {
      const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(file, aside);
      onCorrupt?.(`${file}: ${problem}; moved it to ${aside} and started with an empty lease table`);
    }
    return store;
  }

  get size(): number {
    return this.#byName.size;
  }

  addressOf(name: string): Ipv4Address | undefined {
    return this.#byName.get(name);
  }

  holderOf(address: Ipv4Address): string | undefined {
    return this.#byAddress.get(address);
  }

  /**
   * The client's address: its existing lease, its fixed address, or the
   * lowest free one. Synchronous so authorization can answer at once; the
   * table is written to disk in the background (`flush()` awaits it).
   */
  acquire(name: string): Ipv4Address {
    const fixed = this.pool.fixed.get(name);
    const current = this.#byName.get(name);
    if (current && (!fixed || current === fixed)) return current;
    if (current) this.#forget(name);
    const address = fixed ?? this.#firstFree();
    const holder = this.#byAddress.get(address);
    if (holder) this.#forget(holder); // a fixed address outranks a dynamic lease held by another client
    this.#byName.set(name, address);
    this.#byAddress.set(address, name);
    this.#persistSoon();
    return address;
  }

  /** Resolves once every change so far is on disk; rejects with the write error if one failed. */
  async flush(): Promise<void> {
    await this.#writing;
  }

  #writing: Promise<void> = Promise.resolve();

  #persistSoon(): void {
    this.#writing = this.#writing.catch(() => undefined).then(() => this.#persist());
    this.#writing.catch(() => undefined); // surfaced by flush(), never an unhandled rejection
  }

  async release(name: string): Promise<void> {
    if (!this.#byName.has(name)) return;
    this.#forget(name);
    this.#persistSoon();
    await this.flush();
  }

  #forget(name: string): void {
    const address = this.#byName.get(name);
    this.#byName.delete(name);
    if (address) this.#byAddress.delete(address);
  }

  #firstFree(): Ipv4Address {
    const network = ipv4ToNumber(this.pool.network);
    const hostCount = 2 ** (32 - this.pool.prefixLength);
    const reserved = new Set([this.pool.gateway, ...this.pool.fixed.values()]);
    for (let host = 1; host < hostCount - 1; host++) {
      const address = numberToIpv4((network + host) >>> 0);
      if (!reserved.has(address) && !this.#byAddress.has(address)) return address;
    }
    throw new LeaseError('POOL_EXHAUSTED', `no free address left in ${this.pool.network}/${this.pool.prefixLength} (${this.#byName.size} leases): widen tunnel.network`);
  }

  /** Returns a description of what is wrong with `text`, or undefined when it loaded. */
  #load(text: string): string | undefined {
    let data: LeaseFile;
    try {
      data = JSON.parse(text) as LeaseFile;
    } catch (error) {
      return `not valid JSON (${(error as Error).message})`;
    }
    if (data?.version !== 1 || typeof data.leases !== 'object' || data.leases === null) return 'expected {"version": 1, "leases": {...}}';
    const mask = prefixToMask(this.pool.prefixLength);
    const network = ipv4ToNumber(this.pool.network);
    for (const [name, address] of Object.entries(data.leases)) {
      let value: number;
      try {
        value = ipv4ToNumber(address);
      } catch {
        return `lease of "${name}" is not an IPv4 address: ${JSON.stringify(address)}`;
      }
      // Leases outside a (re-configured) network are dropped, not an error: the client gets a new one.
      if (((value & mask) >>> 0) !== network || this.#byAddress.has(address)) continue;
      this.#byName.set(name, address);
      this.#byAddress.set(address, name);
    }
    return undefined;
  }

  async #persist(): Promise<void> {
    if (!this.file) return;
    const data: LeaseFile = { version: 1, leases: Object.fromEntries(this.#byName) };
    const temp = `${this.file}.tmp-${process.pid}`;
    const handle = await open(temp, 'w', 0o640);
    try {
      await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
    const dir = await open(dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
