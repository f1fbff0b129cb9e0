/**
 * The authorized phase, shared by the initiator and the server: KEEPALIVE,
 * REKEY, SEALED_CLOSE and (a relay's, unauthenticated) CLOSE frames in;
 * keepalives, rekeys and dead-peer detection on ticks. DATA never comes here: the data plane opens it through `session`
 * (src/io/frame-socket.ts), and ticks say when bytes last moved. Returns a
 * close decision instead of throwing; the owning machine turns it into CLOSE
 * frames and state changes.
 */
import { CloseCode } from '../frames/close-codes.js';
import { parseClose } from '../frames/close.js';
import { ProtocolError } from '../frames/errors.js';
import { FrameType, frameType } from '../frames/header.js';
import type { KeyState, TunnelSession } from '../session.js';
import type { Action, TickEvent, Timing } from './actions.js';

export interface CloseDecision {
  by: 'local' | 'peer';
  code: number;
  reason: string;
  /** A peer's close that we verified (SEALED_CLOSE); a plain CLOSE after authorization could be anyone's. */
  authenticated?: boolean;
}

export class Established {
  private lastSentMs: number;
  private lastReceivedMs: number;

  constructor(
    readonly session: TunnelSession,
    private readonly timing: Timing,
    nowMs: number,
    /** Without in-band rekey, the key state at which this side closes with KEY_EXPIRED. */
    private readonly closeAtKeyState: Exclude<KeyState, 'fresh'>,
  ) {
    this.lastSentMs = nowMs;
    this.lastReceivedMs = nowMs;
  }

  onFrame(frame: Uint8Array, nowMs: number, actions: Action[]): CloseDecision | undefined {
    this.lastReceivedMs = nowMs;
    let type: FrameType;
    try {
      type = frameType(frame);
    } catch (error) {
      return fromError(error);
    }
    switch (type) {
      case FrameType.DATA:
        return { by: 'local', code: CloseCode.INTERNAL_ERROR, reason: 'a DATA frame reached the control machine instead of the data plane' };
      case FrameType.KEEPALIVE:
        return fromError(this.session.openKeepalive(frame, nowMs));
      case FrameType.REKEY:
        return fromError(this.session.openRekey(frame, nowMs));
      case FrameType.SEALED_CLOSE: {
        const opened = this.session.openClose(frame);
        if (!opened.ok) return fromError(opened.error);
        return { by: 'peer', code: opened.close.status, reason: opened.close.reason, authenticated: true };
      }
      case FrameType.CLOSE:
        // Unauthenticated: a relay's (it holds no keys: the path broke) or anyone's on the path. It ends
        // this connection, as a TCP reset could, but its code proves nothing.
        try {
          const close = parseClose(frame);
          return { by: 'peer', code: close.status, reason: close.reason, authenticated: false };
        } catch (error) {
          return fromError(error);
        }
      default:
        return { by: 'local', code: CloseCode.PROTOCOL_ERROR, reason: `frame type ${type} not allowed once authorized` };
    }
  }

  onTick(tick: TickEvent, nowMs: number, actions: Action[]): CloseDecision | undefined {
    this.lastReceivedMs = Math.max(this.lastReceivedMs, tick.lastReceivedMs ?? 0);
    this.lastSentMs = Math.max(this.lastSentMs, tick.lastSentMs ?? 0);
    if (nowMs - this.lastReceivedMs >= this.timing.deadPeerTimeoutMs) {
      return { by: 'local', code: CloseCode.TIMEOUT, reason: `nothing received for ${nowMs - this.lastReceivedMs} ms` };
    }
    const keyState = this.session.sendKeyState(nowMs);
    if (keyState !== 'fresh') {
      if (this.session.inBandRekey) {
        const rekey = this.session.sealRekeyIfDue(nowMs);
        if (rekey) {
          actions.push({ type: 'send', frame: rekey });
          this.lastSentMs = nowMs;
        }
      } else if (keyState === 'exhausted' || this.closeAtKeyState === 'expired') {
        return { by: 'local', code: CloseCode.KEY_EXPIRED, reason: 'session key lifetime reached' };
      }
    }
    if (nowMs - this.lastSentMs >= this.timing.keepaliveIntervalMs) {
      actions.push({ type: 'send', frame: this.session.sealKeepalive() });
      this.lastSentMs = nowMs;
    }
    return undefined;
  }
}

function fromError(error: unknown): CloseDecision | undefined {
  if (error === undefined) return undefined;
  if (error instanceof ProtocolError) return { by: 'local', code: error.closeCode, reason: error.message };
  return { by: 'local', code: CloseCode.INTERNAL_ERROR, reason: String(error) };
}
