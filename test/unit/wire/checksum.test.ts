import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { finishChecksum, internetChecksum, ipv4PseudoHeaderSum, onesComplementSum } from '../../../src/wire/checksum.js';
import { hex, ICMP_ECHO_FRAME, UDP_DNS_FRAME } from './fixtures.js';

/** A deliberately naive reference: sum 16-bit words as a BigInt, fold at the end. */
function referenceChecksum(bytes: Uint8Array): number {
  let sum = 0n;
  for (let i = 0; i < bytes.length; i += 2) sum += BigInt((bytes[i]! << 8) | (bytes[i + 1] ?? 0));
  while (sum > 0xffffn) sum = (sum & 0xffffn) + (sum >> 16n);
  return Number(~sum & 0xffffn);
}

test('RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2, checksum 0x220d', () => {
  const bytes = hex('0001f203f4f5f6f7');
  assert.equal(finishChecksum(onesComplementSum(bytes)), 0x220d);
  assert.equal(~internetChecksum(bytes) & 0xffff, 0xddf2);
});

test('captured IPv4 headers verify (residue 0) and a flipped bit does not', () => {
  for (const frame of [ICMP_ECHO_FRAME, UDP_DNS_FRAME]) {
    const header = frame.slice(14, 34);
    assert.equal(internetChecksum(header), 0);
    header[8] = header[8]! ^ 0x01;
    assert.notEqual(internetChecksum(header), 0);
  }
});

test('captured ICMP message verifies', () => {
  assert.equal(internetChecksum(ICMP_ECHO_FRAME.subarray(34)), 0);
});

test('captured UDP datagram verifies with the pseudo-header', () => {
  const udp = UDP_DNS_FRAME.subarray(34);
  const pseudo = ipv4PseudoHeaderSum(0xc0000201, 0xc0000202, 17, udp.length);
  assert.equal(finishChecksum(onesComplementSum(udp, pseudo)), 0);
});

test('matches a naive reference on random data (odd lengths too)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
      assert.equal(internetChecksum(bytes), referenceChecksum(bytes));
    }),
  );
});

test('incremental: summing even-length pieces in turn equals summing the whole', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(300), (bytes, cut) => {
      const split = Math.min(cut * 2, bytes.length & ~1);
      const partial = onesComplementSum(bytes.subarray(0, split));
      assert.equal(finishChecksum(onesComplementSum(bytes.subarray(split), partial)), internetChecksum(bytes));
    }),
  );
});

test('writing the checksum into the data makes it verify', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }).map((b) => b.subarray(0, b.length & ~1)), (bytes) => {
      if (bytes.length < 2) return;
      bytes[0] = 0;
      bytes[1] = 0;
      const checksum = internetChecksum(bytes);
      bytes[0] = checksum >>> 8;
      bytes[1] = checksum & 0xff;
      assert.equal(internetChecksum(bytes), 0);
    }),
  );
});

test('long buffers (64 KiB of 0xff) do not overflow the accumulator', () => {
  const bytes = new Uint8Array(65536).fill(0xff);
  assert.equal(internetChecksum(bytes), referenceChecksum(bytes));
});

test('a range [start, end) sums the same as the subarray it names', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), fc.nat(300), (bytes, a, b) => {
      const start = Math.min(a, b, bytes.length);
      const end = Math.min(Math.max(a, b), bytes.length);
      assert.equal(finishChecksum(onesComplementSum(bytes, 7, start, end)), finishChecksum(onesComplementSum(bytes.subarray(start, end), 7)));
    }),
  );
});
