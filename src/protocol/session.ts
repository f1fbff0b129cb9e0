/**
 * TunnelSession: the established tunnel's data engine around the crypto's
 * DataSealer/DataOpener. It writes whole sealed frames (DATA, KEEPALIVE,
 * REKEY) into caller buffers and opens received ones, keeping per-key
 * counters and the key lifetime.
 *
 * Guarantees:
 * - no plaintext is released before its digest verified (the opener's contract);
 * - every failure of a sealed frame is a ProtocolError value returned, never
 *   thrown; a digest or keyId mismatch is INTEGRITY / KEY_MISMATCH (CLOSE
 *   INTEGRITY_FAILURE). Header fields are checked only as far as needed to
 *   run the digest; the digest decides the rest, so a flipped bit anywhere
 *   after the common header is an integrity failure;
 * - per direction the key switches exactly at a REKEY frame (the sender after
 *   writing it, the receiver after reading it), moving only that direction's
 *   key chain one step: a REKEY costs the same at generation 10,000 as at 1;
 * - REKEYs are bounded per direction (rekey-budget.ts): we never send more
 *   than the budget, and a peer that does is refused with REKEY_RATE
 *   (CLOSE PROTOCOL_ERROR).
 * The session owns the handshake's SessionKeys: it wipes the two direction
 * keys once its key schedule holds what it needs.
 * Not thread-safe, no I/O; frames must be sent in the order they were sealed.
 */
import type { DataKeySchedule, DataOpener, DataSealer, ProtocolCrypto, SessionKeys, SuiteName } from '../crypto/port.js';
import { ProtocolError } from './frames/errors.js';
import { FrameType, emitHeader } from './frames/header.js';
import { readU16 } from '../wire/bytes.js';
import { DATA_HEADER_LENGTH, HEADER_LENGTH, MAX_DATAGRAM_LENGTH, MAX_PADDING_LENGTH } from './frames/limits.js';
import { DATA_FLAG_OFFLOAD, DATA_OFFLOAD_HEADER_LENGTH, dataFrameLength, emitDataHeader } from './frames/data.js';
import { emitGsoDescriptor, newGsoInfo, parseGsoDescriptor, type GsoInfo } from '../wire/gso.js';
import { SEALED_CONTROL_HEADER_LENGTH, emitSealedControlHeader, sealedControlLength } from './frames/sealed-control.js';
import { SEALED_CLOSE_HEADER_LENGTH, encodeCloseBody, parseCloseBody, sealedCloseLength } from './frames/sealed-close.js';
import type { CloseRepr } from './frames/close.js';
import { REKEY_BURST, REKEY_INTERVAL_MS, REKEY_RECEIVE_SLACK, RekeyBudget } from './rekey-budget.js';

export interface KeyLifetime {
  maxAgeMs: number;
  maxBytes: number;
  maxFrames: number;
}

export const DEFAULT_KEY_LIFETIME: KeyLifetime = { maxAgeMs: 10 * 60_000, maxBytes: 2 ** 30, maxFrames: 2 ** 32 };
/** A key used beyond this multiple of its lifetime is refused (send) or closed KEY_EXPIRED (receive). */
export const HARD_LIMIT_FACTOR = 2;
/** Room left before the datagram in the default receive buffer, so a caller can write an Ethernet header in front. */
export const ETHERNET_HEADROOM = 14;

export type OpenResult = { ok: true; etherType: number; datagram: Uint8Array } | { ok: false; error: ProtocolError };

export interface SessionStats {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  rekeysSent: number;
  rekeysReceived: number;
  dropsTooLarge: number;
  dropsKeyExhausted: number;
}

export type KeyState = 'fresh' | 'expired' | 'exhausted';

interface KeyUse {
  keyId: number;
  sinceMs: number;
  frames: number;
  bytes: number;
}

let plainBufferForAll: Uint8Array | undefined;

/**
 * One default plaintext buffer for every session of the process: an opened
 * datagram is a view valid only until the next event, and events are handled
 * one at a time, so sessions never need theirs at once. A buffer each would
 * cost 64 KiB per connected client (measured by bench/server-scale.ts).
 */
function sharedPlainBuffer(): Uint8Array {
  plainBufferForAll ??= new Uint8Array(ETHERNET_HEADROOM + MAX_DATAGRAM_LENGTH + MAX_PADDING_LENGTH);
  return plainBufferForAll;
}

