/**
 * A TCP connection carrying tunnel frames. Incoming bytes go through a stream
 * decoder that yields whole frames; outgoing frames are queued and flushed in
 * one `writev` per event-loop turn (socket cork/uncork), so a burst of DATA
 * frames from one TAP wake-up costs one syscall, not one per frame.
 *
 * Back-pressure: when more than `maxQueuedBytes` wait to be written,
 * `congested` turns true and the caller drops datagrams (and counts them, as
 * a NIC whose queue is full would) BEFORE sealing them — a sealed frame has
 * consumed a counter value and must be sent, in order (docs/PROTOCOL.md).
 */
import type { Socket } from 'node:net';
import { applyCarrierOptions } from './carrier-options.js';
import { processQueueing } from './queueing.js';

export interface StreamDecoder {
  /** Feeds bytes; calls `onFrame` for each whole frame (views valid during the call). Throws on a malformed stream. */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void;
}

export interface FrameSocketEvents {
  onFrame(frame: Uint8Array): void;
  /** The stream could not be decoded (bad length, version ...). The socket is still open. */
  onDecodeError(error: Error): void;
  onClose(hadError: boolean, error?: Error): void;
}

/** src/io/queueing.ts: the measured default, or TAPVPN_QUEUEING's send_queue. */
export const DEFAULT_MAX_QUEUED_BYTES = processQueueing.sendQueueBytes;

export class FrameSocket {
  private corked = false;
  private closed = false;
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    readonly socket: Socket,
    private readonly decoder: StreamDecoder,
    private readonly events: FrameSocketEvents,
    private readonly maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES,
  ) {
    socket.setNoDelay(true);
    applyCarrierOptions(socket, processQueueing);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.finish(true, error));
    socket.on('close', (hadError) => this.finish(hadError));
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** True when the send queue is over its bound: drop new datagrams instead of sealing them. */
  get congested(): boolean {
    return this.socket.writableLength > this.maxQueuedBytes;
  }

  /**
   * Queues bytes (one frame or several back to back). The socket keeps a
   * reference until it is written: the caller must not reuse `frames`.
   */
  send(frames: Uint8Array): void {
    if (!this.isOpen) return;
    this.cork();
    this.bytesOut += frames.length;
    this.socket.write(frames);
  }

  /** Sends `lastFrame` (e.g. CLOSE) if given, then ends the connection gracefully. */
  end(lastFrame?: Uint8Array): void {
    if (!this.isOpen) return;
    if (lastFrame) this.send(lastFrame);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private receive(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    try {
      this.decoder.push(chunk, this.events.onFrame);
    } catch (error) {
      this.socket.pause();
      this.events.onDecodeError(error as Error);
    }
  }

  private finish(hadError: boolean, error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.events.onClose(hadError, error);
  }
}
