/**
 * FrameDecoder: whole frames out of any split of the stream (fast-check over
 * split points, byte by byte), views without copies when a frame lies in one
 * chunk, and bad lengths/versions rejected before the body is buffered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import { MAX_FRAME_LENGTH, ProtocolError, encodeClose, encodeData, encodeKeepalive } from '../../../src/protocol/frames/index.js';
import { fixture, hex } from './fixtures.js';

const FRAMES = ['relay.hex', 'request.hex', 'response.hex', 'data.hex', 'close.hex', 'keepalive.hex', 'rekey.hex'].map(fixture);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

function decodeSplit(stream: Uint8Array, cuts: number[], reuseAssembly = false): string[] {
  const decoder = new FrameDecoder();
  decoder.reuseAssembly = reuseAssembly;
  const got: string[] = [];
  let last = 0;
  for (const cut of [...cuts, stream.length]) {
    decoder.push(stream.subarray(last, cut), (f) => got.push(hex(f)));
    last = cut;
  }
  assert.ok(decoder.atBoundary);
  return got;
}

describe('FrameDecoder', () => {
  const stream = concat(FRAMES);
  const expected = FRAMES.map(hex);

  it('yields every frame from one chunk, as views into it', () => {
    const decoder = new FrameDecoder();
    const views: Uint8Array[] = [];
    decoder.push(stream, (f) => views.push(f));
    assert.deepEqual(views.map(hex), expected);
    for (const v of views) assert.equal(v.buffer, stream.buffer);
  });
  it('yields every frame fed byte by byte', () => {
    assert.deepEqual(decodeSplit(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1)), expected);
  });
  it('yields every frame for any split points', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
      assert.deepEqual(decodeSplit(stream, cuts.sort((a, b) => a - b)), expected);
    }), { numRuns: 500 });
  });
  it('with reuseAssembly, frames spanning chunks come out right from one kept buffer (valid during onFrame)', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
      assert.deepEqual(decodeSplit(stream, cuts.sort((a, b) => a - b), true), expected);
    }), { numRuns: 300 });
    const decoder = new FrameDecoder();
    decoder.reuseAssembly = true;
    const buffers = new Set<ArrayBufferLike>();
    const doubled = concat([stream, stream]);
    for (let at = 0; at < doubled.length; at += 7) decoder.push(doubled.subarray(at, at + 7), (f) => buffers.add(f.buffer));
    buffers.delete(doubled.buffer);
    assert.equal(buffers.size, 1, 'every spanning frame was assembled in the same buffer');
  });
  it('decodes byte-exact from one read buffer overwritten after every push (socket onread): it keeps no view of a chunk', () => {
    // Frames up to a 64 KiB super-frame, so that many span several reads, as on the client's socket.
    const frameArb = fc.tuple(fc.integer({ min: 0, max: 65_535 }), fc.integer({ min: 0, max: 255 })).map(([length, fill]) =>
      encodeData({ etherType: 0x0800, keyId: 1, paddingLength: 0, digest: new Uint8Array(16).fill(fill ^ 0x5a), ciphertext: new Uint8Array(length).fill(fill) }));
    const readArb = fc.array(fc.integer({ min: 1, max: 65_536 }), { minLength: 1, maxLength: 64 });
    fc.assert(fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), readArb, fc.boolean(), (frames, reads, reuseAssembly) => {
      const wire = concat([...frames, ...FRAMES]);
      const decoder = new FrameDecoder();
      decoder.reuseAssembly = reuseAssembly;
      const readBuffer = new Uint8Array(65_536);
      const got: string[] = [];
      for (let at = 0, i = 0; at < wire.length; i++) {
        const take = Math.min(reads[i % reads.length]!, wire.length - at);
        readBuffer.set(wire.subarray(at, at + take));
        decoder.push(readBuffer.subarray(0, take), (f) => got.push(hex(f)));
        readBuffer.fill(0xee); // the next read overwrites it: any view kept past push now holds garbage
        at += take;
      }
      assert.ok(decoder.atBoundary);
      assert.deepEqual(got, [...frames, ...FRAMES].map(hex));
    }), { numRuns: 60 });
  });
  it('handles a maximal frame split in two', () => {
    const big = encodeData({ etherType: 0x86dd, keyId: 0, paddingLength: 0, digest: new Uint8Array(16), ciphertext: new Uint8Array(65535).fill(7) });
    assert.ok(big.length <= MAX_FRAME_LENGTH);
    const s = concat([big, encodeClose({ status: 0, reason: '' })]);
    assert.deepEqual(decodeSplit(s, [3, 40000]), [hex(big), hex(encodeClose({ status: 0, reason: '' }))]);
  });
  it('rejects an oversized length as soon as the 4 length bytes are in', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(0x00, 0x01), () => assert.fail());
    assert.throws(() => decoder.push(Uint8Array.of(0x04, 0x01), () => assert.fail()), (e: unknown) => e instanceof ProtocolError && e.code === 'FRAME_TOO_LARGE' && e.closeCode === 4);
    // poisoned afterwards
    assert.throws(() => decoder.push(encodeKeepalive(0, new Uint8Array(16)), () => assert.fail()), ProtocolError);
  });
  it('rejects a length shorter than the header and a wrong version before the body', () => {
    assert.throws(() => new FrameDecoder().push(Uint8Array.of(0, 0, 0, 5, 1, 1), () => {}), (e: unknown) => e instanceof ProtocolError && e.code === 'BAD_LENGTH');
    const d = new FrameDecoder();
    d.push(Uint8Array.of(0, 0, 0x40, 0, 4), () => {});
    assert.throws(() => d.push(Uint8Array.of(9), () => {}), (e: unknown) => e instanceof ProtocolError && e.code === 'UNSUPPORTED_VERSION');
  });
  it('never throws anything but ProtocolError on random streams', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
      const d = new FrameDecoder();
      try {
        for (const c of chunks) d.push(c, () => {});
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }), { numRuns: 2000 });
  });
});