export class TunnelSession {
  readonly suite: SuiteName;
  readonly digestLength: number;
  readonly inBandRekey: boolean;
  /** Both ends negotiated OFFLOAD: DATA may carry TCP super-frames with their GSO descriptor, both ways. */
  readonly offload: boolean;
  /** The descriptor of the last datagram openDataInto returned, when `openedSuperFrame` (reused). */
  readonly openedGso: GsoInfo = newGsoInfo();
  openedSuperFrame = false;
  readonly stats: SessionStats = { framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0, rekeysSent: 0, rekeysReceived: 0, dropsTooLarge: 0, dropsKeyExhausted: 0 };
  private readonly lifetime: KeyLifetime;
  private readonly schedule: DataKeySchedule;
  private sealer: DataSealer;
  private opener: DataOpener;
  private readonly sendBudget: RekeyBudget;
  private readonly receiveBudget: RekeyBudget;
  private readonly sendUse: KeyUse;
  private readonly receiveUse: KeyUse;
  private readonly plainBuffer = sharedPlainBuffer();
  private readonly empty = new Uint8Array(0);
  #destroyed = false;

  constructor(opts: { crypto: ProtocolCrypto; suite: SuiteName; keys: SessionKeys; nowMs: number; inBandRekey: boolean; offload?: boolean; lifetime?: Partial<KeyLifetime> }) {
    this.suite = opts.suite;
    this.inBandRekey = opts.inBandRekey;
    this.offload = opts.offload ?? false;
    this.lifetime = { ...DEFAULT_KEY_LIFETIME, ...opts.lifetime };
    this.schedule = opts.crypto.createDataKeySchedule(opts.suite, opts.keys);
    opts.keys.sendKey.fill(0); // the schedule holds its own chains now
    opts.keys.receiveKey.fill(0);
    this.sealer = this.schedule.sealer;
    this.opener = this.schedule.opener;
    this.sendBudget = new RekeyBudget(opts.nowMs);
    this.receiveBudget = new RekeyBudget(opts.nowMs, REKEY_BURST + REKEY_RECEIVE_SLACK, REKEY_INTERVAL_MS);
    this.digestLength = this.sealer.digestLength;
    this.sendUse = { keyId: 0, sinceMs: opts.nowMs, frames: 0, bytes: 0 };
    this.receiveUse = { keyId: 0, sinceMs: opts.nowMs, frames: 0, bytes: 0 };
  }

  get sendKeyId(): number {
    return this.sendUse.keyId;
  }

  get receiveKeyId(): number {
    return this.receiveUse.keyId;
  }

  /** Bytes `sealDatagram` may write for a datagram: a REKEY frame in front plus the DATA frame (with a GSO descriptor for a super-frame). */
  maxSealedLength(datagramLength: number, paddingLength = 0, superFrame = false): number {
    return sealedControlLength(this.digestLength) + dataFrameLength(datagramLength, this.digestLength, paddingLength, superFrame);
  }

  /** Where the send key stands against its lifetime: soft (expired → rekey) and hard (exhausted → refuse). */
  sendKeyState(nowMs: number): KeyState {
    return this.keyState(this.sendUse, nowMs);
  }

  receiveKeyState(nowMs: number): KeyState {
    return this.keyState(this.receiveUse, nowMs);
  }

  private keyState(use: KeyUse, nowMs: number): KeyState {
    const { maxAgeMs, maxBytes, maxFrames } = this.lifetime;
    const over = (f: number): boolean => nowMs - use.sinceMs >= maxAgeMs * f || use.bytes >= maxBytes * f || use.frames >= maxFrames * f;
    if (over(HARD_LIMIT_FACTOR)) return 'exhausted';
    return over(1) ? 'expired' : 'fresh';
  }

