/**
 * A byte stream carrying tunnel frames, with the data plane beside the
 * control plane (like wireguard-go's send.go/receive.go beside its handshake):
 *
 * - in: chunks go through the FrameDecoder; once a session is attached, a
 *   DATA frame is opened by it and handed to `onDatagram` right here — no
 *   event, no action object, no state machine. Every other frame (and every
 *   frame before authorization) goes to `onControl` for the machine;
 * - out: `sendDatagram` seals straight into a batch buffer; every datagram
 *   sealed in one event-loop turn leaves in one write. Batch buffers come
 *   back to a process-wide pool once the socket has written them, so a busy
 *   tunnel allocates nothing per frame or per batch (a fresh 256 KiB buffer
 *   per flush was most of the daemons' peak memory: garbage waiting for a
 *   GC). A control frame flushes the batch first, so the peer sees frames in
 *   the order they were sealed.
 *
 * Back-pressure: past `maxQueuedBytes` waiting to be written, `congested` is
 * true and datagrams are dropped (and counted) BEFORE sealing — a sealed frame
 * has consumed a counter value and must be sent, in order (docs/PROTOCOL.md).
 */
import { FrameDecoder } from '../protocol/decoder.js';
import { ProtocolError } from '../protocol/frames/errors.js';
import { FrameType } from '../protocol/frames/header.js';
import { readU16 } from '../wire/bytes.js';
import { MAX_DATAGRAM_LENGTH, MAX_PADDING_LENGTH } from '../protocol/frames/limits.js';
import { ETHERNET_HEADROOM, type TunnelSession } from '../protocol/session.js';
import { Socket } from 'node:net';
import { chunksReused, type ByteStream } from './byte-stream.js';
import { applyCarrierOptions } from './carrier-options.js';
import { processQueueing } from './queueing.js';
import { checkGso, segmentTcp, type GsoInfo } from '../wire/gso.js';

export interface FrameSocketEvents {
  /** A whole frame for the control machine; a view valid during the call. */
  onControl(frame: Uint8Array): void;
  /** The stream could not be decoded (bad length, version ...): reading stopped. */
  onDecodeError(error: ProtocolError): void;
  /** The stream closed; `midFrame` when it ended inside a frame. */
  onClose(error: Error | undefined, midFrame: boolean): void;
}

/** Where opened datagrams go, and what happens when one fails to open. */
export interface DataSink {
  /** A verified datagram; the view is valid only during the call. `gso`: a TCP super-frame's descriptor (negotiated OFFLOAD), reused likewise. */
  onDatagram(etherType: number, datagram: Uint8Array, gso?: GsoInfo): void;
  /** A DATA frame did not verify: the data plane is detached; the machine must close. */
  onDataError(error: ProtocolError): void;
}

export interface FrameSocketOptions {
  maxQueuedBytes?: number;
  /** The largest frame accepted before raiseFrameLimit() (e.g. a handshake's size). */
  maxFrameLength?: number;
  now?: () => number;
}

export interface DataCounters {
  datagramsSent: number;
  datagramsReceived: number;
  /** Datagrams dropped before sealing: not authorized, the queue was full, or the session refused them. */
  sendDrops: number;
  /** Super-frames cut into segments here because the peer did not negotiate OFFLOAD. */
  superFramesSegmented: number;
}

/**
 * How long a closing stream waits for the peer's FIN (reading and dropping
 * meanwhile) before it is freed anyway. A peer that got our CLOSE ends its
 * side within a round trip; this bounds one that does not.
 */
export const CLOSE_LINGER_MS = 2_000;

/** src/io/queueing.ts: the measured default, or TAPVPN_QUEUEING's send_queue. */
export const DEFAULT_MAX_QUEUED_BYTES = processQueueing.sendQueueBytes;
/** Room for many 1500-byte DATA frames; a batch that outgrows it is flushed early. */
const BATCH_BUFFER_BYTES = 256 * 1024;
/** A flushed batch buffer's unused tail is kept for the next batch while at least this long (one super-frame). */
const MIN_BATCH_TAIL_BYTES = 64 * 1024 + 1024;
const MAX_DATA_OVERHEAD = 12 + 10 + 64 + 255 + 64; // DATA header + GSO descriptor + digest + padding + a REKEY in front

