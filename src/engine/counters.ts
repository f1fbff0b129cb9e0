/**
 * Named event counters for the data path: a dropped frame is counted with
 * its reason instead of being thrown. Keys are short stable strings (e.g.
 * "drop:ipv6"); incrementing an existing key allocates nothing.
 */
export class Counters {
  readonly #values = new Map<string, number>();

  increment(key: string, by = 1): void {
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  get(key: string): number {
    return this.#values.get(key) ?? 0;
  }

  /** A copy of all counters with their keys sorted, for logs and tests. */
  snapshot(): Record<string, number> {
    const keys = [...this.#values.keys()].sort();
    return Object.fromEntries(keys.map((key) => [key, this.#values.get(key)!]));
  }

  reset(): void {
    this.#values.clear();
  }
}
