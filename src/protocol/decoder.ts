/**
 * FrameDecoder: turns a TCP byte stream into whole tunnel frames, like ws's
 * Receiver. Guarantees:
 * - the length field is checked as soon as its 4 bytes are in, and the
 *   version as soon as the 6-byte header is in, BEFORE any body byte is
 *   buffered: a peer can never make us hold more than MAX_FRAME_LENGTH;
 * - a frame lying inside one chunk is yielded as a subarray of that chunk
 *   (no copy); only a frame spanning chunks is copied, into one buffer the
 *   decoder reuses. Either way the view is valid only during `onFrame`;
 * - after an error the decoder is poisoned: every later push throws the same
 *   ProtocolError (the connection must be closed with its closeCode).
 * Types are not checked here (a relay forwards frames it does not parse).
 */
import { ProtocolError } from './frames/errors.js';
import { checkLengthField, checkVersion, readU32 } from './frames/header.js';
import { HEADER_LENGTH, MAX_FRAME_LENGTH } from './frames/limits.js';

export class FrameDecoder {
  /** Holds a frame that spans chunks; allocated on first need, at the maximum size. */
  private partial: Uint8Array | undefined;
  /** Bytes of the pending frame held in `partial`. */
  private held = 0;
  /** Length of the pending frame, 0 until its length field is complete. */
  private pendingLength = 0;
  private failure: ProtocolError | undefined;
  framesDecoded = 0;

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
    let at = 0;
    if (this.held > 0) at = this.fillPartial(chunk, onFrame);
    while (at < chunk.length) {
      const available = chunk.length - at;
      if (available >= HEADER_LENGTH) {
        const length = readU32(chunk, at);
        checkLengthField(length);
        checkVersion(chunk[at + 5]!);
        if (available >= length) {
          this.framesDecoded++;
          onFrame(chunk.subarray(at, at + length));
          at += length;
          continue;
        }
      } else if (available >= 4) {
        checkLengthField(readU32(chunk, at));
      }
      this.startPartial(chunk.subarray(at));
      return;
    }
  }

  private startPartial(bytes: Uint8Array): void {
    this.partial ??= new Uint8Array(MAX_FRAME_LENGTH);
    this.partial.set(bytes, 0);
    this.held = bytes.length;
    this.pendingLength = bytes.length >= 4 ? readU32(bytes, 0) : 0;
  }

  /** Continues a frame held from earlier chunks; returns how many bytes of `chunk` were used. */
  private fillPartial(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): number {
    const partial = this.partial!;
    let at = 0;
    if (this.held < HEADER_LENGTH) {
      const take = Math.min(HEADER_LENGTH - this.held, chunk.length);
      partial.set(chunk.subarray(0, take), this.held);
      this.held += take;
      at = take;
      if (this.held >= 4 && this.pendingLength === 0) {
        this.pendingLength = readU32(partial, 0);
        checkLengthField(this.pendingLength);
      }
      if (this.held < HEADER_LENGTH) return at;
      checkVersion(partial[5]!);
    }
    const take = Math.min(this.pendingLength - this.held, chunk.length - at);
    partial.set(chunk.subarray(at, at + take), this.held);
    this.held += take;
    at += take;
    if (this.held === this.pendingLength) {
      const length = this.pendingLength;
      this.held = 0;
      this.pendingLength = 0;
      this.framesDecoded++;
      onFrame(partial.subarray(0, length));
    }
    return at;
  }
}