  /**
   * Writes a DATA frame carrying `datagram` (an Ethernet payload) at
   * `out[offset]`, preceded by a REKEY frame when in-band rekeying is on and
   * the send key has expired. Returns the bytes written, or 0 when the
   * datagram is dropped (too large, a super-frame without OFFLOAD negotiated —
   * the caller segments those — or the key is exhausted without rekey).
   * `gso`: the datagram is a TCP super-frame; its descriptor goes with it.
   * Throws ProtocolError BUFFER_TOO_SMALL if `out` cannot hold maxSealedLength.
   */
  sealDatagram(etherType: number, datagram: Uint8Array, out: Uint8Array, offset: number, nowMs: number, paddingLength = 0, gso?: GsoInfo): number {
    if (datagram.length > MAX_DATAGRAM_LENGTH || paddingLength > MAX_PADDING_LENGTH || (gso !== undefined && !this.offload)) {
      this.stats.dropsTooLarge++;
      return 0;
    }
    let at = offset;
    const state = this.sendKeyState(nowMs);
    if (state !== 'fresh' && this.inBandRekey && this.sendBudget.take(nowMs)) at += this.writeRekey(out, at, nowMs);
    else if (state === 'exhausted') {
      this.stats.dropsKeyExhausted++;
      return 0;
    }
    const d = this.digestLength;
    const headerLength = gso ? DATA_OFFLOAD_HEADER_LENGTH : DATA_HEADER_LENGTH;
    emitDataHeader({ etherType, keyId: this.sendUse.keyId & 255, paddingLength, digestLength: d, datagramLength: datagram.length }, out, at, gso ? DATA_FLAG_OFFLOAD : 0);
    if (gso) emitGsoDescriptor(gso, out, at + DATA_HEADER_LENGTH);
    const digestAt = at + headerLength;
    const payloadAt = digestAt + d;
    const payloadLength = datagram.length + paddingLength;
    const payload = out.subarray(payloadAt, payloadAt + payloadLength);
    let plaintext = datagram;
    if (paddingLength > 0) {
      payload.set(datagram, 0); // padding is encrypted with the datagram: copy, then seal in place
      payload.fill(0, datagram.length);
      plaintext = payload;
    }
    this.sealer.seal(out.subarray(at, digestAt), plaintext, payload, out.subarray(digestAt, payloadAt));
    this.countSent(payloadLength);
    return payloadAt + payloadLength - offset;
  }

  /** A KEEPALIVE frame sealed under the current send key. */
  sealKeepalive(): Uint8Array {
    const out = new Uint8Array(sealedControlLength(this.digestLength));
    this.writeSealedControl(FrameType.KEEPALIVE, this.sendUse.keyId & 255, out, 0);
    return out;
  }

  /**
   * A REKEY frame when in-band rekeying is on, the send key is past its soft
   * lifetime and the REKEY budget allows one; otherwise undefined.
   */
  sealRekeyIfDue(nowMs: number): Uint8Array | undefined {
    if (!this.inBandRekey || this.sendKeyState(nowMs) === 'fresh' || !this.sendBudget.take(nowMs)) return undefined;
    return this.sealRekey(nowMs);
  }

  /** A REKEY frame sealed under the current key, unconditionally; the send key switches after it. */
  sealRekey(nowMs: number): Uint8Array {
    const out = new Uint8Array(sealedControlLength(this.digestLength));
    this.writeRekey(out, 0, nowMs);
    return out;
  }

  private writeRekey(out: Uint8Array, offset: number, nowMs: number): number {
    const next = this.sendUse.keyId + 1;
    const written = this.writeSealedControl(FrameType.REKEY, next & 255, out, offset);
    this.sealer = this.schedule.nextSealer();
    Object.assign(this.sendUse, { keyId: next, sinceMs: nowMs, frames: 0, bytes: 0 });
    this.stats.rekeysSent++;
    return written;
  }

  private writeSealedControl(type: typeof FrameType.KEEPALIVE | typeof FrameType.REKEY, keyId: number, out: Uint8Array, offset: number): number {
    emitSealedControlHeader(type, keyId, this.digestLength, out, offset);
    const digestAt = offset + SEALED_CONTROL_HEADER_LENGTH;
    this.sealer.seal(out.subarray(offset, digestAt), this.empty, this.empty, out.subarray(digestAt, digestAt + this.digestLength));
    this.countSent(0);
    return SEALED_CONTROL_HEADER_LENGTH + this.digestLength;
  }

  private countSent(bytes: number): void {
    this.sendUse.frames++;
    this.sendUse.bytes += bytes;
    this.stats.framesSent++;
    this.stats.bytesSent += bytes;
  }

