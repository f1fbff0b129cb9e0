/**
 * Failover between servers (client.toml `servers = [...]`): which server the
 * next connection goes to. After an attempt that reached authorization the
 * same server is tried again first (a dropped tunnel is usually the network,
 * and that server holds our lease); after one that never did, the next
 * server: in list order ("in-order", wrapping around) or another one drawn
 * at random ("random"). The reconnect backoff still spaces the attempts.
 * Pure: the random source is injected.
 */
import type { ServerEntry } from '../config/client.js';
import { decodeKey } from '../crypto/keys.js';
import { hostPortName } from '../protocol/frames/names.js';
import type { InitiatorTarget } from '../protocol/machines/initiator.js';
export type ServerOrder = 'in-order' | 'random';

export class ServerRotation<T> {
  #index = 0;

  constructor(
    private readonly entries: readonly T[],
    private readonly order: ServerOrder,
    private readonly random: () => number = Math.random,
  ) {
    if (entries.length === 0) throw new RangeError('server rotation: expected at least one server');
    if (order === 'random') this.#index = Math.floor(random() * entries.length);
  }

  get current(): T {
    return this.entries[this.#index]!;
  }

  get index(): number {
    return this.#index;
  }

  /** Called before each reconnect; returns true when it moved to another server. */
  afterAttempt(reachedAuthorization: boolean): boolean {
    if (reachedAuthorization || this.entries.length === 1) return false;
    if (this.order === 'in-order') {
      this.#index = (this.#index + 1) % this.entries.length;
    } else {
      // Uniform over the others: draw among n - 1 and skip the current one.
      const draw = Math.floor(this.random() * (this.entries.length - 1));
      this.#index = draw >= this.#index ? draw + 1 : draw;
    }
    return true;
  }
}

/** A server entry of the config as the initiator machine needs it: pinned key, path through the relays, name. */
export function serverTarget(entry: ServerEntry, relays: readonly string[], where: string): InitiatorTarget {
  return {
    serverPublicKey: decodeKey(entry.public_key, where),
    path: [...relays, hostPortName(entry.address, entry.port)],
    ...(entry.name ? { destination: entry.name } : {}),
  };
}