export class FrameSocket {
  readonly decoder: FrameDecoder;
  readonly counters: DataCounters = { datagramsSent: 0, datagramsReceived: 0, sendDrops: 0, superFramesSegmented: 0 };
  bytesIn = 0;
  bytesOut = 0;
  /**
   * When the last whole frame arrived (a DATA frame only once it verified)
   * and when bytes last left: the machines' dead-peer and keepalive clocks.
   * Bytes alone do not count as life: behind a corrupted length field the
   * peer's keepalives pile up inside one frame that never completes, and a
   * byte clock would keep that dead tunnel up for ever.
   */
  lastReceivedMs: number;
  lastSentMs: number;
  /** When the chunk being decoded arrived. */
  #chunkMs: number;
  #session: TunnelSession | undefined;
  #sink: DataSink | undefined;
  /** The buffer DATA frames are sealed into; `#batchStart` is where the unflushed batch begins. */
  #batch: BatchBuffer | undefined;
  #batchStart = 0;
  #batchLength = 0;
  /** The batch buffer behind each batch write the stream has not finished, oldest first (writes finish in order). */
  readonly #writing: BatchBuffer[] = [];
  #flushScheduled = false;
  #corked = false;
  #closed = false;
  /** closeSoon() ran: incoming bytes are read and dropped until the stream closes. */
  #closing = false;
  readonly #now: () => number;
  readonly #maxQueuedBytes: number;
  /** The stream's chunks are overwritten by its next read: a control frame is handed on as a copy (the machines may keep one). */
  readonly #copyControlFrames: boolean;