  /** Destroys both directions' ciphers and wipes the key chains; call once the tunnel is over (again: nothing). */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.schedule.destroy();
  }

  /** destroy() ran: nothing can be sealed or opened any more. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Verifies and decrypts a whole DATA frame into `out[outOffset..]` (by
   * default an internal buffer with ETHERNET_HEADROOM bytes in front, reused
   * by the next call). The datagram view is valid until the next open.
   */
  openData(frame: Uint8Array, nowMs: number, out: Uint8Array = this.plainBuffer, outOffset = ETHERNET_HEADROOM): OpenResult {
    const length = this.openDataInto(frame, nowMs, out, outOffset);
    if (length < 0) return { ok: false, error: this.openError! };
    return { ok: true, etherType: readU16(frame, 6), datagram: out.subarray(outOffset, outOffset + length) };
  }

  /** Why the last openDataInto returned -1. */
  openError: ProtocolError | undefined;

  /**
   * openData for the data plane, without a result object per frame: returns
   * the datagram's length at `out[outOffset..]`, or -1 with `openError` set.
   * The etherType is the frame's bytes 6..7; for a super-frame (flag
   * OFFLOAD, when negotiated) `openedSuperFrame` is true and `openedGso`
   * holds its descriptor (authenticated with the header; checkGso judges it).
   */
  openDataInto(frame: Uint8Array, nowMs: number, out: Uint8Array = this.plainBuffer, outOffset = ETHERNET_HEADROOM): number {
    const d = this.digestLength;
    // The layout follows the flag only if we agreed to it; a flipped flag then fails the digest (the flag is in the header it covers).
    const superFrame = this.offload && frame.length > 9 && frame[9] === DATA_FLAG_OFFLOAD;
    const headerLength = superFrame ? DATA_OFFLOAD_HEADER_LENGTH : DATA_HEADER_LENGTH;
    const payloadAt = headerLength + d;
    if (frame.length < payloadAt) return this.failOpen('INTEGRITY', `DATA of ${frame.length} bytes cannot hold a ${d}-byte digest`);
    const early = this.checkSealedHeader(frame[8]!, frame[11]!, nowMs);
    if (early) return (this.openError = early), -1;
    const ciphertext = frame.subarray(payloadAt);
    if (out.length - outOffset < ciphertext.length) {
      return this.failOpen('BUFFER_TOO_SMALL', `openData: need ${ciphertext.length} bytes at ${outOffset}, buffer has ${out.length}`);
    }
    const plaintext = out.subarray(outOffset, outOffset + ciphertext.length);
    if (!this.opener.open(frame.subarray(0, headerLength), ciphertext, frame.subarray(headerLength, payloadAt), plaintext)) {
      return this.failOpen('INTEGRITY', `DATA digest mismatch at receive frame ${this.receiveUse.frames} of key ${this.receiveUse.keyId}`);
    }
    this.countReceived(ciphertext.length);
    // Authenticated from here: a bad value is the peer's bug, not tampering.
    const paddingLength = frame[10]!;
    if (frame[9] !== 0 && !superFrame) return this.failOpen('BAD_VALUE', `DATA flags: expected 0${this.offload ? ' or OFFLOAD (1)' : ' (OFFLOAD was not negotiated)'}, got 0x${frame[9]!.toString(16)}`);
    this.openedSuperFrame = superFrame;
    if (superFrame) parseGsoDescriptor(frame, DATA_HEADER_LENGTH, this.openedGso);
    if (paddingLength > ciphertext.length) return this.failOpen('BAD_LENGTH', `DATA paddingLength ${paddingLength} exceeds the ${ciphertext.length}-byte payload`);
    return ciphertext.length - paddingLength;
  }

  private failOpen(code: ConstructorParameters<typeof ProtocolError>[0], message: string): -1 {
    this.openError = new ProtocolError(code, message);
    return -1;
  }

  /**
   * A SEALED_CLOSE frame under the current send key: status and reason
   * encrypted, digest over header ‖ ciphertext ‖ counter like DATA. The last
   * frame this side sends.
   */
  sealClose(status: number, reason: string): Uint8Array {
    const body = encodeCloseBody({ status, reason });
    const d = this.digestLength;
    const out = new Uint8Array(sealedCloseLength(body.length, d));
    emitHeader(out, 0, out.length, FrameType.SEALED_CLOSE);
    out[HEADER_LENGTH] = this.sendUse.keyId & 255;
    out[HEADER_LENGTH + 1] = d;
    const digestAt = SEALED_CLOSE_HEADER_LENGTH;
    this.sealer.seal(out.subarray(0, digestAt), body, out.subarray(digestAt + d), out.subarray(digestAt, digestAt + d));
    this.countSent(body.length);
    return out;
  }

  /**
   * Verifies and decrypts a whole SEALED_CLOSE frame: the peer's own, proven
   * CLOSE. (A worn key is not refused here: the frame ends the tunnel anyway.)
   */
  openClose(frame: Uint8Array): { ok: true; close: CloseRepr } | { ok: false; error: ProtocolError } {
    const d = this.digestLength;
    const bodyAt = SEALED_CLOSE_HEADER_LENGTH + d;
    if (frame.length < bodyAt) return fail('INTEGRITY', `SEALED_CLOSE of ${frame.length} bytes cannot hold a ${d}-byte digest`);
    const early = this.checkSealedHeader(frame[HEADER_LENGTH]!, frame[HEADER_LENGTH + 1]!, undefined);
    if (early) return { ok: false, error: early };
    const ciphertext = frame.subarray(bodyAt);
    const body = new Uint8Array(ciphertext.length); // control path: at most 258 bytes, once per tunnel
    if (!this.opener.open(frame.subarray(0, SEALED_CLOSE_HEADER_LENGTH), ciphertext, frame.subarray(SEALED_CLOSE_HEADER_LENGTH, bodyAt), body)) {
      return fail('INTEGRITY', `SEALED_CLOSE digest mismatch at receive frame ${this.receiveUse.frames} of key ${this.receiveUse.keyId}`);
    }
    this.countReceived(ciphertext.length);
    try {
      return { ok: true, close: parseCloseBody(body) };
    } catch (error) {
      if (error instanceof ProtocolError) return { ok: false, error };
      throw error;
    }
  }

  /** Verifies a whole KEEPALIVE frame; returns the error, or undefined when valid. */
  openKeepalive(frame: Uint8Array, nowMs: number): ProtocolError | undefined {
    return this.openSealedControl(frame, nowMs, this.receiveUse.keyId & 255, true);
  }

  /** Verifies a whole REKEY frame under the old key, then switches the receive key. */
  openRekey(frame: Uint8Array, nowMs: number): ProtocolError | undefined {
    if (!this.inBandRekey) return new ProtocolError('UNEXPECTED_FRAME', 'REKEY received but in-band rekeying was not negotiated');
    // A REKEY is accepted even past the hard lifetime: it is what retires the worn key (a sender out of REKEY budget reaches it).
    const error = this.openSealedControl(frame, nowMs, (this.receiveUse.keyId + 1) & 255, false);
    if (error) return error;
    if (!this.receiveBudget.take(nowMs)) {
      return new ProtocolError('REKEY_RATE', `more than ${REKEY_BURST} REKEYs at once or one per ${REKEY_INTERVAL_MS} ms sustained (${this.stats.rekeysReceived} so far)`);
    }
    const next = this.receiveUse.keyId + 1;
    this.opener = this.schedule.nextOpener();
    Object.assign(this.receiveUse, { keyId: next, sinceMs: nowMs, frames: 0, bytes: 0 });
    this.stats.rekeysReceived++;
    return undefined;
  }

  private openSealedControl(frame: Uint8Array, nowMs: number, expectedKeyId: number, checkLifetime: boolean): ProtocolError | undefined {
    const d = this.digestLength;
    if (frame.length !== SEALED_CONTROL_HEADER_LENGTH + d) {
      return new ProtocolError('INTEGRITY', `sealed control frame of ${frame.length} bytes, expected ${SEALED_CONTROL_HEADER_LENGTH + d}`);
    }
    const early = this.checkSealedHeader(frame[6]!, frame[7]!, checkLifetime ? nowMs : undefined, expectedKeyId);
    if (early) return early;
    const header = frame.subarray(0, SEALED_CONTROL_HEADER_LENGTH);
    if (!this.opener.open(header, this.empty, frame.subarray(SEALED_CONTROL_HEADER_LENGTH), this.empty)) {
      return new ProtocolError('INTEGRITY', `digest mismatch at receive frame ${this.receiveUse.frames} of key ${this.receiveUse.keyId}`);
    }
    this.countReceived(0);
    return undefined;
  }

  /** The checks needed before a digest can be computed: key id, digest length, key lifetime (skipped when `nowMs` is undefined). */
  private checkSealedHeader(keyId: number, digestLength: number, nowMs: number | undefined, expectedKeyId = this.receiveUse.keyId & 255): ProtocolError | undefined {
    if (keyId !== expectedKeyId) return new ProtocolError('KEY_MISMATCH', `keyId: expected ${expectedKeyId}, got ${keyId}`);
    if (digestLength !== this.digestLength) {
      return new ProtocolError('INTEGRITY', `digestLength: expected ${this.digestLength} for ${this.suite}, got ${digestLength}`);
    }
    if (nowMs !== undefined && this.keyState(this.receiveUse, nowMs) === 'exhausted') {
      return new ProtocolError('KEY_EXPIRED', `the peer kept using key ${this.receiveUse.keyId} beyond ${HARD_LIMIT_FACTOR}x its lifetime`);
    }
    return undefined;
  }

  private countReceived(bytes: number): void {
    this.receiveUse.frames++;
    this.receiveUse.bytes += bytes;
    this.stats.framesReceived++;
    this.stats.bytesReceived += bytes;
  }
}

function fail(code: ConstructorParameters<typeof ProtocolError>[0], message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: new ProtocolError(code, message) };
}
