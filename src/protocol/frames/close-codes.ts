/**
 * CLOSE status codes (docs/PROTOCOL.md "CLOSE"). Values are on the wire:
 * never renumber, only append.
 */
export const CloseCode = {
  NORMAL: 0,
  SHUTTING_DOWN: 1,
  PROTOCOL_ERROR: 2,
  UNSUPPORTED_VERSION: 3,
  FRAME_TOO_LARGE: 4,
  AUTHENTICATION_FAILURE: 5,
  INTEGRITY_FAILURE: 6,
  KEY_EXPIRED: 7,
  POLICY: 8,
  NO_COMMON_SUITE: 9,
  ROUTING_FAILURE: 10,
  TIMEOUT: 11,
  INTERNAL_ERROR: 12,
  /** A newer connection of the same client took the tunnel over (retryable: the old one may still be the real client). */
  REPLACED: 13,
  /**
   * Only inside a RESPONSE refusal: the REQUEST's timestamp is not newer than
   * the last the server accepted from this key, which the refusal carries
   * (a client restarted with its clock behind moves past it and retries).
   */
  STALE_TIMESTAMP: 14,
  /** The server turned a handshake away before any DH: this source's handshake budget is spent, or it is under load (retryable). */
  BUSY: 15,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

const NAMES = new Map<number, string>(Object.entries(CloseCode).map(([name, code]) => [code, name]));

/** "INTEGRITY_FAILURE" for 6, "UNKNOWN(99)" for a value we do not know (accepted on the wire). */
export function closeCodeName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}

/**
 * Codes after which an initiator tries again even when the close was
 * authenticated (transient causes); see the table in PROTOCOL.md. A close
 * that was not authenticated (a plain CLOSE, any failure before or outside
 * the sealed tunnel) is retried whatever its code: the initiator machine
 * decides that, not this table.
 */
const RETRYABLE = new Set<number>([
  CloseCode.SHUTTING_DOWN,
  CloseCode.INTEGRITY_FAILURE,
  CloseCode.KEY_EXPIRED,
  CloseCode.ROUTING_FAILURE,
  CloseCode.TIMEOUT,
  CloseCode.INTERNAL_ERROR,
  CloseCode.REPLACED,
  CloseCode.STALE_TIMESTAMP,
  CloseCode.BUSY,
]);

export function isRetryable(code: number): boolean {
  return RETRYABLE.has(code);
}
