/**
 * FrameDecoder: turns a TCP byte stream into whole tunnel frames, like ws's
 * Receiver. Guarantees:
 * - the length field is checked as soon as its 4 bytes are in, and the
 *   version as soon as the 6-byte header is in, BEFORE any body byte is
 *   buffered: a peer can never make us hold more than MAX_FRAME_LENGTH;
 * - a frame lying inside one chunk is yielded as a subarray of that chunk
 *   (no copy); only a frame spanning chunks is copied, into a buffer of its
 *   exact length allocated when its length is known. The decoder never
 *   writes to a yielded frame again, so a frame may be kept (queued for a
 *   socket write, say) as long as the caller does not reuse the chunk memory
 *   (Node's default socket chunks are never reused; a socket that reads into
 *   one buffer (onread, the client's) does: its reader copies what it keeps,
 *   FrameSocket its control frames) — unless `reuseAssembly` is set:
 *   then a spanning frame is assembled in one buffer the decoder keeps, and
 *   is valid only during onFrame (the data plane, which opens each DATA frame
 *   at once: with 64 KiB super-frames nearly every frame spans chunks, and an
 *   allocation per frame was the GC's main food);
 * - the decoder keeps no view of a chunk past push(): a partial frame is
 *   copied out (lengthScratch, partial), so the chunk's memory may be
 *   overwritten as soon as push() returns;
 * - after an error the decoder is poisoned: every later push throws the same
 *   ProtocolError (the connection must be closed with its closeCode).
 * - `maxFrameLength` (at most MAX_FRAME_LENGTH) bounds frames from here on:
 *   a peer that has not authenticated gets a handshake's size, not 64 KiB.
 * Types are not checked here (a relay forwards frames it does not parse).
 */
import { ProtocolError } from './frames/errors.js';
import { checkLengthField, checkVersion } from './frames/header.js';
import { readU32 } from '../wire/bytes.js';
import { HEADER_LENGTH, MAX_FRAME_LENGTH } from './frames/limits.js';

export class FrameDecoder {
  /** The first bytes of a frame whose length field is not complete yet. */
  private readonly lengthScratch = new Uint8Array(4);
  /** The frame being assembled across chunks, allocated at its exact length. */
  private partial: Uint8Array | undefined;
  /** Bytes held of the pending frame (in lengthScratch while < 4 and no partial). */
  private held = 0;
  private failure: ProtocolError | undefined;
  framesDecoded = 0;
  /** Assemble spanning frames in one kept buffer (frames valid only during onFrame); see the header. */
  reuseAssembly = false;
  private assembly: Uint8Array | undefined;

  constructor(
    /** The largest frame accepted now; raise it once the peer is trusted with more. */
    public maxFrameLength = MAX_FRAME_LENGTH,
  ) {}

  /** Feeds bytes; calls `onFrame` for each whole frame. Throws ProtocolError for a malformed stream. */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    if (this.failure) throw this.failure;
    try {
      this.consume(chunk, onFrame);
    } catch (error) {
      if (error instanceof ProtocolError) this.failure = error;
      throw error;
    }
  }

  /** True when no partial frame is held (a clean frame boundary). */
  get atBoundary(): boolean {
    return this.held === 0;
  }

  private consume(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    let at = this.held > 0 ? this.continuePartial(chunk, onFrame) : 0;
    while (at < chunk.length) {
      const available = chunk.length - at;
      if (available < 4) {
        this.lengthScratch.set(chunk.subarray(at), 0);
        this.held = available;
        return;
      }
      const length = readU32(chunk, at);
      this.checkLength(length);
      if (available >= HEADER_LENGTH) checkVersion(chunk[at + 5]!);
      if (available < length) {
        this.partial = this.assemblyBuffer(length);
        this.partial.set(chunk.subarray(at), 0);
        this.held = available;
        return;
      }
      this.framesDecoded++;
      onFrame(chunk.subarray(at, at + length));
      at += length;
    }
  }

  private checkLength(length: number): void {
    checkLengthField(length);
    if (length > this.maxFrameLength) {
      throw new ProtocolError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the ${this.maxFrameLength} allowed at this stage of the connection`);
    }
  }

  /** Where a frame of `length` bytes spanning chunks is assembled: the kept buffer, or a new one of exactly that size. */
  private assemblyBuffer(length: number): Uint8Array {
    if (!this.reuseAssembly) return new Uint8Array(length);
    this.assembly ??= new Uint8Array(MAX_FRAME_LENGTH);
    return this.assembly.subarray(0, length);
  }

  /** Continues a frame held from earlier chunks; returns how many bytes of `chunk` were used. */
  private continuePartial(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): number {
    let at = 0;
    if (!this.partial) {
      const take = Math.min(4 - this.held, chunk.length);
      this.lengthScratch.set(chunk.subarray(0, take), this.held);
      this.held += take;
      at = take;
      if (this.held < 4) return at;
      const length = readU32(this.lengthScratch, 0);
      this.checkLength(length);
      this.partial = this.assemblyBuffer(length);
      this.partial.set(this.lengthScratch, 0);
    }
    const partial = this.partial;
    const before = this.held;
    const take = Math.min(partial.length - this.held, chunk.length - at);
    partial.set(chunk.subarray(at, at + take), this.held);
    this.held += take;
    at += take;
    if (before < HEADER_LENGTH && this.held >= HEADER_LENGTH) checkVersion(partial[5]!);
    if (this.held === partial.length) {
      this.partial = undefined;
      this.held = 0;
      this.framesDecoded++;
      onFrame(partial);
    }
    return at;
  }
}
