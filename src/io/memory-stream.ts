/**
 * Two ByteStreams joined back to back in memory, for tests that need no
 * network. Bytes written on one side arrive at the other's `data` listener
 * later (never inside `write`), in write order, one chunk per write, as a
 * copy (a network copies: the writer may reuse its buffer once `written`
 * ran, while the reader still holds what arrived). Cork is accepted and
 * ignored: a test's queue has no event-loop turn to wait for. `end()` on
 * either side closes both after the bytes already written arrive, as a socket pair without half-open would;
 * `destroy()` closes both at once and drops what is in flight.
 *
 * `schedule` decides when deliveries run: by default `setImmediate`, like a
 * socket read on a later turn; a test can pass its own queue and drain it
 * synchronously (test/unit/protocol/pipe.ts). `intercept` sees every chunk
 * in flight and may replace or drop it (a tampering network).
 */
import { EventEmitter } from 'node:events';
import type { ByteStream, Dial, Peer } from './byte-stream.js';

export interface MemoryStreamOptions {
  schedule?: (task: () => void) => void;
  /** Called per chunk in flight from side `from` (0 = first, 1 = second); return the chunk to deliver, or undefined to drop it. */
  intercept?: (from: 0 | 1, chunk: Buffer) => Buffer | undefined;
}

class MemoryStream extends EventEmitter implements ByteStream {
  peer!: MemoryStream;
  #paused = false;
  #held: Buffer[] = [];
  #ended = false;
  #closed = false;
  #inFlightBytes = 0;
  #finished = false;

  constructor(
    private readonly index: 0 | 1,
    private readonly options: MemoryStreamOptions,
  ) {
    super();
  }

  get destroyed(): boolean {
    return this.#closed;
  }

  get writableFinished(): boolean {
    return this.#finished;
  }

  get writableLength(): number {
    return this.#inFlightBytes;
  }

  write(chunk: Uint8Array, written?: (error?: Error | null) => void): boolean {
    if (this.#closed || this.#ended) {
      if (written) this.#schedule(() => written(new Error('write after the stream closed')));
      return false;
    }
    this.#send(Buffer.from(chunk), written);
    return true;
  }

  cork(): void {}

  uncork(): void {}

  end(): void {
    if (this.#closed || this.#ended) return;
    this.#ended = true;
    this.#schedule(() => {
      this.#finished = true;
      this.emit('finish');
      this.#closeBoth();
    });
  }

  destroy(): void {
    this.#closeBoth();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) this.#receive(chunk);
  }

  isPaused(): boolean {
    return this.#paused;
  }

  #send(bytes: Buffer, written: ((error?: Error | null) => void) | undefined): void {
    this.#inFlightBytes += bytes.length;
    this.#schedule(() => {
      this.#inFlightBytes -= bytes.length;
      written?.(this.#closed ? new Error('the stream closed before the write') : null);
      if (this.#closed) return;
      const delivered = this.options.intercept ? this.options.intercept(this.index, bytes) : bytes;
      if (delivered) this.peer.#receive(delivered);
      if (this.#inFlightBytes === 0) this.emit('drain');
    });
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    if (this.#paused) this.#held.push(chunk);
    else this.emit('data', chunk);
  }

  #schedule(task: () => void): void {
    (this.options.schedule ?? setImmediate)(task);
  }

  #closeBoth(): void {
    const closing = [this, this.peer].filter((side) => !side.#closed);
    for (const side of closing) {
      side.#closed = true;
      side.#held = [];
    }
    for (const side of closing) side.emit('close', false);
  }
}

/** A connected pair: what one writes, the other reads. */
export function memoryStreamPair(options: MemoryStreamOptions = {}): [ByteStream, ByteStream] {
  const a = new MemoryStream(0, options);
  const b = new MemoryStream(1, options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * A ConnectionSource whose `dial` makes a memory pair: the far end is
 * accepted by the listener's handler (as from `address`), the near end is
 * the dialler's stream — a TCP listener and dialer without a network.
 */
export class MemoryListener {
  #accept: ((stream: ByteStream, peer: Peer) => void) | undefined;
  #nextPort = 40_000;

  constructor(private readonly options: MemoryStreamOptions = {}) {}

  onConnection(accept: (stream: ByteStream, peer: Peer) => void): void {
    this.#accept = accept;
  }

  /** A Dial whose connections come from `address` (per-source limits see it). */
  dialFrom(address: string): Dial {
    return (_target, done) => {
      const accept = this.#accept;
      if (!accept) return setImmediate(() => done({ ok: false, reason: 'nothing listens' }));
      const [near, far] = memoryStreamPair(this.options);
      accept(far, { address, port: this.#nextPort++ });
      setImmediate(() => done({ ok: true, stream: near }));
    };
  }
}
