/**
 * The one transport interface the machine driver needs: a duplex byte stream
 * with Node's socket semantics. `net.Socket` satisfies it as is; the
 * in-memory pair (memory-stream.ts) implements it for tests that need no
 * network. Contract, as for a socket:
 * - `data` chunks arrive in write order; the driver never keeps a chunk past
 *   the frame views it yields. A chunk is valid only during the listener
 *   call when the stream was marked with markChunksReused (the client's
 *   dialled socket reads into one reusable buffer: onread); otherwise it is
 *   never reused (Node's default: a fresh buffer per read);
 * - `write` keeps a reference to its argument until written: never reuse it
 *   before `written` is called (once, in write order, after the bytes were
 *   handed on — to the kernel, for a socket — or the write failed);
 * - `close` fires exactly once, after `end()` by both sides, `destroy()`, or
 *   an error (which fires `error` first);
 * - `cork()`/`uncork()` gather writes into one (a `writev` on a socket).
 */
import type { Refusal } from '../protocol/machines/actions.js';

export interface ByteStream {
  write(chunk: Uint8Array, written?: (error?: Error | null) => void): boolean;
  /** Half-closes after the queued writes (a FIN); the stream closes when the peer ends too. */
  end(): void;
  /** Closes now, discarding queued writes. */
  destroy(): void;
  cork(): void;
  uncork(): void;
  pause(): void;
  resume(): void;
  isPaused(): boolean;
  /** Bytes queued and not yet written. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  /** After end(): everything queued was handed on ('finish' has fired). */
  readonly writableFinished: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (hadError: boolean) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  /** The peer half-closed (its FIN): nothing more will arrive. */
  once(event: 'end', listener: () => void): this;
  once(event: 'close', listener: (hadError: boolean) => void): this;
  once(event: 'drain', listener: () => void): this;
  /** After end(): every queued byte has been handed on (to the kernel, for a socket). */
  once(event: 'finish', listener: () => void): this;
}

const reusingStreams = new WeakSet<ByteStream>();

/** Marks `stream` as one whose `data` chunks are views of a buffer the next read overwrites. */
export function markChunksReused(stream: ByteStream): void {
  reusingStreams.add(stream);
}

/** True when `stream`'s chunks (and views of them) must not be kept past the `data` listener call. */
export function chunksReused(stream: ByteStream): boolean {
  return reusingStreams.has(stream);
}

/**
 * How a dial ends: a connected stream, or why there is none (never thrown).
 * A relay's `reason` reaches the previous node: keep it generic. `refusal`
 * is the relay's typed reason (e.g. next-hop-not-allowed).
 */
export type DialOutcome = { ok: true; stream: ByteStream; address?: string } | { ok: false; reason: string; refusal?: Refusal };

/** Opens a stream to `address` (host:port) and reports once, asynchronously. */
export type Dial = (address: string, done: (outcome: DialOutcome) => void) => void;

/** Who is at the other end of an accepted stream: the address is what per-source limits count. */
export interface Peer {
  address: string;
  port: number;
}

/** host:port, with an IPv6 address in brackets ([::1]:5555): how logs, status and paths write an endpoint. */
export function peerLabel(peer: Peer): string {
  return peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * A peer's address in one form: an IPv4 client of a dual-stack listener
 * (`::`) arrives as `::ffff:192.0.2.7`, and is counted, capped and logged
 * as `192.0.2.7` — the same source as through an IPv4 listener.
 */
export function unmappedAddress(address: string): string {
  return IPV4_MAPPED.exec(address)?.[1] ?? address;
}

/** Where a server's or relay's incoming streams come from (a TCP listener, or memory in tests). */
export interface ConnectionSource {
  onConnection(accept: (stream: ByteStream, peer: Peer) => void): void;
}
