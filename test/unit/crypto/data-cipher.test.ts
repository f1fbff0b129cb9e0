/**
 * DATA sealing for every suite: round trips (including in place), tamper of
 * any bit of header, ciphertext or digest, replay and reorder through the
 * implicit counter, wrong keys and directions, rekey generations, the
 * keystream suite's verify-before-decrypt, and the suite ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createDataCiphers, createDataKeySchedule, DEFAULT_SUITE, SUITES, suiteFromId, suiteId, type DataOpener, type DataSealer, type SuiteName } from '../../../src/crypto/data-cipher.js';
import { chainKey, deriveDirectionKeys, KeyChain, keyDerivationCounts } from '../../../src/crypto/data-keys.js';
import { StreamHmacSealer } from '../../../src/crypto/data-stream-hmac.js';
import type { SessionKeys } from '../../../src/crypto/handshake.js';

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** The two ends of a session: A's send key is B's receive key and vice versa. */
function ends(suite: SuiteName, keyId = 0, base?: { a: SessionKeys; b: SessionKeys }) {
  const k1 = bytes(32);
  const k2 = bytes(32);
  const h = bytes(32);
  const a = base?.a ?? { sendKey: k1, receiveKey: k2, handshakeHash: h };
  const b = base?.b ?? { sendKey: k2, receiveKey: k1, handshakeHash: h };
  return { a: createDataCiphers(suite, a, keyId), b: createDataCiphers(suite, b, keyId), keys: { a, b } };
}

interface Frame {
  header: Uint8Array;
  ciphertext: Uint8Array;
  digest: Uint8Array;
}

function seal(sealer: DataSealer, plaintext: Uint8Array, header = bytes(12)): Frame {
  const frame = { header, ciphertext: new Uint8Array(plaintext.length), digest: new Uint8Array(sealer.digestLength) };
  sealer.seal(frame.header, plaintext, frame.ciphertext, frame.digest);
  return frame;
}

function open(opener: DataOpener, frame: Frame): Uint8Array | undefined {
  const out = new Uint8Array(frame.ciphertext.length);
  return opener.open(frame.header, frame.ciphertext, frame.digest, out) ? out : undefined;
}

for (const suite of SUITES) {
  test(`${suite}: frames of any size round-trip in order, both directions, with counts`, () => {
    const { a, b } = ends(suite);
    assert.equal(a.sealer.digestLength, suite === 'chacha20-hmac-sha256' ? 32 : 16);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (plaintext, fromA) => {
        const [sender, receiver] = fromA ? [a.sealer, b.opener] : [b.sealer, a.opener];
        const frame = seal(sender, plaintext);
        if (plaintext.length >= 16) assert.notDeepEqual(frame.ciphertext, plaintext);
        assert.deepEqual(open(receiver, frame), plaintext);
      }),
      { numRuns: 100 },
    );
    assert.equal(a.sealer.framesSealed, b.opener.framesOpened);
    assert.equal(a.sealer.suite, suite);
    assert.equal(a.sealer.keyId, 0);
  });

  test(`${suite}: seal and open in place (plaintext and ciphertext the same memory)`, () => {
    const { a, b } = ends(suite);
    const original = bytes(1400);
    const buffer = original.slice();
    const header = bytes(12);
    const digest = new Uint8Array(a.sealer.digestLength);
    a.sealer.seal(header, buffer, buffer, digest);
    assert.notDeepEqual(buffer, original);
    assert.ok(b.opener.open(header, buffer, digest, buffer));
    assert.deepEqual(buffer, original);
  });

  test(`${suite}: flipping any bit of header, ciphertext or digest makes open fail`, () => {
    fc.assert(
      fc.property(fc.constantFrom('header', 'ciphertext', 'digest'), fc.nat(), fc.nat(7), (part: keyof Frame, at, bit) => {
        const { a, b } = ends(suite);
        const frame = seal(a.sealer, bytes(100));
        frame[part][at % frame[part].length]! ^= 1 << bit;
        assert.equal(open(b.opener, frame), undefined);
      }),
      { numRuns: 150 },
    );
  });

  test(`${suite}: a replayed, reordered or dropped frame fails (implicit counter)`, () => {
    const { a, b } = ends(suite);
    const frames = [0, 1, 2].map(() => seal(a.sealer, bytes(64)));
    assert.equal(open(b.opener, frames[1]!), undefined, 'frame 1 before frame 0');
    assert.ok(open(b.opener, frames[0]!), 'a failed open did not advance the counter');
    assert.equal(open(b.opener, frames[0]!), undefined, 'frame 0 twice');
    const c = ends(suite);
    const dropped = [0, 1].map(() => seal(c.a.sealer, bytes(64)));
    assert.equal(open(c.b.opener, dropped[1]!), undefined, 'frame 0 lost');
  });

  test(`${suite}: wrong key or wrong direction fails`, () => {
    const { a, b, keys } = ends(suite);
    const other = ends(suite);
    const frame = seal(a.sealer, bytes(64));
    assert.equal(open(other.b.opener, frame), undefined, 'another session\'s keys');
    assert.equal(open(a.opener, frame), undefined, 'our own frame reflected back (the other direction\'s key)');
    const otherHash = createDataCiphers(suite, { ...keys.b, handshakeHash: bytes(32) }, 0);
    assert.equal(open(otherHash.opener, frame), undefined, 'same direction key, another handshake hash');
    assert.ok(open(b.opener, frame));
  });

  test(`${suite}: rekey — generation 1 keys differ from generation 0 and interoperate`, () => {
    const gen0 = ends(suite, 0);
    const gen1 = ends(suite, 1, gen0.keys);
    const plaintext = bytes(200);
    const old = seal(gen0.a.sealer, plaintext);
    const fresh = seal(gen1.a.sealer, plaintext, old.header);
    assert.notDeepEqual(fresh.ciphertext, old.ciphertext);
    assert.equal(open(gen1.b.opener, old), undefined, 'an old-key frame fails under the new key');
    assert.deepEqual(open(gen1.b.opener, fresh), plaintext);
    assert.equal(gen1.a.sealer.keyId, 1);
  });
}

