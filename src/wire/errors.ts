/**
 * The one error type every wire codec throws. `code` is stable (tests and
 * counters key on it); the message says which field, what was expected and
 * what arrived, so a dropped frame's debug line explains itself.
 */
export type WireErrorCode =
  | 'TRUNCATED' // fewer bytes than a header or a length field promises
  | 'OVERSIZED' // more bytes than the format or our limits allow
  | 'BAD_CHECKSUM'
  | 'BAD_VALUE' // a field holds a value the format forbids
  | 'UNSUPPORTED' // well-formed, but a variant we do not handle
  | 'BUFFER_TOO_SMALL'; // emit: the caller's buffer cannot hold the output

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Throws TRUNCATED unless `bytes` has at least `need` bytes; `what` names the structure. */
export function requireLength(bytes: Uint8Array, need: number, what: string): void {
  if (bytes.length < need) {
    throw new WireError('TRUNCATED', `${what}: need ${need} bytes, got ${bytes.length}`);
  }
}
