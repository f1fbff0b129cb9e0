/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
 * complement sum of the data taken as big-endian 16-bit words.
 *
 * Incremental-friendly: `onesComplementSum` returns an unfolded 32-bit-safe
 * accumulator that can be fed back in as `initial` for the next piece (every
 * piece but the last must have an even length, so the words stay aligned);
 * `finishChecksum` folds the carries and complements. A buffer that already
 * contains its correct checksum sums to 0xffff, i.e. `internetChecksum` of it
 * is 0 — that is how callers verify. Pure, allocation-free.
 */

/**
 * Adds `bytes[start..end)` as big-endian 16-bit words to `initial`; an odd
 * last byte is padded with zero (RFC 1071 §4.1). The range parameters spare
 * the data path a `subarray` per packet.
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0, start = 0, end = bytes.length): number {
  let sum = initial;
  const evenEnd = start + ((end - start) & ~1);
  for (let i = start; i < evenEnd; i += 2) {
    sum += (bytes[i]! << 8) | bytes[i + 1]!;
    // Fold early so the accumulator stays a small integer however long the data.
    if (sum > 0xffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (evenEnd !== end) sum += bytes[evenEnd]! << 8;
  return sum;
}

/** Folds the carries of an accumulated sum into 16 bits and complements it. */
export function finishChecksum(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded & 0xffff) + (folded >>> 16);
  return ~folded & 0xffff;
}

/** RFC 1071 checksum of `bytes`; 0 when `bytes` already holds a correct checksum. */
export function internetChecksum(bytes: Uint8Array): number {
  return finishChecksum(onesComplementSum(bytes));
}

/**
 * The IPv4 pseudo-header sum used by UDP and TCP (RFC 768): source,
 * destination, zero, protocol and the transport length, as an accumulator.
 */
export function ipv4PseudoHeaderSum(source: number, destination: number, protocol: number, length: number): number {
  return (
    (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff) + protocol + length
  );
}

/**
 * The IPv6 pseudo-header sum used by ICMPv6, UDP and TCP (RFC 8200 §8.1):
 * source and destination (16 bytes each, read in place at their offsets),
 * the 32-bit upper-layer length and the next header, as an accumulator.
 */
export function ipv6PseudoHeaderSum(
  addresses: Uint8Array,
  sourceOffset: number,
  destination: Uint8Array,
  destinationOffset: number,
  upperLayerLength: number,
  nextHeader: number,
): number {
  let sum = onesComplementSum(addresses, 0, sourceOffset, sourceOffset + 16);
  sum = onesComplementSum(destination, sum, destinationOffset, destinationOffset + 16);
  return sum + (upperLayerLength >>> 16) + (upperLayerLength & 0xffff) + nextHeader;
}