test('key derivation: per suite, per direction and per generation keys all differ; the chain only ratchets forward', () => {
  const key = bytes(32);
  const h = bytes(32);
  const seen = new Set<string>();
  let expected = 0;
  for (const suite of SUITES) {
    for (const keyId of [0, 1, 2, 255, 256]) {
      for (const directionKey of [key, bytes(32)]) {
        const { cipherKey, digestKey } = deriveDirectionKeys(directionKey, h, suite, keyId);
        seen.add(Buffer.from(cipherKey).toString('hex'));
        expected++;
        if (digestKey) seen.add(Buffer.from(digestKey).toString('hex')), expected++;
      }
    }
  }
  assert.equal(seen.size, expected);
  assert.notDeepEqual(chainKey(key, h, 1), chainKey(key, h, 0));
  assert.deepEqual(chainKey(key, h, 3), chainKey(key, h, 3));
  assert.throws(() => chainKey(key, h, -1), RangeError);
});

test('key hygiene: the AEAD suites derive no digest key; the keystream suite derives one; the AEAD cipher key is the same 32 bytes either way', () => {
  const key = bytes(32);
  const h = bytes(32);
  for (const suite of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
    const keys = deriveDirectionKeys(key, h, suite, 2);
    assert.equal(keys.digestKey, undefined, suite);
    assert.equal(keys.cipherKey.length, 32);
    // HKDF-Expand's first block does not depend on the output length: the 64-byte derivation the suites used before starts with this key.
    const long = new Uint8Array(hkdfSync('sha256', chainKey(key, h, 2), new Uint8Array(0), `tapvpn/1 data keys ${suite} 2`, 64));
    assert.deepEqual(keys.cipherKey, long.subarray(0, 32));
  }
  const stream = deriveDirectionKeys(key, h, 'chacha20-hmac-sha256', 0);
  assert.equal(stream.digestKey?.length, 32);
});

test('KeyChain: one HMAC per step, same keys as derivation from scratch, the replaced chain key is gone', () => {
  const key = bytes(32);
  const h = bytes(32);
  const chain = new KeyChain(key, h);
  const before = { ...keyDerivationCounts };
  for (let i = 0; i < 300; i++) chain.advance();
  assert.equal(keyDerivationCounts.chainSteps - before.chainSteps, 300);
  assert.equal(chain.generation, 300);
  assert.deepEqual(chain.keys('aes-256-gcm'), deriveDirectionKeys(key, h, 'aes-256-gcm', 300));
  chain.wipe();
  assert.throws(() => chain.advance(), /after wipe/);
  assert.throws(() => chain.keys('aes-256-gcm'), /after wipe/);
});

