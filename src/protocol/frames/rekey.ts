/**
 * REKEY frame (type 7): newKeyId, digestLength, digest under the OLD key
 * (sealed-control.ts layout). After sending it the sender seals with key
 * generation newKeyId; the receiver switches when it reads it. TCP ordering
 * makes the switch exact.
 */
import { FrameType } from './header.js';
import { emitSealedControlHeader, encodeSealedControl, parseSealedControl, type SealedControlView } from './sealed-control.js';

/** `keyId` is the new key generation (mod 256). */
export type RekeyView = SealedControlView;

export function emitRekeyHeader(newKeyId: number, digestLength: number, buf: Uint8Array, offset = 0): number {
  return emitSealedControlHeader(FrameType.REKEY, newKeyId, digestLength, buf, offset);
}

export function parseRekey(frame: Uint8Array): RekeyView {
  return parseSealedControl(frame, FrameType.REKEY);
}

export function encodeRekey(newKeyId: number, digest: Uint8Array): Uint8Array {
  return encodeSealedControl(FrameType.REKEY, newKeyId, digest);
}
