/**
 * TunnelSession: sealed frames round-trip; any flipped bit after the common
 * header, a replayed, reordered or dropped frame is an integrity failure;
 * in-band rekey switches keys exactly at the REKEY frame.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import { CloseCode, FrameType, type ProtocolError } from '../../../src/protocol/frames/index.js';
import { TunnelSession, type KeyLifetime } from '../../../src/protocol/session.js';
import type { ProtocolCrypto, SuiteName } from '../../../src/crypto/port.js';
import { createFakeCrypto } from './fake-crypto.js';
import { hex } from './fixtures.js';

export function sessionPair(crypto: ProtocolCrypto, suite: SuiteName = 'chacha20-poly1305', lifetime?: Partial<KeyLifetime>, inBandRekey = true) {
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  const h = new Uint8Array(32);
  const sender = new TunnelSession({ crypto, suite, keys: { sendKey: a.slice(), receiveKey: b.slice(), handshakeHash: h }, nowMs: 0, inBandRekey, lifetime });
  const receiver = new TunnelSession({ crypto, suite, keys: { sendKey: b.slice(), receiveKey: a.slice(), handshakeHash: h }, nowMs: 0, inBandRekey, lifetime });
  return { sender, receiver };
}

function frames(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  new FrameDecoder().push(bytes, (f) => out.push(f.slice()));
  return out;
}

function seal(s: TunnelSession, datagram: Uint8Array, nowMs = 0, pad = 0, etherType = 0x0800): Uint8Array[] {
  const out = new Uint8Array(s.maxSealedLength(datagram.length, pad) + 3);
  const n = s.sealDatagram(etherType, datagram, out, 3, nowMs, pad);
  assert.ok(n > 0);
  return frames(out.subarray(3, 3 + n));
}

/** Feeds a sealed frame to the receiver as a machine would, returning the failure if any. */
function receive(r: TunnelSession, frame: Uint8Array, nowMs = 0): ProtocolError | Uint8Array {
  switch (frame[4]) {
    case FrameType.DATA: {
      const res = r.openData(frame, nowMs);
      return res.ok ? res.datagram.slice() : res.error;
    }
    case FrameType.KEEPALIVE: return r.openKeepalive(frame, nowMs) ?? new Uint8Array(0);
    case FrameType.REKEY: return r.openRekey(frame, nowMs) ?? new Uint8Array(0);
    default: throw new Error('unexpected');
  }
}

function isIntegrityFailure(x: ProtocolError | Uint8Array): boolean {
  return !(x instanceof Uint8Array) && x.closeCode === CloseCode.INTEGRITY_FAILURE;
}

const crypto = createFakeCrypto();
const datagram = Uint8Array.from({ length: 40 }, (_, i) => i * 7);

