/** src/wire/bytes.ts: the one big-endian helper module (wire codecs and tunnel frames both use it). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readU16, readU32, writeU16, writeU32 } from '../../../src/wire/bytes.js';

test('network byte order, fixed bytes: 0x1234 and 0xdeadbeef (top bit set reads as unsigned)', () => {
  const buf = new Uint8Array(7);
  writeU16(buf, 1, 0x1234);
  writeU32(buf, 3, 0xdeadbeef);
  assert.deepEqual([...buf], [0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef]);
  assert.equal(readU16(buf, 1), 0x1234);
  assert.equal(readU32(buf, 3), 0xdeadbeef);
  assert.ok(readU32(buf, 3) > 0);
});

test('property: write then read is the identity at any offset, and writes touch only their bytes', () => {
  fc.assert(
    fc.property(fc.nat(0xffff), fc.nat(0xffffffff), fc.nat(8), (u16, u32, offset) => {
      const buf = new Uint8Array(16).fill(0xa5);
      writeU16(buf, offset, u16);
      assert.equal(readU16(buf, offset), u16);
      writeU32(buf, offset + 2, u32);
      assert.equal(readU32(buf, offset + 2), u32);
      assert.equal(readU16(buf, offset), u16);
      for (let i = 0; i < buf.length; i++) if (i < offset || i >= offset + 6) assert.equal(buf[i], 0xa5);
    }),
  );
});