for (const suite of SUITES) {
  test(`${suite}: the key schedule moves one direction per step at constant cost, interoperating with derivation from scratch`, () => {
    const k1 = bytes(32);
    const k2 = bytes(32);
    const h = bytes(32);
    const a = createDataKeySchedule(suite, { sendKey: k1, receiveKey: k2, handshakeHash: h });
    const before = { ...keyDerivationCounts };
    for (let i = 0; i < 1000; i++) a.nextOpener();
    assert.equal(keyDerivationCounts.chainSteps - before.chainSteps, 1000, 'one ratchet step per generation');
    assert.equal(keyDerivationCounts.keyDerivations - before.keyDerivations, 1000, 'one key derivation per generation, the receive direction only');
    assert.equal(a.sealer.keyId, 0);
    assert.equal(a.opener.keyId, 1000);
    const peer = createDataCiphers(suite, { sendKey: k2, receiveKey: k1, handshakeHash: h }, 1000);
    const plaintext = bytes(100);
    assert.deepEqual(open(a.opener, seal(peer.sealer, plaintext)), plaintext);
    a.nextSealer();
    const peerReceive = createDataCiphers(suite, { sendKey: k2, receiveKey: k1, handshakeHash: h }, 1).opener;
    assert.deepEqual(open(peerReceive, seal(a.sealer, plaintext)), plaintext);
  });

  test(`${suite}: a replaced generation's cipher is destroyed and refuses to work`, () => {
    const schedule = createDataKeySchedule(suite, { sendKey: bytes(32), receiveKey: bytes(32), handshakeHash: bytes(32) });
    const oldSealer = schedule.sealer;
    const oldOpener = schedule.opener;
    schedule.nextSealer();
    schedule.nextOpener();
    assert.throws(() => seal(oldSealer, bytes(10)));
    assert.throws(() => oldOpener.open(bytes(12), bytes(10), bytes(oldOpener.digestLength), new Uint8Array(10)));
    schedule.destroy();
    assert.throws(() => seal(schedule.sealer, bytes(10)));
  });
}

test('chacha20-hmac-sha256: the digest is HMAC-SHA-256(digestKey, header ‖ ciphertext ‖ counter u64 big-endian)', () => {
  const keys = { cipherKey: bytes(32), digestKey: bytes(32) };
  const sealer = new StreamHmacSealer(0, keys);
  for (let counter = 0; counter < 3; counter++) {
    const frame = seal(sealer, bytes(50));
    const counterBytes = new Uint8Array(8);
    counterBytes[7] = counter;
    const message = new Uint8Array([...frame.header, ...frame.ciphertext, ...counterBytes]);
    assert.deepEqual(frame.digest, hmac(sha256, keys.digestKey, message), `frame ${counter}`);
  }
});

test('chacha20-hmac-sha256: a failed open releases nothing and does not move the keystream', () => {
  const { a, b } = ends('chacha20-hmac-sha256');
  const plaintext = bytes(300);
  const frame = seal(a.sealer, plaintext);
  const tampered = { ...frame, digest: frame.digest.slice() };
  tampered.digest[31]! ^= 1;
  const out = new Uint8Array(300).fill(7);
  assert.equal(b.opener.open(tampered.header, tampered.ciphertext, tampered.digest, out), false);
  assert.ok(out.every((byte) => byte === 7));
  assert.deepEqual(open(b.opener, frame), plaintext);
});

test('open refuses wrong digest lengths and short output buffers instead of throwing', () => {
  for (const suite of SUITES) {
    const { a, b } = ends(suite);
    const frame = seal(a.sealer, bytes(40));
    assert.equal(b.opener.open(frame.header, frame.ciphertext, frame.digest.subarray(1), new Uint8Array(40)), false);
    assert.equal(b.opener.open(frame.header, frame.ciphertext, frame.digest, new Uint8Array(39)), false);
    assert.ok(open(b.opener, frame));
  }
});

test('suite ids round-trip, are distinct, and unknown ids are refused; the default is a suite', () => {
  for (const suite of SUITES) assert.equal(suiteFromId(suiteId(suite)), suite);
  assert.equal(new Set(SUITES.map(suiteId)).size, SUITES.length);
  for (const id of [0, 4, 255, -1, 1.5]) assert.equal(suiteFromId(id), undefined);
  assert.ok(SUITES.includes(DEFAULT_SUITE));
  assert.throws(() => createDataCiphers('rot13' as SuiteName, { sendKey: bytes(32), receiveKey: bytes(32), handshakeHash: bytes(32) }, 0), RangeError);
});
