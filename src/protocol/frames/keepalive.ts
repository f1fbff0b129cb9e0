/**
 * KEEPALIVE frame (type 6): keyId, digestLength, digest (sealed-control.ts
 * layout). Sent when nothing was sent for the keepalive interval; sealed and
 * counted so a forged keepalive cannot hold a dead tunnel open.
 */
import { FrameType } from './header.js';
import { emitSealedControlHeader, encodeSealedControl, parseSealedControl, type SealedControlView } from './sealed-control.js';

export type KeepaliveView = SealedControlView;

export function emitKeepaliveHeader(keyId: number, digestLength: number, buf: Uint8Array, offset = 0): number {
  return emitSealedControlHeader(FrameType.KEEPALIVE, keyId, digestLength, buf, offset);
}

export function parseKeepalive(frame: Uint8Array): KeepaliveView {
  return parseSealedControl(frame, FrameType.KEEPALIVE);
}

export function encodeKeepalive(keyId: number, digest: Uint8Array): Uint8Array {
  return encodeSealedControl(FrameType.KEEPALIVE, keyId, digest);
}