  constructor(
    readonly stream: ByteStream,
    private readonly events: FrameSocketEvents,
    options: FrameSocketOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.decoder = new FrameDecoder(options.maxFrameLength);
    this.#copyControlFrames = chunksReused(stream);
    this.lastReceivedMs = this.lastSentMs = this.#chunkMs = this.#now();
    if (stream instanceof Socket) {
      stream.setNoDelay(true);
      applyCarrierOptions(stream, processQueueing);
    }
    stream.on('data', (chunk) => this.#receive(chunk));
    stream.on('error', (error) => this.#finish(error));
    stream.on('close', () => this.#finish(undefined));
  }

  get isOpen(): boolean {
    return !this.#closed && !this.stream.destroyed;
  }

  /** True when the send queue is over its bound: drop new datagrams instead of sealing them. */
  get congested(): boolean {
    return this.stream.writableLength > this.#maxQueuedBytes;
  }

  /** Lifts the pre-authorization frame limit (the peer proved who it is). */
  raiseFrameLimit(maxFrameLength: number): void {
    this.decoder.maxFrameLength = maxFrameLength;
  }

  /** Starts the data plane: DATA frames are opened by `session` and go to `sink`. */
  attachSession(session: TunnelSession, sink: DataSink): void {
    this.#session = session;
    this.#sink = sink;
    this.decoder.reuseAssembly = true; // every frame is now opened or handled before the next arrives
  }

  detachSession(): void {
    this.flush();
    this.#session = undefined;
    this.#sink = undefined;
    this.decoder.reuseAssembly = false;
  }

  /**
   * Seals one datagram into the batch; false when dropped (no session,
   * congested, refused by the session, or a malformed super-frame). A TCP
   * super-frame (`gso`) goes whole when the session negotiated OFFLOAD, else
   * as the segments the kernel would have sent.
   */
  sendDatagram(etherType: number, datagram: Uint8Array, gso?: GsoInfo): boolean {
    const session = this.#session;
    if (!session || !this.isOpen || this.congested) {
      this.counters.sendDrops++;
      return false;
    }
    if (gso === undefined || session.offload) return this.#seal(session, etherType, datagram, gso);
    if (checkGso(datagram, gso) !== undefined) {
      this.counters.sendDrops++;
      return false;
    }
    this.counters.superFramesSegmented++;
    let sent = false;
    segmentTcp(datagram, gso, (segmentScratch ??= new Uint8Array(MAX_DATAGRAM_LENGTH)), (segment) => {
      sent = this.#seal(session, etherType, segment, undefined) || sent;
    });
    return sent;
  }

  #seal(session: TunnelSession, etherType: number, datagram: Uint8Array, gso: GsoInfo | undefined): boolean {
    const need = datagram.length + MAX_DATA_OVERHEAD;
    if (this.#batch && this.#batchStart + this.#batchLength + need > this.#batch.bytes.length) this.flush();
    if (!this.#batch) {
      this.#batch = takeBatchBuffer(need);
      this.#batchStart = this.#batchLength = 0;
    }
    const written = session.sealDatagram(etherType, datagram, this.#batch.bytes, this.#batchStart + this.#batchLength, this.#now(), 0, gso);
    if (written === 0) {
      this.counters.sendDrops++;
      return false;
    }
    this.#batchLength += written;
    this.counters.datagramsSent++;
    this.#scheduleFlush();
    return true;
  }

  /** Queues one control frame (after any sealed DATA). The caller must not reuse `frame`. */
  send(frame: Uint8Array): void {
    this.flush();
    this.#write(frame);
  }

  /** Writes the batched DATA frames now. */
  flush(): void {
    const buffer = this.#batch;
    if (!buffer || this.#batchLength === 0) return;
    const batch = buffer.bytes.subarray(this.#batchStart, this.#batchStart + this.#batchLength);
    // The stream holds the written bytes until it has written them: never touch them before
    // (#onBatchWritten). The unused tail is ours, though: the next batch starts there (a TAP
    // batch of one 64 KiB super-frame would otherwise take a whole buffer per flush).
    this.#batchStart += this.#batchLength;
    this.#batchLength = 0;
    if (buffer.bytes.length - this.#batchStart < MIN_BATCH_TAIL_BYTES) this.#batch = undefined;
    if (!this.isOpen) {
      this.#batch = undefined;
      return this.#release(buffer);
    }
    buffer.writes++;
    this.#writing.push(buffer);
    this.#write(batch, this.#onBatchWritten);
  }

  /** The stream finished the oldest batch write (or failed it, closing): its buffer is free once nothing else of it is queued or being filled. */
  readonly #onBatchWritten = (): void => {
    const buffer = this.#writing.shift();
    if (buffer && --buffer.writes === 0 && buffer !== this.#batch) this.#release(buffer);
  };

  #release(buffer: BatchBuffer): void {
    if (buffer.writes === 0) releaseBatchBuffer(buffer);
  }

  /** Flushes, then half-closes (the stream closes when the peer ends too). */
  end(): void {
    this.flush();
    if (this.isOpen) this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }

  /**
   * Ends (FIN after what we queued, the CLOSE included), then frees the
   * stream once the peer ends too or after CLOSE_LINGER_MS, whichever comes
   * first: a peer that never closes its side holds our descriptor that long
   * at most. Until then we keep reading and drop what arrives: closing a
   * TCP socket with unread bytes in its receive queue sends a RST instead of
   * a FIN, which discards what we queued but the kernel has not sent yet —
   * the CLOSE — and a peer's stack may discard what it has not read.
   */
  closeSoon(): void {
    if (!this.isOpen || this.#closing) return;
    this.#closing = true;
    this.#session = undefined;
    this.end();
    const stream = this.stream;
    const timer = setTimeout(() => stream.destroy(), CLOSE_LINGER_MS);
    timer.unref?.();
    stream.once('close', () => clearTimeout(timer));
    stream.once('end', () => (stream.writableFinished ? stream.destroy() : stream.once('finish', () => stream.destroy())));
    if (stream.isPaused()) stream.resume(); // e.g. paused at a decode error: drain, or the unread bytes would turn our FIN into a RST
  }

  #write(bytes: Uint8Array, written?: () => void): void {
    if (!this.isOpen) return;
    if (!this.#corked) {
      this.#corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.stream.uncork();
      });
    }
    this.bytesOut += bytes.length;
    this.lastSentMs = this.#now();
    this.stream.write(bytes, written);
  }

  /**
   * A TAP batch is handled in one synchronous loop, so a microtask runs right
   * after its last datagram: one write per batch without waiting a turn.
   */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  #receive(chunk: Uint8Array): void {
    if (this.#closed || this.#closing) return;
    this.bytesIn += chunk.length;
    this.#chunkMs = this.#now();
    try {
      this.decoder.push(chunk, this.#onFrame);
    } catch (error) {
      this.stream.pause();
      this.events.onDecodeError(error instanceof ProtocolError ? error : new ProtocolError('BAD_VALUE', String(error)));
    }
  }

  readonly #onFrame = (frame: Uint8Array): void => {
    if (this.#closed) return;
    const session = this.#session;
    if (session === undefined || frame[4] !== FrameType.DATA) {
      this.lastReceivedMs = this.#chunkMs; // the machine verifies (or refuses) it now
      // Rare (handshake, keepalive, rekey, close): a copy costs nothing here, and a machine (or a relay's forward) may hold the frame.
      return this.events.onControl(this.#copyControlFrames ? new Uint8Array(frame) : frame);
    }
    const length = session.openDataInto(frame, this.#chunkMs, plaintext, ETHERNET_HEADROOM);
    if (length < 0) {
      const sink = this.#sink!;
      this.detachSession();
      return sink.onDataError(session.openError!);
    }
    this.lastReceivedMs = this.#chunkMs;
    this.counters.datagramsReceived++;
    this.#sink!.onDatagram(readU16(frame, 6), plaintext.subarray(ETHERNET_HEADROOM, ETHERNET_HEADROOM + length), session.openedSuperFrame ? session.openedGso : undefined);
  };

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#session = undefined;
    this.events.onClose(error, !this.decoder.atBoundary);
  }
}

/**
 * One plaintext buffer for every connection of the process: an opened
 * datagram is valid only during onDatagram, and frames are handled one at a
 * time, so connections never need theirs at once (a buffer each would cost
 * 64 KiB per connected client). Headroom in front for an Ethernet header.
 */
const plaintext = new Uint8Array(ETHERNET_HEADROOM + MAX_DATAGRAM_LENGTH + MAX_PADDING_LENGTH);
/** Segments of a super-frame for a peer without OFFLOAD, one at a time (shared like `plaintext`). */
let segmentScratch: Uint8Array | undefined;

/** A batch buffer and how many of its writes the stream has not finished. */
interface BatchBuffer {
  readonly bytes: Uint8Array;
  writes: number;
}

/**
 * Batch buffers whose writes finished, for any connection of the process to
 * take: a busy tunnel needs a few at a time (its send queue is bounded), an
 * idle one none. At most MAX_SPARE_BATCH_BUFFERS are kept (2 MiB).
 */
const spareBatchBuffers: BatchBuffer[] = [];
const MAX_SPARE_BATCH_BUFFERS = 8;

function takeBatchBuffer(need: number): BatchBuffer {
  if (need <= BATCH_BUFFER_BYTES) {
    const spare = spareBatchBuffers.pop();
    if (spare) return spare;
  }
  return { bytes: Buffer.allocUnsafe(Math.max(BATCH_BUFFER_BYTES, need)), writes: 0 };
}

function releaseBatchBuffer(buffer: BatchBuffer): void {
  if (buffer.bytes.length === BATCH_BUFFER_BYTES && spareBatchBuffers.length < MAX_SPARE_BATCH_BUFFERS) spareBatchBuffers.push(buffer);
}

/** How many finished batch buffers wait in the process-wide pool (tests). */
export function spareBatchBufferCount(): number {
  return spareBatchBuffers.length;
}