describe('TunnelSession', () => {
  for (const suite of crypto.suites) {
    it(`round-trips datagrams with and without padding (${suite})`, () => {
      const { sender, receiver } = sessionPair(crypto, suite);
      fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), (d, pad, et) => {
        const [frame] = seal(sender, d, 0, pad, et);
        const res = receiver.openData(frame!, 0);
        assert.ok(res.ok);
        assert.equal(res.etherType, et);
        assert.equal(hex(res.datagram), hex(d));
      }), { numRuns: 200 });
    });
  }
  it('seals straight into the caller buffer and opens into a caller buffer', () => {
    const { sender, receiver } = sessionPair(crypto);
    const out = new Uint8Array(200);
    const n = sender.sealDatagram(0x86dd, datagram, out, 10, 0);
    assert.equal(n, 12 + 16 + 40);
    const into = new Uint8Array(100);
    const res = receiver.openData(out.subarray(10, 10 + n), 0, into, 14);
    assert.ok(res.ok);
    assert.equal(res.datagram.buffer, into.buffer);
    assert.equal(res.datagram.byteOffset, 14);
  });
  it('flipping any bit after the common header is an integrity failure', () => {
    const { sender } = sessionPair(crypto);
    const [frame] = seal(sender, datagram, 0, 4);
    for (let bit = 6 * 8; bit < frame!.length * 8; bit++) {
      const { receiver } = sessionPair(crypto);
      const tampered = frame!.slice();
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      assert.ok(isIntegrityFailure(receive(receiver, tampered)), `bit ${bit}`);
    }
  });
  it('a replayed, reordered or dropped frame is an integrity failure', () => {
    const run = (order: number[]) => {
      const { sender, receiver } = sessionPair(crypto);
      const sent = [1, 2, 3].map((i) => seal(sender, datagram.map((x) => x ^ i))[0]!);
      return order.map((i) => receive(receiver, sent[i]!));
    };
    assert.ok(run([0, 1, 2]).every((x) => x instanceof Uint8Array));
    assert.ok(isIntegrityFailure(run([0, 0])[1]!)); // replay
    assert.ok(isIntegrityFailure(run([1, 0])[0]!)); // reorder
    assert.ok(isIntegrityFailure(run([0, 2])[1]!)); // drop
  });
  it('keepalives are counted: dropping one breaks the chain', () => {
    const { sender, receiver } = sessionPair(crypto);
    const k = sender.sealKeepalive();
    const [d] = seal(sender, datagram);
    assert.ok(isIntegrityFailure(receive(receiver, d!)));
    const pair = sessionPair(crypto);
    const k2 = pair.sender.sealKeepalive();
    assert.equal(hex(k2), hex(k));
    assert.equal(pair.receiver.openKeepalive(k2, 0), undefined);
  });
  it('rekeys in band when the lifetime ends, switching exactly at REKEY', () => {
    const { sender, receiver } = sessionPair(crypto, 'chacha20-hmac-sha256', { maxFrames: 3 });
    const got: (ProtocolError | Uint8Array)[] = [];
    let rekeys = 0;
    for (let i = 0; i < 10; i++) {
      for (const f of seal(sender, datagram)) {
        if (f[4] === FrameType.REKEY) rekeys++;
        got.push(receive(receiver, f));
      }
    }
    assert.ok(got.every((x) => x instanceof Uint8Array));
    assert.equal(rekeys, 3);
    assert.equal(sender.sendKeyId, 3);
    assert.equal(receiver.receiveKeyId, 3);
    assert.equal(receiver.stats.rekeysReceived, 3);
  });
  it('a frame under the old key after REKEY, or a dropped REKEY, fails', () => {
    const { sender, receiver } = sessionPair(crypto, 'chacha20-poly1305', { maxFrames: 1 });
    const first = seal(sender, datagram);
    const second = seal(sender, datagram); // [REKEY, DATA]
    assert.equal(second.length, 2);
    assert.ok(receive(receiver, first[0]!) instanceof Uint8Array);
    const err = receive(receiver, second[1]!); // REKEY skipped
    assert.ok(!(err instanceof Uint8Array) && err.code === 'KEY_MISMATCH' && err.closeCode === CloseCode.INTEGRITY_FAILURE);
  });
  it('without in-band rekey: REKEY is unexpected; an exhausted key refuses to seal', () => {
    const { sender, receiver } = sessionPair(crypto, 'chacha20-poly1305', { maxFrames: 2 }, false);
    assert.equal(sender.sendKeyState(0), 'fresh');
    seal(sender, datagram);
    seal(sender, datagram);
    assert.equal(sender.sendKeyState(0), 'expired');
    seal(sender, datagram);
    seal(sender, datagram);
    assert.equal(sender.sendKeyState(0), 'exhausted');
    assert.equal(sender.sealDatagram(0x800, datagram, new Uint8Array(200), 0, 0), 0);
    assert.equal(sender.stats.dropsKeyExhausted, 1);
    const rekey = sessionPair(crypto).sender.sealRekey(0);
    assert.equal(receiver.openRekey(rekey, 0)?.code, 'UNEXPECTED_FRAME');
  });
  it('a receiver closes KEY_EXPIRED when the peer keeps a key beyond twice its lifetime', () => {
    const { sender, receiver } = sessionPair(crypto, 'chacha20-poly1305', { maxAgeMs: 1000 }, false);
    const [f] = seal(sender, datagram, 0);
    const res = receiver.openData(f!, 5000);
    assert.ok(!res.ok && res.error.closeCode === CloseCode.KEY_EXPIRED);
  });
  it('drops datagrams over the maximum instead of sealing them', () => {
    const { sender } = sessionPair(crypto);
    assert.equal(sender.sealDatagram(0x800, new Uint8Array(65536), new Uint8Array(70000), 0, 0), 0);
    assert.equal(sender.stats.dropsTooLarge, 1);
  });
});
