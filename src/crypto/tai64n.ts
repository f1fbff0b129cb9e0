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
