/**
 * TAI64N timestamps (cr.yp.to/libtai/tai64.html), as WireGuard puts in its
 * handshake initiation: 8 bytes of seconds since the TAI64 epoch label
 * 2^62, then 4 bytes of nanoseconds, both big-endian, so timestamps sort as
 * byte strings. Like WireGuard we count from the Unix epoch with the
 * 10-second TAI-UTC offset of 1970 and ignore later leap seconds: only the
 * order matters, per client.
 */

export const TAI64N_LENGTH = 12;
const TAI64_UNIX_EPOCH_SEC = 2n ** 62n + 10n;

/** Encodes a time in nanoseconds since the Unix epoch. */
export function tai64nFromNs(unixNs: bigint): Uint8Array {
  const out = Buffer.alloc(TAI64N_LENGTH);
  out.writeBigUInt64BE(TAI64_UNIX_EPOCH_SEC + unixNs / 1_000_000_000n, 0);
  out.writeUInt32BE(Number(unixNs % 1_000_000_000n), 8);
  return new Uint8Array(out.buffer, out.byteOffset, TAI64N_LENGTH);
}

/** Orders two TAI64N timestamps: negative, zero or positive. */
export function compareTai64n(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

let lastIssuedNs = 0n;

/**
 * A timestamp for a new handshake at `nowMs`, strictly greater than every
 * one issued before by this process — so two handshakes in the same
 * millisecond, or after the clock stepped back a little, still have
 * increasing timestamps and the second is not refused as a replay.
 */
export function nextHandshakeTimestamp(nowMs: number): Uint8Array {
  let ns = BigInt(Math.floor(nowMs)) * 1_000_000n;
  if (ns <= lastIssuedNs) ns = lastIssuedNs + 1n;
  lastIssuedNs = ns;
  return tai64nFromNs(ns);
}

const TAI64N_MAX_LABEL_SEC = 2n ** 63n; // TAI64 labels at or above 2^63 are reserved: never issue one

/** Nanoseconds since the Unix epoch of a TAI64N timestamp, or undefined for a malformed or reserved one. */
export function unixNsOfTai64n(timestamp: Uint8Array): bigint | undefined {
  if (timestamp.length !== TAI64N_LENGTH) return undefined;
  const view = Buffer.from(timestamp.buffer, timestamp.byteOffset, TAI64N_LENGTH);
  const sec = view.readBigUInt64BE(0);
  const ns = view.readUInt32BE(8);
  if (sec < TAI64_UNIX_EPOCH_SEC || sec >= TAI64N_MAX_LABEL_SEC || ns >= 1_000_000_000) return undefined;
  return (sec - TAI64_UNIX_EPOCH_SEC) * 1_000_000_000n + BigInt(ns);
}

/**
 * Makes every later nextHandshakeTimestamp strictly greater than `accepted`
 * (the last timestamp the server took from us, carried by its authenticated
 * STALE_TIMESTAMP refusal): a client restarted with its clock behind moves
 * its own timestamps forward. They need only increase (as in WireGuard),
 * not follow the wall clock. Only ever raises the floor.
 */
export function raiseHandshakeTimestampFloor(accepted: Uint8Array): boolean {
  const ns = unixNsOfTai64n(accepted);
  if (ns === undefined) return false;
  if (ns > lastIssuedNs) lastIssuedNs = ns;
  return true;
}
